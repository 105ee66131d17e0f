/* Containers under hostile conditions: compression bombs, too many members,
 * containers nested too deep (each limit is a finding, never a silent
 * stop), and every container sample truncated at many points and
 * bit-flipped: no crash, no leak, and a malicious sample never turns clean. */
#include "testutil.h"

#include "result.h"
#include "vm.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#define CONTAINERS PKS_SOURCE_DIR "/corpus/containers/"

static bool has_rule(const pks_result *r, const char *rule)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].rule, rule) == 0)
            return true;
    return false;
}

static pks_result *scan_buf(pks_scanner *sc, const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    pks_input *in;
    assert_int_equal(pks_input_from_buffer(copy, len, &in), PKS_OK);
    pks_result *r;
    assert_int_equal(pks_scan_input(sc, in, "t", 0, &r), PKS_OK);
    pks_input_free(in);
    free(copy);
    return r;
}

static uint8_t *load(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, CONTAINERS "%s", rel);
    uint8_t *d = tu_read_file(path, len);
    if (!d)
        fail_msg("cannot read %s", path);
    return d;
}

static void test_compression_bombs_are_reported_not_followed(void **state)
{
    (void)state;
    pks_scanner *sc;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    sc->lim.max_decompressed = 1u << 20;
    size_t len;
    uint8_t *zip = load("tampered/zip_bomb_64m.zip", &len);
    pks_result *r = scan_buf(sc, zip, len);
    assert_true(has_rule(r, "limit_reached"));
    assert_int_equal(pks_result_verdict(r), PKS_VERDICT_SUSPICIOUS);
    assert_true(r->decompressed <= (1u << 20));
    pks_result_free(r);
    free(zip);
    /* a gzip bomb */
    size_t n = 8u << 20;
    uint8_t *zeros = calloc(1, n);
    uLongf clen = compressBound(n) + 32;
    uint8_t *gz = malloc(clen);
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    z.next_in = zeros;
    z.avail_in = (uInt)n;
    z.next_out = gz;
    z.avail_out = (uInt)clen;
    deflate(&z, Z_FINISH);
    size_t gzlen = z.total_out;
    deflateEnd(&z);
    r = scan_buf(sc, gz, gzlen);
    assert_true(has_rule(r, "limit_reached"));
    pks_result_free(r);
    free(gz);
    free(zeros);
    pks_scanner_free(sc);
}

static void test_member_and_nesting_limits(void **state)
{
    (void)state;
    pks_scanner *sc;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    size_t len;
    uint8_t *zz = load("malicious/zip_in_zip.zip", &len);
    sc->lim.max_containers = 0; /* the inner torch zip is one level too deep */
    pks_result *r = scan_buf(sc, zz, len);
    assert_true(has_rule(r, "limit_reached"));
    assert_int_not_equal(pks_result_verdict(r), PKS_VERDICT_CLEAN);
    pks_result_free(r);
    sc->lim.max_containers = 8;
    sc->lim.max_members = 2;
    uint8_t *pt = load("benign/torch_state_dict.pt", &len);
    r = scan_buf(sc, pt, len);
    assert_true(has_rule(r, "limit_reached"));
    assert_int_equal(pks_result_verdict(r), PKS_VERDICT_SUSPICIOUS);
    pks_result_free(r);
    free(pt);
    free(zz);
    pks_scanner_free(sc);
}

static const char *const mutated[] = {
    "malicious/torch_zip_payload.pt",  "malicious/torch_zip_deflated_payload.pt",
    "malicious/numpy_payload.npz",     "malicious/compressed_payload.gzip",
    "malicious/compressed_payload.xz", "malicious/legacy_payload_first.pt",
    "malicious/zip_in_zip.zip",        "benign/joblib_3.joblib",
    "benign/torch_legacy.pt",          "benign/pickle_in.7z",
};

static void test_truncation_and_bit_flips_never_crash_or_clear(void **state)
{
    (void)state;
    pks_scanner *sc;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    size_t runs = 0;
    for (size_t k = 0; k < sizeof mutated / sizeof mutated[0]; k++) {
        size_t len;
        uint8_t *d = load(mutated[k], &len);
        bool evil = strncmp(mutated[k], "malicious/", 10) == 0;
        size_t step = len > 400 ? len / 400 : 1;
        for (size_t cut = 1; cut < len; cut += step) {
            pks_result *r = scan_buf(sc, d, cut);
            /* A cut malicious file never reads clean. */
            if (evil && pks_result_verdict(r) == PKS_VERDICT_CLEAN)
                fail_msg("%s cut at %zu reads clean", mutated[k], cut);
            pks_result_free(r);
            runs++;
        }
        for (size_t i = 0; i < len; i += step) {
            d[i] ^= 0x5a;
            pks_result_free(scan_buf(sc, d, len));
            d[i] ^= 0x5a;
            runs++;
        }
        free(d);
    }
    printf("%zu truncated or flipped container inputs\n", runs);
    assert_true(runs > 3000);
    pks_scanner_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compression_bombs_are_reported_not_followed),
        cmocka_unit_test(test_member_and_nesting_limits),
        cmocka_unit_test(test_truncation_and_bit_flips_never_crash_or_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
