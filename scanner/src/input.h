/* Internal helpers around pks_input. */
#ifndef PKS_INPUT_H
#define PKS_INPUT_H

#include "pklscan.h"

/* Drops the pages of in[off, off+len) from the process (they stay in the
 * page cache) when in is a file mapping; does nothing for caller buffers.
 * Used after reading a large region once (hashing) to keep RSS bounded. */
void input_release(const pks_input *in, size_t off, size_t len);

#endif
