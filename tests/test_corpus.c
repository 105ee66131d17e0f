/* The golden corpus (corpus/golden, written by
 * corpus/generate/gen_golden.py): every sample's verdict is exactly the
 * expected one and every expected global is reported. Prints the
 * mismatches, then fails if there are any. */
#include "testutil.h"

#include "result.h"

#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define GOLDEN PKS_SOURCE_DIR "/corpus/golden/"

/* Checks every sample listed in dir/manifest.jsonl; returns how many. */
static size_t check_manifest(const char *dir, size_t *bad_out)
{
    size_t len;
    char mpath[1024];
    snprintf(mpath, sizeof mpath, "%smanifest.jsonl", dir);
    char *text = (char *)tu_read_file(mpath, &len);
    assert_non_null(text);
    pks_scanner *sc;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    size_t total = 0, bad = 0, per[5] = {0};
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *m = cJSON_Parse(line);
        assert_non_null(m);
        const char *file = cJSON_GetObjectItem(m, "file")->valuestring;
        const char *expect = cJSON_GetObjectItem(m, "expect")->valuestring;
        char path[1024];
        snprintf(path, sizeof path, "%s%s", dir, file);
        pks_input *in;
        assert_int_equal(pks_input_open(path, &in), PKS_OK);
        pks_result *r;
        assert_int_equal(pks_scan_input(sc, in, file, 0, &r), PKS_OK);
        const char *got = pks_verdict_name(pks_result_verdict(r));
        bool ok = strcmp(got, expect) == 0;
        const cJSON *n;
        cJSON_ArrayForEach(n, cJSON_GetObjectItem(m, "names"))
        {
            if (!tu_reports_global(r, n->valuestring)) {
                printf("%s: does not report %s\n", file, n->valuestring);
                ok = false;
            }
        }
        const cJSON *mem = cJSON_GetObjectItem(m, "member");
        if (cJSON_IsString(mem)) {
            bool seen = false;
            for (size_t i = 0; i < r->npickles; i++)
                seen |= r->pickles[i].member && !strcmp(r->pickles[i].member, mem->valuestring);
            for (size_t i = 0; i < r->nfindings; i++)
                seen |= r->findings[i].member && !strcmp(r->findings[i].member, mem->valuestring);
            if (!seen) {
                printf("%s: nothing reported for member %s\n", file, mem->valuestring);
                ok = false;
            }
        }
        if (!ok) {
            printf("%s: expected %s, got %s\n", file, expect, got);
            pks_result_write_text(r, stdout, 1);
            bad++;
        }
        per[pks_result_verdict(r)]++;
        total++;
        pks_result_free(r);
        pks_input_free(in);
        cJSON_Delete(m);
    }
    free(text);
    pks_scanner_free(sc);
    printf("%s: %zu samples (%zu clean, %zu suspicious, %zu malicious, %zu skipped), "
           "%zu mismatches\n",
           dir, total, per[0], per[1], per[2], per[4], bad);
    *bad_out = bad;
    return total;
}

static void test_golden_corpus_verdicts_and_names(void **state)
{
    (void)state;
    size_t bad;
    assert_true(check_manifest(GOLDEN, &bad) >= 200);
    assert_int_equal(bad, 0);
}

/* Samples that once broke pklscan (fuzzing finds), named after the bug. */
static void test_regression_samples(void **state)
{
    (void)state;
    size_t bad;
    assert_true(check_manifest(PKS_SOURCE_DIR "/corpus/regress/", &bad) >= 1);
    assert_int_equal(bad, 0);
}

/* Benign raw pickles written by Debian's numpy, scikit-learn, pandas, scipy
 * and torch (corpus/generate/gen_libraries.py): all clean. */
static void test_library_pickles_are_clean(void **state)
{
    (void)state;
    size_t bad;
    assert_true(check_manifest(PKS_SOURCE_DIR "/corpus/libraries/", &bad) >= 30);
    assert_int_equal(bad, 0);
}

/* Model files in every container format (corpus/containers, written by
 * corpus/generate/gen_containers.py): real files from the libraries, and
 * tampered and malicious variants, each with its verdict and member. */
static void test_container_samples(void **state)
{
    (void)state;
    size_t bad;
    assert_true(check_manifest(PKS_SOURCE_DIR "/corpus/containers/", &bad) >= 40);
    assert_int_equal(bad, 0);
}

/* Benign files from a current stack (corpus/modern, copied from
 * ../shared/corpus-modern with its manifest): each gets a verdict its
 * manifest accepts. */
static void test_modern_stack_files_are_accepted(void **state)
{
    (void)state;
    size_t len;
    char *text = (char *)tu_read_file(PKS_SOURCE_DIR "/corpus/modern/manifest.jsonl", &len);
    assert_non_null(text);
    pks_scanner *sc;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    size_t judged = 0, bad = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *m = cJSON_Parse(line);
        assert_non_null(m);
        const char *file = cJSON_GetObjectItem(m, "file")->valuestring;
        char path[1024];
        snprintf(path, sizeof path, PKS_SOURCE_DIR "/corpus/modern/%s", file);
        pks_input *in;
        assert_int_equal(pks_input_open(path, &in), PKS_OK);
        pks_result *r;
        assert_int_equal(pks_scan_input(sc, in, file, 0, &r), PKS_OK);
        const char *got = pks_verdict_name(pks_result_verdict(r));
        bool ok = false;
        const cJSON *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItem(m, "accept")) ok |=
            strcmp(a->valuestring, got) == 0;
        if (!ok) {
            printf("%s: %s is not accepted\n", file, got);
            pks_result_write_text(r, stdout, 1);
            bad++;
        }
        judged++;
        pks_result_free(r);
        pks_input_free(in);
        cJSON_Delete(m);
    }
    free(text);
    pks_scanner_free(sc);
    printf("corpus/modern: %zu files judged, %zu rejected\n", judged, bad);
    assert_true(judged >= 28);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_corpus_verdicts_and_names),
        cmocka_unit_test(test_regression_samples),
        cmocka_unit_test(test_library_pickles_are_clean),
        cmocka_unit_test(test_container_samples),
        cmocka_unit_test(test_modern_stack_files_are_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
