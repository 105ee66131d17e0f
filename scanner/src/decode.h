/* The opcode decoder: turns the bytes of a pickle stream into a sequence of
 * (offset, opcode, decoded argument), exactly as CPython's C unpickler
 * (Modules/_pickle.c, 3.11) reads them. It never interprets the stack; the
 * disassembler and the VM sit on top of it. It also notes structural
 * anomalies that the loader tolerates but no pickler writes (frame abuse,
 * PROTO in the middle, opcodes newer than the declared protocol). */
#ifndef PKS_DECODE_H
#define PKS_DECODE_H

#include "opcodes.h"
#include "pklscan.h"
#include "reader.h"

typedef enum dec_vkind {
    DV_NONE,   /* opcode without argument */
    DV_INT,    /* .i */
    DV_BOOL,   /* .i is 0 or 1 (INT "00"/"01" and its loader-only spellings) */
    DV_BIGINT, /* .p/.n: little-endian two's complement, too big for int64 */
    DV_FLOAT,  /* .f */
    DV_BYTES,  /* .p/.n: raw bytes (BINBYTES, BINSTRING, STRING after unescaping, ...) */
    DV_STR,    /* .p/.n: UTF-8 text, lone surrogates allowed as the loader allows them */
    DV_PAIR    /* .p/.n module, .p2/.n2 name (GLOBAL, INST), raw bytes of the lines */
} dec_vkind;

typedef struct dec_value {
    dec_vkind kind;
    int64_t i;
    double f;
    const uint8_t *p;
    size_t n;
    const uint8_t *p2;
    size_t n2;
} dec_value;

/* Anomalies: the loader accepts these; benign picklers never write them. */
enum {
    DEC_ANOM_FRAME_NESTED = 1u << 0,     /* FRAME before the current frame ended */
    DEC_ANOM_FRAME_CROSSED = 1u << 1,    /* an opcode or argument runs past its frame's end */
    DEC_ANOM_FRAME_UNFINISHED = 1u << 2, /* STOP while the frame still has bytes */
    DEC_ANOM_PROTO_LATE = 1u << 3,       /* PROTO after the first opcode */
    DEC_ANOM_ABOVE_PROTO = 1u << 4,      /* opcode newer than the declared protocol */
    DEC_ANOM_FRAME_SHORT = 1u << 5       /* FRAME longer than the data left (lenient mode) */
};

typedef struct dec_op {
    size_t offset;       /* of the opcode byte, from the start of the input */
    size_t end;          /* offset just past the argument */
    const op_info *info; /* never NULL on success */
    dec_value arg;       /* pointers valid until the next dec_next */
    unsigned anomalies;  /* DEC_ANOM_* */
} dec_op;

typedef struct dec {
    rd_t rd;      /* cursor at the next opcode */
    size_t start; /* offset where the current pickle began */
    int proto;    /* last PROTO argument, -1 before any */
    bool in_frame;
    size_t frame_end;
    uint64_t nops;       /* opcodes decoded in the current pickle */
    bool lenient_frames; /* a FRAME longer than the data is an anomaly, not an error: the C
                            unpickler stops there, pickle._Unpickler (pure Python, as in
                            torch's weights_only loader) reads on */
    size_t max_line;     /* longest text-line argument decoded (0: no limit); the scratch
                            buffer grows to at most twice this */
    uint8_t *scratch;    /* owned: unescaped strings, parsed big ints */
    size_t scratch_cap;
    pks_error_info err; /* set when dec_next fails */
} dec;

/* Starts decoding data[0..len) at offset off. */
void dec_init(dec *d, const uint8_t *data, size_t len, size_t off);

/* Begins a new pickle at the cursor (after a STOP): protocol and frame
 * state reset, as a fresh Unpickler.load() would. */
void dec_restart(dec *d);

/* Frees what d owns. Accepts a zeroed or half-built d. */
void dec_free(dec *d);

/* Decodes the opcode at the cursor into *op and advances past it. On
 * failure the cursor stays on the opcode and d->err says why. */
pks_err dec_next(dec *d, dec_op *op);

/* True when p[0..n) is valid UTF-8; lone surrogates (U+D800..U+DFFF encoded
 * in three bytes) are accepted only when surrogatepass. */
bool dec_utf8_valid(const uint8_t *p, size_t n, bool surrogatepass);

#endif
