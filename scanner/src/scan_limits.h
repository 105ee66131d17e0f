/* Every limit of a scan in one place, with its default. Reaching one is
 * reported as a finding (rule "limit_reached"), never a silent stop. The
 * defaults keep a scan's peak RSS under 64 MiB for any input (see
 * tests/bench/bench_scan.sh), on top of the ~18 MiB the compiled YARA rules
 * take: memo 768k x 24 B, heap 6 MiB, stack 128k x 24 B, decoder scratch
 * 2 x max_line, a 1 MiB trace and a 2 MiB raw view per stream, decoded
 * constants 16 MiB, and the input's pages released behind the cursor. */
#ifndef PKS_LIMITS_H
#define PKS_LIMITS_H

#include <stddef.h>
#include <stdint.h>

typedef struct pks_limits {
    uint64_t max_opcodes;    /* opcodes executed per file, all streams and nesting */
    size_t max_stack;        /* values on the VM stack */
    size_t max_marks;        /* open MARKs */
    size_t max_memo;         /* memo entries */
    size_t max_heap;         /* bytes for tracked container contents and copied text */
    size_t max_items;        /* items tracked per container (the rest are counted) */
    size_t max_events;       /* globals and calls stored per pickle (the rest are counted) */
    size_t max_findings;     /* findings stored per file */
    size_t max_pickles;      /* pickle streams per file */
    int max_nesting;         /* nested pickles inside pickles */
    size_t max_decoded;      /* bytes produced by constant folding (base64, zlib, ...) */
    size_t max_line;         /* longest text-line argument (STRING, UNICODE, INT, ...) */
    size_t max_decompressed; /* bytes decompressed per file (gzip, zip members, ...) */
    size_t max_members;      /* members read per archive */
    int max_containers;      /* containers nested inside containers */
    uint64_t max_ms;         /* wall-clock milliseconds per file (0: none) */
} pks_limits;

#define PKS_LIMITS_DEFAULT                                                                         \
    {                                                                                              \
        .max_opcodes = 200000000u, .max_stack = 131072, .max_marks = 131072, .max_memo = 786432,   \
        .max_heap = 6u << 20, .max_items = 64, .max_events = 20000, .max_findings = 2000,          \
        .max_pickles = 10000, .max_nesting = 4, .max_decoded = 16u << 20, .max_line = 2u << 20,    \
        .max_decompressed = (size_t)4 << 30, .max_members = 100000, .max_containers = 8,           \
        .max_ms = 60000,                                                                           \
    }

#endif
