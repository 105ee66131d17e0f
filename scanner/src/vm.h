/* The symbolic pickle VM: runs one pickle stream the way CPython's C
 * unpickler does (stack with a fence at the topmost mark, mark stack, memo,
 * PROTO anywhere) over abstract values, never importing or calling
 * anything. It records every import and call in the result's trace, applies
 * the policy as it goes, and raises findings for the patterns no benign
 * pickler writes. Nested pickles passed as constants to a loader are scanned
 * through scan_nested (scan.c). */
#ifndef PKS_VM_H
#define PKS_VM_H

#include "scan_limits.h"
#include "policy.h"
#include "result.h"
#include "rules.h"

struct pks_scanner {
    policy *pol;
    rules *rules; /* NULL: no YARA rules */
    pks_limits lim;
    bool jailed; /* scanning in the seccomp jail (scan --sandbox): no temporary files
                    (decompressed bytes stay in memory), no SIGBUS handler (the fault
                    kills the child, which the parent reports) */
};

typedef struct vm_outcome {
    size_t end;         /* offset after STOP, or of the failing opcode */
    bool complete;      /* reached STOP */
    bool events;        /* imported or called anything (or a persistent id / EXT) */
    bool stop_scanning; /* a limit was reached: do not look for more streams */
    pks_error_info err; /* when !complete */
} vm_outcome;

/* Runs the stream that starts at data[off], reporting into r under member
 * (NULL for the file itself) at nesting depth. Adds a tr_pickle to r. in,
 * when not NULL, is the input data belongs to (its pages are released
 * behind the cursor). */
void vm_run(const pks_scanner *s, pks_result *r, const pks_input *in, const uint8_t *data,
            size_t len, size_t off, const char *member, int depth, vm_outcome *out);

/* Scans every pickle stream in data[0..len), one after another (scan.c).
 * data_after: the layout says raw data follows that many pickles (torch's
 * legacy format). strict: a broken stream with a PROTO header counts as a
 * pickle (for files; a container member must complete a stream or import
 * something to count, so that tensor bytes are not mistaken for pickles).
 * Returns false when nothing pickle-like is there; its findings are then
 * rolled back. */
bool scan_pickles(const pks_scanner *s, pks_result *r, const pks_input *in, const uint8_t *data,
                  size_t len, const char *member, int depth, size_t data_after, bool strict);

/* Scans data[0..len) as the constant argument of a loader call: every
 * stream in it, findings under member. torch_legacy: the bytes are torch's
 * legacy format (five pickles, then raw storages). Defined in scan.c. */
void scan_nested(const pks_scanner *s, pks_result *r, const uint8_t *data, size_t len,
                 const char *member, int depth, bool torch_legacy);

#endif
