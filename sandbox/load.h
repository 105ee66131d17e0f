/* pklscan load: finds the pickles of one file (raw pickles, PyTorch zip and
 * legacy checkpoints, zip archives, .npy with object dtype), rebuilds each
 * with the restricted loader, and runs that inside the seccomp jail unless
 * asked not to. The parent validates the child's reply before printing it. */
#ifndef PKS_LOAD_H
#define PKS_LOAD_H

#include <stdbool.h>
#include <stdio.h>

#include "loader.h"

typedef struct pks_load_opts {
    ldr_opts ldr;
    bool sandbox;        /* fork into the jail (default) */
    unsigned timeout_ms; /* jail wall clock */
    uint64_t max_memory; /* jail address space */
} pks_load_opts;

void pks_load_defaults(pks_load_opts *o, const policy *pol);

/* Writes the document for one file (docs/LOADER.md) to b: {"format": ...,
 * "pickles": [...], "refused": n}. Runs in the jail. Returns false only when
 * out of memory or out of output space. */
bool pks_load_document(const ldr_opts *o, const uint8_t *data, size_t len, ldr_buf *b);

/* Loads path's bytes and writes one JSON object line to out: the document
 * plus "file", "sandbox" and "status" ("ok", "refused", "error"), or an
 * error object naming what went wrong in the jail. Returns 0 when every
 * pickle loaded, 1 when one was refused, 2 on errors. */
int pks_load_report(const pks_load_opts *o, const char *path, const uint8_t *data, size_t len,
                    FILE *out);

/* True when s[0..n) is one JSON object with "format", "pickles" and
 * "refused" (lone-surrogate escapes allowed); *refused (may be NULL) gets the
 * count. The parent checks every reply of the jail with it. */
bool pks_load_reply_valid(const char *s, size_t n, size_t *refused);

/* One JSON line for a file that could not be loaded at all. */
void pks_load_error(const char *path, const char *reason, const char *message, FILE *out);

#endif
