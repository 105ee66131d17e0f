/* The decoder on malformed and hostile input: truncation at every byte,
 * unknown opcodes, 2^63 declared lengths, missing newlines, invalid UTF-8,
 * deterministic bit flips. Every case ends in a clear error (code, offset,
 * opcode), never a crash or a read past the end, and never an allocation
 * sized by a length the data did not back. Also: the frame and protocol
 * anomalies, and CPython-specific readings not covered by literals.tsv. */
#include "testutil.h"

#include "bigint.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* A string literal and its length without the terminating NUL. */
#define S(lit) lit, sizeof(lit) - 1

#define PICKLES PKS_SOURCE_DIR "/corpus/differential/pickles/"

/* Single-pickle samples covering protocols 0-5, text and binary opcodes,
 * frames and large out-of-frame blobs. */
static const char *const samples[] = {
    "dicts_p0.pkl",       "py2_proto0_strings.pkl",  "floats_p1.pkl",
    "user_class_p2.pkl",  "big_ints_p3.pkl",         "strings_unicode_p4.pkl",
    "bytearray_p5.pkl",   "bytes_long_p4.pkl",       "py2_proto1_binstring.pkl",
    "collections_p4.pkl", "huge_int_decimal_p0.pkl", "string_surrogate_p0.pkl",
};

/* The sample in a heap block of exactly its size, so that ASan catches any
 * read past its end. */
static uint8_t *load_sample(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", PICKLES, name);
    uint8_t *data = tu_read_file(path, len);
    if (!data)
        fail_msg("cannot read %s", path);
    uint8_t *exact = malloc(*len);
    memcpy(exact, data, *len);
    free(data);
    return exact;
}

/* Decodes a buffer that is exactly data[0..len): copied to its own heap
 * block so that ASan catches any read past the end. */
static pks_err decode_exact(const uint8_t *data, size_t len, pks_error_info *err, unsigned *an)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (len)
        memcpy(copy, data, len);
    pks_err e = tu_decode_all(copy, len, err, NULL, an);
    free(copy);
    return e;
}

static void test_truncation_at_every_byte_is_reported(void **state)
{
    (void)state;
    size_t checked = 0;
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        size_t len;
        uint8_t *data = load_sample(samples[s], &len);
        assert_int_equal(decode_exact(data, len, NULL, NULL), PKS_OK);
        for (size_t k = 0; k < len; k++) {
            pks_error_info err;
            pks_err e = decode_exact(data, k, &err, NULL);
            if (e != (k == 0 ? PKS_ERR_EMPTY : PKS_ERR_TRUNCATED))
                fail_msg("%s cut at %zu: got %s (%s)", samples[s], k, pks_strerror(e), err.message);
            assert_true(err.offset <= k);
            assert_true(err.message[0] != '\0');
            checked++;
        }
        free(data);
    }
    assert_true(checked > 25000);
}

static void test_unknown_opcode_names_offset_and_byte(void **state)
{
    (void)state;
    const uint8_t data[] = {0x80, 0x02, 'N', 0xff, '.'};
    pks_error_info err;
    assert_int_equal(decode_exact(data, sizeof data, &err, NULL), PKS_ERR_BAD_OPCODE);
    assert_int_equal(err.offset, 3);
    assert_int_equal(err.opcode, 0xff);
    assert_non_null(strstr(err.message, "0xff"));
}

/* op + an 8-byte little-endian length, and nothing else. */
static pks_err decode_len8(uint8_t op, uint64_t n, pks_error_info *err, size_t *scratch_cap)
{
    uint8_t buf[9] = {op};
    for (int k = 0; k < 8; k++)
        buf[1 + k] = (uint8_t)(n >> (8 * k));
    dec d;
    dec_init(&d, buf, sizeof buf, 0);
    dec_op o;
    pks_err e = dec_next(&d, &o);
    *err = d.err;
    *scratch_cap = d.scratch_cap;
    dec_free(&d);
    return e;
}

static void test_huge_declared_lengths_never_allocate(void **state)
{
    (void)state;
    const uint8_t ops8[] = {OP_BINBYTES8, OP_BINUNICODE8, OP_BYTEARRAY8, OP_FRAME};
    for (size_t i = 0; i < sizeof ops8; i++) {
        pks_error_info err;
        size_t cap;
        assert_int_equal(decode_len8(ops8[i], 1ull << 63, &err, &cap), PKS_ERR_BAD_LENGTH);
        assert_int_equal(err.opcode, ops8[i]);
        assert_int_equal(cap, 0);
        assert_int_equal(decode_len8(ops8[i], UINT64_MAX, &err, &cap), PKS_ERR_BAD_LENGTH);
        assert_int_equal(decode_len8(ops8[i], (1ull << 63) - 1, &err, &cap), PKS_ERR_TRUNCATED);
        assert_int_equal(cap, 0);
        assert_int_equal(err.offset, 0);
    }
    /* 4-byte lengths: unsigned for BINBYTES/BINUNICODE/BINSTRING (as
     * calc_binsize reads them), signed for LONG4. */
    const struct {
        uint8_t op, b[4];
        pks_err want;
    } four[] = {
        {OP_BINBYTES, {0xff, 0xff, 0xff, 0xff}, PKS_ERR_TRUNCATED},
        {OP_BINUNICODE, {0xff, 0xff, 0xff, 0xff}, PKS_ERR_TRUNCATED},
        {OP_BINSTRING, {0x00, 0x00, 0x00, 0x80}, PKS_ERR_TRUNCATED},
        {OP_LONG4, {0xff, 0xff, 0xff, 0x7f}, PKS_ERR_TRUNCATED},
        {OP_LONG4, {0x00, 0x00, 0x00, 0x80}, PKS_ERR_BAD_LENGTH},
    };
    for (size_t i = 0; i < sizeof four / sizeof four[0]; i++) {
        uint8_t buf[5] = {four[i].op, four[i].b[0], four[i].b[1], four[i].b[2], four[i].b[3]};
        pks_error_info err;
        assert_int_equal(decode_exact(buf, sizeof buf, &err, NULL), four[i].want);
        assert_int_equal(err.offset, 0);
    }
}

static void test_missing_newline_is_truncation(void **state)
{
    (void)state;
    const char *const cases[] = {"I12", "L12L", "F1.5", "S'abc'",      "Vabc", "Pid",
                                 "g1",  "p1",   "cos",  "cos\nsystem", "(ios", "(ios\nsystem"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pks_error_info err;
        const uint8_t *p = (const uint8_t *)cases[i];
        size_t n = strlen(cases[i]);
        size_t start = cases[i][0] == '(' ? 1 : 0;
        if (decode_exact(p, n, &err, NULL) != PKS_ERR_TRUNCATED)
            fail_msg("'%s' was not reported as truncated", cases[i]);
        assert_int_equal(err.offset, start);
        assert_int_equal(err.opcode, p[start]);
        assert_non_null(strstr(err.message, "newline"));
    }
}

static void test_invalid_utf8_is_rejected_where_the_loader_decodes(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t n;
        pks_err want;
    } cases[] = {
        {S("\x8c\x01\x80."), PKS_ERR_BAD_TEXT},              /* lone continuation */
        {S("\x8c\x02\xe2\x82."), PKS_ERR_BAD_TEXT},          /* cut 3-byte sequence */
        {S("\x8c\x02\xc0\xaf."), PKS_ERR_BAD_TEXT},          /* overlong */
        {S("\x8c\x01\xf5."), PKS_ERR_BAD_TEXT},              /* never valid */
        {S("\x8c\x03\xed\xa0\x80."), PKS_OK},                /* surrogatepass */
        {S("X\x02\x00\x00\x00\xff\xfe."), PKS_ERR_BAD_TEXT}, /* BINUNICODE */
        {S("\x8d\x01\x00\x00\x00\x00\x00\x00\x00\x80."), PKS_ERR_BAD_TEXT},
        {S("c\xed\xa0\x80\nx\n."), PKS_ERR_BAD_TEXT}, /* GLOBAL is strict UTF-8 */
        {S("cos\n\xff\n."), PKS_ERR_BAD_TEXT},
        {S("c\xc3\xa9\nx\n."), PKS_OK},            /* GLOBAL allows UTF-8 */
        {S("(i\xc3\xa9\nx\n."), PKS_ERR_BAD_TEXT}, /* INST is ASCII only */
        {S("P\xc3\xa9\n."), PKS_ERR_BAD_TEXT},     /* PERSID is ASCII only */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pks_error_info err;
        pks_err e = decode_exact((const uint8_t *)cases[i].bytes, cases[i].n, &err, NULL);
        if (e != cases[i].want)
            fail_msg("case %zu: got %s, want %s", i, pks_strerror(e), pks_strerror(cases[i].want));
    }
}

static void test_failure_leaves_the_cursor_on_the_opcode(void **state)
{
    (void)state;
    const uint8_t data[] = "K\x01I12";
    dec d;
    dec_init(&d, data, sizeof data - 1, 0);
    dec_op op;
    assert_int_equal(dec_next(&d, &op), PKS_OK);
    assert_int_equal(dec_next(&d, &op), PKS_ERR_TRUNCATED);
    assert_int_equal(d.rd.off, 2);
    assert_int_equal(dec_next(&d, &op), PKS_ERR_TRUNCATED);
    assert_int_equal(d.err.offset, 2);
    assert_int_equal(d.err.opcode, 'I');
    dec_free(&d);
}

static unsigned anomalies_of(const char *bytes, size_t n)
{
    unsigned an = 0;
    pks_error_info err;
    pks_err e = decode_exact((const uint8_t *)bytes, n, &err, &an);
    if (e)
        fail_msg("unexpected error: %s", err.message);
    return an;
}

static void test_frame_and_protocol_anomalies(void **state)
{
    (void)state;
    /* A well-formed frame: no anomaly. */
    assert_int_equal(anomalies_of("\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00N.", 13), 0);
    /* FRAME inside an unfinished frame. */
    assert_true(anomalies_of("\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00"
                             "\x95\x02\x00\x00\x00\x00\x00\x00\x00N.",
                             22) &
                DEC_ANOM_FRAME_NESTED);
    /* An argument that runs past the frame's end. */
    assert_true(anomalies_of("\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00K\x01.", 14) &
                DEC_ANOM_FRAME_CROSSED);
    /* STOP with frame bytes left over. */
    assert_true(anomalies_of("\x80\x04\x95\x04\x00\x00\x00\x00\x00\x00\x00N.N.", 15) &
                DEC_ANOM_FRAME_UNFINISHED);
    /* PROTO in the middle, and opcodes above the declared protocol. */
    assert_true(anomalies_of("N\x80\x02.", 4) & DEC_ANOM_PROTO_LATE);
    assert_true(anomalies_of("\x80\x02\x8c\x01"
                             "a.",
                             6) &
                DEC_ANOM_ABOVE_PROTO);
    assert_true(anomalies_of("\x88.", 2) & DEC_ANOM_ABOVE_PROTO);
    assert_int_equal(anomalies_of("K\x01.", 3), 0); /* protocol 1 without PROTO */
}

static void test_cpython_readings(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t n;
        const char *canon;
    } cases[] = {
        {"I010\n.", 6, "i:8"}, /* strtol octal, not 10 */
        {"I-0x8000000000000000\n.", 22, "i:-9223372036854775808"},
        {"I0x8000000000000000\n.", 21, "i:9223372036854775808"},
        {"L-0x10L\n.", 9, "i:-16"},
        {"\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00.", 12, "i:9223372036854775808"},
        {"\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80.", 11, "i:-9223372036854775808"},
        {"\x8a\x02\xff\xff.", 5, "i:-1"},
        {"\x8a\x03\x00\x00\x00.", 6, "i:0"},
        {"S'\\x00\\\"'\n.", 11, "y:0022"},
        {"V\\u0000\\\\\n.", 11, "s:005c5c"},
        {"F-0.0\n.", 7, "f:-0.0"},
        {"F1e16\n.", 7, "f:1e+16"},
        {"F0.00001\n.", 10, "f:1e-05"},
        {"G\x80\x00\x00\x00\x00\x00\x00\x00.", 10, "f:-0.0"},
        /* GLOBAL names are raw bytes: no unescaping (pickletools reads "osA"). */
        {"cos\\x41\nx\n.", 11,
         "s:6f735c78343120"
         "78"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dec d;
        dec_init(&d, (const uint8_t *)cases[i].bytes, cases[i].n, 0);
        dec_op op;
        if (dec_next(&d, &op) != PKS_OK)
            fail_msg("case %zu: %s", i, d.err.message);
        char *got = tu_canon(&op.arg);
        if (strcmp(got, cases[i].canon) != 0)
            fail_msg("case %zu: got %s, want %s", i, got, cases[i].canon);
        free(got);
        dec_free(&d);
    }
}

static void test_bigint_text_and_back(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int base;
        const char *dec;
    } cases[] = {
        {"0", 0, "0"},
        {"-0", 0, "0"},
        {"0x_ff", 0, "255"},
        {"-0b1000_0000", 0, "-128"},
        {"0o777", 0, "511"},
        {"  123456789012345678901234567890  ", 0, "123456789012345678901234567890"},
        {"-340282366920938463463374607431768211456", 10,
         "-340282366920938463463374607431768211456"},
        {"0xffffffffffffffffffffffffffffffff", 0, "340282366920938463463374607431768211455"},
        {"007", 10, "7"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *le;
        size_t n;
        assert_int_equal(
            bi_parse_pylong(cases[i].text, strlen(cases[i].text), cases[i].base, &le, &n), BI_OK);
        char out[128];
        assert_true(bi_to_decimal(le, n, out, sizeof out));
        assert_string_equal(out, cases[i].dec);
        free(le);
    }
    const char *bad[] = {"", "_1", "1_", "1__2", "0x", "08", "0_7", "1 2", "--1", "0x_", "+"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t *le = NULL;
        size_t n;
        assert_int_equal(bi_parse_pylong(bad[i], strlen(bad[i]), 0, &le, &n), BI_SYNTAX);
        assert_null(le);
    }
}

static void test_bit_flips_never_crash(void **state)
{
    (void)state;
    size_t runs = 0, errors = 0;
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        size_t len;
        uint8_t *data = load_sample(samples[s], &len);
        size_t step = len > 1024 ? len / 1024 : 1;
        for (size_t i = 0; i < len; i += step) {
            for (int bit = 0; bit < 8; bit++) {
                data[i] ^= (uint8_t)(1u << bit);
                pks_error_info err;
                if (tu_decode_all(data, len, &err, NULL, NULL) != PKS_OK) {
                    assert_true(err.offset <= len);
                    errors++;
                }
                data[i] ^= (uint8_t)(1u << bit);
                runs++;
            }
        }
        free(data);
    }
    printf("%zu bit-flipped inputs, %zu rejected\n", runs, errors);
    assert_true(runs > 10000);
    assert_true(errors > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncation_at_every_byte_is_reported),
        cmocka_unit_test(test_unknown_opcode_names_offset_and_byte),
        cmocka_unit_test(test_huge_declared_lengths_never_allocate),
        cmocka_unit_test(test_missing_newline_is_truncation),
        cmocka_unit_test(test_invalid_utf8_is_rejected_where_the_loader_decodes),
        cmocka_unit_test(test_failure_leaves_the_cursor_on_the_opcode),
        cmocka_unit_test(test_frame_and_protocol_anomalies),
        cmocka_unit_test(test_cpython_readings),
        cmocka_unit_test(test_bigint_text_and_back),
        cmocka_unit_test(test_bit_flips_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
