/* Builds the opcode descriptors and the byte-indexed lookup from
 * opcodes.def, and renders the table as Markdown for docs/OPCODES.md. */
#include "opcodes.h"

#include <stdarg.h>
#include <stdio.h>

static const op_info op_list[] = {
#define OP(name, byte, arg, proto, marks, before, after, doc)                                      \
    {#name, byte, arg, proto, marks, before, after, doc},
#include "opcodes.def"
#undef OP
};

#define OP_COUNT (sizeof op_list / sizeof op_list[0])

/* Position of each opcode in op_list, from the same X-macro list. */
enum {
#define OP(name, byte, arg, proto, marks, before, after, doc) OP_POS_##name,
#include "opcodes.def"
#undef OP
};

/* Byte -> position + 1 in op_list; 0 means "not an opcode". */
static const uint8_t op_index[256] = {
#define OP(name, byte, arg, proto, marks, before, after, doc) [byte] = OP_POS_##name + 1,
#include "opcodes.def"
#undef OP
};

const op_info *op_lookup(uint8_t b)
{
    uint8_t i = op_index[b];
    return i ? &op_list[i - 1] : NULL;
}

const op_info *op_table(size_t *count)
{
    *count = OP_COUNT;
    return op_list;
}

const char *op_arg_name(op_arg a)
{
    switch (a) {
    case ARG_NONE: return "";
    case ARG_UINT1: return "uint1";
    case ARG_UINT2: return "uint2";
    case ARG_INT4: return "int4";
    case ARG_UINT4: return "uint4";
    case ARG_UINT8: return "uint8";
    case ARG_DECIMALNL_SHORT: return "decimalnl_short";
    case ARG_DECIMALNL_LONG: return "decimalnl_long";
    case ARG_MEMONL: return "memo_decimalnl";
    case ARG_FLOATNL: return "floatnl";
    case ARG_FLOAT8: return "float8";
    case ARG_STRINGNL: return "stringnl";
    case ARG_STRINGNL_ASCII: return "stringnl_ascii";
    case ARG_STRINGNL_PAIR: return "stringnl_pair_utf8";
    case ARG_STRINGNL_PAIR_ASCII: return "stringnl_pair_ascii";
    case ARG_UNICODENL: return "unicodestringnl";
    case ARG_STRING1: return "string1";
    case ARG_STRING4: return "string4";
    case ARG_BYTES1: return "bytes1";
    case ARG_BYTES4: return "bytes4";
    case ARG_BYTES8: return "bytes8";
    case ARG_BYTEARRAY8: return "bytearray8";
    case ARG_UNICODE1: return "unicodestring1";
    case ARG_UNICODE4: return "unicodestring4";
    case ARG_UNICODE8: return "unicodestring8";
    case ARG_LONG1: return "long1";
    case ARG_LONG4: return "long4";
    case ARG__COUNT: break;
    }
    return "?";
}

/* snprintf-style appender that keeps counting past the end of buf. */
static __attribute__((format(printf, 4, 5))) void md_put(char *buf, size_t cap, size_t *len,
                                                         const char *fmt, ...);

static void md_put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = *len < cap ? cap - *len : 0;
    int n = vsnprintf(room ? buf + *len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n;
}

/* The opcode byte as pickletools shows it: the character when printable. */
static void byte_repr(uint8_t b, char out[8])
{
    if (b >= 0x20 && b < 0x7f && b != '\\' && b != '\'' && b != '|')
        snprintf(out, 8, "%c", b);
    else
        snprintf(out, 8, "\\x%02x", b);
}

size_t op_markdown(char *buf, size_t cap)
{
    size_t len = 0;
    if (cap)
        buf[0] = '\0';
    md_put(buf, cap, &len,
           "# Pickle opcodes\n\n"
           "Generated from `scanner/src/opcodes.def` by `pklscan opcodes --markdown`; do not "
           "edit by hand (the test suite checks that this file is up to date).\n\n"
           "%zu opcodes, protocols 0-5, in the order of CPython's `pickletools`. Stack notation: "
           "top of the stack on the right; `mark` is the mark stack, `any*` the items above the "
           "topmost mark. Argument kinds are decoded as `Modules/_pickle.c` does; see "
           "[DIFFERENCES.md](DIFFERENCES.md).\n\n"
           "| byte | name | argument | proto | stack before | stack after | description |\n"
           "|---|---|---|---|---|---|---|\n",
           OP_COUNT);
    for (size_t i = 0; i < OP_COUNT; i++) {
        const op_info *o = &op_list[i];
        char rb[8];
        byte_repr(o->byte, rb);
        md_put(buf, cap, &len, "| `0x%02x` `%s` | %s | %s | %u | %s | %s | %s |\n", o->byte, rb,
               o->name, o->arg == ARG_NONE ? "-" : op_arg_name(o->arg), o->proto,
               o->before[0] ? o->before : "-", o->after[0] ? o->after : "-", o->doc);
    }
    return len;
}
