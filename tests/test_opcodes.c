/* The opcode table: complete (all 68 opcodes CPython 3.11 knows), names and
 * bytes unique, every other byte rejected by the decoder, well-formed rows,
 * and docs/OPCODES.md generated from it and up to date. */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_table_has_all_68_opcodes(void **state)
{
    (void)state;
    size_t n;
    op_table(&n);
    assert_int_equal(n, 68);
}

static void test_names_and_bytes_are_unique(void **state)
{
    (void)state;
    size_t n;
    const op_info *t = op_table(&n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            assert_int_not_equal(t[i].byte, t[j].byte);
            assert_string_not_equal(t[i].name, t[j].name);
        }
}

static void test_rows_are_well_formed(void **state)
{
    (void)state;
    size_t n;
    const op_info *t = op_table(&n);
    for (size_t i = 0; i < n; i++) {
        assert_true(t[i].name[0] != '\0');
        assert_true(t[i].doc[0] != '\0');
        assert_true(t[i].arg < ARG__COUNT);
        assert_true(t[i].proto <= 5);
        assert_true(t[i].marks >= -1 && t[i].marks <= 1);
        assert_ptr_equal(op_lookup(t[i].byte), &t[i]);
        /* A mark-popping opcode says so in its stack notation. */
        assert_int_equal(t[i].marks < 0, strstr(t[i].before, "mark") != NULL);
    }
}

static void test_every_other_byte_is_rejected(void **state)
{
    (void)state;
    int rejected = 0;
    for (int b = 0; b < 256; b++) {
        size_t n;
        const op_info *t = op_table(&n);
        bool known = false;
        for (size_t i = 0; i < n; i++)
            known |= t[i].byte == b;
        assert_int_equal(op_lookup((uint8_t)b) != NULL, known);
        uint8_t data[3] = {0x80, 0x04, (uint8_t)b};
        pks_error_info err;
        pks_err e = tu_decode_all(data, sizeof data, &err, NULL, NULL);
        if (!known) {
            assert_int_equal(e, PKS_ERR_BAD_OPCODE);
            assert_int_equal(err.offset, 2);
            assert_int_equal(err.opcode, b);
            rejected++;
        } else {
            assert_int_not_equal(e, PKS_ERR_BAD_OPCODE);
        }
    }
    assert_int_equal(rejected, 256 - 68);
}

static void test_docs_opcodes_md_is_generated_and_current(void **state)
{
    (void)state;
    size_t need = op_markdown(NULL, 0);
    char *buf = malloc(need + 1);
    assert_int_equal(op_markdown(buf, need + 1), need);
    size_t len;
    char *doc = (char *)tu_read_file(PKS_SOURCE_DIR "/docs/OPCODES.md", &len);
    assert_non_null(doc);
    if (len != need || memcmp(doc, buf, need) != 0)
        fail_msg("docs/OPCODES.md is stale: run 'cmake --build build --target docs'");
    size_t n;
    const op_info *t = op_table(&n);
    for (size_t i = 0; i < n; i++)
        assert_non_null(strstr(doc, t[i].name));
    free(doc);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_has_all_68_opcodes),
        cmocka_unit_test(test_names_and_bytes_are_unique),
        cmocka_unit_test(test_rows_are_well_formed),
        cmocka_unit_test(test_every_other_byte_is_rejected),
        cmocka_unit_test(test_docs_opcodes_md_is_generated_and_current),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
