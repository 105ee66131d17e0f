/* The bounded reader: never reads past the end, never advances on failure,
 * hands out pointers into the window without allocating. */
#include "reader.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static const uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, '\n', 'x'};

static void test_bytes_stop_exactly_at_the_end(void **state)
{
    (void)state;
    rd_t r = rd_make(data, sizeof data, 0);
    const uint8_t *p;
    assert_true(rd_bytes(&r, sizeof data, &p));
    assert_ptr_equal(p, data);
    assert_int_equal(rd_left(&r), 0);
    assert_true(rd_bytes(&r, 0, &p)); /* zero bytes at the end is fine */
    assert_false(rd_bytes(&r, 1, &p));
    assert_int_equal(r.off, sizeof data);
}

static void test_failed_reads_do_not_advance(void **state)
{
    (void)state;
    rd_t r = rd_make(data, sizeof data, 8);
    const uint8_t *p = NULL;
    uint64_t v = 42;
    assert_false(rd_bytes(&r, 4, &p));
    assert_false(rd_bytes(&r, SIZE_MAX, &p));
    assert_false(rd_skip(&r, SIZE_MAX));
    assert_false(rd_uint_le(&r, 4, &v));
    assert_false(rd_uint_le(&r, 8, &v));
    assert_int_equal(v, 42);
    assert_null(p);
    assert_int_equal(r.off, 8);
}

static void test_little_endian_integers(void **state)
{
    (void)state;
    rd_t r = rd_make(data, sizeof data, 0);
    uint64_t v;
    assert_true(rd_uint_le(&r, 2, &v));
    assert_int_equal(v, 0x0201);
    assert_true(rd_uint_le(&r, 4, &v));
    assert_int_equal(v, 0x06050403);
    assert_false(rd_uint_le(&r, 0, &v));
    assert_false(rd_uint_le(&r, 9, &v));
    assert_int_equal(r.off, 6);
    r = rd_make(data, sizeof data, 0);
    assert_true(rd_uint_le(&r, 8, &v));
    assert_int_equal(v, 0x0807060504030201ull);
    uint8_t b;
    assert_true(rd_u8(&r, &b));
    assert_int_equal(b, 9);
}

static void test_lines_need_a_newline(void **state)
{
    (void)state;
    rd_t r = rd_make(data, sizeof data, 5);
    const uint8_t *line;
    size_t n;
    assert_true(rd_line(&r, &line, &n));
    assert_int_equal(n, 5);
    assert_int_equal(line[n - 1], '\n');
    assert_int_equal(r.off, 10);
    assert_false(rd_line(&r, &line, &n)); /* "x" has no newline */
    assert_int_equal(r.off, 10);
    assert_true(rd_skip(&r, 1));
    assert_false(rd_line(&r, &line, &n)); /* empty window */
}

static void test_window_clamps_its_start(void **state)
{
    (void)state;
    rd_t r = rd_make(data, 4, 100);
    assert_int_equal(r.off, 4);
    assert_int_equal(rd_left(&r), 0);
    uint8_t b;
    assert_false(rd_u8(&r, &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes_stop_exactly_at_the_end),
        cmocka_unit_test(test_failed_reads_do_not_advance),
        cmocka_unit_test(test_little_endian_integers),
        cmocka_unit_test(test_lines_need_a_newline),
        cmocka_unit_test(test_window_clamps_its_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
