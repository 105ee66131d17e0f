/* pklscan public API: tells whether a Python pickle, or a model file that
 * carries pickles, is safe to load, without running Python.
 *
 * This header is the whole public surface: opaque handles, one error enum,
 * create/free pairs. Ownership is stated per function. No cJSON, YARA or
 * libseccomp type ever appears here. */
#ifndef PKLSCAN_H
#define PKLSCAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PKS_VERSION "0.1.0"

/* Every error pklscan reports. Append only: values never change meaning. */
typedef enum pks_err {
    PKS_OK = 0,
    PKS_ERR_NOMEM = 1,        /* an allocation failed */
    PKS_ERR_IO = 2,           /* a file could not be opened, mapped or read */
    PKS_ERR_USAGE = 3,        /* bad arguments to a function or the CLI */
    PKS_ERR_TRUNCATED = 4,    /* the data ends inside an opcode, an argument or a frame */
    PKS_ERR_BAD_OPCODE = 5,   /* a byte that is not a pickle opcode */
    PKS_ERR_BAD_ARG = 6,      /* an argument the loader rejects (literal, quoting, escape, code) */
    PKS_ERR_BAD_TEXT = 7,     /* invalid UTF-8 or ASCII where the loader decodes text */
    PKS_ERR_BAD_LENGTH = 8,   /* a declared length the loader rejects (negative, > 2^63-1) */
    PKS_ERR_BAD_PROTOCOL = 9, /* PROTO above 5 */
    PKS_ERR_LIMIT = 10,       /* a configured limit was reached */
    PKS_ERR_EMPTY = 11,       /* no data at all where a pickle was expected */
    PKS_ERR_STACK = 12,       /* an operation the loader rejects: stack underflow, no MARK,
                                 missing memo key, odd item count */
    PKS_ERR_REFUSED = 13      /* the restricted loader refuses it: a global outside the
                                 allowlist, a call or operation it does not rebuild */
} pks_err;

/* A static, human-readable description of e. Never NULL. */
const char *pks_strerror(pks_err e);

/* The library version, PKS_VERSION. */
const char *pks_version(void);

/* Where and why decoding stopped: the first error wins. */
typedef struct pks_error_info {
    pks_err code;
    uint64_t offset; /* byte offset of the opcode being decoded */
    int opcode;      /* its byte, or -1 when there was none (end of data) */
    char message[256];
} pks_error_info;

/* An input: a file mapped read-only, stdin read into memory, or a caller's
 * buffer. Opaque. */
typedef struct pks_input pks_input;

/* Opens path ("-" for stdin). Regular files are memory-mapped, never copied.
 * On success *out owns the mapping; free it with pks_input_free. */
pks_err pks_input_open(const char *path, pks_input **out);

/* Wraps a caller's buffer without copying it; the buffer must outlive *out. */
pks_err pks_input_from_buffer(const void *data, size_t len, pks_input **out);

/* Releases in and its mapping. Accepts NULL. */
void pks_input_free(pks_input *in);

/* The bytes of in and their number; valid until pks_input_free. */
const uint8_t *pks_input_data(const pks_input *in);
size_t pks_input_size(const pks_input *in);

/* Writes a pickletools-style disassembly of every pickle in in (one after
 * another until the end of the data) to out. Returns PKS_OK when all of it
 * decoded; otherwise everything decoded before the error has been written,
 * and *err (if not NULL) says where and why it stopped. */
pks_err pks_disassemble(const pks_input *in, FILE *out, pks_error_info *err);

/* ---- Scanning ---------------------------------------------------------- */

/* Per-file verdicts, in increasing order of concern for the first three. */
typedef enum pks_verdict {
    PKS_VERDICT_CLEAN = 0,      /* every stream parsed; every import and call allowlisted */
    PKS_VERDICT_SUSPICIOUS = 1, /* something not allowlisted, or an anomaly */
    PKS_VERDICT_MALICIOUS = 2,  /* a known-dangerous import or call, or a hostile pattern */
    PKS_VERDICT_ERROR = 3,      /* the file could not be analysed */
    PKS_VERDICT_SKIPPED = 4     /* nothing pickle-like in it */
} pks_verdict;

/* "clean", "suspicious", "malicious", "error", "skipped". */
const char *pks_verdict_name(pks_verdict v);

/* A scanner: the policy and the limits, shared read-only by every scan. */
typedef struct pks_scanner pks_scanner;

/* Creates a scanner with the built-in policy and default limits. */
pks_err pks_scanner_new(pks_scanner **out);

/* Allows an extra global, "module.qualname" or "module qualname", as a class
 * that may be constructed and called. */
pks_err pks_scanner_allow(pks_scanner *s, const char *name);

/* Adds the allowlist entries of a policy file: lines "module qualname
 * kind" (kind: class, func or const), '#' comments. On PKS_ERR_USAGE, *line
 * (if not NULL) gets the first bad line; PKS_ERR_IO when it cannot be read. */
pks_err pks_scanner_add_policy_file(pks_scanner *s, const char *path, size_t *line);

/* Sets one limit by name (see docs/CLI.md or pks_limits_describe):
 * opcodes, stack, marks, memo, heap, items, events, findings, pickles,
 * nesting, decoded, line, decompressed, members, containers, time_ms.
 * Reaching a limit is a finding, never a silent stop. PKS_ERR_USAGE for an
 * unknown name or an impossible value. */
pks_err pks_scanner_set_limit(pks_scanner *s, const char *name, uint64_t value);

/* Writes every limit's name, default and meaning, one per line. */
void pks_limits_describe(FILE *out);

/* Replaces the scanner's YARA rules: the shipped ones (when use_defaults)
 * plus every *.yar file in extra_dir/trace and extra_dir/raw (extra_dir may
 * be NULL). Rules are compiled here, once. On PKS_ERR_USAGE err holds the
 * compiler's message and the previous rules stay. */
pks_err pks_scanner_set_rules(pks_scanner *s, const char *extra_dir, int use_defaults, char *err,
                              size_t errlen);

/* Releases s. Accepts NULL. */
void pks_scanner_free(pks_scanner *s);

/* The result of scanning one file. Opaque; see the accessors below and the
 * report writers. */
typedef struct pks_result pks_result;

/* Scans the bytes of in, reported under path (any label; may be NULL).
 * with_sha256 adds the file's SHA-256 to the report (it reads every byte).
 * *out is always set (even when the scan failed: its verdict says so) and
 * must be freed with pks_result_free. Returns PKS_ERR_NOMEM only. */
pks_err pks_scan_input(const pks_scanner *s, const pks_input *in, const char *path,
                       int with_sha256, pks_result **out);

/* A result for a file that could not be read: verdict error. */
pks_err pks_result_new_error(const char *path, const char *reason, pks_result **out);

pks_verdict pks_result_verdict(const pks_result *r);
int pks_result_score(const pks_result *r);
const char *pks_result_path(const pks_result *r);

/* Releases r. Accepts NULL. */
void pks_result_free(pks_result *r);

/* Report writers. text: one clamscan-style line ("path: OK", "path:
 * MALICIOUS (rule: message)"), with every finding listed below it when
 * verbose. json: one file object as DESIGN.md specifies, on one line when
 * compact (JSON Lines) or indented. */
pks_err pks_result_write_text(const pks_result *r, FILE *out, int verbose);

/* Writes why each global of r got its class, one per line, to out. */
pks_err pks_result_write_explain(const pks_result *r, FILE *out);
pks_err pks_result_write_json(const pks_result *r, FILE *out, int compact);

#ifdef __cplusplus
}
#endif
#endif
