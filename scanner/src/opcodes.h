/* The opcode table as C: an enum of opcode bytes, the argument kinds, and
 * one descriptor per opcode looked up by byte. Everything that needs to know
 * what an opcode is (decoder, disassembler, docs generator, VM) asks here;
 * the data itself lives in opcodes.def. */
#ifndef PKS_OPCODES_H
#define PKS_OPCODES_H

#include <stddef.h>
#include <stdint.h>

/* How the argument that follows an opcode byte is laid out. Each kind has one
 * decoding routine in decode.c, shared by all width variants. */
typedef enum op_arg {
    ARG_NONE,                /* no argument */
    ARG_UINT1,               /* 1-byte unsigned */
    ARG_UINT2,               /* 2-byte unsigned little-endian */
    ARG_INT4,                /* 4-byte signed little-endian */
    ARG_UINT4,               /* 4-byte unsigned little-endian */
    ARG_UINT8,               /* 8-byte unsigned little-endian */
    ARG_DECIMALNL_SHORT,     /* INT: text line, strtol base 0, then Python int fallback */
    ARG_DECIMALNL_LONG,      /* LONG: text line, optional trailing 'L', Python int base 0 */
    ARG_MEMONL,              /* PUT/GET: text line, Python int base 10 */
    ARG_FLOATNL,             /* FLOAT: text line, PyOS_string_to_double */
    ARG_FLOAT8,              /* 8-byte big-endian IEEE 754 double */
    ARG_STRINGNL,            /* STRING: quoted, backslash-escaped text line */
    ARG_STRINGNL_ASCII,      /* PERSID: ASCII text line */
    ARG_STRINGNL_PAIR,       /* GLOBAL: two UTF-8 text lines */
    ARG_STRINGNL_PAIR_ASCII, /* INST: two ASCII text lines */
    ARG_UNICODENL,           /* UNICODE: raw-unicode-escape text line */
    ARG_STRING1,             /* SHORT_BINSTRING: 1-byte length + bytes */
    ARG_STRING4,             /* BINSTRING: 4-byte unsigned length + bytes */
    ARG_BYTES1,              /* SHORT_BINBYTES */
    ARG_BYTES4,              /* BINBYTES */
    ARG_BYTES8,              /* BINBYTES8 */
    ARG_BYTEARRAY8,          /* BYTEARRAY8 */
    ARG_UNICODE1,            /* SHORT_BINUNICODE: 1-byte length + UTF-8 (surrogatepass) */
    ARG_UNICODE4,            /* BINUNICODE */
    ARG_UNICODE8,            /* BINUNICODE8 */
    ARG_LONG1,               /* LONG1: 1-byte length + two's complement little-endian */
    ARG_LONG4,               /* LONG4: 4-byte signed length + two's complement */
    ARG__COUNT
} op_arg;

typedef enum op_code {
#define OP(name, byte, arg, proto, marks, before, after, doc) OP_##name = byte,
#include "opcodes.def"
#undef OP
} op_code;

typedef struct op_info {
    const char *name;   /* "SHORT_BINUNICODE" */
    uint8_t byte;       /* 0x8c */
    op_arg arg;         /* argument layout */
    uint8_t proto;      /* protocol that introduced it */
    int8_t marks;       /* +1 pushes a mark, -1 pops one */
    const char *before; /* stack before, pickletools notation */
    const char *after;  /* stack after */
    const char *doc;    /* one line */
} op_info;

/* The descriptor for byte b, or NULL when b is not an opcode. */
const op_info *op_lookup(uint8_t b);

/* All descriptors in table order; *count receives their number. */
const op_info *op_table(size_t *count);

/* A short name for an argument kind ("uint1", "decimalnl_short", ...). */
const char *op_arg_name(op_arg a);

/* Writes the table as Markdown (docs/OPCODES.md) to buf; returns the length
 * the full text needs, like snprintf. */
size_t op_markdown(char *buf, size_t cap);

#endif
