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
    PKS_ERR_EMPTY = 11        /* no data at all where a pickle was expected */
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

#ifdef __cplusplus
}
#endif
#endif
