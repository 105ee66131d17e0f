/* Arbitrary-size integers, only as far as pickle decoding needs them:
 * Python's int(text, base) grammar (PyLong_FromString) into little-endian
 * two's complement bytes, the same form LONG1/LONG4 carry, and rendering such
 * bytes back as decimal text. Work is linear in the input for power-of-two
 * bases and quadratic only for decimal text, which CPython caps at 4300
 * digits. */
#ifndef PKS_BIGINT_H
#define PKS_BIGINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CPython's default sys.int_info.default_max_str_digits. */
#define BI_MAX_STR_DIGITS 4300

typedef enum bi_status {
    BI_OK,
    BI_SYNTAX,   /* not an int literal in that base */
    BI_TOO_LONG, /* more than BI_MAX_STR_DIGITS decimal digits */
    BI_NOMEM
} bi_status;

/* Parses s[0..n) as PyLong_FromString(s, NULL, base) does, base 0 or 10,
 * treating s[n] as the terminating NUL. On BI_OK, *out is a malloc'd
 * little-endian two's complement encoding of *out_len bytes (minimal, 0 bytes
 * for zero); the caller frees it. */
bi_status bi_parse_pylong(const char *s, size_t n, int base, uint8_t **out, size_t *out_len);

/* True when the two's complement value le[0..n) fits an int64_t; *v gets it. */
bool bi_to_int64(const uint8_t *le, size_t n, int64_t *v);

/* Writes the decimal form of the two's complement value le[0..n) to out
 * (NUL-terminated). Returns false, writing nothing useful, when out is too
 * small; bi_decimal_cap(n) is always enough. */
bool bi_to_decimal(const uint8_t *le, size_t n, char *out, size_t cap);
size_t bi_decimal_cap(size_t nbytes);

#endif
