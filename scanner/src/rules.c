/* YARA rules over pickle traces and raw streams; see rules.h.
 *
 * Trace rules (rules/yara/trace/, namespace "trace") only count on the
 * trace text, raw rules (rules/yara/raw/, namespace "raw") only on the
 * stream's bytes, so that text planted in a pickle can never pass for a
 * trace line. */
#include "rules.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yara.h>

/* The shipped rules, embedded at build time (cmake/embed.cmake). */
#include "yara_sources.inc"

struct rules {
    YR_RULES *set; /* trace rules in namespace "trace", raw rules in "raw" */
    size_t count;
};

typedef struct compile_ctx {
    char *err;
    size_t errlen;
    bool failed;
} compile_ctx;

static void on_compile_error(int level, const char *file, int line, const YR_RULE *rule,
                             const char *msg, void *user)
{
    (void)rule;
    compile_ctx *c = user;
    if (level != YARA_ERROR_LEVEL_ERROR || c->failed)
        return;
    c->failed = true;
    snprintf(c->err, c->errlen, "%s:%d: %s", file ? file : "<built-in rules>", line, msg);
}

static int define_externals(YR_COMPILER *c)
{
    static const char *const ints[] = {"protocol",  "opcodes", "imports", "calls",
                                       "dangerous", "unknown", "depth"};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (yr_compiler_define_integer_variable(c, ints[i], 0) != ERROR_SUCCESS)
            return -1;
    if (yr_compiler_define_boolean_variable(c, "complete", 0) != ERROR_SUCCESS ||
        yr_compiler_define_string_variable(c, "member", "") != ERROR_SUCCESS ||
        yr_compiler_define_string_variable(c, "container", "") != ERROR_SUCCESS)
        return -1;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every *.yar file of dir (sorted) to c. Returns 0, or -1 with err set. */
static int add_dir(YR_COMPILER *c, const char *dir, const char *ns, compile_ctx *cc)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* a missing trace/ or raw/ subdirectory is fine */
    char *names[512];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 512) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".yar") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_names);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc != 0) { /* libyara takes no more files after an error */
            free(names[i]);
            continue;
        }
        char path[4096];
        int pl = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = pl > 0 && (size_t)pl < sizeof path ? fopen(path, "r") : NULL;
        if (!f) {
            snprintf(cc->err, cc->errlen, "%s: cannot open", path);
            rc = -1;
        } else {
            if (yr_compiler_add_file(c, f, ns, path) != 0)
                rc = -1;
            fclose(f);
        }
        free(names[i]);
    }
    return rc;
}

/* One compiler for both kinds (libyara's arenas cost megabytes each):
 * trace files go to namespace "trace", raw files to "raw", and a match only
 * counts when its namespace is the kind of buffer being scanned. */
static YR_RULES *compile_all(bool defaults, const char *extra_dir, compile_ctx *cc)
{
    YR_COMPILER *c = NULL;
    YR_RULES *out = NULL;
    if (yr_compiler_create(&c) != ERROR_SUCCESS) {
        snprintf(cc->err, cc->errlen, "cannot create the YARA compiler");
        return NULL;
    }
    yr_compiler_set_callback(c, on_compile_error, cc);
    if (define_externals(c) != 0) {
        snprintf(cc->err, cc->errlen, "cannot define the YARA externals");
        goto done;
    }
    const size_t ntrace = sizeof yara_trace_sources / sizeof yara_trace_sources[0];
    const size_t nraw = sizeof yara_raw_sources / sizeof yara_raw_sources[0];
    for (size_t i = 0; defaults && i < ntrace; i++)
        if (yr_compiler_add_string(c, yara_trace_sources[i], "trace") != 0)
            goto done;
    for (size_t i = 0; defaults && i < nraw; i++)
        if (yr_compiler_add_string(c, yara_raw_sources[i], "raw") != 0)
            goto done;
    if (extra_dir) {
        const char *const kinds[] = {"trace", "raw"};
        for (int k = 0; k < 2; k++) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%s/%s", extra_dir, kinds[k]);
            if (add_dir(c, dir, kinds[k], cc) != 0)
                goto done;
        }
    }
    if (yr_compiler_get_rules(c, &out) != ERROR_SUCCESS)
        out = NULL;
done:
    yr_compiler_destroy(c);
    return out;
}

static size_t count_rules(YR_RULES *r)
{
    size_t n = 0;
    const YR_RULE *rule;
    if (r)
        yr_rules_foreach(r, rule) n++;
    return n;
}

rules *rules_compile(bool defaults, const char *extra_dir, char *err, size_t errlen)
{
    compile_ctx cc = {err, errlen, false};
    if (errlen)
        err[0] = '\0';
    if (yr_initialize() != ERROR_SUCCESS) {
        snprintf(err, errlen, "cannot initialise libyara");
        return NULL;
    }
    rules *r = calloc(1, sizeof *r);
    if (!r) {
        yr_finalize();
        return NULL;
    }
    r->set = compile_all(defaults, extra_dir, &cc);
    if (!r->set || cc.failed) {
        rules_free(r);
        return NULL;
    }
    r->count = count_rules(r->set);
    return r;
}

void rules_free(rules *r)
{
    if (!r)
        return;
    if (r->set)
        yr_rules_destroy(r->set);
    free(r);
    yr_finalize();
}

size_t rules_count(const rules *r)
{
    return r ? r->count : 0;
}

static const char *meta_string(const YR_RULE *rule, const char *key)
{
    const YR_META *m;
    yr_rule_metas_foreach(rule, m)
    {
        if (strcmp(m->identifier, key) == 0 && m->type == META_TYPE_STRING)
            return m->string;
    }
    return NULL;
}

static long long meta_int(const YR_RULE *rule, const char *key, long long dflt)
{
    const YR_META *m;
    yr_rule_metas_foreach(rule, m)
    {
        if (strcmp(m->identifier, key) == 0 && m->type == META_TYPE_INTEGER)
            return (long long)m->integer;
    }
    return dflt;
}

void rules_each_id(const rules *r, void (*fn)(const char *id, void *ctx), void *ctx)
{
    const YR_RULE *rule;
    yr_rules_foreach(r->set, rule)
    {
        const char *id = meta_string(rule, "id");
        fn(id ? id : rule->identifier, ctx);
    }
}

typedef struct match_ctx {
    pks_result *res;
    size_t max_findings;
    const rules_facts *facts;
    const uint8_t *buf;
    size_t len;
    bool trace;
    size_t raw_base;
    bool jailed;
} match_ctx;

static sev sev_of(const char *s)
{
    if (!s)
        return SEV_MEDIUM;
    if (!strcmp(s, "critical"))
        return SEV_CRITICAL;
    if (!strcmp(s, "high"))
        return SEV_HIGH;
    if (!strcmp(s, "low"))
        return SEV_LOW;
    if (!strcmp(s, "info"))
        return SEV_INFO;
    return SEV_MEDIUM;
}

/* The earliest match of rule in the scanned buffer, or len. libyara keeps
 * its YR_MATCH records in a packed arena, so reading them is an unaligned
 * access that UBSan would report; the layout is libyara's, not ours. */
__attribute__((no_sanitize("alignment"))) static size_t first_match(YR_SCAN_CONTEXT *ctx,
                                                                    const YR_RULE *rule, size_t len)
{
    size_t best = len;
    const YR_STRING *s;
    yr_rule_strings_foreach(rule, s)
    {
        const YR_MATCH *m;
        yr_string_matches_foreach(ctx, s, m)
        {
            if (m->offset >= 0 && (size_t)m->offset < best)
                best = (size_t)m->offset;
        }
    }
    return best;
}

static int on_match(YR_SCAN_CONTEXT *ctx, int message, void *data, void *user)
{
    if (message != CALLBACK_MSG_RULE_MATCHING)
        return CALLBACK_CONTINUE;
    const YR_RULE *rule = data;
    match_ctx *mc = user;
    if (strcmp(rule->ns->name, mc->trace ? "trace" : "raw") != 0)
        return CALLBACK_CONTINUE; /* a rule for the other kind of buffer */
    const char *id = meta_string(rule, "id");
    const char *desc = meta_string(rule, "description");
    sev s = sev_of(meta_string(rule, "severity"));
    int score = (int)meta_int(rule, "score", s == SEV_CRITICAL ? 100 : s == SEV_HIGH ? 70 : 40);
    size_t at = first_match(ctx, rule, mc->len);
    size_t offset = 0;
    char module[256] = "", name[512] = "", line[200] = "", zmember[512] = "";
    if (mc->trace && at < mc->len) {
        /* The trace line of the match: its "@offset", and the global of an
         * IMPORT line. */
        const char *b = (const char *)mc->buf;
        if (b[at] == '\n' && at + 1 < mc->len)
            at++; /* patterns anchor on the newline before their line */
        size_t start = at, end = at;
        while (start > 0 && b[start - 1] != '\n')
            start--;
        while (end < mc->len && b[end] != '\n')
            end++;
        snprintf(line, sizeof line, "%.*s", (int)(end - start), b + start);
        const char *atsign = strstr(line, " @");
        if (atsign)
            offset = (size_t)strtoull(atsign + 2, NULL, 10);
        if (sscanf(line, "IMPORT %255s %511s", module, name) != 2)
            module[0] = name[0] = '\0';
        /* a container event names the member it is about */
        if (sscanf(line, "ZIP %*s @%*s %511s", zmember) != 1 || !strcmp(zmember, "-"))
            zmember[0] = '\0';
    } else if (at < mc->len) {
        offset = mc->raw_base + at;
    }
    const char *fmember = zmember[0] ? zmember : mc->facts->member[0] ? mc->facts->member : NULL;
    res_finding(mc->res, mc->max_findings, id ? id : rule->identifier, s, score, fmember, offset,
                module[0] ? module : NULL, name[0] ? name : NULL, "%s%s%s%s",
                desc ? desc : rule->identifier, line[0] ? " [" : "", line, line[0] ? "]" : "");
    return CALLBACK_CONTINUE;
}

static void scan_with(YR_RULES *set, match_ctx *mc)
{
    YR_SCANNER *sc = NULL;
    if (!set || yr_scanner_create(set, &sc) != ERROR_SUCCESS)
        return;
    const rules_facts *f = mc->facts;
    yr_scanner_define_integer_variable(sc, "protocol", f->protocol);
    yr_scanner_define_integer_variable(sc, "opcodes", (int64_t)f->opcodes);
    yr_scanner_define_integer_variable(sc, "imports", (int64_t)f->imports);
    yr_scanner_define_integer_variable(sc, "calls", (int64_t)f->calls);
    yr_scanner_define_integer_variable(sc, "dangerous", (int64_t)f->dangerous);
    yr_scanner_define_integer_variable(sc, "unknown", (int64_t)f->unknown);
    yr_scanner_define_integer_variable(sc, "depth", f->depth);
    yr_scanner_define_boolean_variable(sc, "complete", f->complete);
    yr_scanner_define_string_variable(sc, "member", f->member);
    yr_scanner_define_string_variable(sc, "container", f->container);
    yr_scanner_set_callback(sc, on_match, mc);
    yr_scanner_set_flags(sc, SCAN_FLAGS_REPORT_RULES_MATCHING |
                                 (mc->jailed ? SCAN_FLAGS_NO_TRYCATCH : 0));
    yr_scanner_scan_mem(sc, mc->buf, mc->len);
    yr_scanner_destroy(sc);
}

void rules_match(const rules *r, pks_result *res, size_t max_findings, const rules_facts *facts,
                 const char *trace, size_t trace_len, const uint8_t *raw, size_t raw_len,
                 size_t raw_base, bool jailed)
{
    if (!r)
        return;
    match_ctx mc = {res, max_findings, facts, (const uint8_t *)trace, trace_len, true, 0, jailed};
    scan_with(r->set, &mc);
    mc.buf = raw;
    mc.len = raw_len;
    mc.trace = false;
    mc.raw_base = raw_base;
    if (raw_len)
        scan_with(r->set, &mc);
}
