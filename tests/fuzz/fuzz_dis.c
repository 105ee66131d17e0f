/* libFuzzer target: the decoder and the disassembler on arbitrary bytes.
 * Whatever the input, pks_disassemble must return (OK or an error with an
 * offset inside the input) without crashing, leaking or reading out of
 * bounds. Build with -DPKS_FUZZ=ON (clang). */
#include "pklscan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    /* An exact-size copy, so that ASan sees any read past the end. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    for (size_t i = 0; i < size; i++)
        copy[i] = data[i];
    pks_input *in = NULL;
    if (pks_input_from_buffer(copy, size, &in) == PKS_OK) {
        pks_error_info err;
        if (pks_disassemble(in, sink, &err) != PKS_OK && err.offset > size)
            abort(); /* an error must point inside the input */
        pks_input_free(in);
    }
    free(copy);
    return 0;
}
