/* The bounded reader: the only way pklscan code reads untrusted bytes.
 * A reader is a window [base, base+len) and a cursor. Every read checks
 * `n <= len - off` first, never reads past the end, and leaves the cursor
 * where it was when it fails, so a caller can report the exact offset.
 * Reads hand out pointers into the window (no copies, no allocation), so
 * nothing is ever sized from a length the data has not backed. */
#ifndef PKS_READER_H
#define PKS_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rd {
    const uint8_t *base;
    size_t len;
    size_t off;
} rd_t;

static inline rd_t rd_make(const uint8_t *base, size_t len, size_t off)
{
    rd_t r = {base, len, off <= len ? off : len};
    return r;
}

static inline size_t rd_left(const rd_t *r)
{
    return r->len - r->off;
}

/* Points *out at the next n bytes and advances past them. */
static inline bool rd_bytes(rd_t *r, size_t n, const uint8_t **out)
{
    if (n > r->len - r->off)
        return false;
    *out = r->base + r->off;
    r->off += n;
    return true;
}

/* Advances past n bytes without looking at them. */
static inline bool rd_skip(rd_t *r, size_t n)
{
    if (n > r->len - r->off)
        return false;
    r->off += n;
    return true;
}

static inline bool rd_u8(rd_t *r, uint8_t *v)
{
    if (r->off >= r->len)
        return false;
    *v = r->base[r->off++];
    return true;
}

/* Little-endian unsigned integer of n (1..8) bytes. */
static inline bool rd_uint_le(rd_t *r, size_t n, uint64_t *v)
{
    const uint8_t *p;
    if (n == 0 || n > 8 || !rd_bytes(r, n, &p))
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)p[i] << (8 * i);
    *v = x;
    return true;
}

/* A line: *line points at it, *n counts its bytes including the final '\n'.
 * Fails (cursor unchanged) when no '\n' occurs before the end. */
static inline bool rd_line(rd_t *r, const uint8_t **line, size_t *n)
{
    if (r->off >= r->len)
        return false;
    const uint8_t *start = r->base + r->off;
    const uint8_t *nl = memchr(start, '\n', r->len - r->off);
    if (nl == NULL)
        return false;
    *line = start;
    *n = (size_t)(nl - start) + 1;
    r->off += *n;
    return true;
}

#endif
