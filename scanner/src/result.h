/* What a scan found in one file: the pickle streams with their imports and
 * calls, the findings with severities and scores, the errors, and the
 * verdict. Built by scan.c and vm.c, written out by report.c. All strings
 * are owned by the result. */
#ifndef PKS_RESULT_H
#define PKS_RESULT_H

#include "pklscan.h"
#include "policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sev { SEV_INFO, SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL } sev;

typedef struct tr_global {
    size_t offset;
    uint8_t opcode;
    char *module; /* canonical */
    char *name;   /* canonical qualname */
    char *raw;    /* "module name" as spelled in the stream */
    pol_class cls;
    pol_kind kind;
    const char *why;      /* static text */
    const char *category; /* rule id, owned by the scanner's policy */
} tr_global;

typedef struct tr_call {
    size_t offset;
    uint8_t opcode;
    char *callable; /* "os.system", "collections.OrderedDict.__setitem__", "?" */
    char *args;     /* readable, bounded rendering */
} tr_call;

typedef struct tr_pickle {
    char *member;  /* NULL for a raw file; "nested@40" for a nested pickle */
    size_t offset; /* where the stream starts */
    int protocol;  /* highest PROTO seen, -1 without one */
    uint64_t opcodes;
    bool complete; /* reached STOP */
    tr_global *globals;
    size_t nglobals, capglobals, globals_dropped;
    tr_call *calls;
    size_t ncalls, capcalls, calls_dropped;
} tr_pickle;

typedef struct tr_finding {
    char *rule;
    sev severity;
    int score;
    char *message;
    char *member;
    size_t offset;
    char *module, *name; /* NULL when not about a global */
    unsigned count;      /* further occurrences folded into this one */
} tr_finding;

typedef struct tr_error {
    char *member;
    size_t offset;
    int opcode; /* -1: none */
    pks_err code;
    char *message;
} tr_error;

struct pks_result {
    char *path;
    uint64_t size;
    bool has_sha256;
    char sha256[65];
    const char *format; /* "pickle", "unknown" */
    pks_verdict verdict;
    int score;
    tr_pickle *pickles;
    size_t npickles, cappickles;
    tr_finding *findings;
    size_t nfindings, capfindings, findings_dropped;
    tr_error *errors;
    size_t nerrors, caperrors;
    uint64_t opcodes_total; /* for the opcode limit */
    size_t decompressed;    /* bytes decompressed so far, for max_decompressed */
    uint64_t deadline_ns;   /* CLOCK_MONOTONIC time past which the scan stops (0: none) */
    bool timed_out;
    bool nomem; /* an allocation failed while recording: the report may lack entries, so
                   the verdict is error unless it is already malicious */
};

/* Appends a zeroed element to a growable array; NULL on no memory. */
void *res_push(void **arr, size_t *n, size_t *cap, size_t elsize);

/* Adds a finding (message formatted printf-style), folding repeats of the
 * same rule about the same global into one. Honours max_findings. */
void res_finding(pks_result *r, size_t max, const char *rule, sev s, int score, const char *member,
                 size_t offset, const char *module, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 10, 11)));

void res_error(pks_result *r, const char *member, size_t offset, int opcode, pks_err code,
               const char *message);

/* True (once the deadline has passed) when the scan must stop; reports
 * the limit the first time. */
bool res_expired(pks_result *r, size_t max_findings, uint64_t max_ms);

/* Severity names and the score a severity carries by default. */
const char *sev_name(sev s);

/* Derives verdict and score from the findings and errors. */
void res_decide(pks_result *r);

#endif
