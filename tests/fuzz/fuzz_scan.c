/* libFuzzer target: the whole scan of one input (streams, symbolic VM,
 * policy, nested pickles, constant folding) and both report writers.
 * Whatever the bytes, the scan must finish with a verdict, without
 * crashing, leaking or reading out of bounds. Build with -DPKS_FUZZ=ON. */
#include "pklscan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pks_scanner *sc;
    static FILE *sink;
    if (!sc && pks_scanner_new(&sc) != PKS_OK)
        abort();
    if (!sink)
        sink = fopen("/dev/null", "w");
    uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees overreads */
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    pks_input *in = NULL;
    pks_result *r = NULL;
    if (pks_input_from_buffer(copy, size, &in) == PKS_OK &&
        pks_scan_input(sc, in, "fuzz", size < 4096, &r) == PKS_OK) {
        pks_verdict v = pks_result_verdict(r);
        if (v > PKS_VERDICT_SKIPPED || v == PKS_VERDICT_ERROR)
            abort(); /* a buffer always gets a real verdict */
        pks_result_write_text(r, sink, 1);
        pks_result_write_json(r, sink, 1);
    }
    pks_result_free(r);
    pks_input_free(in);
    free(copy);
    return 0;
}
