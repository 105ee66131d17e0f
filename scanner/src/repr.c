/* Python-like repr() of decoded pickle values, for the disassembler. */
#include "repr.h"

#include "bigint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char pick_quote(const uint8_t *p, size_t n)
{
    bool sq = memchr(p, '\'', n) != NULL, dq = memchr(p, '"', n) != NULL;
    return (sq && !dq) ? '"' : '\'';
}

static void put_escaped_ascii(FILE *f, uint8_t c, char q)
{
    switch (c) {
    case '\\': fputs("\\\\", f); return;
    case '\n': fputs("\\n", f); return;
    case '\r': fputs("\\r", f); return;
    case '\t': fputs("\\t", f); return;
    default: break;
    }
    if (c == (uint8_t)q)
        fprintf(f, "\\%c", q);
    else if (c < 0x20 || c >= 0x7f)
        fprintf(f, "\\x%02x", c);
    else
        fputc(c, f);
}

void repr_bytes(FILE *f, const uint8_t *p, size_t n, size_t max)
{
    size_t shown = n < max ? n : max;
    char q = pick_quote(p, shown);
    fprintf(f, "b%c", q);
    for (size_t i = 0; i < shown; i++)
        put_escaped_ascii(f, p[i], q);
    fputc(q, f);
    if (shown < n)
        fprintf(f, "... (%zu bytes)", n);
}

void repr_str(FILE *f, const uint8_t *p, size_t n, size_t max)
{
    size_t shown = n < max ? n : max;
    char q = pick_quote(p, shown);
    fputc(q, f);
    size_t i = 0;
    while (i < shown) {
        uint8_t c = p[i];
        if (c < 0x80) {
            put_escaped_ascii(f, c, q);
            i++;
            continue;
        }
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (len > n - i) /* cannot happen for validated text; be safe */
            len = n - i;
        uint32_t cp = 0;
        if (len == 2)
            cp = ((uint32_t)(c & 0x1f) << 6) | (p[i + 1] & 0x3fu);
        else if (len == 3)
            cp = ((uint32_t)(c & 0x0f) << 12) | ((p[i + 1] & 0x3fu) << 6) | (p[i + 2] & 0x3fu);
        if (len == 2 && cp < 0xa0)
            fprintf(f, "\\x%02x", cp); /* C1 controls */
        else if (len == 3 && cp >= 0xd800 && cp <= 0xdfff)
            fprintf(f, "\\u%04x", cp); /* lone surrogate */
        else
            fwrite(p + i, 1, len, f);
        i += len;
    }
    fputc(q, f);
    if (shown < n)
        fprintf(f, "... (%zu bytes)", n);
}

void repr_float(double x, char out[40])
{
    if (isnan(x)) {
        strcpy(out, "nan");
        return;
    }
    if (isinf(x)) {
        strcpy(out, x < 0 ? "-inf" : "inf");
        return;
    }
    if (x == 0.0) {
        strcpy(out, signbit(x) ? "-0.0" : "0.0");
        return;
    }
    char buf[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    /* buf is [-]d[.ddd]e[+-]XX: split into sign, digits and exponent. */
    const char *s = buf;
    bool neg = *s == '-';
    if (neg)
        s++;
    char digits[24];
    size_t nd = 0;
    for (; *s && *s != 'e'; s++)
        if (*s != '.')
            digits[nd++] = *s;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    int exp10 = atoi(s + 1);
    int decpt = exp10 + 1;
    char *o = out;
    if (neg)
        *o++ = '-';
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            *o++ = '0';
            *o++ = '.';
            for (int k = 0; k < -decpt; k++)
                *o++ = '0';
            memcpy(o, digits, nd);
            o += nd;
        } else if ((size_t)decpt >= nd) {
            memcpy(o, digits, nd);
            o += nd;
            for (size_t k = nd; k < (size_t)decpt; k++)
                *o++ = '0';
            *o++ = '.';
            *o++ = '0';
        } else {
            memcpy(o, digits, (size_t)decpt);
            o += decpt;
            *o++ = '.';
            memcpy(o, digits + decpt, nd - (size_t)decpt);
            o += nd - (size_t)decpt;
        }
        *o = '\0';
    } else {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, nd - 1);
            o += nd - 1;
        }
        sprintf(o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    }
}

void repr_bigint(FILE *f, const uint8_t *le, size_t n, size_t max)
{
    if (n <= max) {
        size_t cap = bi_decimal_cap(n);
        char *s = malloc(cap);
        if (s && bi_to_decimal(le, n, s, cap)) {
            fputs(s, f);
            free(s);
            return;
        }
        free(s);
    }
    fprintf(f, "<%s int of %zu bytes, top bytes 0x",
            (n && (le[n - 1] & 0x80)) ? "negative" : "positive", n);
    for (size_t k = 0; k < 8 && k < n; k++)
        fprintf(f, "%02x", le[n - 1 - k]);
    fputc('>', f);
}
