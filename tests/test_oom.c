/* Out of memory inside one file: every allocation pklscan's own code makes
 * during a scan is made to fail in turn (the test links with
 * -Wl,--wrap=malloc,calloc,realloc,strdup,strndup), over the demo, every
 * golden malicious sample and the container samples. Each time the scan
 * must return without crashing (under ASan: without leaking), and the
 * verdict must be the normal one or `error`: an allocation failure never
 * turns a file clean, never makes a benign file malicious, and never
 * downgrades a malicious one to suspicious. Allocations inside libraries
 * (libyara, zlib, libarchive, ...) are not injected. */
#include "testutil.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static long fm_count, fm_fail_at = -1;

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static int fail_now(void)
{
    return fm_fail_at >= 0 && ++fm_count == fm_fail_at;
}
void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t a, size_t b)
{
    return fail_now() ? NULL : __real_calloc(a, b);
}
void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}
char *__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}
char *__wrap_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : __real_strndup(s, n);
}

static size_t scans, errors;

/* Fails each allocation of one scan of path in turn; returns the number of
 * bad outcomes. */
static int check_file(pks_scanner *sc, const char *path)
{
    pks_input *in = NULL;
    if (pks_input_open(path, &in) != PKS_OK)
        return 1;
    pks_result *r = NULL;
    fm_count = 0;
    fm_fail_at = 1L << 62; /* count only */
    assert_int_equal(pks_scan_input(sc, in, path, 0, &r), PKS_OK);
    fm_fail_at = -1;
    long total = fm_count;
    pks_verdict base = pks_result_verdict(r);
    pks_result_free(r);
    int bad = 0;
    for (long k = 1; k <= total; k++) {
        fm_count = 0;
        fm_fail_at = k;
        r = NULL;
        pks_err e = pks_scan_input(sc, in, path, 0, &r);
        fm_fail_at = -1;
        scans++;
        if (e == PKS_ERR_NOMEM && r == NULL)
            continue; /* the result itself could not be made: the caller reports it */
        pks_verdict v = pks_result_verdict(r);
        if (v == PKS_VERDICT_ERROR && v != base)
            errors++;
        else if (v != base) {
            printf("%s: allocation %ld of %ld failing turns %s into %s\n", path, k, total,
                   pks_verdict_name(base), pks_verdict_name(v));
            bad++;
        }
        pks_result_free(r);
    }
    pks_input_free(in);
    return bad;
}

static int check_dir(pks_scanner *sc, const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int bad = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        bad += check_file(sc, path);
    }
    closedir(d);
    return bad;
}

static void test_every_allocation_fails_once(void **state)
{
    (void)state;
    pks_scanner *sc = NULL;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    int bad = check_dir(sc, PKS_SOURCE_DIR "/corpus/demo");
    bad += check_dir(sc, PKS_SOURCE_DIR "/corpus/golden/malicious");
    bad += check_dir(sc, PKS_SOURCE_DIR "/corpus/containers/malicious");
    bad += check_dir(sc, PKS_SOURCE_DIR "/corpus/containers/benign");
    pks_scanner_free(sc);
    printf("%zu scans with one failing allocation: %zu became errors, %d bad outcomes\n", scans,
           errors, bad);
    assert_true(scans > 10000);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_fails_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
