/* Differential tests against CPython, on the committed corpus written by
 * corpus/generate/gen_differential.py:
 *  - every pickle under corpus/differential/pickles decodes to exactly the
 *    (offset, opcode, argument) sequence pickletools.genops listed, with no
 *    anomaly (CPython's own picklers never write one);
 *  - every loader-only literal in literals.tsv is accepted or rejected as
 *    pickle.loads did, with the same value;
 *  - the opcode table equals pickletools' (byte, name, protocol) table. */
#include "testutil.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define DIFF_DIR PKS_SOURCE_DIR "/corpus/differential"

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Compares one pickle file with its .ops listing; returns mismatches. */
static int check_pickle(const char *name, size_t *ops_checked)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/pickles/%s", DIFF_DIR, name);
    size_t len, olen;
    uint8_t *data = tu_read_file(path, &len);
    snprintf(path + strlen(path) - 4, 5, ".ops");
    char *ops = (char *)tu_read_file(path, &olen);
    if (!data || !ops) {
        printf("cannot read %s or its listing\n", name);
        free(data);
        free(ops);
        return 1;
    }
    int bad = 0;
    dec d;
    dec_init(&d, data, len, 0);
    char *line = ops, *next;
    for (; *line; line = next) {
        next = strchr(line, '\n');
        *next++ = '\0';
        unsigned long long want_off;
        char want_name[32];
        int consumed;
        if (sscanf(line, "%llu\t%31s\t%n", &want_off, want_name, &consumed) != 2) {
            printf("%s: bad listing line '%s'\n", name, line);
            bad++;
            break;
        }
        const char *want_arg = line + consumed;
        dec_op op;
        if (dec_next(&d, &op) != PKS_OK) {
            printf("%s: decode error at %llu: %s\n", name, (unsigned long long)d.err.offset,
                   d.err.message);
            bad++;
            break;
        }
        char *got = tu_canon(&op.arg);
        if (op.offset != want_off || strcmp(op.info->name, want_name) != 0 ||
            strcmp(got, want_arg) != 0) {
            printf("%s: at %zu %s %.80s, pickletools has %llu %s %.80s\n", name, op.offset,
                   op.info->name, got, want_off, want_name, want_arg);
            bad++;
        }
        if (op.anomalies) {
            printf("%s: anomaly 0x%x at %zu in a CPython-written pickle\n", name, op.anomalies,
                   op.offset);
            bad++;
        }
        free(got);
        (*ops_checked)++;
        if (op.info->byte == OP_STOP && d.rd.off < len)
            dec_restart(&d);
        if (bad > 5)
            break;
    }
    if (!bad && d.rd.off != len) {
        printf("%s: %zu bytes left after the listing ended\n", name, len - d.rd.off);
        bad++;
    }
    dec_free(&d);
    free(data);
    free(ops);
    return bad;
}

static void test_pickles_match_pickletools_genops(void **state)
{
    (void)state;
    DIR *dir = opendir(DIFF_DIR "/pickles");
    assert_non_null(dir);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".pkl") == 0) {
            names = realloc(names, (n + 1) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(dir);
    qsort(names, n, sizeof *names, cmp_names);
    int bad = 0;
    size_t ops = 0;
    for (size_t i = 0; i < n; i++) {
        bad += check_pickle(names[i], &ops);
        free(names[i]);
    }
    free(names);
    printf("checked %zu pickles, %zu opcodes against pickletools\n", n, ops);
    assert_true(n >= 200);
    assert_true(ops >= 50000);
    assert_int_equal(bad, 0);
}

/* True for opcodes whose argument is the value they push. */
static bool pushes_its_argument(const op_info *o)
{
    switch (o->arg) {
    case ARG_NONE:
    case ARG_MEMONL:
    case ARG_STRINGNL_ASCII:
    case ARG_STRINGNL_PAIR:
    case ARG_STRINGNL_PAIR_ASCII:
    case ARG__COUNT: return false;
    case ARG_UINT1:
    case ARG_UINT2:
    case ARG_INT4:
    case ARG_UINT4:
    case ARG_UINT8: return o->byte == OP_BININT || o->byte == OP_BININT1 || o->byte == OP_BININT2;
    case ARG_DECIMALNL_SHORT:
    case ARG_DECIMALNL_LONG:
    case ARG_FLOATNL:
    case ARG_FLOAT8:
    case ARG_STRINGNL:
    case ARG_UNICODENL:
    case ARG_STRING1:
    case ARG_STRING4:
    case ARG_BYTES1:
    case ARG_BYTES4:
    case ARG_BYTES8:
    case ARG_BYTEARRAY8:
    case ARG_UNICODE1:
    case ARG_UNICODE4:
    case ARG_UNICODE8:
    case ARG_LONG1:
    case ARG_LONG4: return true;
    }
    return false;
}

static void test_loader_literals_match_pickle_loads(void **state)
{
    (void)state;
    size_t len;
    char *text = (char *)tu_read_file(DIFF_DIR "/literals.tsv", &len);
    assert_non_null(text);
    int cases = 0, bad = 0, rejected = 0;
    char *line = text, *next;
    for (; *line; line = next) {
        next = strchr(line, '\n');
        *next++ = '\0';
        if (line[0] == '#')
            continue;
        char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        assert_non_null(tab2);
        *tab1 = *tab2 = '\0';
        const char *expected = tab1 + 1, *note = tab2 + 1;
        size_t n;
        uint8_t *data = tu_unhex(line, &n);
        cases++;
        /* Decode the first pickle only, as pickle.loads does. */
        dec d;
        dec_init(&d, data, n, 0);
        pks_err e;
        char *first = NULL;
        for (;;) {
            dec_op op;
            e = dec_next(&d, &op);
            if (e)
                break;
            if (!first && pushes_its_argument(op.info))
                first = tu_canon(&op.arg);
            if (op.info->byte == OP_STOP)
                break;
        }
        bool want_error = strncmp(expected, "E:", 2) == 0;
        if (want_error) {
            rejected++;
            if (e == PKS_OK) {
                printf("literal %s (%s): pickle.loads raised %s, pklscan accepted it\n", line, note,
                       expected + 2);
                bad++;
            }
        } else if (e != PKS_OK) {
            printf("literal %.60s (%s): pickle.loads gave %.40s, pklscan: %s\n", line, note,
                   expected, d.err.message);
            bad++;
        } else if (first && strcmp(first, expected) != 0) {
            printf("literal %.60s (%s): pickle.loads gave %.60s, pklscan %.60s\n", line, note,
                   expected, first);
            bad++;
        }
        free(first);
        dec_free(&d);
        free(data);
    }
    free(text);
    printf("checked %d literal cases (%d rejected by the loader)\n", cases, rejected);
    assert_true(cases >= 100);
    assert_true(rejected >= 30);
    assert_int_equal(bad, 0);
}

static void test_opcode_table_matches_pickletools(void **state)
{
    (void)state;
    size_t len, count;
    char *text = (char *)tu_read_file(DIFF_DIR "/opcodes.tsv", &len);
    assert_non_null(text);
    op_table(&count);
    size_t rows = 0;
    char *line = text, *next;
    for (; *line; line = next) {
        next = strchr(line, '\n');
        *next++ = '\0';
        unsigned byte, proto;
        char name[32];
        assert_int_equal(sscanf(line, "%u\t%31s\t%u", &byte, name, &proto), 3);
        const op_info *o = op_lookup((uint8_t)byte);
        assert_non_null(o);
        assert_string_equal(o->name, name);
        assert_int_equal(o->proto, proto);
        rows++;
    }
    free(text);
    assert_int_equal(rows, count);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pickles_match_pickletools_genops),
        cmocka_unit_test(test_loader_literals_match_pickle_loads),
        cmocka_unit_test(test_opcode_table_matches_pickletools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
