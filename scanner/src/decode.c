/* Opcode and argument decoding, emulating CPython 3.11's C unpickler
 * (Modules/_pickle.c) byte for byte: what it accepts we accept with the same
 * value, what it rejects we reject. Where pickletools reads the bytes
 * differently, the loader wins; docs/DIFFERENCES.md lists those places.
 *
 * Text-line arguments: the C unpickler copies each line (with its '\n') into
 * a NUL-terminated buffer and hands it to C string functions (strtol,
 * PyLong_FromString, PyOS_string_to_double), so an embedded NUL ends the
 * number there. We emulate that with the "visible" prefix of the line: the
 * bytes before the first NUL, followed by a virtual NUL. */
#include "decode.h"

#include "bigint.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define PY_SSIZE_T_MAX ((uint64_t)INT64_MAX)

void dec_init(dec *d, const uint8_t *data, size_t len, size_t off)
{
    memset(d, 0, sizeof *d);
    d->rd = rd_make(data, len, off);
    dec_restart(d);
}

void dec_restart(dec *d)
{
    d->start = d->rd.off;
    d->proto = -1;
    d->in_frame = false;
    d->frame_end = 0;
    d->nops = 0;
}

void dec_free(dec *d)
{
    if (!d)
        return;
    free(d->scratch);
    d->scratch = NULL;
    d->scratch_cap = 0;
}

/* Records the error for the opcode at offset (opcode -1: none) and returns it. */
static __attribute__((format(printf, 5, 6))) pks_err fail(dec *d, pks_err code, size_t offset,
                                                          int opcode, const char *fmt, ...);

static pks_err fail(dec *d, pks_err code, size_t offset, int opcode, const char *fmt, ...)
{
    va_list ap;
    d->err.code = code;
    d->err.offset = offset;
    d->err.opcode = opcode;
    va_start(ap, fmt);
    vsnprintf(d->err.message, sizeof d->err.message, fmt, ap);
    va_end(ap);
    return code;
}

/* A scratch buffer of at least n bytes, reused across opcodes. Only ever
 * sized from bytes the input has already provided. */
static uint8_t *scratch(dec *d, size_t n)
{
    if (n == 0)
        n = 1;
    if (n > d->scratch_cap) {
        uint8_t *p = realloc(d->scratch, n);
        if (!p)
            return NULL;
        d->scratch = p;
        d->scratch_cap = n;
    }
    return d->scratch;
}

/* The six characters C's isspace() and Python's Py_ISSPACE() accept. */
static bool c_isspace(unsigned c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int hexval(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

/* Length of the part of a line a C string function sees. */
static size_t visible_len(const uint8_t *line, size_t n)
{
    const uint8_t *nul = memchr(line, 0, n);
    return nul ? (size_t)(nul - line) : n;
}

bool dec_utf8_valid(const uint8_t *p, size_t n, bool surrogatepass)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint8_t lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
            need = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed && !surrogatepass)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else
            return false;
        if (need > n - i - 1)
            return false;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= need; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
        i += need + 1;
    }
    return true;
}

static bool ascii_valid(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 0x80)
            return false;
    return true;
}

/* Appends code point cp as UTF-8 (surrogates encoded like any other). */
static size_t put_utf8(uint8_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xc0 | (cp >> 6));
        o[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xe0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (uint8_t)(0xf0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/* Stores a parsed big int (malloc'd two's complement) into v: as DV_INT when
 * it fits, else copied into scratch as DV_BIGINT. Frees le. */
static pks_err set_bigint(dec *d, dec_value *v, uint8_t *le, size_t n, size_t pos, int opc)
{
    int64_t x;
    if (bi_to_int64(le, n, &x)) {
        v->kind = DV_INT;
        v->i = x;
        free(le);
        return PKS_OK;
    }
    uint8_t *s = scratch(d, n);
    if (!s) {
        free(le);
        return fail(d, PKS_ERR_NOMEM, pos, opc, "out of memory for a %zu-byte int", n);
    }
    memcpy(s, le, n);
    free(le);
    v->kind = DV_BIGINT;
    v->p = s;
    v->n = n;
    return PKS_OK;
}

/* Python int(text, base) of the visible line, for INT's fallback, LONG, PUT
 * and GET. */
static pks_err pylong(dec *d, dec_value *v, const uint8_t *s, size_t vis, int base, size_t pos,
                      int opc, const char *what, const char *syntax_msg)
{
    uint8_t *le = NULL;
    size_t n = 0;
    switch (bi_parse_pylong((const char *)s, vis, base, &le, &n)) {
    case BI_OK: return set_bigint(d, v, le, n, pos, opc);
    case BI_SYNTAX: return fail(d, PKS_ERR_BAD_ARG, pos, opc, "%s: %s", what, syntax_msg);
    case BI_TOO_LONG:
        return fail(d, PKS_ERR_BAD_ARG, pos, opc,
                    "%s: int literal has more than %d decimal digits (CPython's default limit)",
                    what, BI_MAX_STR_DIGITS);
    case BI_NOMEM: break;
    }
    return fail(d, PKS_ERR_NOMEM, pos, opc, "%s: out of memory", what);
}

/* INT: strtol(s, &end, 0) on an LP64 libc, accepted when end is at '\n' or
 * the NUL; otherwise PyLong_FromString(s, NULL, 0). A 3-byte line holding 0
 * or 1 is a bool, whatever its spelling ("00", "+1", " 1", "1\0"). */
static pks_err parse_int_line(dec *d, dec_value *v, const uint8_t *s, size_t n, size_t pos)
{
    if (n < 2)
        return fail(d, PKS_ERR_BAD_ARG, pos, OP_INT, "INT: empty line");
    size_t vis = visible_len(s, n), i = 0;
    while (i < vis && c_isspace(s[i]))
        i++;
    bool neg = false;
    if (i < vis && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    unsigned base = 10;
    if (i < vis && s[i] == '0') {
        if (i + 2 < vis && (s[i + 1] == 'x' || s[i + 1] == 'X') && hexval(s[i + 2]) >= 0) {
            base = 16;
            i += 2;
        } else {
            base = 8;
        }
    }
    size_t digits_start = i;
    uint64_t acc = 0, limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    bool erange = false;
    while (i < vis) {
        int dv = hexval(s[i]);
        if (dv < 0 || (unsigned)dv >= base)
            break;
        if (acc > (limit - (unsigned)dv) / base)
            erange = true;
        else
            acc = acc * base + (unsigned)dv;
        i++;
    }
    size_t endptr = i == digits_start ? 0 : i; /* no conversion: end = start */
    unsigned endc = endptr < vis ? s[endptr] : 0;
    if (erange || (endc != '\n' && endc != 0)) {
        return pylong(d, v, s, vis, 0, pos, OP_INT, "INT", "could not convert string to int");
    }
    int64_t x = neg ? (acc == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)acc) : (int64_t)acc;
    v->kind = (n == 3 && (x == 0 || x == 1)) ? DV_BOOL : DV_INT;
    v->i = x;
    return PKS_OK;
}

/* FLOAT: PyOS_string_to_double(s, &end, OverflowError): no leading space,
 * optional sign, "inf"/"infinity"/"nan" in any case, or decimal digits with
 * an optional fraction and exponent (no hex, no underscores); then end must
 * be at '\n' or the NUL. */
static pks_err parse_float_line(dec *d, dec_value *v, const uint8_t *s, size_t n, size_t pos)
{
    if (n < 2)
        return fail(d, PKS_ERR_BAD_ARG, pos, OP_FLOAT, "FLOAT: empty line");
    size_t vis = visible_len(s, n), i = 0;
    bool neg = false;
    if (i < vis && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
#define LOWER(k) ((k) < vis ? (unsigned)(s[k] | 0x20) : 0u)
    double val;
    bool special = false;
    if (LOWER(i) == 'i' && LOWER(i + 1) == 'n' && LOWER(i + 2) == 'f') {
        i += 3;
        if (LOWER(i) == 'i' && LOWER(i + 1) == 'n' && LOWER(i + 2) == 'i' && LOWER(i + 3) == 't' &&
            LOWER(i + 4) == 'y')
            i += 5;
        val = neg ? -HUGE_VAL : HUGE_VAL;
        special = true;
    } else if (LOWER(i) == 'n' && LOWER(i + 1) == 'a' && LOWER(i + 2) == 'n') {
        i += 3;
        val = neg ? -NAN : NAN;
        special = true;
    } else {
        size_t mant = 0;
        while (i < vis && s[i] >= '0' && s[i] <= '9') {
            i++;
            mant++;
        }
        if (i < vis && s[i] == '.') {
            i++;
            while (i < vis && s[i] >= '0' && s[i] <= '9') {
                i++;
                mant++;
            }
        }
        if (mant == 0)
            return fail(d, PKS_ERR_BAD_ARG, pos, OP_FLOAT,
                        "FLOAT: could not convert string to float");
        if (i < vis && (s[i] == 'e' || s[i] == 'E')) {
            size_t j = i + 1;
            if (j < vis && (s[j] == '+' || s[j] == '-'))
                j++;
            if (j < vis && s[j] >= '0' && s[j] <= '9') {
                while (j < vis && s[j] >= '0' && s[j] <= '9')
                    j++;
                i = j;
            }
        }
        val = 0.0;
    }
#undef LOWER
    unsigned endc = i < vis ? s[i] : 0;
    if (endc != '\n' && endc != 0)
        return fail(d, PKS_ERR_BAD_ARG, pos, OP_FLOAT, "FLOAT: could not convert string to float");
    if (!special) {
        char *buf = (char *)scratch(d, i + 1);
        if (!buf)
            return fail(d, PKS_ERR_NOMEM, pos, OP_FLOAT, "FLOAT: out of memory");
        memcpy(buf, s, i);
        buf[i] = '\0';
        val = strtod(buf, NULL); /* the grammar above is a subset strtod reads identically */
        if (isinf(val))
            return fail(d, PKS_ERR_BAD_ARG, pos, OP_FLOAT,
                        "FLOAT: value too large to convert to float");
    }
    v->kind = DV_FLOAT;
    v->f = val;
    return PKS_OK;
}

/* STRING: quoted by the same quote at both ends, then PyBytes_DecodeEscape. */
static pks_err parse_string_line(dec *d, dec_value *v, const uint8_t *s, size_t n, size_t pos)
{
    size_t len = n - 1; /* strip the newline */
    if (!(len >= 2 && s[0] == s[len - 1] && (s[0] == '\'' || s[0] == '"')))
        return fail(d, PKS_ERR_BAD_ARG, pos, OP_STRING,
                    "STRING: the argument must be quoted with the same quote at both ends");
    const uint8_t *p = s + 1, *end = s + len - 1;
    uint8_t *out = scratch(d, len), *o = out;
    if (!out)
        return fail(d, PKS_ERR_NOMEM, pos, OP_STRING, "STRING: out of memory");
    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        p++;
        if (p >= end)
            return fail(d, PKS_ERR_BAD_ARG, pos, OP_STRING, "STRING: trailing \\ in string");
        unsigned c = *p++;
        switch (c) {
        case '\n': break;
        case '\\': *o++ = '\\'; break;
        case '\'': *o++ = '\''; break;
        case '"': *o++ = '"'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 't': *o++ = '\t'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 'v': *o++ = '\v'; break;
        case 'a': *o++ = '\a'; break;
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7': {
            unsigned x = c - '0';
            if (p < end && *p >= '0' && *p <= '7') {
                x = (x << 3) + (unsigned)(*p++ - '0');
                if (p < end && *p >= '0' && *p <= '7')
                    x = (x << 3) + (unsigned)(*p++ - '0');
            }
            *o++ = (uint8_t)x; /* values above 0o377 wrap, as in CPython */
            break;
        }
        case 'x':
            if (end - p >= 2 && hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
                *o++ = (uint8_t)(hexval(p[0]) * 16 + hexval(p[1]));
                p += 2;
                break;
            }
            return fail(d, PKS_ERR_BAD_ARG, pos, OP_STRING,
                        "STRING: invalid \\x escape at position %zu", (size_t)(p - 2 - (s + 1)));
        default: /* unknown escape: kept as a backslash and the character */
            *o++ = '\\';
            p--;
            break;
        }
    }
    v->kind = DV_BYTES;
    v->p = out;
    v->n = (size_t)(o - out);
    return PKS_OK;
}

/* UNICODE: raw-unicode-escape. \uXXXX and \UXXXXXXXX are escapes only after
 * an odd run of backslashes; every other byte is a Latin-1 code point. */
static pks_err parse_unicode_line(dec *d, dec_value *v, const uint8_t *s, size_t n, size_t pos)
{
    size_t len = n - 1;
    uint8_t *out = scratch(d, 2 * len), *o = out;
    if (!out)
        return fail(d, PKS_ERR_NOMEM, pos, OP_UNICODE, "UNICODE: out of memory");
    size_t i = 0;
    while (i < len) {
        if (s[i] != '\\') {
            o += put_utf8(o, s[i++]);
            continue;
        }
        size_t run = 0;
        while (i + run < len && s[i + run] == '\\')
            run++;
        size_t after = i + run;
        bool esc = (run & 1) && after < len && (s[after] == 'u' || s[after] == 'U');
        for (size_t k = 0; k < run - (esc ? 1 : 0); k++)
            *o++ = '\\';
        i = after;
        if (!esc)
            continue;
        size_t count = s[i] == 'u' ? 4 : 8;
        uint32_t cp = 0;
        i++;
        for (size_t k = 0; k < count; k++, i++) {
            int h = i < len ? hexval(s[i]) : -1;
            if (h < 0)
                return fail(d, PKS_ERR_BAD_TEXT, pos, OP_UNICODE, "UNICODE: truncated \\%c escape",
                            count == 4 ? 'u' : 'U');
            cp = (cp << 4) | (uint32_t)h;
        }
        if (cp > 0x10ffff)
            return fail(d, PKS_ERR_BAD_TEXT, pos, OP_UNICODE,
                        "UNICODE: \\U escape out of range (U+%X)", cp);
        o += put_utf8(o, cp);
    }
    v->kind = DV_STR;
    v->p = out;
    v->n = (size_t)(o - out);
    return PKS_OK;
}

/* GLOBAL (UTF-8) and INST (ASCII): two non-empty lines. */
static pks_err parse_pair(dec *d, rd_t *r, dec_value *v, bool ascii, size_t pos, int opc,
                          const char *name)
{
    const uint8_t *l[2];
    size_t n[2];
    for (int k = 0; k < 2; k++) {
        if (!rd_line(r, &l[k], &n[k]))
            return fail(d, PKS_ERR_TRUNCATED, pos, opc, "%s: no newline after the %s name", name,
                        k ? "global" : "module");
        if (n[k] < 2)
            return fail(d, PKS_ERR_BAD_ARG, pos, opc, "%s: empty %s name", name,
                        k ? "global" : "module");
        bool ok = ascii ? ascii_valid(l[k], n[k] - 1) : dec_utf8_valid(l[k], n[k] - 1, false);
        if (!ok)
            return fail(d, PKS_ERR_BAD_TEXT, pos, opc, "%s: %s name is not valid %s", name,
                        k ? "global" : "module", ascii ? "ASCII" : "UTF-8");
    }
    v->kind = DV_PAIR;
    v->p = l[0];
    v->n = n[0] - 1;
    v->p2 = l[1];
    v->n2 = n[1] - 1;
    return PKS_OK;
}

/* The length prefix of a counted argument (1, 4 or 8 bytes, unsigned like
 * calc_binsize, or signed 4 bytes for LONG4), then the bytes it announces. */
static pks_err counted(dec *d, rd_t *r, size_t width, bool is_signed, size_t pos, int opc,
                       const char *name, const uint8_t **data, size_t *len)
{
    uint64_t n;
    if (!rd_uint_le(r, width, &n))
        return fail(d, PKS_ERR_TRUNCATED, pos, opc, "%s: data ends inside the %zu-byte length",
                    name, width);
    if (is_signed && (n & 0x80000000u))
        return fail(d, PKS_ERR_BAD_LENGTH, pos, opc, "%s: negative byte count", name);
    if (n > PY_SSIZE_T_MAX)
        return fail(d, PKS_ERR_BAD_LENGTH, pos, opc,
                    "%s: length %llu exceeds the loader's maximum of 2^63-1 bytes", name,
                    (unsigned long long)n);
    if (!rd_bytes(r, (size_t)n, data))
        return fail(d, PKS_ERR_TRUNCATED, pos, opc, "%s: announces %llu bytes but only %zu remain",
                    name, (unsigned long long)n, rd_left(r));
    *len = (size_t)n;
    return PKS_OK;
}

/* Reads the text line of a newline-terminated argument. */
static pks_err need_line(dec *d, rd_t *r, size_t pos, const op_info *info, const uint8_t **p,
                         size_t *n)
{
    /* Look for the newline no further than max_line bytes, so that a huge
     * line is refused without reading it all. */
    size_t left = rd_left(r);
    if (d->max_line && left > d->max_line) {
        rd_t window = rd_make(r->base, r->off + d->max_line, r->off);
        if (!rd_line(&window, p, n))
            return fail(d, PKS_ERR_LIMIT, pos, info->byte,
                        "%s: text line longer than the limit of %zu bytes", info->name,
                        d->max_line);
        r->off = window.off;
        return PKS_OK;
    }
    if (!rd_line(r, p, n))
        return fail(d, PKS_ERR_TRUNCATED, pos, info->byte, "%s: no newline before the end of data",
                    info->name);
    return PKS_OK;
}

/* A fixed-width little-endian integer argument. */
static pks_err fixed_int(dec *d, rd_t *r, size_t pos, const op_info *info, size_t width,
                         bool is_signed, dec_value *v)
{
    uint64_t u;
    if (!rd_uint_le(r, width, &u))
        return fail(d, PKS_ERR_TRUNCATED, pos, info->byte,
                    "%s: data ends inside its %zu-byte argument", info->name, width);
    v->kind = DV_INT;
    if (is_signed) {
        v->i = (int32_t)(uint32_t)u;
        return PKS_OK;
    }
    if (u > PY_SSIZE_T_MAX)
        return fail(d, PKS_ERR_BAD_LENGTH, pos, info->byte,
                    "%s: %llu exceeds the loader's maximum of 2^63-1", info->name,
                    (unsigned long long)u);
    v->i = (int64_t)u;
    return PKS_OK;
}

/* Counted bytes (BINBYTES, BINSTRING, BYTEARRAY8 families). */
static pks_err counted_bytes(dec *d, rd_t *r, size_t pos, const op_info *info, size_t width,
                             dec_value *v)
{
    pks_err e = counted(d, r, width, false, pos, info->byte, info->name, &v->p, &v->n);
    if (!e)
        v->kind = DV_BYTES;
    return e;
}

/* Counted UTF-8 text, decoded with surrogatepass as the loader does. */
static pks_err counted_text(dec *d, rd_t *r, size_t pos, const op_info *info, size_t width,
                            dec_value *v)
{
    pks_err e = counted(d, r, width, false, pos, info->byte, info->name, &v->p, &v->n);
    if (e)
        return e;
    if (!dec_utf8_valid(v->p, v->n, true))
        return fail(d, PKS_ERR_BAD_TEXT, pos, info->byte, "%s: string is not valid UTF-8",
                    info->name);
    v->kind = DV_STR;
    return PKS_OK;
}

/* LONG1/LONG4: two's complement little-endian of any length. */
static pks_err counted_long(dec *d, rd_t *r, size_t pos, const op_info *info, size_t width,
                            dec_value *v)
{
    const uint8_t *p;
    size_t n;
    pks_err e = counted(d, r, width, width == 4, pos, info->byte, info->name, &p, &n);
    if (e)
        return e;
    if (bi_to_int64(p, n, &v->i)) {
        v->kind = DV_INT;
    } else {
        v->kind = DV_BIGINT;
        v->p = p;
        v->n = n;
    }
    return PKS_OK;
}

static pks_err decode_arg(dec *d, rd_t *r, const op_info *info, dec_value *v, size_t pos)
{
    int opc = info->byte;
    const uint8_t *p = NULL;
    size_t n = 0;
    pks_err e;

    v->kind = DV_NONE;
    switch (info->arg) {
    case ARG_NONE: return PKS_OK;
    case ARG_UINT1: return fixed_int(d, r, pos, info, 1, false, v);
    case ARG_UINT2: return fixed_int(d, r, pos, info, 2, false, v);
    case ARG_UINT4: return fixed_int(d, r, pos, info, 4, false, v);
    case ARG_UINT8: return fixed_int(d, r, pos, info, 8, false, v);
    case ARG_INT4: return fixed_int(d, r, pos, info, 4, true, v);
    case ARG_FLOAT8: {
        const uint8_t *b;
        if (!rd_bytes(r, 8, &b))
            return fail(d, PKS_ERR_TRUNCATED, pos, opc, "%s: data ends inside its 8 bytes",
                        info->name);
        uint64_t be = 0;
        for (int k = 0; k < 8; k++)
            be = (be << 8) | b[k];
        v->kind = DV_FLOAT;
        memcpy(&v->f, &be, sizeof be);
        return PKS_OK;
    }
    case ARG_DECIMALNL_SHORT:
        e = need_line(d, r, pos, info, &p, &n);
        return e ? e : parse_int_line(d, v, p, n, pos);
    case ARG_DECIMALNL_LONG: {
        if ((e = need_line(d, r, pos, info, &p, &n)))
            return e;
        if (n < 2)
            return fail(d, PKS_ERR_BAD_ARG, pos, opc, "LONG: empty line");
        size_t vis = visible_len(p, n);
        if (p[n - 2] == 'L' && vis > n - 2)
            vis = n - 2;
        return pylong(d, v, p, vis, 0, pos, opc, "LONG", "invalid literal for int() with base 0");
    }
    case ARG_MEMONL:
        if ((e = need_line(d, r, pos, info, &p, &n)))
            return e;
        if (n < 2)
            return fail(d, PKS_ERR_BAD_ARG, pos, opc, "%s: empty memo index", info->name);
        e = pylong(d, v, p, visible_len(p, n), 10, pos, opc, info->name,
                   "invalid literal for int() with base 10");
        if (e)
            return e;
        if (v->kind != DV_INT)
            return fail(d, PKS_ERR_BAD_ARG, pos, opc, "%s: memo index does not fit in 64 bits",
                        info->name);
        if (opc == OP_PUT && v->i < 0)
            return fail(d, PKS_ERR_BAD_ARG, pos, opc, "PUT: negative memo index");
        return PKS_OK;
    case ARG_FLOATNL:
        e = need_line(d, r, pos, info, &p, &n);
        return e ? e : parse_float_line(d, v, p, n, pos);
    case ARG_STRINGNL:
        e = need_line(d, r, pos, info, &p, &n);
        return e ? e : parse_string_line(d, v, p, n, pos);
    case ARG_UNICODENL:
        e = need_line(d, r, pos, info, &p, &n);
        return e ? e : parse_unicode_line(d, v, p, n, pos);
    case ARG_STRINGNL_ASCII:
        if ((e = need_line(d, r, pos, info, &p, &n)))
            return e;
        if (!ascii_valid(p, n - 1))
            return fail(d, PKS_ERR_BAD_TEXT, pos, opc, "%s: persistent id is not ASCII",
                        info->name);
        v->kind = DV_STR;
        v->p = p;
        v->n = n - 1;
        return PKS_OK;
    case ARG_STRINGNL_PAIR: return parse_pair(d, r, v, false, pos, opc, info->name);
    case ARG_STRINGNL_PAIR_ASCII: return parse_pair(d, r, v, true, pos, opc, info->name);
    case ARG_STRING1:
    case ARG_BYTES1: return counted_bytes(d, r, pos, info, 1, v);
    case ARG_STRING4:
    case ARG_BYTES4: return counted_bytes(d, r, pos, info, 4, v);
    case ARG_BYTES8:
    case ARG_BYTEARRAY8: return counted_bytes(d, r, pos, info, 8, v);
    case ARG_UNICODE1: return counted_text(d, r, pos, info, 1, v);
    case ARG_UNICODE4: return counted_text(d, r, pos, info, 4, v);
    case ARG_UNICODE8: return counted_text(d, r, pos, info, 8, v);
    case ARG_LONG1: return counted_long(d, r, pos, info, 1, v);
    case ARG_LONG4: return counted_long(d, r, pos, info, 4, v);
    case ARG__COUNT: break;
    }
    return fail(d, PKS_ERR_BAD_OPCODE, pos, opc, "bad opcode table entry");
}

pks_err dec_next(dec *d, dec_op *op)
{
    rd_t r = d->rd; /* committed to d->rd only on success */
    size_t pos = r.off;
    uint8_t b;

    memset(op, 0, sizeof *op);
    if (!rd_u8(&r, &b)) {
        if (d->nops == 0 && pos == d->start)
            return fail(d, PKS_ERR_EMPTY, pos, -1, "no data where a pickle should start");
        return fail(d, PKS_ERR_TRUNCATED, pos, -1, "data ends before STOP");
    }
    const op_info *info = op_lookup(b);
    if (!info)
        return fail(d, PKS_ERR_BAD_OPCODE, pos, b, "byte 0x%02x is not a pickle opcode", b);
    pks_err e = decode_arg(d, &r, info, &op->arg, pos);
    if (e)
        return e;

    /* Checks the loader makes as it reads the argument. */
    if (b == OP_PROTO && op->arg.i > 5)
        return fail(d, PKS_ERR_BAD_PROTOCOL, pos, b, "PROTO: unsupported pickle protocol %lld",
                    (long long)op->arg.i);
    if ((b == OP_EXT1 || b == OP_EXT2 || b == OP_EXT4) && op->arg.i <= 0)
        return fail(d, PKS_ERR_BAD_ARG, pos, b, "%s: extension code %lld is not positive",
                    info->name, (long long)op->arg.i);
    bool short_frame = b == OP_FRAME && (uint64_t)op->arg.i > rd_left(&r);
    if (short_frame && !d->lenient_frames)
        return fail(d, PKS_ERR_TRUNCATED, pos, b, "FRAME: announces %lld bytes but only %zu remain",
                    (long long)op->arg.i, rd_left(&r));

    /* Anomalies, judged against PEP 3154 and what picklers write. */
    unsigned an = 0;
    if (d->in_frame && pos >= d->frame_end)
        d->in_frame = false;
    if (b == OP_FRAME) {
        if (d->in_frame)
            an |= DEC_ANOM_FRAME_NESTED;
        if (short_frame)
            an |= DEC_ANOM_FRAME_SHORT;
        d->in_frame = true;
        d->frame_end = short_frame ? r.len : r.off + (size_t)op->arg.i;
    } else if (d->in_frame && r.off > d->frame_end) {
        an |= DEC_ANOM_FRAME_CROSSED;
    }
    if (b == OP_STOP && d->in_frame && r.off < d->frame_end)
        an |= DEC_ANOM_FRAME_UNFINISHED;
    if (b == OP_PROTO) {
        if (d->nops > 0)
            an |= DEC_ANOM_PROTO_LATE;
        d->proto = (int)op->arg.i;
    } else if (info->proto > (d->proto < 0 ? 1 : d->proto)) {
        an |= DEC_ANOM_ABOVE_PROTO;
    }

    op->offset = pos;
    op->end = r.off;
    op->info = info;
    op->anomalies = an;
    d->rd = r;
    d->nops++;
    return PKS_OK;
}
