/* The symbolic VM and the scan verdicts on hand-assembled streams: every
 * call path, names and their Python 2 mapping, memo and stack games,
 * computed names, nested pickles, the loader's own errors, anomalies,
 * skipped inputs and limits. Payloads are inert ("echo"); nothing here is
 * ever loaded by Python. */
#include "testutil.h"

#include "result.h"
#include "vm.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static pks_scanner *scanner;

static int setup(void **state)
{
    (void)state;
    return pks_scanner_new(&scanner) == PKS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    pks_scanner_free(scanner);
    return 0;
}

static pks_result *scan(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees overreads */
    memcpy(copy, data, len);
    pks_input *in;
    assert_int_equal(pks_input_from_buffer(copy, len, &in), PKS_OK);
    pks_result *r;
    assert_int_equal(pks_scan_input(scanner, in, "t.pkl", 0, &r), PKS_OK);
    pks_input_free(in);
    free(copy);
    return r;
}

static bool has_rule(const pks_result *r, const char *rule)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].rule, rule) == 0)
            return true;
    return false;
}

static void dump(const pks_result *r)
{
    pks_result_write_text(r, stdout, 1);
}

/* Scans data and checks verdict, and a rule and a global when given. */
static void expect(const uint8_t *data, size_t len, pks_verdict v, const char *rule,
                   const char *global)
{
    pks_result *r = scan(data, len);
    bool ok = r->verdict == v && (!rule || has_rule(r, rule)) &&
              (!global || tu_reports_global(r, global));
    if (!ok) {
        dump(r);
        pks_result_free(r);
        fail_msg("expected %s%s%s%s%s", pks_verdict_name(v), rule ? ", rule " : "",
                 rule ? rule : "", global ? ", global " : "", global ? global : "");
    }
    pks_result_free(r);
}

#define MAL   PKS_VERDICT_MALICIOUS
#define SUS   PKS_VERDICT_SUSPICIOUS
#define CLEAN PKS_VERDICT_CLEAN
#define SKIP  PKS_VERDICT_SKIPPED

static void test_every_call_path_is_traced(void **state)
{
    (void)state;
    expect(S("cos\nsystem\n(S'echo'\ntR."), MAL, "exec_os_command", "os.system");
    expect(S("(S'echo'\nios\nsystem\n."), MAL, "exec_os_command", "os.system"); /* INST */
    expect(S("\x80\x02(cos\nsystem\nS'echo'\no0N."), MAL, "exec_os_command", "os.system");
    expect(S("\x80\x02"
             "csubprocess\nPopen\n]\x85\x81."),
           MAL, "exec_os_command", "subprocess.Popen"); /* NEWOBJ */
    expect(S("\x80\x04\x8c\x0b"
             "collections\x8c\x0bOrderedDict\x93)}\x92."),
           CLEAN, NULL, "collections.OrderedDict"); /* NEWOBJ_EX on an allowlisted class */
    expect(S("\x80\x02\x82\x01."), MAL, "ext_opcode", NULL);
    expect(S("\x80\x02\x84\x00\x01\x00\x00."), MAL, "ext_opcode", NULL);
    expect(S("Pfoo\n."), SUS, "persistent_id", NULL);
    expect(S("\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00"
             "0X"
             "\x03\x00\x00\x00"
             "cpuK\x04tQ."),
           CLEAN, NULL, "torch.FloatStorage"); /* torch's storage persistent id */
    expect(S("\x80\x02(X\x07\x00\x00\x00storagecmylib\nStore\nX\x01\x00\x00\x00"
             "0X"
             "\x03\x00\x00\x00"
             "cpuK\x04tQ."),
           SUS, "persistent_id", NULL); /* the shape, but not a torch storage type */
    expect(S("cbuiltins\ntype\n(S'X'\n(t(dtR."), MAL, "resolver", "builtins.type");
}

static void test_build_and_mutation_of_globals(void **state)
{
    (void)state;
    /* BUILD on a class (even an allowlisted one) is monkeypatching. */
    expect(S("ccollections\nOrderedDict\n(S'x'\nI1\ndb."), MAL, "build_on_global", NULL);
    expect(S("ccollections\nOrderedDict\n(S'k'\nS'v'\nu."), MAL, "global_mutation", NULL);
    expect(S("csys\npath\nS'/tmp'\na."), MAL, "global_mutation", "sys.path");
    /* The pickler's own SETITEMS on a fresh OrderedDict and BUILD on a fresh
     * instance are clean. */
    expect(S("\x80\x02"
             "ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00kK\x01u."),
           CLEAN, NULL, NULL);
    expect(S("\x80\x03"
             "cdatetime\ndate\nC\x04\x07\xe4\x01\x02\x85R}b."),
           CLEAN, NULL, NULL);
}

static void test_python2_names_are_mapped_below_protocol_3(void **state)
{
    (void)state;
    expect(S("c__builtin__\neval\n(S'1'\ntR."), MAL, "exec_code", "builtins.eval");
    expect(S("\x80\x02"
             "ccommands\ngetoutput\n."),
           MAL, "exec_os_command", "subprocess.getoutput");
    expect(S("\x80\x02"
             "c__builtin__\nset\n)R."),
           CLEAN, NULL, "builtins.set");
    /* From protocol 3 on, find_class maps nothing: __builtin__ is unknown. */
    expect(S("\x80\x03"
             "c__builtin__\neval\n."),
           SUS, "unknown_global", "__builtin__.eval");
    /* PROTO in the middle switches the mapping off. */
    expect(S("\x80\x02N0\x80\x04"
             "c__builtin__\neval\n."),
           SUS, NULL, "__builtin__.eval");
}

static void test_dotted_qualnames(void **state)
{
    (void)state;
    expect(S("\x80\x04\x8c\x07pathlib\x8c\x09os.system\x93."), MAL, NULL, "pathlib.os.system");
    expect(S("\x80\x04\x8c\x08"
             "builtins\x8c\x0c__dict__.get\x93."),
           MAL, "resolver", NULL);
    expect(S("\x80\x04\x8c\x06random\x8c\x0a_os.system\x93."), MAL, NULL, "random._os.system");
    expect(S("\x80\x04\x8c\x07pathlib\x8c\x0fPath.write_text\x93."), MAL, NULL, NULL);
    expect(S("\x80\x04\x8c\x08zoneinfo\x8c\x12ZoneInfo._unpickle\x93."), CLEAN, NULL, NULL);
}

static void test_stack_global_follows_memo_dup_and_pop(void **state)
{
    (void)state;
    /* Operands through BINPUT/POP/BINGET, DUP and MEMOIZE/GET are still the
     * literals they were: the name is known and judged. */
    expect(S("\x80\x04\x8c\x02osq\x01"
             "0h\x01\x8c\x06system\x93."),
           MAL, "exec_os_command", "os.system");
    expect(S("\x80\x04\x8c\x02os2\x8c\x06system\x93."), MAL, NULL, "os.system");
    expect(S("\x80\x04\x8c\x03"
             "abc\x94\x8c\x02os\x94\x8c\x06system\x93."),
           MAL, NULL, "os.system");
    /* A memo slot overwritten later holds the new value. */
    expect(S("\x80\x04\x8c\x04"
             "copyq\x01\x8c\x02osq\x01"
             "0h\x01\x8c\x06system\x93."),
           MAL, NULL, "os.system");
    /* Operands that are not str literals: the name is computed at load time. */
    expect(S("\x80\x04S'os'\n\x8c\x06system\x93."), MAL, "computed_global_name", NULL);
    expect(S("\x80\x04"
             "C\x02os\x8c\x06system\x93."),
           MAL, "computed_global_name", NULL);
    expect(S("\x80\x04\x8c\x08"
             "builtins\x8c\x03str\x93\x8c\x02os\x85R\x8c\x06system\x93."),
           MAL, "computed_global_name", NULL);
}

static void test_getattr_shapes(void **state)
{
    (void)state;
    /* The Enum-member shape of Python 3.11+. */
    expect(S("\x80\x02"
             "cbuiltins\ngetattr\ncre\nRegexFlag\nX\x0a\x00\x00\x00IGNORECASE\x86R."),
           CLEAN, NULL, NULL);
    expect(S("\x80\x02"
             "cbuiltins\ngetattr\ncre\nRegexFlag\nX\x0b\x00\x00\x00__globals__\x86R."),
           MAL, "resolver", NULL);
    expect(S("\x80\x02"
             "cbuiltins\ngetattr\ncos\nsystem\nX\x06\x00\x00\x00system\x86R."),
           MAL, NULL, NULL);
    expect(S("\x80\x02"
             "cbuiltins\ngetattr\ncmylib\nColor\nX\x03\x00\x00\x00RED\x86R."),
           SUS, "attribute_of_unknown", NULL);
    /* getattr(allowlisted class, 'write_text') then a call: dangerous. */
    expect(S("\x80\x02"
             "cbuiltins\ngetattr\ncpathlib\nPath\nX\x0a\x00\x00\x00write_text\x86R."),
           MAL, "resolver", NULL);
}

/* pickle.loads(<bytes>) around an inner stream built by the caller. */
static void nested_case(const char *prefix, size_t plen, const char *inner, size_t ilen,
                        const char *suffix, size_t slen, pks_verdict v, const char *rule)
{
    uint8_t buf[1024];
    size_t n = 0;
    memcpy(buf + n, prefix, plen);
    n += plen;
    buf[n++] = 'C'; /* SHORT_BINBYTES */
    buf[n++] = (uint8_t)ilen;
    memcpy(buf + n, inner, ilen);
    n += ilen;
    memcpy(buf + n, suffix, slen);
    n += slen;
    pks_result *r = scan(buf, n);
    bool scanned = false, nested = rule == NULL;
    for (size_t i = 0; i < r->npickles; i++)
        if (r->pickles[i].member && strstr(r->pickles[i].member, "nested@"))
            scanned = true;
    for (size_t i = 0; i < r->nfindings && rule; i++)
        if (r->findings[i].member && strstr(r->findings[i].member, "nested@") &&
            strcmp(r->findings[i].rule, rule) == 0)
            nested = true;
    nested = nested && scanned;
    if (r->verdict != v || !nested) {
        dump(r);
        pks_result_free(r);
        fail_msg("nested case: expected %s with a nested %s finding", pks_verdict_name(v),
                 rule ? rule : "any");
    }
    pks_result_free(r);
}

static void test_nested_pickles_are_scanned(void **state)
{
    (void)state;
    static const char inner[] = "cos\nsystem\n(S'echo'\ntR.";
    static const char pre[] = "\x80\x03"
                              "cpickle\nloads\n",
                      suf[] = "\x85R.";
    nested_case(pre, sizeof pre - 1, inner, sizeof inner - 1, suf, sizeof suf - 1, MAL,
                "exec_os_command");
    /* pickle.load(io.BytesIO(<bytes>)) */
    static const char pre2[] = "\x80\x03"
                               "cpickle\nload\ncio\nBytesIO\n",
                      suf2[] = "\x85R\x85R.";
    nested_case(pre2, sizeof pre2 - 1, inner, sizeof inner - 1, suf2, sizeof suf2 - 1, MAL,
                "exec_os_command");
    /* base64 and zlib forms of the constant */
    expect(S("\x80\x03"
             "cpickle\nloads\ncbase64\nb64decode\nX\x20\x00\x00\x00"
             "Y29zCnN5c3RlbQooUydlY2hvJwp0Ui4=\x85R\x85R."),
           MAL, "nested_pickle", NULL);
    expect(S("\x80\x03"
             "cpickle\nloads\ncbinascii\nunhexlify\nX\x2e\x00\x00\x00"
             "636f730a73797374656d0a2853276563686f270a74522e\x85R\x85R."),
           MAL, "nested_pickle", NULL);
    /* Bytes built at run time reach the loader. */
    expect(S("\x80\x03"
             "cpickle\nloads\ncbuiltins\nbytes\n](K\x01K\x02"
             "e\x85R\x85R."),
           MAL, NULL, NULL);
    expect(S("\x80\x03"
             "cpickle\nloads\ncbuiltins\nbytes\n]\x85R\x85R."),
           MAL, "nested_loader_dynamic", NULL);
    /* A benign inner pickle is still loaded by pickle.loads: malicious
     * through the loader, and the inner stream is scanned clean. */
    static const char benign[] = "\x80\x02K\x01.";
    nested_case(pre, sizeof pre - 1, benign, sizeof benign - 1, suf, sizeof suf - 1, MAL, NULL);
}

static void test_loader_errors_end_the_stream(void **state)
{
    (void)state;
    /* The fence: REDUCE cannot pop below the topmost mark. */
    expect(S("\x80\x02N(R."), SUS, "parse_error", NULL);
    /* POP pops a mark when one sits on top. */
    expect(S("\x80\x02(0N."), CLEAN, NULL, NULL);
    expect(S("\x80\x02h\x05."), SUS, "parse_error", NULL); /* missing memo key */
    expect(S("\x80\x02(K\x01"
             "d."),
           SUS, "parse_error", NULL); /* odd DICT */
    /* Sparse and huge memo indices are fine. */
    expect(S("\x80\x02Nr\xff\xff\xff\xffj\xff\xff\xff\xff."), CLEAN, NULL, NULL);
    expect(S("Np99999999999\n0g99999999999\n."), CLEAN, NULL, NULL);
    /* Payload first, then a break: the findings stand. */
    expect(S("cos\nsystem\n(S'echo'\ntR"), MAL, "exec_os_command", NULL);
    expect(S("cos\nsystem\n(S'echo'\ntR\xff"), MAL, "exec_os_command", NULL);
    expect(S("\x80\x02"
             "ccollections\nOrderedDict\n)R"),
           SUS, "truncated_after_import", NULL);
}

static void test_anomalies_and_several_pickles(void **state)
{
    (void)state;
    expect(S("\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00K\x01."), MAL, "frame_violation", NULL);
    expect(S("N\x80\x02."), SUS, "protocol_anomaly", NULL);
    expect(S("N.\n"), SUS, "trailing_data", NULL);
    /* The second of two pickles holds the payload. */
    expect(S("\x80\x02K\x01.cos\nsystem\n(S'echo'\ntR."), MAL, "exec_os_command", NULL);
    /* Stacked benign pickles, as legacy torch files have. */
    expect(S("\x80\x02K\x01.\x80\x02K\x02.\x80\x02K\x03."), CLEAN, NULL, NULL);
    /* Literals only the loader reads are still read right. */
    expect(S("(I0x10\nL0o7L\nt."), CLEAN, NULL, NULL);
    expect(S("I0x10\nL0o7L\n\x86."), SUS, "protocol_anomaly", NULL); /* TUPLE2 is protocol 2 */
}

static void test_nothing_pickle_like_is_skipped(void **state)
{
    (void)state;
    expect(S("hello world\n"), SKIP, NULL, NULL);
    expect(S("{\"a\": 1, \"b\": [1, 2]}\n"), SKIP, NULL, NULL);
    expect(S("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), SKIP, NULL, NULL);
    expect(S(""), SKIP, NULL, NULL);
    /* A PROTO header makes it a (broken) pickle, not something to skip. */
    expect(S("\x80\x02\xff"), SUS, "parse_error", NULL);
}

static void test_limits_are_findings(void **state)
{
    (void)state;
    size_t n = 300000;
    uint8_t *buf = malloc(n + 3);
    buf[0] = 0x80;
    buf[1] = 0x02;
    memset(buf + 2, '(', n);
    buf[n + 2] = '.';
    expect(buf, n + 3, SUS, "limit_reached", NULL);
    memset(buf + 2, 'N', n);
    expect(buf, n + 3, SUS, "limit_reached", NULL);
    free(buf);
    /* A text line longer than max_line. */
    size_t tl = scanner->lim.max_line + 10;
    buf = malloc(tl + 2);
    buf[0] = 'V';
    memset(buf + 1, 'x', tl - 1);
    buf[tl] = '\n';
    buf[tl + 1] = '.';
    expect(buf, tl + 2, SUS, "limit_reached", NULL); /* unknown past a limit: not skipped */
    buf[0] = 0x80;
    buf[1] = 0x02;
    buf[2] = 'V';
    expect(buf, tl + 2, SUS, "limit_reached", NULL);
    free(buf);
    /* Opcode limit, with a lowered limit. */
    pks_limits saved = scanner->lim;
    scanner->lim.max_opcodes = 10;
    expect(S("\x80\x02]\x94(K\x01K\x02K\x03K\x04K\x05K\x06K\x07K\x08K\x09"
             "e."),
           SUS, "limit_reached", NULL);
    static const char inner[] = "N.";
    static const char pre[] = "\x80\x03"
                              "cpickle\nloads\n",
                      suf[] = "\x85R.";
    scanner->lim = saved;
    scanner->lim.max_nesting = 0;
    uint8_t b2[128];
    size_t k = 0;
    memcpy(b2, pre, sizeof pre - 1);
    k += sizeof pre - 1;
    b2[k++] = 'C';
    b2[k++] = sizeof inner - 1;
    memcpy(b2 + k, inner, sizeof inner - 1);
    k += sizeof inner - 1;
    memcpy(b2 + k, suf, sizeof suf - 1);
    k += sizeof suf - 1;
    expect(b2, k, MAL, "limit_reached", NULL);
    scanner->lim = saved;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_call_path_is_traced),
        cmocka_unit_test(test_build_and_mutation_of_globals),
        cmocka_unit_test(test_python2_names_are_mapped_below_protocol_3),
        cmocka_unit_test(test_dotted_qualnames),
        cmocka_unit_test(test_stack_global_follows_memo_dup_and_pop),
        cmocka_unit_test(test_getattr_shapes),
        cmocka_unit_test(test_nested_pickles_are_scanned),
        cmocka_unit_test(test_loader_errors_end_the_stream),
        cmocka_unit_test(test_anomalies_and_several_pickles),
        cmocka_unit_test(test_nothing_pickle_like_is_skipped),
        cmocka_unit_test(test_limits_are_findings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
