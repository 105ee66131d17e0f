/* Containers: finds every pickle in a file by content, never by extension.
 * Raw pickles (and torch's legacy layout), zip archives (PyTorch zip
 * checkpoints, npz, plain zip, zip in zip) read by a walker of our own,
 * .npy files with object dtypes, gzip/bz2/xz/lzma/zlib/zstd/lz4 streams
 * (decompressed into a mapped temporary file, capped), tar and 7z (through
 * libarchive), and polyglots (a pickle at offset 0 that is also a zip gets
 * both readings). Containers nest up to a depth limit; tampering and limits
 * are findings. */
#ifndef PKS_CONTAINER_H
#define PKS_CONTAINER_H

#include "vm.h"

/* Scans data[0..len) found at member (NULL for the file itself) at
 * container depth cdepth. in is the mapped input data belongs to, or NULL.
 * Returns true when some pickle was found (or something pickle-like went
 * wrong), false when nothing pickle-like is there. Sets r->format for the
 * file itself. */
bool ct_scan(const pks_scanner *s, pks_result *r, const pks_input *in, const uint8_t *data,
             size_t len, const char *member, int cdepth);

#endif
