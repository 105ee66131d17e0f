/* Scanning one input: every pickle stream in it, one after another until
 * the end of the data, each run through the symbolic VM; junk between
 * streams, truncation and limits become findings; then the verdict. Also
 * the scanner object and the result bookkeeping shared with vm.c. */
#include "pklscan.h"

#include "container.h"
#include "input.h"
#include "scan_limits.h"
#include "result.h"
#include "sha256.h"
#include "vm.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- result bookkeeping ---------------------------------------------------- */

void *res_push(void **arr, size_t *n, size_t *cap, size_t elsize)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        void *a = realloc(*arr, c * elsize);
        if (!a)
            return NULL;
        *arr = a;
        *cap = c;
    }
    void *e = (char *)*arr + *n * elsize;
    memset(e, 0, elsize);
    (*n)++;
    return e;
}

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void finding_clear(tr_finding *f)
{
    free(f->rule);
    free(f->message);
    free(f->member);
    free(f->module);
    free(f->name);
}

static void error_clear(tr_error *e)
{
    free(e->member);
    free(e->message);
}

/* Fills f with copies of the strings; false (f cleared) when one could not
 * be made. */
static bool finding_fill(tr_finding *f, const char *rule, sev s, int score, const char *member,
                         size_t offset, const char *module, const char *name, const char *msg)
{
    f->rule = strdup(rule);
    f->severity = s;
    f->score = score;
    f->message = strdup(msg);
    f->member = member ? strdup(member) : NULL;
    f->offset = offset;
    f->module = module ? strdup(module) : NULL;
    f->name = name ? strdup(name) : NULL;
    f->count = 0;
    if (f->rule && f->message && (!member || f->member) && (!module || f->module) &&
        (!name || f->name))
        return true;
    finding_clear(f);
    return false;
}

void res_finding(pks_result *r, size_t max, const char *rule, sev s, int score, const char *member,
                 size_t offset, const char *module, const char *name, const char *fmt, ...)
{
    if (!rule)
        rule = "unknown";
    /* One finding per rule and global (or per rule, for findings about no
     * global): repeats are counted, the first occurrence is kept. */
    for (size_t i = 0; i < r->nfindings; i++) {
        tr_finding *f = &r->findings[i];
        if (strcmp(f->rule, rule) == 0 && same(f->module, module) && same(f->name, name) &&
            same(f->member, member) && f->severity == s) {
            f->count++;
            return;
        }
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->nfindings >= max) {
        /* Past the listing limit: one notice (in a slot of its own), and the
         * worst news is never lost: a critical finding takes the place of
         * the last listed non-critical one. */
        if (r->findings_dropped++ == 0) {
            tr_finding *n =
                res_push((void **)&r->findings, &r->nfindings, &r->capfindings, sizeof *n);
            if (n) {
                n->rule = strdup("limit_reached");
                n->severity = SEV_INFO;
                char note[160];
                snprintf(note, sizeof note,
                         "limit reached: %zu findings listed; the rest are counted in "
                         "findings_not_listed",
                         max);
                n->message = strdup(note);
            }
        }
        if (s != SEV_CRITICAL)
            return;
        for (size_t i = r->nfindings; i-- > 0;) {
            tr_finding *f = &r->findings[i];
            if (f->severity == SEV_CRITICAL || (f->rule && !strcmp(f->rule, "limit_reached")))
                continue;
            finding_clear(f);
            if (!finding_fill(f, rule, s, score, member, offset, module, name, msg)) {
                memmove(f, f + 1, (r->nfindings - i - 1) * sizeof *f);
                r->nfindings--;
                r->nomem = true;
            }
            break;
        }
        return;
    }
    tr_finding *f = res_push((void **)&r->findings, &r->nfindings, &r->capfindings, sizeof *f);
    if (!f) {
        r->nomem = true;
        return;
    }
    if (!finding_fill(f, rule, s, score, member, offset, module, name, msg)) {
        r->nfindings--;
        r->nomem = true;
    }
}

void res_error(pks_result *r, const char *member, size_t offset, int opcode, pks_err code,
               const char *message)
{
    if (code == PKS_ERR_NOMEM)
        r->nomem = true;
    tr_error *e = res_push((void **)&r->errors, &r->nerrors, &r->caperrors, sizeof *e);
    if (!e) {
        r->nomem = true;
        return;
    }
    e->member = member ? strdup(member) : NULL;
    e->offset = offset;
    e->opcode = opcode;
    e->code = code;
    e->message = strdup(message);
    if (!e->message || (member && !e->member)) {
        error_clear(e);
        r->nerrors--;
        r->nomem = true;
    }
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

bool res_expired(pks_result *r, size_t max_findings, uint64_t max_ms)
{
    if (r->timed_out)
        return true;
    if (!r->deadline_ns || now_ns() < r->deadline_ns)
        return false;
    r->timed_out = true;
    res_finding(r, max_findings, "limit_reached", SEV_MEDIUM, 50, NULL, 0, NULL, NULL,
                "limit reached: %llu ms per file; the rest of the file was not analysed",
                (unsigned long long)max_ms);
    return true;
}

const char *sev_name(sev s)
{
    switch (s) {
    case SEV_INFO: return "info";
    case SEV_LOW: return "low";
    case SEV_MEDIUM: return "medium";
    case SEV_HIGH: return "high";
    case SEV_CRITICAL: return "critical";
    }
    return "?";
}

void res_decide(pks_result *r)
{
    if (r->verdict == PKS_VERDICT_ERROR)
        return;
    if (r->nomem) {
        /* an allocation failed: entries may be missing and names may have
         * been lost ("?.?"), so no verdict is certain; the findings stay
         * listed */
        r->verdict = PKS_VERDICT_ERROR;
        r->score = 0;
        return;
    }
    sev worst = SEV_INFO;
    int score = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        if (r->findings[i].severity > worst)
            worst = r->findings[i].severity;
        if (r->findings[i].score > score)
            score = r->findings[i].score;
    }
    if (worst == SEV_CRITICAL)
        r->verdict = PKS_VERDICT_MALICIOUS;
    else if (worst > SEV_INFO || r->nerrors > 0)
        r->verdict = PKS_VERDICT_SUSPICIOUS;
    else if (r->verdict != PKS_VERDICT_SKIPPED)
        r->verdict = PKS_VERDICT_CLEAN;
    if (r->verdict == PKS_VERDICT_SUSPICIOUS && score == 0)
        score = 50;
    r->score = score;
}

/* ---- scanner ----------------------------------------------------------------- */

pks_err pks_scanner_new(pks_scanner **out)
{
    *out = NULL;
    pks_scanner *s = calloc(1, sizeof *s);
    if (!s)
        return PKS_ERR_NOMEM;
    s->pol = policy_new();
    if (!s->pol) {
        free(s);
        return PKS_ERR_NOMEM;
    }
    pks_limits lim = PKS_LIMITS_DEFAULT;
    s->lim = lim;
    char err[256];
    s->rules = rules_compile(true, NULL, err, sizeof err);
    if (!s->rules) {
        pks_scanner_free(s);
        return PKS_ERR_NOMEM; /* the shipped rules always compile (tested) */
    }
    *out = s;
    return PKS_OK;
}

/* Every limit, by the name the CLI and the API use. */
static const struct {
    const char *name;
    size_t off;
    int width; /* 8: uint64_t or size_t, 4: int */
    const char *doc;
} limit_table[] = {
    {"opcodes", offsetof(pks_limits, max_opcodes), 8, "opcodes executed per file"},
    {"stack", offsetof(pks_limits, max_stack), 8, "values on the VM stack"},
    {"marks", offsetof(pks_limits, max_marks), 8, "open MARKs"},
    {"memo", offsetof(pks_limits, max_memo), 8, "memo entries"},
    {"heap", offsetof(pks_limits, max_heap), 8, "bytes of tracked contents per stream"},
    {"items", offsetof(pks_limits, max_items), 8, "items tracked per container"},
    {"events", offsetof(pks_limits, max_events), 8, "globals and calls listed per pickle"},
    {"findings", offsetof(pks_limits, max_findings), 8, "findings listed per file"},
    {"pickles", offsetof(pks_limits, max_pickles), 8, "pickle streams per file"},
    {"nesting", offsetof(pks_limits, max_nesting), 4, "pickles nested in pickles"},
    {"decoded", offsetof(pks_limits, max_decoded), 8, "bytes of decoded constants"},
    {"line", offsetof(pks_limits, max_line), 8, "bytes of a text-line argument"},
    {"decompressed", offsetof(pks_limits, max_decompressed), 8, "bytes decompressed per file"},
    {"members", offsetof(pks_limits, max_members), 8, "members read per archive"},
    {"containers", offsetof(pks_limits, max_containers), 4, "containers nested in containers"},
    {"time_ms", offsetof(pks_limits, max_ms), 8, "wall-clock milliseconds per file (0: none)"},
};

pks_err pks_scanner_set_limit(pks_scanner *s, const char *name, uint64_t value)
{
    for (size_t i = 0; i < sizeof limit_table / sizeof limit_table[0]; i++) {
        if (strcmp(name, limit_table[i].name) != 0)
            continue;
        char *field = (char *)&s->lim + limit_table[i].off;
        if (limit_table[i].width == 4) {
            if (value > 1000000)
                return PKS_ERR_USAGE;
            int v = (int)value;
            memcpy(field, &v, sizeof v);
        } else {
            if (value == 0 && strcmp(name, "time_ms") != 0)
                return PKS_ERR_USAGE; /* a zero limit would refuse everything */
            memcpy(field, &value, sizeof value);
        }
        return PKS_OK;
    }
    return PKS_ERR_USAGE;
}

void pks_limits_describe(FILE *out)
{
    pks_limits d = PKS_LIMITS_DEFAULT;
    for (size_t i = 0; i < sizeof limit_table / sizeof limit_table[0]; i++) {
        const char *field = (const char *)&d + limit_table[i].off;
        unsigned long long v;
        if (limit_table[i].width == 4) {
            int x;
            memcpy(&x, field, sizeof x);
            v = (unsigned long long)x;
        } else {
            uint64_t x;
            memcpy(&x, field, sizeof x);
            v = x;
        }
        fprintf(out, "  %-13s %-14llu %s\n", limit_table[i].name, v, limit_table[i].doc);
    }
}

pks_err pks_scanner_set_rules(pks_scanner *s, const char *extra_dir, int use_defaults, char *err,
                              size_t errlen)
{
    rules *r = rules_compile(use_defaults != 0, extra_dir, err, errlen);
    if (!r)
        return PKS_ERR_USAGE;
    rules_free(s->rules);
    s->rules = r;
    return PKS_OK;
}

pks_err pks_scanner_allow(pks_scanner *s, const char *name)
{
    char buf[1024];
    const char *sp = strchr(name, ' ');
    const char *dot = strrchr(name, '.');
    if (strlen(name) >= sizeof buf - 16 || (!sp && !dot))
        return PKS_ERR_USAGE;
    if (sp)
        snprintf(buf, sizeof buf, "%s class\n", name);
    else
        snprintf(buf, sizeof buf, "%.*s %s class\n", (int)(dot - name), name, dot + 1);
    return policy_add_allow(s->pol, buf) ? PKS_ERR_USAGE : PKS_OK;
}

pks_err pks_scanner_add_policy_file(pks_scanner *s, const char *path, size_t *line)
{
    size_t len;
    FILE *f = fopen(path, "rb");
    if (!f)
        return PKS_ERR_IO;
    char *text = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && n < (16L << 20) && fseek(f, 0, SEEK_SET) == 0) {
            text = malloc((size_t)n + 1);
            len = text ? fread(text, 1, (size_t)n, f) : 0;
            if (text)
                text[len] = '\0';
        }
    }
    fclose(f);
    if (!text)
        return PKS_ERR_IO;
    size_t bad = policy_add_allow(s->pol, text);
    free(text);
    if (line)
        *line = bad;
    return bad ? PKS_ERR_USAGE : PKS_OK;
}

void pks_scanner_free(pks_scanner *s)
{
    if (!s)
        return;
    policy_free(s->pol);
    rules_free(s->rules);
    free(s);
}

/* ---- results ----------------------------------------------------------------- */

static pks_result *result_new(const char *path)
{
    pks_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->path = strdup(path ? path : "-");
    r->format = "unknown";
    if (!r->path) {
        free(r);
        return NULL;
    }
    return r;
}

pks_err pks_result_new_error(const char *path, const char *reason, pks_result **out)
{
    pks_result *r = result_new(path);
    *out = r;
    if (!r)
        return PKS_ERR_NOMEM;
    r->verdict = PKS_VERDICT_ERROR;
    res_error(r, NULL, 0, -1, PKS_ERR_IO, reason);
    return PKS_OK;
}

void pks_result_free(pks_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->npickles; i++) {
        tr_pickle *p = &r->pickles[i];
        for (size_t k = 0; k < p->nglobals; k++) {
            free(p->globals[k].module);
            free(p->globals[k].name);
            free(p->globals[k].raw);
        }
        for (size_t k = 0; k < p->ncalls; k++) {
            free(p->calls[k].callable);
            free(p->calls[k].args);
        }
        free(p->globals);
        free(p->calls);
        free(p->member);
    }
    for (size_t i = 0; i < r->nfindings; i++)
        finding_clear(&r->findings[i]);
    for (size_t i = 0; i < r->nerrors; i++)
        error_clear(&r->errors[i]);
    free(r->pickles);
    free(r->findings);
    free(r->errors);
    free(r->path);
    free(r);
}

pks_verdict pks_result_verdict(const pks_result *r)
{
    return r->verdict;
}

int pks_result_score(const pks_result *r)
{
    return r->score;
}

const char *pks_result_path(const pks_result *r)
{
    return r->path;
}

/* ---- scanning ------------------------------------------------------------------ */

/* Forgets a failed attempt that was not a pickle: its tr_pickle and the
 * findings and errors it raised (those after nfindings and nerrors). */
static void drop_attempt_findings(pks_result *r, size_t nfindings, size_t nerrors);

static void drop_attempt(pks_result *r, size_t nfindings, size_t nerrors)
{
    tr_pickle *p = &r->pickles[r->npickles - 1];
    for (size_t k = 0; k < p->ncalls; k++) {
        free(p->calls[k].callable);
        free(p->calls[k].args);
    }
    for (size_t k = 0; k < p->nglobals; k++) {
        free(p->globals[k].module);
        free(p->globals[k].name);
        free(p->globals[k].raw);
    }
    free(p->member);
    free(p->globals);
    free(p->calls);
    r->npickles--;
    drop_attempt_findings(r, nfindings, nerrors);
}

static void drop_attempt_findings(pks_result *r, size_t nfindings, size_t nerrors)
{
    while (r->nfindings > nfindings)
        finding_clear(&r->findings[--r->nfindings]);
    while (r->nerrors > nerrors)
        error_clear(&r->errors[--r->nerrors]);
}

static void error_finding(const pks_scanner *s, pks_result *r, const char *member,
                          const vm_outcome *o, bool events)
{
    char msg[400];
    snprintf(msg, sizeof msg, "%s", o->err.message);
    res_error(r, member, o->err.offset, o->err.opcode, o->err.code, msg);
    if (o->err.code == PKS_ERR_NOMEM) {
        r->nomem = true; /* not a property of the file: the verdict is error */
        return;
    }
    if (o->err.code == PKS_ERR_LIMIT)
        return; /* the limit finding is already there */
    if (events)
        res_finding(r, s->lim.max_findings, "truncated_after_import", SEV_HIGH, 60, member,
                    o->err.offset, NULL, NULL,
                    "the stream breaks at offset %llu after imports or calls (the loader has run "
                    "them by then): %s",
                    (unsigned long long)o->err.offset, o->err.message);
    else
        res_finding(r, s->lim.max_findings, "parse_error", SEV_MEDIUM, 40, member, o->err.offset,
                    NULL, NULL, "the stream breaks at offset %llu: %s",
                    (unsigned long long)o->err.offset, o->err.message);
}

/* The next offset in data[from..len) where a pickle with a PROTO header
 * could start, or len. *budget counts down the candidates tried. */
static size_t next_proto(const uint8_t *data, size_t len, size_t from)
{
    while (from + 1 < len) {
        const uint8_t *p = memchr(data + from, 0x80, len - from - 1);
        if (!p)
            return len;
        size_t at = (size_t)(p - data);
        if (data[at + 1] >= 2 && data[at + 1] <= 5)
            return at;
        from = at + 1;
    }
    return len;
}

#define JUNK_CANDIDATES 4096 /* PROTO markers tried inside junk, per input */

/* Scans every stream in data[0..len), one after another. Bytes after a
 * pickle that are not one are junk (a finding); pickles with a PROTO header
 * found inside junk are scanned too. Returns false when the data does not
 * start with anything pickle-like (no PROTO header, no import or call, an
 * error the loader would raise too): the caller decides what that means. */
bool scan_pickles(const pks_scanner *s, pks_result *r, const pks_input *in, const uint8_t *data,
                  size_t len, const char *member, int depth, size_t data_after, bool strict)
{
    size_t off = 0, n = 0, candidates = 0, junk_start = 0;
    size_t start_findings = r->nfindings, start_errors = r->nerrors, start_pickles = r->npickles;
    bool in_junk = false, any_events = false;
    while (off < len) {
        if (data_after && n == data_after) {
            /* The layout says raw data follows (torch's legacy format: five
             * pickles, then the storages); it is not pickle and not junk. */
            res_finding(r, s->lim.max_findings, "storage_data", SEV_INFO, 0, member, off, NULL,
                        NULL, "%zu bytes of tensor storage data after pickle %zu", len - off, n);
            return true;
        }
        if (n >= s->lim.max_pickles) {
            res_finding(r, s->lim.max_findings, "limit_reached", SEV_MEDIUM, 50, member, off, NULL,
                        NULL, "limit reached: pickle streams per file (%zu)", s->lim.max_pickles);
            break;
        }
        vm_outcome o;
        size_t nf = r->nfindings, ne = r->nerrors;
        vm_run(s, r, in, data, len, off, member, depth, &o);
        any_events |= o.events;
        bool pickle_like =
            o.complete || o.events || o.stop_scanning ||
            (strict && !in_junk && len - off >= 2 && data[off] == 0x80 && data[off + 1] <= 5);
        if (pickle_like && in_junk) {
            res_finding(r, s->lim.max_findings, "trailing_data", SEV_LOW, 20, member, junk_start,
                        NULL, NULL, "%zu bytes at offset %zu between pickles are not a pickle",
                        off - junk_start, junk_start);
            res_finding(r, s->lim.max_findings, "pickle_after_junk", SEV_MEDIUM, 40, member, off,
                        NULL, NULL, "a pickle starts at offset %zu, after bytes that are not one",
                        off);
            in_junk = false;
        }
        if (o.complete) {
            n++;
            off = o.end;
            continue;
        }
        if (pickle_like) {
            error_finding(s, r, member, &o, o.events);
            return true;
        }
        drop_attempt(r, nf, ne);
        if (n == 0 && off == 0)
            return false;
        if (!in_junk) {
            in_junk = true;
            junk_start = off;
        }
        if (++candidates > JUNK_CANDIDATES) {
            res_finding(r, s->lim.max_findings, "limit_reached", SEV_MEDIUM, 50, member, off, NULL,
                        NULL, "limit reached: %d places tried for a pickle inside junk",
                        JUNK_CANDIDATES);
            break;
        }
        off = next_proto(data, len, off + 1);
    }
    if (in_junk && !strict && !any_events) {
        /* In a container member, a tiny complete "pickle" followed by junk
         * is a chance reading of other data (tensor bytes "N." ...). */
        while (r->npickles > start_pickles)
            drop_attempt(r, r->nfindings, r->nerrors);
        drop_attempt_findings(r, start_findings, start_errors);
        return false;
    }
    if (in_junk)
        res_finding(r, s->lim.max_findings, "trailing_data", SEV_LOW, 20, member, junk_start, NULL,
                    NULL, "%zu bytes after the pickle that ends at offset %zu are not a pickle",
                    len - junk_start, junk_start);
    return true;
}

void scan_nested(const pks_scanner *s, pks_result *r, const uint8_t *data, size_t len,
                 const char *member, int depth, bool torch_legacy)
{
    if (!scan_pickles(s, r, NULL, data, len, member, depth, torch_legacy ? 5 : 0, true) || len == 0)
        res_finding(r, s->lim.max_findings, "nested_not_pickle", SEV_MEDIUM, 40, member, 0, NULL,
                    NULL, "the nested data (%zu bytes) is not a pickle the loader would accept",
                    len);
}

/* A mapped file that shrinks while it is read raises SIGBUS: the scan of
 * that file ends with an error instead of the process. */
static _Thread_local sigjmp_buf *bus_jmp;
static struct sigaction bus_prev;

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
    (void)si;
    (void)ctx;
    if (bus_jmp)
        siglongjmp(*bus_jmp, 1);
    sigaction(SIGBUS, &bus_prev, NULL); /* not ours: the previous handler decides */
    raise(sig);
}

/* Installs the SIGBUS handler for the length of one scan; the caller's
 * handler is restored afterwards (and called for faults that are not ours). */
static void guard_sigbus(struct sigaction *saved)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, saved);
    bus_prev = *saved;
}

static void scan_guarded(const pks_scanner *s, pks_result *r, const pks_input *in, int with_sha256);

pks_err pks_scan_input(const pks_scanner *s, const pks_input *in, const char *path, int with_sha256,
                       pks_result **out)
{
    pks_result *r = result_new(path);
    *out = r;
    if (!r)
        return PKS_ERR_NOMEM;
    if (s->lim.max_ms)
        r->deadline_ns = now_ns() + s->lim.max_ms * 1000000u;
    if (s->jailed) {
        scan_guarded(s, r, in, with_sha256);
        return PKS_OK;
    }
    sigjmp_buf jb;
    struct sigaction saved;
    guard_sigbus(&saved);
    if (sigsetjmp(jb, 1)) {
        bus_jmp = NULL;
        sigaction(SIGBUS, &saved, NULL);
        res_error(r, NULL, 0, -1, PKS_ERR_IO,
                  "the file shrank while it was being scanned (SIGBUS); what was read is kept");
        if (r->nfindings == 0)
            r->verdict = PKS_VERDICT_ERROR;
        else
            res_decide(r);
        return PKS_OK;
    }
    bus_jmp = &jb;
    scan_guarded(s, r, in, with_sha256);
    bus_jmp = NULL;
    sigaction(SIGBUS, &saved, NULL);
    return PKS_OK;
}

static void scan_guarded(const pks_scanner *s, pks_result *r, const pks_input *in, int with_sha256)
{
    const uint8_t *data = pks_input_data(in);
    size_t len = pks_input_size(in);
    r->size = len;
    if (with_sha256) {
        /* In 8 MiB steps, releasing the pages read, so hashing a large file
         * does not grow the resident set. */
        sha256_ctx c;
        sha256_init(&c);
        for (size_t off = 0; off < len; off += 8u << 20) {
            size_t n = len - off < (8u << 20) ? len - off : 8u << 20;
            sha256_update(&c, data + off, n);
            input_release(in, off, n);
        }
        sha256_final(&c, r->sha256);
        r->has_sha256 = true;
    }
    if (len == 0) {
        r->verdict = PKS_VERDICT_SKIPPED;
        r->format = "empty";
        return;
    }
    if (!ct_scan(s, r, in, data, len, NULL, 0) && r->nfindings == 0) {
        r->verdict = PKS_VERDICT_SKIPPED;
        if (!strcmp(r->format, "pickle"))
            r->format = "unknown";
    }
    res_decide(r);
}
