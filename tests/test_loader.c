/* The restricted loader (sandbox/loader.c):
 *  - differential: for every pickle of corpus/differential/pickles, the JSON
 *    equals, byte for byte, what corpus/generate/gen_load_expected.py got by
 *    really loading the file with CPython behind the same allowlist, and the
 *    files CPython refused are refused;
 *  - the typed encoding's corner cases: shared and recursive references, dict
 *    key equality across bool/int/float, non-string keys, NaN, big ints,
 *    large bytes as size and SHA-256;
 *  - hostile input: globals outside the allowlist refused with their name and
 *    offset, run-time names, persistent ids outside torch, extension codes,
 *    unhashable keys, billion-laughs sharing, depth and output limits,
 *    truncation at every byte of every corpus pickle;
 *  - torch tensors as metadata through storage persistent ids. */
#include "testutil.h"

#include "load.h"
#include "loader.h"
#include "policy.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <zlib.h>

#define DIFF_DIR PKS_SOURCE_DIR "/corpus/differential"

static policy *pol;

static int setup(void **state)
{
    (void)state;
    pol = policy_new();
    return pol ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    policy_free(pol);
    return 0;
}

/* Loads data; returns the JSON (malloc'd) or NULL with *err filled. */
static char *load(const uint8_t *data, size_t len, bool torch, const ldr_opts *opts,
                  pks_error_info *err)
{
    ldr_opts o;
    ldr_defaults(&o, pol);
    if (opts)
        o = *opts;
    ldr_buf b = {0};
    pks_error_info e;
    pks_err rc = ldr_load(&o, data, len, 0, torch, &b, NULL, err ? err : &e);
    if (rc != PKS_OK) {
        ldr_buf_free(&b);
        return NULL;
    }
    return b.p;
}

static char *load_hex(const char *hex, bool torch, pks_error_info *err)
{
    size_t n;
    uint8_t *d = tu_unhex(hex, &n);
    assert_non_null(d);
    char *j = load(d, n, torch, NULL, err);
    free(d);
    return j;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_differential(void **state)
{
    (void)state;
    DIR *dir = opendir(DIFF_DIR "/pickles");
    assert_non_null(dir);
    char *names[1024];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dir)) && n < 1024) {
        size_t l = strlen(de->d_name);
        if (l > 4 && !strcmp(de->d_name + l - 4, ".pkl"))
            names[n++] = strdup(de->d_name);
    }
    closedir(dir);
    qsort(names, n, sizeof *names, cmp_names);
    size_t equal = 0, refused = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        size_t len, elen;
        snprintf(path, sizeof path, "%s/pickles/%s", DIFF_DIR, names[i]);
        uint8_t *data = tu_read_file(path, &len);
        snprintf(path, sizeof path, "%s/load/%.*s.json", DIFF_DIR, (int)strlen(names[i]) - 4,
                 names[i]);
        char *want = (char *)tu_read_file(path, &elen);
        assert_non_null(data);
        assert_non_null(want);
        if (elen && want[elen - 1] == '\n')
            want[--elen] = 0;
        pks_error_info err;
        char *got = load(data, len, false, NULL, &err);
        if (!strncmp(want, "REFUSED", 7)) {
            if (got) {
                printf("%s: CPython refused (%s) but pklscan loaded it\n", names[i], want);
                bad++;
            } else {
                refused++;
            }
        } else if (!got) {
            printf("%s: pklscan refused at offset %llu: %s\n", names[i],
                   (unsigned long long)err.offset, err.message);
            bad++;
        } else if (strcmp(got, want) != 0) {
            size_t k = 0;
            while (got[k] && got[k] == want[k])
                k++;
            printf("%s: differs at byte %zu:\n  pklscan: %.120s\n  CPython: %.120s\n", names[i], k,
                   got + (k > 40 ? k - 40 : 0), want + (k > 40 ? k - 40 : 0));
            bad++;
        } else {
            equal++;
        }
        free(got);
        free(data);
        free(want);
        free(names[i]);
    }
    printf("differential load: %zu equal, %zu refused by both, %zu mismatches\n", equal, refused,
           bad);
    assert_true(n >= 200);
    assert_true(equal >= 180);
    assert_int_equal(bad, 0);
}

static void expect_json(const char *hex, const char *want)
{
    pks_error_info err;
    char *got = load_hex(hex, false, &err);
    if (!got)
        fail_msg("refused at %llu: %s", (unsigned long long)err.offset, err.message);
    assert_string_equal(got, want);
    free(got);
}

static void expect_refused(const char *hex, bool torch, const char *needle, uint64_t offset)
{
    pks_error_info err;
    char *got = load_hex(hex, torch, &err);
    if (got)
        fail_msg("loaded: %s", got);
    if (!strstr(err.message, needle))
        fail_msg("message '%s' lacks '%s'", err.message, needle);
    if (err.offset != offset)
        fail_msg("'%s' at offset %llu, expected %llu", err.message, (unsigned long long)err.offset,
                 (unsigned long long)offset);
}

static void test_encoding(void **state)
{
    (void)state;
    /* l = []; l.append(l): recursion through an id */
    expect_json("80045d94680061"
                "2e",
                "{\"$id\":1,\"$value\":[{\"$ref\":1}]}");
    /* {1: 'a', 1.0: 'b', True: 'c'}: one key, first key object, last value */
    expect_json("80047d94284b018c016194473ff0000000000000"
                "8c016294888c016394752e",
                "{\"$dict\":[[1,\"c\"]]}");
    /* NaN, -inf, 2**64, -0.0, 1e16, 1e-05 */
    expect_json("800428477ff8000000000000"
                "47fff0000000000000"
                "8a09000000000000000001"
                "478000000000000000"
                "474341c37937e08000"
                "473ee4f8b588e368f1"
                "742e",
                "{\"$tuple\":[{\"$float\":\"nan\"},{\"$float\":\"-inf\"},"
                "{\"$int\":\"18446744073709551616\"},-0.0,1e+16,1e-05]}");
    /* a dict whose key starts with '$' is written as pairs */
    expect_json("80047d948c02246194"
                "4b01732e",
                "{\"$dict\":[[\"$a\",1]]}");
    /* non-ASCII and astral text as \u escapes */
    expect_json("80048c06c3a9f09f9880942e", "\"\\u00e9\\ud83d\\ude00\"");
    /* 5000 bytes: size and SHA-256, not the bytes */
    size_t n = 5000 + 8;
    uint8_t *d = calloc(1, n);
    d[0] = 0x42; /* BINBYTES */
    d[1] = 0x88;
    d[2] = 0x13;
    d[5] = '.';
    memmove(d + 5 + 5000, d + 5, 1);
    d[5] = 0;
    char *j = load(d, 5 + 5000 + 1, false, NULL, NULL);
    assert_non_null(j);
    assert_non_null(strstr(j, "\"$bytes\":null,\"size\":5000,\"sha256\":\""));
    free(j);
    free(d);
}

static void test_refusals(void **state)
{
    (void)state;
    /* GLOBAL 'os system' at offset 2 */
    expect_refused("8002636f730a73797374656d0a2e", false, "'os system' is not allowlisted", 2);
    /* a python-2 name maps before the check: __builtin__ eval -> builtins eval */
    expect_refused("8002635f5f6275696c74696e5f5f0a6576616c0a2e", false, "'builtins eval'", 2);
    /* STACK_GLOBAL with a computed (non-str) module */
    expect_refused("80044b018c0161930a2e", false, "not strings", 7);
    /* persistent id outside torch, then a bad torch pid */
    expect_refused("80024b01512e", false, "outside a torch checkpoint", 4);
    expect_refused("80024b01512e", true, "not a torch storage", 4);
    /* EXT1 */
    expect_refused("800282012e", false, "extension code 1", 2);
    /* unhashable dict key: {[]: 1} */
    expect_refused("80047d945d4b01732e", false, "unhashable", 7);
    /* BUILD on a list */
    expect_refused("80045d947d62"
                   "2e",
                   false, "BUILD on a builtin value", 5);
    /* calling an allowlisted constant is refused: builtins.Ellipsis */
    expect_refused("80028c086275696c74696e73948c08456c6c6970736973949329522e", false, "constant",
                   26);
}

/* Billion laughs: 64 levels of [x, x] share one list each; the output has
 * one $id per level, not 2^64 copies. */
static void test_sharing(void **state)
{
    (void)state;
    uint8_t d[2048];
    size_t k = 0;
    d[k++] = 0x80;
    d[k++] = 4;
    d[k++] = 'N';
    for (int i = 0; i < 64; i++) {
        d[k++] = 0x94; /* MEMOIZE */
        d[k++] = 'h';  /* BINGET */
        d[k++] = (uint8_t)i;
        d[k++] = 0x86; /* TUPLE2 */
    }
    d[k++] = '.';
    char *j = load(d, k, false, NULL, NULL);
    assert_non_null(j);
    assert_true(strlen(j) < 100000);
    assert_non_null(strstr(j, "{\"$ref\":63}"));
    free(j);
}

/* Keys built to make hashing or comparison explode: a million nested
 * 1-tuples, and two equal 64-level DAGs of shared pairs (comparing them
 * element by element would cost 2^64). Refused quickly, no deep recursion. */
static void test_hostile_keys(void **state)
{
    (void)state;
    size_t n = 1000000, k = 0;
    uint8_t *d = malloc(2 * n + 16);
    d[k++] = 0x80;
    d[k++] = 4;
    d[k++] = '}'; /* EMPTY_DICT */
    d[k++] = ')'; /* EMPTY_TUPLE */
    for (size_t i = 0; i < n; i++)
        d[k++] = 0x85; /* TUPLE1 */
    d[k++] = 'N';
    d[k++] = 's'; /* SETITEM */
    d[k++] = '.';
    pks_error_info err;
    assert_null(load(d, k, false, NULL, &err));
    assert_non_null(strstr(err.message, "nested deeper"));
    k = 0;
    d[k++] = 0x80;
    d[k++] = 4;
    d[k++] = '}';
    for (int copy = 0; copy < 2; copy++) {
        d[k++] = ')';
        for (int i = 0; i < 64; i++) {
            d[k++] = 'r'; /* LONG_BINPUT */
            uint32_t key = (uint32_t)(copy * 100 + i);
            memcpy(d + k, &key, 4);
            k += 4;
            d[k++] = 'j'; /* LONG_BINGET */
            memcpy(d + k, &key, 4);
            k += 4;
            d[k++] = 0x86; /* TUPLE2 */
        }
        d[k++] = 'N';
        d[k++] = 's';
    }
    d[k++] = '.';
    assert_null(load(d, k, false, NULL, &err));
    assert_non_null(strstr(err.message, "too costly"));
    free(d);
}

static void test_limits(void **state)
{
    (void)state;
    ldr_opts o;
    ldr_defaults(&o, pol);
    /* a million nested lists: the depth limit, not the C stack */
    size_t n = 2000000;
    uint8_t *d = malloc(n + 8);
    d[0] = 0x80;
    d[1] = 4;
    size_t k = 2;
    for (size_t i = 0; i < n / 2; i++)
        d[k++] = ']';
    for (size_t i = 0; i < n / 2 - 1; i++)
        d[k++] = 'a';
    d[k++] = '.';
    pks_error_info err;
    char *j = load(d, k, false, &o, &err);
    assert_null(j);
    assert_int_equal(err.code, PKS_ERR_LIMIT);
    assert_non_null(strstr(err.message, "depth"));
    free(d);
    /* output cap */
    o.max_output = 10;
    ldr_buf b = {0};
    size_t len;
    uint8_t *p = tu_unhex("80048c1061616161616161616161616161616161942e", &len);
    assert_int_equal(ldr_load(&o, p, len, 0, false, &b, NULL, &err), PKS_ERR_LIMIT);
    ldr_buf_free(&b);
    /* values */
    ldr_defaults(&o, pol);
    o.max_values = 3;
    assert_int_equal(ldr_load(&o, p, len, 0, false, &b, NULL, &err), PKS_OK);
    ldr_buf_free(&b);
    free(p);
    p = tu_unhex("80045d94284b014b024b03652e", &len);
    assert_int_equal(ldr_load(&o, p, len, 0, false, &b, NULL, &err), PKS_ERR_LIMIT);
    ldr_buf_free(&b);
    free(p);
}

/* torch: _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', 6), 0,
 * (2, 3), (3, 1), False, OrderedDict()) */
static void test_torch_tensor(void **state)
{
    (void)state;
    pks_error_info err;
    const char *ok = "8002"
                     "63746f7263682e5f7574696c730a5f72656275696c645f74656e736f725f76320a"
                     "28"
                     "28"
                     "5807000000"
                     "73746f72616765"
                     "63746f7263680a466c6f617453746f726167650a"
                     "580100000030"
                     "5803000000637075"
                     "4b06"
                     "74"
                     "51"
                     "4b00"
                     "4b024b0386"
                     "4b034b0186"
                     "89"
                     "63636f6c6c656374696f6e730a4f726465726564446963740a2952"
                     "74"
                     "52"
                     "2e";
    char *j = load_hex(ok, true, &err);
    if (!j)
        fail_msg("refused at %llu: %s", (unsigned long long)err.offset, err.message);
    assert_string_equal(j, "{\"$tensor\":{\"dtype\":\"float32\",\"shape\":[2,3],\"stride\":[3,1],"
                           "\"storage\":\"0\",\"device\":\"cpu\",\"storage_offset\":0,"
                           "\"storage_numel\":6,\"nbytes\":24,\"requires_grad\":false}}");
    free(j);
    /* a view past the end of its storage: offset 1 of 6 elements, shape (2, 3) */
    char *bad = strdup(ok);
    char *off0 = strstr(bad, "4b004b024b0386");
    assert_non_null(off0);
    off0[3] = '1';
    j = load_hex(bad, true, &err);
    assert_non_null(j);
    assert_non_null(strstr(j, "\"out_of_bounds\":true"));
    free(bad);
    free(j);
    /* the same pickle outside a torch checkpoint is refused */
    assert_null(load_hex(ok, false, &err));
}

/* Truncation at every byte of every differential pickle: refused, never a
 * crash (run under ASan in the sanitizer suite). */
static void test_truncation(void **state)
{
    (void)state;
    DIR *dir = opendir(DIFF_DIR "/pickles");
    assert_non_null(dir);
    struct dirent *de;
    size_t files = 0, cuts = 0;
    while ((de = readdir(dir))) {
        size_t l = strlen(de->d_name);
        if (l <= 4 || strcmp(de->d_name + l - 4, ".pkl"))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/pickles/%s", DIFF_DIR, de->d_name);
        size_t len;
        uint8_t *data = tu_read_file(path, &len);
        assert_non_null(data);
        /* cuts inside the first pickle: past its STOP a prefix is a whole pickle */
        ldr_opts o;
        ldr_defaults(&o, pol);
        ldr_buf b = {0};
        size_t end = len;
        pks_error_info e;
        ldr_load(&o, data, len, 0, false, &b, &end, &e);
        ldr_buf_free(&b);
        size_t step = end > 4000 ? end / 2000 : 1;
        for (size_t cut = 0; cut < end; cut += step) {
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, data, cut);
            pks_error_info err;
            char *j = load(copy, cut, false, NULL, &err);
            assert_null(j);
            free(copy);
            cuts++;
        }
        free(data);
        files++;
    }
    closedir(dir);
    printf("truncation: %zu files, %zu cuts, all refused\n", files, cuts);
    assert_true(files >= 200);
}

/* Every file torch.load(weights_only=True) accepted
 * (corpus/load/weights_only.tsv, written by gen_weights_only.py) loads with
 * nothing refused and as many tensors. */
static void test_weights_only(void **state)
{
    (void)state;
    size_t len;
    char *tsv = (char *)tu_read_file(PKS_SOURCE_DIR "/corpus/load/weights_only.tsv", &len);
    assert_non_null(tsv);
    size_t accepted = 0, bad = 0;
    char *save = NULL;
    for (char *line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *path = line, *status = strchr(line, '\t');
        if (line[0] == '#' || !status)
            continue;
        *status++ = 0;
        char *info = strchr(status, '\t');
        if (!info || strncmp(status, "accepted", 8) != 0)
            continue;
        long want = strtol(info + 1, NULL, 10);
        char full[2048];
        snprintf(full, sizeof full, "%s/%s", PKS_SOURCE_DIR, path);
        size_t n;
        uint8_t *d = tu_read_file(full, &n);
        assert_non_null(d);
        ldr_opts o;
        ldr_defaults(&o, pol);
        ldr_buf b = {.max = o.max_output};
        size_t refused = 1;
        long tensors = 0;
        if (pks_load_document(&o, d, n, &b) && pks_load_reply_valid(b.p, b.n, &refused))
            for (const char *p = b.p; (p = strstr(p, "\"$tensor\"")); p++)
                tensors++;
        if (refused || tensors != want) {
            printf(
                "%s: torch accepted it (%ld tensors); pklscan: %zu refused, %ld tensors\n%.300s\n",
                path, want, refused, tensors, b.p ? b.p : "");
            bad++;
        }
        accepted++;
        ldr_buf_free(&b);
        free(d);
    }
    free(tsv);
    printf("weights_only: %zu files torch accepts, %zu pklscan does not load alike\n", accepted,
           bad);
    assert_true(accepted >= 10);
    assert_int_equal(bad, 0);
}

/* ---- library corpus: equal up to sharing ---- */

typedef struct refs {
    cJSON *by_id[4096];
} refs;

/* The value a node stands for: {"$id":n,"$value":v} is v (remembered as n),
 * {"$ref":n} is what n was. */
static cJSON *deref(refs *t, cJSON *x)
{
    for (int hops = 0; hops < 8 && cJSON_IsObject(x); hops++) {
        cJSON *id = cJSON_GetObjectItem(x, "$id"), *ref = cJSON_GetObjectItem(x, "$ref");
        if (id && cJSON_IsNumber(id) && id->valueint > 0 && id->valueint < 4096) {
            t->by_id[id->valueint] = cJSON_GetObjectItem(x, "$value");
            x = t->by_id[id->valueint];
        } else if (ref && cJSON_IsNumber(ref) && ref->valueint > 0 && ref->valueint < 4096 &&
                   t->by_id[ref->valueint]) {
            x = t->by_id[ref->valueint];
        } else {
            break;
        }
    }
    return x;
}

/* Structural equality after deref: which objects are shared is ignored
 * (numpy hands out one dtype object per type, the pickle may not). */
static bool same_value(refs *ta, cJSON *a, refs *tb, cJSON *b, int depth)
{
    if (depth > 300)
        return true; /* a cycle on both sides */
    a = deref(ta, a);
    b = deref(tb, b);
    if (!a || !b || (a->type & 0xff) != (b->type & 0xff))
        return false;
    if (cJSON_IsNumber(a))
        return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a) || cJSON_IsObject(a)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return false;
        for (cJSON *x = a->child, *y = b->child; x && y; x = x->next, y = y->next)
            if ((cJSON_IsObject(a) && strcmp(x->string, y->string) != 0) ||
                !same_value(ta, x, tb, y, depth + 1))
                return false;
    }
    return true;
}

/* Every pickle of corpus/libraries (written by Debian's numpy, pandas, scipy,
 * sklearn, torch) against the JSON files of corpus/load/libraries from
 * gen_load_expected.py: equal up to sharing. Raw-pickled torch tensors are
 * only checked to load: their storages are nested torch.save archives whose
 * keys are allocation addresses, different each time CPython re-reduces. */
static void test_libraries(void **state)
{
    (void)state;
    DIR *dir = opendir(PKS_SOURCE_DIR "/corpus/load/libraries");
    assert_non_null(dir);
    struct dirent *de;
    size_t equal = 0, loaded = 0, bad = 0;
    while ((de = readdir(dir))) {
        size_t l = strlen(de->d_name);
        char *sep = strstr(de->d_name, "__");
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") || !sep)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/corpus/libraries/%.*s/%.*s.pkl", PKS_SOURCE_DIR,
                 (int)(sep - de->d_name), de->d_name, (int)(l - 5 - (size_t)(sep + 2 - de->d_name)),
                 sep + 2);
        size_t n, wn;
        uint8_t *d = tu_read_file(path, &n);
        snprintf(path, sizeof path, "%s/corpus/load/libraries/%s", PKS_SOURCE_DIR, de->d_name);
        char *want = (char *)tu_read_file(path, &wn);
        assert_non_null(d);
        assert_non_null(want);
        pks_error_info err;
        char *got = load(d, n, false, NULL, &err);
        bool torch = strncmp(de->d_name, "torch__", 7) == 0;
        if (!got) {
            printf("%s: refused at %llu: %s\n", de->d_name, (unsigned long long)err.offset,
                   err.message);
            bad++;
        } else if (torch) {
            loaded++;
        } else {
            cJSON *a = cJSON_Parse(got), *b = cJSON_Parse(want);
            refs *ta = calloc(1, sizeof *ta), *tb = calloc(1, sizeof *tb);
            if (a && b && same_value(ta, a, tb, b, 0)) {
                equal++;
            } else {
                printf("%s: differs from CPython's load\n", de->d_name);
                bad++;
            }
            free(ta);
            free(tb);
            cJSON_Delete(a);
            cJSON_Delete(b);
        }
        free(got);
        free(d);
        free(want);
    }
    closedir(dir);
    printf("library corpus: %zu equal to CPython up to sharing, %zu torch files loaded, %zu bad\n",
           equal, loaded, bad);
    assert_true(equal >= 30);
    assert_int_equal(bad, 0);
}

static void put_le(uint8_t *o, size_t *k, uint64_t v, size_t w)
{
    for (size_t i = 0; i < w; i++)
        o[(*k)++] = (uint8_t)(v >> (8 * i));
}

/* A zip of one deflated member (name, bytes): local header, data, central
 * directory, end record. *len gets its size. */
static uint8_t *zip_one(const char *name, const uint8_t *body, size_t n, size_t *len)
{
    uLongf cap = compressBound((uLong)n) + 16;
    uint8_t *z = malloc(cap);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)body;
    zs.avail_in = (uInt)n;
    zs.next_out = z;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t cn = zs.total_out, nl = strlen(name);
    deflateEnd(&zs);
    uint8_t *o = calloc(1, 30 + nl + cn + 46 + nl + 22);
    size_t k = 0;
    const uint64_t local[] = {0x04034b50, 20, 0, 8, 0, 0, cn, n, nl, 0};
    const uint64_t central[] = {0x02014b50, 20, 20, 0, 8, 0, 0, cn, n, nl, 0, 0, 0, 0, 0, 0};
    const size_t lw[] = {4, 2, 2, 2, 4, 4, 4, 4, 2, 2};
    const size_t cw[] = {4, 2, 2, 2, 2, 4, 4, 4, 4, 2, 2, 2, 2, 2, 4, 4};
    for (size_t i = 0; i < 10; i++)
        put_le(o, &k, local[i], lw[i]);
    memcpy(o + k, name, nl);
    k += nl;
    memcpy(o + k, z, cn);
    k += cn;
    size_t cd = k;
    for (size_t i = 0; i < 16; i++)
        put_le(o, &k, central[i], cw[i]);
    memcpy(o + k, name, nl);
    k += nl;
    size_t cds = k - cd;
    const uint64_t end[] = {0x06054b50, 0, 0, 1, 1, cds, cd, 0};
    const size_t ew[] = {4, 2, 2, 2, 2, 4, 4, 2};
    for (size_t i = 0; i < 8; i++)
        put_le(o, &k, end[i], ew[i]);
    free(z);
    *len = k;
    return o;
}

/* Deflated .npy members of a zip: the header is read first, and the member
 * is inflated in full when it holds objects, also when its header is longer
 * than the first bytes read. */
static void test_npz_members(void **state)
{
    (void)state;
    for (int longhdr = 0; longhdr < 2; longhdr++) {
        size_t hl = longhdr ? 100000 : 118;
        static const char pk[] = "\x80\x02]q\x00(K\x01K\x02"
                                 "e.";
        size_t pn = sizeof pk - 1, n = 12 + hl + pn + 500000;
        uint8_t *npy = malloc(n);
        memcpy(npy, "\x93NUMPY\x02\x00", 8);
        for (int b = 0; b < 4; b++)
            npy[8 + b] = (uint8_t)(hl >> (8 * b));
        memset(npy + 12, ' ', hl);
        memcpy(npy + 12, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 56);
        npy[12 + hl - 1] = '\n';
        memcpy(npy + 12 + hl, pk, pn);
        memset(npy + 12 + hl + pn, 0, 500000); /* what follows the pickle is not read */
        size_t zl;
        uint8_t *zip = zip_one("o.npy", npy, n, &zl);
        ldr_opts o;
        ldr_defaults(&o, pol);
        ldr_buf b = {.max = o.max_output};
        assert_true(pks_load_document(&o, zip, zl, &b));
        if (!strstr(b.p, "\"member\":\"o.npy\"") || !strstr(b.p, "\"value\":[1,2]"))
            fail_msg("header of %zu bytes: %s", hl, b.p);
        ldr_buf_free(&b);
        free(zip);
        free(npy);
    }
}

/* Lone surrogates are written as \udXXX escapes; the parent's reply check
 * must accept them (corpus/regress/load_lone_surrogate_reply_rejected.pkl). */
static void test_reply_check(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d =
        tu_read_file(PKS_SOURCE_DIR "/corpus/regress/load_lone_surrogate_reply_rejected.pkl", &len);
    assert_non_null(d);
    ldr_opts o;
    ldr_defaults(&o, pol);
    ldr_buf b = {.max = o.max_output};
    assert_true(pks_load_document(&o, d, len, &b));
    assert_non_null(strstr(b.p, "\\ud800"));
    size_t refused = 99;
    assert_true(pks_load_reply_valid(b.p, b.n, &refused));
    assert_int_equal(refused, 0);
    ldr_buf_free(&b);
    free(d);
    /* what the check refuses */
    const char *bad[] = {"[1]", "{\"format\":\"x\",\"pickles\":[],\"refused\":0",
                         "{\"pickles\":[],\"refused\":0}",
                         "{\"format\":\"x\",\"pickles\":{},\"refused\":0}"};
    for (size_t i = 0; i < 4; i++)
        assert_false(pks_load_reply_valid(bad[i], strlen(bad[i]), NULL));
    const char *good = "{\"format\":\"x\",\"pickles\":[],\"refused\":0}";
    assert_true(pks_load_reply_valid(good, strlen(good), NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differential), cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_refusals),     cmocka_unit_test(test_sharing),
        cmocka_unit_test(test_limits),       cmocka_unit_test(test_torch_tensor),
        cmocka_unit_test(test_truncation),   cmocka_unit_test(test_reply_check),
        cmocka_unit_test(test_weights_only), cmocka_unit_test(test_hostile_keys),
        cmocka_unit_test(test_libraries),    cmocka_unit_test(test_npz_members),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
