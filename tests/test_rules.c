/* The YARA rules engine and the shipped rules: they compile; every rule has
 * a sample that fires it and a benign near miss that does not
 * (corpus/rules, written by corpus/generate/gen_rule_samples.py), and each
 * behaves; trace rules never see text planted in the pickle; extra rule
 * directories and --no-default-rules work. */
#include "testutil.h"

#include "result.h"
#include "vm.h"

#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define RULES_DIR PKS_SOURCE_DIR "/corpus/rules/"

static bool has_rule(const pks_result *r, const char *rule)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].rule, rule) == 0)
            return true;
    return false;
}

static pks_result *scan_file(pks_scanner *sc, const char *path)
{
    pks_input *in;
    assert_int_equal(pks_input_open(path, &in), PKS_OK);
    pks_result *r;
    assert_int_equal(pks_scan_input(sc, in, path, 0, &r), PKS_OK);
    pks_input_free(in);
    return r;
}

typedef struct ids {
    char *id[256];
    size_t n;
} ids;

static void collect(const char *id, void *ctx)
{
    ids *x = ctx;
    if (x->n < 256)
        x->id[x->n++] = strdup(id);
}

static void test_every_rule_fires_on_its_sample_and_spares_its_near_miss(void **state)
{
    (void)state;
    pks_scanner *sc;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    ids all = {.n = 0};
    rules_each_id(sc->rules, collect, &all);
    assert_true(all.n >= 20);
    size_t len;
    char *text = (char *)tu_read_file(RULES_DIR "manifest.jsonl", &len);
    assert_non_null(text);
    size_t fires[256] = {0}, spares[256] = {0}, bad = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *m = cJSON_Parse(line);
        const char *file = cJSON_GetObjectItem(m, "file")->valuestring;
        const char *rule = cJSON_GetObjectItem(m, "rule")->valuestring;
        bool want = cJSON_IsTrue(cJSON_GetObjectItem(m, "fires"));
        char path[1024];
        snprintf(path, sizeof path, RULES_DIR "%s", file);
        pks_result *r = scan_file(sc, path);
        if (has_rule(r, rule) != want) {
            printf("%s: rule %s %s\n", file, rule, want ? "did not fire" : "fired");
            pks_result_write_text(r, stdout, 1);
            bad++;
        }
        for (size_t i = 0; i < all.n; i++)
            if (!strcmp(all.id[i], rule))
                (want ? fires : spares)[i]++;
        pks_result_free(r);
        cJSON_Delete(m);
    }
    for (size_t i = 0; i < all.n; i++) {
        if (!fires[i] || !spares[i]) {
            printf("rule %s lacks a %s sample\n", all.id[i], !fires[i] ? "firing" : "near-miss");
            bad++;
        }
        free(all.id[i]);
    }
    printf("%zu rules checked\n", all.n);
    free(text);
    pks_scanner_free(sc);
    assert_int_equal(bad, 0);
}

static void test_text_planted_in_data_is_not_a_trace_line(void **state)
{
    (void)state;
    pks_scanner *sc;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    /* A benign pickle whose string holds what a trace line would say. */
    static const char data[] = "\x80\x02X\x1c\x00\x00\x00\nIMPORT os system dangerous .";
    pks_input *in;
    assert_int_equal(pks_input_from_buffer(data, sizeof data - 1, &in), PKS_OK);
    pks_result *r;
    assert_int_equal(pks_scan_input(sc, in, "planted", 0, &r), PKS_OK);
    assert_int_equal(pks_result_verdict(r), PKS_VERDICT_CLEAN);
    assert_false(has_rule(r, "command.os"));
    pks_result_free(r);
    pks_input_free(in);
    pks_scanner_free(sc);
}

static void test_extra_rules_and_no_defaults(void **state)
{
    (void)state;
    char dir[] = "/tmp/pks-rules-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[256], path[300];
    snprintf(sub, sizeof sub, "%s/trace", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof path, "%s/local.yar", sub);
    FILE *f = fopen(path, "w");
    fputs("rule local_model_class { meta: id = \"local.model\" severity = \"high\" "
          "description = \"a class of ours\" strings: $a = \"IMPORT mylib.models Model\" "
          "condition: $a and protocol >= 2 }\n",
          f);
    fclose(f);
    pks_scanner *sc;
    assert_int_equal(pks_scanner_new(&sc), PKS_OK);
    char err[256];
    assert_int_equal(pks_scanner_set_rules(sc, dir, 0, err, sizeof err), PKS_OK);
    assert_int_equal(rules_count(sc->rules), 1);
    static const char data[] = "\x80\x02"
                               "cmylib.models\nModel\n)\x81.";
    pks_input *in;
    assert_int_equal(pks_input_from_buffer(data, sizeof data - 1, &in), PKS_OK);
    pks_result *r;
    assert_int_equal(pks_scan_input(sc, in, "t", 0, &r), PKS_OK);
    assert_true(has_rule(r, "local.model"));
    pks_result_free(r);
    pks_input_free(in);
    /* A broken rule file is an error naming the file; the rules in use stay. */
    f = fopen(path, "w");
    fputs("rule broken { condition: $nope }\n", f);
    fclose(f);
    assert_int_equal(pks_scanner_set_rules(sc, dir, 1, err, sizeof err), PKS_ERR_USAGE);
    assert_non_null(strstr(err, "local.yar"));
    assert_int_equal(rules_count(sc->rules), 1);
    unlink(path);
    rmdir(sub);
    rmdir(dir);
    pks_scanner_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_rule_fires_on_its_sample_and_spares_its_near_miss),
        cmocka_unit_test(test_text_planted_in_data_is_not_a_trace_line),
        cmocka_unit_test(test_extra_rules_and_no_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
