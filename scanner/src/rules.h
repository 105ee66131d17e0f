/* The YARA rules engine: the shipped rules (rules/yara/, built into
 * the binary) and any extra rule directory, compiled once per scanner, are
 * matched twice on every pickle stream: on its normalized trace text (one
 * line per event, documented in docs/RULES.md) and on its raw bytes. VM facts
 * are YARA external variables. Each matching rule becomes a finding with the
 * id, severity, score and description of its meta. libyara's types stay in
 * rules.c. */
#ifndef PKS_RULES_H
#define PKS_RULES_H

#include "result.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rules rules;

/* What the VM knows about a stream, as external variables. */
typedef struct rules_facts {
    const char *member;    /* "" for the file itself */
    const char *container; /* "raw" for now */
    int protocol;          /* -1 without PROTO */
    bool complete;
    uint64_t opcodes;
    uint64_t imports, calls, dangerous, unknown;
    int depth;
} rules_facts;

/* Compiles the shipped rules (unless !defaults) and every *.yar file of
 * extra_dir (may be NULL). On failure returns NULL and writes the compiler's
 * first message to err. */
rules *rules_compile(bool defaults, const char *extra_dir, char *err, size_t errlen);

void rules_free(rules *r);

/* Number of rules compiled. */
size_t rules_count(const rules *r);

/* Calls fn(id, ctx) for the meta id of every compiled rule. */
void rules_each_id(const rules *r, void (*fn)(const char *id, void *ctx), void *ctx);

/* Matches the rules on a stream's trace text and raw bytes (raw_base: the
 * stream's offset in the input) and adds a finding per matching rule.
 * jailed: no signal handlers around the scan (libyara's try/catch installs
 * them, which the seccomp jail forbids; a fault there kills the child). */
void rules_match(const rules *r, pks_result *res, size_t max_findings, const rules_facts *facts,
                 const char *trace, size_t trace_len, const uint8_t *raw, size_t raw_len,
                 size_t raw_base, bool jailed);

#endif
