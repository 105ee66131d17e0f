/* Every limit of scanner/src/limits.h, set through the API, is reached by
 * an input built here and reported as a limit_reached finding (never a
 * silent stop); a file that shrinks while mapped is an error entry, not a
 * crash; and every golden malicious sample, cut at every byte and flipped
 * bit by bit, never crashes and stays malicious while it still imports a
 * dangerous global. */
#include "testutil.h"

#include "result.h"
#include "vm.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

static bool has_limit(const pks_result *r, const char *what)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (!strcmp(r->findings[i].rule, "limit_reached") && strstr(r->findings[i].message, what))
            return true;
    return false;
}

/* Scans data with one limit lowered; checks the limit is reported. */
static void reach(const char *name, uint64_t value, const uint8_t *data, size_t len,
                  const char *message_part)
{
    /* Listing limits only shorten the report: the file was judged in full. */
    bool listing = !strcmp(name, "events") || !strcmp(name, "findings");
    pks_scanner *sc;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    assert_int_equal(pks_scanner_set_limit(sc, name, value), PKS_OK);
    pks_input *in;
    assert_int_equal(pks_input_from_buffer(data, len, &in), PKS_OK);
    pks_result *r;
    assert_int_equal(pks_scan_input(sc, in, name, 0, &r), PKS_OK);
    if (!has_limit(r, message_part)) {
        pks_result_write_text(r, stdout, 1);
        fail_msg("limit %s=%llu: no finding saying '%s'", name, (unsigned long long)value,
                 message_part);
    }
    if (!listing)
        assert_int_not_equal(pks_result_verdict(r), PKS_VERDICT_CLEAN);
    pks_result_free(r);
    pks_input_free(in);
    pks_scanner_free(sc);
}

/* A buffer: prefix, then body repeated n times, then suffix. */
static uint8_t *build(const char *pre, size_t pn, const char *body, size_t bn, size_t n,
                      const char *suf, size_t sn, size_t *len)
{
    *len = pn + bn * n + sn;
    uint8_t *b = malloc(*len);
    memcpy(b, pre, pn);
    for (size_t i = 0; i < n; i++)
        memcpy(b + pn + i * bn, body, bn);
    memcpy(b + pn + bn * n, suf, sn);
    return b;
}

#define B(lit) lit, sizeof(lit) - 1

static void test_every_limit_is_a_finding(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b;
    b = build(B("\x80\x02"), B("N0"), 100, B("N."), &len);
    reach("opcodes", 50, b, len, "opcodes per file");
    free(b);
    b = build(B("\x80\x02"), B("N"), 100, B("."), &len);
    reach("stack", 50, b, len, "stack depth");
    free(b);
    b = build(B("\x80\x02"), B("("), 100, B("N."), &len);
    reach("marks", 50, b, len, "open marks");
    free(b);
    b = build(B("\x80\x04]("), B("N\x94"), 100, B("e."), &len);
    reach("memo", 50, b, len, "memo entries");
    free(b);
    b = build(B("\x80\x04]("), B("]\x94"), 2000, B("e."), &len);
    reach("heap", 4096, b, len, "VM heap");
    free(b);
    b = build(B("\x80\x02]("), B("c__builtin__\nset\n)R"), 100, B("e."), &len);
    reach("events", 10, b, len, "listed per pickle");
    free(b);
    b = build(B("\x80\x02]("), B("cmylib\nA\n)R0"), 1,
              B("cmylib\nB\n0cmylib\nC\n0cos\nsystem\n0e."), &len);
    reach("findings", 2, b, len, "findings listed");
    free(b);
    b = build(B(""), B("\x80\x02N."), 100, B(""), &len);
    reach("pickles", 10, b, len, "pickle streams");
    free(b);
    /* pickle.loads(pickle.loads(<N.>)) three levels deep, depth limit 1 */
    uint8_t lv[3][128];
    size_t lvn[3];
    static const char pre[] = "\x80\x03"
                              "cpickle\nloads\n";
    memcpy(lv[0], "\x80\x02N.", 4);
    lvn[0] = 4;
    for (int k = 1; k < 3; k++) {
        size_t o = 0;
        memcpy(lv[k], pre, sizeof pre - 1);
        o += sizeof pre - 1;
        lv[k][o++] = 'C';
        lv[k][o++] = (uint8_t)lvn[k - 1];
        memcpy(lv[k] + o, lv[k - 1], lvn[k - 1]);
        o += lvn[k - 1];
        memcpy(lv[k] + o, "\x85R.", 3);
        lvn[k] = o + 3;
    }
    reach("nesting", 1, lv[2], lvn[2], "nested pickle depth");
    b = build(B("\x80\x03"
                "cpickle\nloads\ncbinascii\nunhexlify\nX\x10\x27\x00\x00"),
              B("41"), 5000, B("\x85R\x85R."), &len);
    reach("decoded", 1000, b, len, "decoded bytes");
    free(b);
    b = build(B("\x80\x02V"), B("x"), 5000, B("\n."), &len);
    reach("line", 1000, b, len, "text line");
    free(b);
    /* decompressed, members, containers: a zip bomb of 1 MiB of zeros */
    size_t n = 1u << 20;
    uint8_t *zeros = calloc(1, n);
    uLongf clen = compressBound(n);
    uint8_t *z = malloc(clen);
    compress(z, &clen, zeros, n);
    reach("decompressed", 4096, z, clen, "decompressed bytes");
    free(z);
    free(zeros);
    size_t zl;
    uint8_t *zip =
        tu_read_file(PKS_SOURCE_DIR "/corpus/containers/benign/torch_state_dict.pt", &zl);
    reach("members", 2, zip, zl, "zip members");
    free(zip);
    zip = tu_read_file(PKS_SOURCE_DIR "/corpus/containers/malicious/zip_in_zip.zip", &zl);
    reach("containers", 1, zip, zl, "containers nested");
    free(zip);
    /* time: a million calls take far longer than a millisecond */
    b = build(B("\x80\x02]q\x00"
                "c__builtin__\nset\nq\x01"
                "0("),
              B("h\x01)R"), 1000000, B("e."), &len);
    reach("time_ms", 1, b, len, "ms per file");
    free(b);
    /* unknown names and zero values are refused */
    pks_scanner *sc;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    assert_int_equal(pks_scanner_set_limit(sc, "nonsense", 1), PKS_ERR_USAGE);
    assert_int_equal(pks_scanner_set_limit(sc, "memo", 0), PKS_ERR_USAGE);
    pks_scanner_free(sc);
}

static void test_a_file_that_shrinks_while_mapped_is_an_error(void **state)
{
    (void)state;
    char path[] = "/tmp/pks-shrink-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    /* a pickle whose bytes span several pages */
    size_t len;
    uint8_t *b = build(B("\x80\x02]("), B("K\x01"), 200000, B("e."), &len);
    assert_int_equal(write(fd, b, len), (ssize_t)len);
    close(fd);
    free(b);
    pks_input *in;
    assert_int_equal(pks_input_open(path, &in), PKS_OK);
    assert_int_equal(truncate(path, 10), 0);
    pks_scanner *sc;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    pks_result *r;
    assert_int_equal(pks_scan_input(sc, in, path, 0, &r), PKS_OK);
    assert_true(r->nerrors > 0);
    assert_non_null(strstr(r->errors[0].message, "shrank"));
    assert_int_not_equal(pks_result_verdict(r), PKS_VERDICT_CLEAN);
    pks_result_free(r);
    pks_input_free(in);
    /* the process goes on scanning */
    uint8_t ok[] = "\x80\x02N.";
    assert_int_equal(pks_input_from_buffer(ok, sizeof ok - 1, &in), PKS_OK);
    assert_int_equal(pks_scan_input(sc, in, "ok", 0, &r), PKS_OK);
    assert_int_equal(pks_result_verdict(r), PKS_VERDICT_CLEAN);
    pks_result_free(r);
    pks_input_free(in);
    pks_scanner_free(sc);
    unlink(path);
}

static void test_cut_and_flipped_malicious_samples(void **state)
{
    (void)state;
    size_t mlen;
    char *manifest = (char *)tu_read_file(PKS_SOURCE_DIR "/corpus/golden/manifest.jsonl", &mlen);
    assert_non_null(manifest);
    pks_scanner *sc;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    size_t runs = 0, samples = 0;
    for (char *line = strtok(manifest, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strstr(line, "\"expect\": \"malicious\""))
            continue;
        char file[256];
        if (sscanf(line, "{\"file\": \"%255[^\"]\"", file) != 1)
            continue;
        char path[512];
        snprintf(path, sizeof path, PKS_SOURCE_DIR "/corpus/golden/%s", file);
        size_t len;
        uint8_t *d = tu_read_file(path, &len);
        assert_non_null(d);
        samples++;
        /* Cut after the payload's first call: every longer prefix must stay
         * at least suspicious (the loader has run the payload by then). */
        for (size_t cut = 1; cut <= len; cut++) {
            uint8_t *copy = malloc(cut);
            memcpy(copy, d, cut);
            pks_input *in;
            assert_int_equal(pks_input_from_buffer(copy, cut, &in), PKS_OK);
            pks_result *r;
            assert_int_equal(pks_scan_input(sc, in, file, 0, &r), PKS_OK);
            if (cut == len && pks_result_verdict(r) != PKS_VERDICT_MALICIOUS)
                fail_msg("%s is not malicious in full", file);
            pks_result_free(r);
            pks_input_free(in);
            free(copy);
            runs++;
        }
        /* Flipping one bit (the lowest or the highest of each byte) may
         * neutralize a payload, but whatever still imports a dangerous
         * global is still malicious. */
        for (size_t i = 0; i < len; i++) {
            for (int bit = 0; bit < 8; bit += 7) {
                uint8_t *copy = malloc(len);
                memcpy(copy, d, len);
                copy[i] ^= (uint8_t)(1u << bit);
                pks_input *in;
                assert_int_equal(pks_input_from_buffer(copy, len, &in), PKS_OK);
                pks_result *r;
                assert_int_equal(pks_scan_input(sc, in, file, 0, &r), PKS_OK);
                bool dangerous = false;
                for (size_t p = 0; p < r->npickles; p++)
                    for (size_t g = 0; g < r->pickles[p].nglobals; g++)
                        dangerous |= r->pickles[p].globals[g].cls == POL_DANGEROUS;
                if (dangerous && pks_result_verdict(r) != PKS_VERDICT_MALICIOUS) {
                    pks_result_write_text(r, stdout, 1);
                    fail_msg("%s with bit %d of byte %zu flipped imports a dangerous global but "
                             "is not malicious",
                             file, bit, i);
                }
                pks_result_free(r);
                pks_input_free(in);
                free(copy);
                runs++;
            }
        }
        free(d);
    }
    printf("%zu malicious samples cut at every byte and bit-flipped: %zu scans\n", samples, runs);
    assert_true(samples >= 150);
    free(manifest);
    pks_scanner_free(sc);
}

/* Every file under the corpus directories, cut at up to 150 places (every
 * byte for small files) and flipped at as many: no crash, no leak,
 * and whatever still imports a dangerous global is malicious. */
static size_t mutate_file(pks_scanner *sc, const char *path)
{
    size_t len;
    uint8_t *d = tu_read_file(path, &len);
    if (!d || len == 0) {
        free(d);
        return 0;
    }
    size_t step = len > 150 ? len / 150 : 1, runs = 0;
    for (size_t i = 0; i < len; i += step) {
        for (int kind = 0; kind < 2; kind++) {
            size_t n = kind == 0 ? i : len;
            uint8_t *copy = malloc(n ? n : 1);
            memcpy(copy, d, n);
            if (kind == 1)
                copy[i] ^= (uint8_t)(0x01u << (i % 8));
            pks_input *in;
            assert_int_equal(pks_input_from_buffer(copy, n, &in), PKS_OK);
            pks_result *r;
            assert_int_equal(pks_scan_input(sc, in, path, 0, &r), PKS_OK);
            bool dangerous = false;
            for (size_t p = 0; p < r->npickles; p++)
                for (size_t g = 0; g < r->pickles[p].nglobals; g++)
                    dangerous |= r->pickles[p].globals[g].cls == POL_DANGEROUS;
            if (dangerous && pks_result_verdict(r) != PKS_VERDICT_MALICIOUS)
                fail_msg("%s mutated at %zu imports a dangerous global but is not malicious", path,
                         i);
            pks_result_free(r);
            pks_input_free(in);
            free(copy);
            runs++;
        }
    }
    free(d);
    return runs;
}

static size_t mutate_tree(pks_scanner *sc, const char *dir, size_t *files)
{
    DIR *dd = opendir(dir);
    if (!dd)
        return 0;
    size_t runs = 0;
    struct dirent *e;
    while ((e = readdir(dd)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            runs += mutate_tree(sc, path, files);
        else if (S_ISREG(st.st_mode) && !strstr(e->d_name, ".jsonl") &&
                 !strstr(e->d_name, ".ops") && !strstr(e->d_name, ".md") &&
                 !strstr(e->d_name, ".tsv") && !strstr(e->d_name, ".py")) {
            runs += mutate_file(sc, path);
            (*files)++;
        }
    }
    closedir(dd);
    return runs;
}

static void test_every_corpus_file_mutated(void **state)
{
    (void)state;
    pks_scanner *sc;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    /* Bombs are tested elsewhere: here they would only cost time. */
    assert_int_equal(pks_scanner_set_limit(sc, "decompressed", 1u << 20), PKS_OK);
    size_t files = 0, runs = mutate_tree(sc, PKS_SOURCE_DIR "/corpus", &files);
    printf("%zu corpus files cut and flipped: %zu scans\n", files, runs);
    assert_true(files >= 600);
    pks_scanner_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_limit_is_a_finding),
        cmocka_unit_test(test_a_file_that_shrinks_while_mapped_is_an_error),
        cmocka_unit_test(test_cut_and_flipped_malicious_samples),
        cmocka_unit_test(test_every_corpus_file_mutated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
