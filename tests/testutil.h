/* Helpers shared by the unit tests: reading corpus files, rendering decoded
 * arguments in the canonical form of corpus/generate/gen_differential.py,
 * and decoding whole inputs. */
#ifndef PKS_TESTUTIL_H
#define PKS_TESTUTIL_H

#include "decode.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The whole file at path (malloc'd, NUL-terminated); *len gets its size.
 * NULL when it cannot be read. */
uint8_t *tu_read_file(const char *path, size_t *len);

/* Canonical text of an argument: "-", "b:True", "i:12", "f:1.5", "y:hex",
 * "s:hex". The result is malloc'd. */
char *tu_canon(const dec_value *v);

/* Decodes every pickle in data[0..len); returns PKS_OK or the first error,
 * with its details in *err (may be NULL). *nops gets the opcodes decoded and
 * *anomalies the OR of all anomaly bits (either may be NULL). */
pks_err tu_decode_all(const uint8_t *data, size_t len, pks_error_info *err, size_t *nops,
                      unsigned *anomalies);

struct pks_result;

/* True when r reports the global "module.qualname" (canonical) in any of
 * its pickles, nested ones included. */
bool tu_reports_global(const struct pks_result *r, const char *dotted);

/* Bytes from a hex string (malloc'd); *len gets their number. */
uint8_t *tu_unhex(const char *hex, size_t *len);

#endif
