/* Python-like rendering of decoded values for humans (the disassembler):
 * repr() of bytes, str, float and int, with long values shortened so that
 * output stays bounded whatever the input holds. */
#ifndef PKS_REPR_H
#define PKS_REPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* b'...' for p[0..n); at most max bytes are shown, then "..." and the size. */
void repr_bytes(FILE *f, const uint8_t *p, size_t n, size_t max);

/* '...' for UTF-8 text p[0..n) (lone surrogates shown as \udxxx); at most max
 * bytes of it are shown. */
void repr_str(FILE *f, const uint8_t *p, size_t n, size_t max);

/* repr(float): the shortest text that reads back as x, in Python's format. */
void repr_float(double x, char out[40]);

/* Decimal form of a little-endian two's complement int; ints above max
 * bytes are summarised by their size and first hex digits instead. */
void repr_bigint(FILE *f, const uint8_t *le, size_t n, size_t max);

#endif
