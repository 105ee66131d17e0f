/* The restricted loader: rebuilds the object graph of one pickle from
 * allowlisted types only and writes it in pklscan's typed JSON encoding
 * (docs/LOADER.md). It decodes with the scanner's opcode table and decoder,
 * never imports or calls anything, and refuses any global the policy does
 * not allow, naming it and its offset. It runs inside the jail
 * (sandbox/jail.h) unless the caller asks for --no-sandbox. */
#ifndef PKS_LOADER_H
#define PKS_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pklscan.h"
#include "policy.h"

typedef struct ldr_opts {
    const policy *pol;   /* allowlist: globals outside it are refused */
    size_t inline_bytes; /* bytes/bytearray up to this size are written in full (base64);
                            longer ones as size and SHA-256 only */
    size_t max_output;   /* JSON size cap */
    uint64_t max_ops;    /* opcodes executed */
    size_t max_values;   /* values alive at once */
    unsigned max_depth;  /* nesting depth of the emitted graph */
} ldr_opts;

void ldr_defaults(ldr_opts *o, const policy *pol);

/* A growable output buffer. */
typedef struct ldr_buf {
    char *p;
    size_t n, cap, max;
    bool overflow; /* max reached: the text is cut */
    bool nomem;
} ldr_buf;

void ldr_buf_free(ldr_buf *b);

/* Appends s[0..n) (nothing once the buffer is over its max or out of
 * memory, which the flags say). */
void ldr_put(ldr_buf *b, const char *s, size_t n);

/* Appends UTF-8 text p[0..n) as a JSON string, ASCII only, the way
 * Python's json.dumps writes it. */
void ldr_put_str(ldr_buf *b, const uint8_t *p, size_t n);

/* Loads the pickle starting at data[off] (one pickle, up to its STOP) and
 * appends its typed JSON encoding to out. torch_storages: persistent ids of
 * the torch form ('storage', type, key, location, numel) are accepted and
 * become storage descriptions; any other persistent id is refused.
 * On failure, err says where and why (the global refused, the opcode the
 * loader rejects) and out holds nothing useful. *end (if not NULL) gets the
 * offset just past STOP. */
pks_err ldr_load(const ldr_opts *o, const uint8_t *data, size_t len, size_t off,
                 bool torch_storages, ldr_buf *out, size_t *end, pks_error_info *err);

#endif
