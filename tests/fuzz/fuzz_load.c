/* libFuzzer target: the restricted loader and the file layouts of
 * `pklscan load` (raw pickles, torch legacy, zip walk and inflate, npy) on
 * arbitrary bytes, in process (the jail is not under test here). Whatever the
 * input, the document must come back as one valid JSON object, or the
 * failure must be out of memory or the output cap; the error of a refused
 * pickle must point inside the input. Build with -DPKS_FUZZ=ON (clang). */
#include "load.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static policy *pol;
    if (!pol && !(pol = policy_new()))
        return 0;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    ldr_opts o;
    ldr_defaults(&o, pol);
    o.max_output = 1u << 20;
    o.max_values = 200000;
    o.max_ops = 1000000;
    ldr_buf b = {.max = o.max_output};
    if (pks_load_document(&o, copy, size, &b)) {
        if (!pks_load_reply_valid(b.p, b.n, NULL))
            abort(); /* the loader wrote something the parent would reject */
    } else if (!b.overflow && !b.nomem) {
        abort(); /* failure without a reason */
    }
    ldr_buf_free(&b);
    free(copy);
    return 0;
}
