/* SHA-256 (FIPS 180-4), for the sha256 field of reports. */
#ifndef PKS_SHA256_H
#define PKS_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* Writes the lowercase hex digest of data[0..len) and a NUL to hex. */
void sha256_hex(const uint8_t *data, size_t len, char hex[65]);

#endif
