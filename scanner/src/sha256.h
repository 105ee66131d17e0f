/* SHA-256 (FIPS 180-4), for the sha256 field of reports: incremental, so
 * that a large mapped file can be hashed chunk by chunk and its pages
 * released as it goes. */
#ifndef PKS_SHA256_H
#define PKS_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha256_ctx {
    uint32_t h[8];
    uint8_t buf[64];
    size_t buffered;
    uint64_t total;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const uint8_t *data, size_t len);
/* Writes the lowercase hex digest and a NUL to hex. */
void sha256_final(sha256_ctx *c, char hex[65]);

#endif
