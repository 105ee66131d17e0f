/* Arbitrary-size integer helpers for the decoder and the disassembler; see
 * bigint.h. Magnitudes are little-endian arrays of 32-bit limbs. */
#include "bigint.h"

#include <stdlib.h>
#include <string.h>

/* Value of an ASCII digit in bases up to 36, or 99. */
static int digit_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

/* Py_ISSPACE: the six ASCII whitespace characters. */
static bool py_isspace(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The magnitude limbs[0..count) as minimal little-endian two's complement
 * bytes, negated when neg. Consumes nothing; allocates the result. */
static bi_status mag_to_twos(const uint32_t *limbs, size_t count, bool neg, uint8_t **out,
                             size_t *out_len)
{
    while (count && limbs[count - 1] == 0)
        count--;
    size_t nbytes = count * 4 + 1;
    uint8_t *b = malloc(nbytes);
    if (!b)
        return BI_NOMEM;
    for (size_t i = 0; i < count; i++)
        for (size_t k = 0; k < 4; k++)
            b[i * 4 + k] = (uint8_t)(limbs[i] >> (8 * k));
    b[nbytes - 1] = 0;
    if (neg) {
        unsigned carry = 1;
        for (size_t i = 0; i < nbytes; i++) {
            unsigned v = (unsigned)(uint8_t)~b[i] + carry;
            b[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    /* Trim redundant sign bytes. */
    size_t n = nbytes;
    while (n > 0) {
        uint8_t top = b[n - 1];
        uint8_t below_sign = n >= 2 ? (uint8_t)(b[n - 2] & 0x80) : 0;
        if (top == 0x00 && (n == 1 || below_sign == 0))
            n--;
        else if (top == 0xff && n >= 2 && below_sign)
            n--;
        else
            break;
    }
    *out = b;
    *out_len = n;
    return BI_OK;
}

/* Digits of a power-of-two base packed into limbs: linear time. Digits are
 * indices into s, underscores already validated; count = number of digits. */
static bi_status parse_pow2(const char *s, size_t end, int base, size_t ndigits, bool neg,
                            uint8_t **out, size_t *out_len)
{
    unsigned bits = base == 2 ? 1 : base == 8 ? 3 : 4;
    size_t nlimbs = (ndigits * bits + 31) / 32 + 1;
    uint32_t *limbs = calloc(nlimbs, sizeof *limbs);
    if (!limbs)
        return BI_NOMEM;
    size_t bitpos = 0;
    for (size_t i = end; i-- > 0;) {
        if (s[i] == '_')
            continue;
        uint32_t d = (uint32_t)digit_value((unsigned char)s[i]);
        size_t li = bitpos / 32, sh = bitpos % 32;
        limbs[li] |= d << sh;
        if (sh + bits > 32)
            limbs[li + 1] |= d >> (32 - sh);
        bitpos += bits;
    }
    bi_status st = mag_to_twos(limbs, nlimbs, neg, out, out_len);
    free(limbs);
    return st;
}

/* Decimal digits by multiply-add: quadratic, bounded by BI_MAX_STR_DIGITS. */
static bi_status parse_dec(const char *s, size_t end, size_t ndigits, bool neg, uint8_t **out,
                           size_t *out_len)
{
    size_t nlimbs = ndigits / 9 + 2;
    uint32_t *limbs = calloc(nlimbs, sizeof *limbs);
    if (!limbs)
        return BI_NOMEM;
    size_t used = 0;
    uint32_t chunk = 0, mul = 1;
    for (size_t i = 0; i <= end; i++) {
        bool last = i == end;
        if (!last) {
            if (s[i] == '_')
                continue;
            chunk = chunk * 10 + (uint32_t)(s[i] - '0');
            mul *= 10;
        }
        if (mul == 1000000000u || (last && mul > 1)) {
            uint64_t carry = chunk;
            for (size_t k = 0; k < used; k++) {
                uint64_t v = (uint64_t)limbs[k] * mul + carry;
                limbs[k] = (uint32_t)v;
                carry = v >> 32;
            }
            if (carry)
                limbs[used++] = (uint32_t)carry;
            chunk = 0;
            mul = 1;
        }
    }
    bi_status st = mag_to_twos(limbs, used, neg, out, out_len);
    free(limbs);
    return st;
}

bi_status bi_parse_pylong(const char *s, size_t n, int base, uint8_t **out, size_t *out_len)
{
    size_t i = 0;
    bool neg = false, error_if_nonzero = false;
#define AT(k) ((k) < n ? (unsigned char)s[k] : 0u)
    while (i < n && py_isspace(AT(i)))
        i++;
    if (AT(i) == '+')
        i++;
    else if (AT(i) == '-') {
        i++;
        neg = true;
    }
    if (base == 0) {
        unsigned c1 = AT(i + 1);
        if (AT(i) != '0')
            base = 10;
        else if (c1 == 'x' || c1 == 'X')
            base = 16;
        else if (c1 == 'o' || c1 == 'O')
            base = 8;
        else if (c1 == 'b' || c1 == 'B')
            base = 2;
        else {
            /* Old C-style octal ("010") is invalid unless the value is 0. */
            error_if_nonzero = true;
            base = 10;
        }
    }
    if (AT(i) == '0') {
        unsigned c1 = AT(i + 1);
        if ((base == 16 && (c1 == 'x' || c1 == 'X')) || (base == 8 && (c1 == 'o' || c1 == 'O')) ||
            (base == 2 && (c1 == 'b' || c1 == 'B'))) {
            i += 2;
            if (AT(i) == '_') /* one underscore allowed after the prefix */
                i++;
        }
    }
    if (AT(i) == '_')
        return BI_SYNTAX;
    size_t start = i, ndigits = 0;
    unsigned prev = 0;
    bool nonzero = false;
    while (i < n) {
        unsigned c = AT(i);
        if (c == '_') {
            if (prev == '_')
                return BI_SYNTAX;
        } else if (digit_value((unsigned char)c) < base) {
            ndigits++;
            if (c != '0')
                nonzero = true;
        } else {
            break;
        }
        prev = c;
        i++;
    }
    if (prev == '_') /* trailing underscore */
        return BI_SYNTAX;
    size_t end = i;
    if (end == start)
        return BI_SYNTAX;
    if (error_if_nonzero && nonzero)
        return BI_SYNTAX;
    while (i < n && py_isspace(AT(i)))
        i++;
    if (i < n) /* anything but trailing whitespace before the NUL */
        return BI_SYNTAX;
#undef AT
    bool pow2 = (base & (base - 1)) == 0;
    if (!pow2 && ndigits > BI_MAX_STR_DIGITS)
        return BI_TOO_LONG;
    if (!nonzero)
        neg = false;
    if (pow2)
        return parse_pow2(s + start, end - start, base, ndigits, neg, out, out_len);
    return parse_dec(s + start, end - start, ndigits, neg, out, out_len);
}

bool bi_to_int64(const uint8_t *le, size_t n, int64_t *v)
{
    if (n > 8)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)le[i] << (8 * i);
    if (n > 0 && n < 8 && (le[n - 1] & 0x80))
        x |= ~(uint64_t)0 << (8 * n); /* sign-extend */
    memcpy(v, &x, sizeof x);
    return true;
}

size_t bi_decimal_cap(size_t nbytes)
{
    /* 8 bits < 2.41 decimal digits; sign, NUL and slack. */
    return nbytes * 241 / 100 + 4;
}

bool bi_to_decimal(const uint8_t *le, size_t n, char *out, size_t cap)
{
    if (cap < bi_decimal_cap(n))
        return false;
    bool neg = n > 0 && (le[n - 1] & 0x80);
    size_t nlimbs = (n + 3) / 4;
    uint32_t *limbs = calloc(nlimbs ? nlimbs : 1, sizeof *limbs);
    if (!limbs)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = neg ? (uint8_t)~le[i] : le[i];
        limbs[i / 4] |= (uint32_t)b << (8 * (i % 4));
    }
    if (neg) { /* magnitude = ~x + 1 */
        for (size_t k = 0; k < nlimbs; k++)
            if (++limbs[k] != 0)
                break;
    }
    /* Repeated division by 10^9, collecting 9-digit chunks from the low end. */
    char *p = out + cap - 1;
    *p = '\0';
    size_t used = nlimbs;
    while (used && limbs[used - 1] == 0)
        used--;
    do {
        uint64_t rem = 0;
        for (size_t k = used; k-- > 0;) {
            uint64_t cur = (rem << 32) | limbs[k];
            limbs[k] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        while (used && limbs[used - 1] == 0)
            used--;
        for (int d = 0; d < 9; d++) {
            *--p = (char)('0' + rem % 10);
            rem /= 10;
            if (used == 0 && rem == 0)
                break;
        }
    } while (used);
    if (neg)
        *--p = '-';
    memmove(out, p, (size_t)(out + cap - p));
    free(limbs);
    return true;
}
