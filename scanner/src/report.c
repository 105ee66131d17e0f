/* Report writers for one file's result: the clamscan-style text line (and
 * findings, when verbose) and the JSON file object of DESIGN.md, built with
 * cJSON. The whole-run wrappers (the "files" array, the summary) are the
 * CLI's. Field names are stable: add, never rename. */
#include "pklscan.h"

#include "opcodes.h"
#include "result.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const char *class_name(pol_class c)
{
    switch (c) {
    case POL_ALLOWED: return "allowed";
    case POL_UNKNOWN: return "unknown";
    case POL_FLAGGED: return "flagged";
    case POL_DANGEROUS: return "dangerous";
    }
    return "?";
}

/* The finding that explains the verdict: the most severe, then the first. */
static const tr_finding *top_finding(const pks_result *r)
{
    const tr_finding *best = NULL;
    for (size_t i = 0; i < r->nfindings; i++)
        if (!best || r->findings[i].severity > best->severity)
            best = &r->findings[i];
    return best;
}

pks_err pks_result_write_text(const pks_result *r, FILE *out, int verbose)
{
    const tr_finding *top = top_finding(r);
    switch (r->verdict) {
    case PKS_VERDICT_CLEAN: fprintf(out, "%s: OK\n", r->path); break;
    case PKS_VERDICT_SKIPPED:
        fprintf(out, "%s: SKIPPED (%s)\n", r->path,
                r->nerrors ? r->errors[0].message : "nothing pickle-like in it");
        break;
    case PKS_VERDICT_ERROR:
        fprintf(out, "%s: ERROR (%s)\n", r->path,
                r->nerrors ? r->errors[0].message
                : r->nomem ? "out of memory while scanning: the report may be incomplete"
                           : "unknown");
        break;
    case PKS_VERDICT_SUSPICIOUS:
    case PKS_VERDICT_MALICIOUS:
        fprintf(out, "%s: %s (%s: %s", r->path,
                r->verdict == PKS_VERDICT_MALICIOUS ? "MALICIOUS" : "SUSPICIOUS",
                top ? top->rule : "error",
                top ? top->message : r->nerrors ? r->errors[0].message : "no details");
        if (r->nfindings > 1)
            fprintf(out, "; +%zu more", r->nfindings - 1);
        fputs(")\n", out);
        break;
    }
    if (verbose) {
        for (size_t i = 0; i < r->nfindings; i++) {
            const tr_finding *f = &r->findings[i];
            fprintf(out, "  %-8s %-22s offset %-8zu %s%s%s", sev_name(f->severity), f->rule,
                    f->offset, f->member ? f->member : "", f->member ? ": " : "", f->message);
            if (f->count)
                fprintf(out, " (+%u more)", f->count);
            fputc('\n', out);
        }
        for (size_t i = 0; i < r->nerrors; i++)
            fprintf(out, "  error    offset %-8zu %s\n", r->errors[i].offset, r->errors[i].message);
    }
    return ferror(out) ? PKS_ERR_IO : PKS_OK;
}

pks_err pks_result_write_explain(const pks_result *r, FILE *out)
{
    for (size_t i = 0; i < r->npickles; i++) {
        const tr_pickle *p = &r->pickles[i];
        for (size_t k = 0; k < p->nglobals; k++) {
            const tr_global *g = &p->globals[k];
            fprintf(out, "  %s%s%-9s %s.%s @%zu: %s%s%s\n", p->member ? p->member : "",
                    p->member ? ": " : "", class_name(g->cls), g->module, g->name, g->offset,
                    g->why ? g->why : "", g->category ? " -> " : "",
                    g->category ? g->category : "");
        }
    }
    return ferror(out) ? PKS_ERR_IO : PKS_OK;
}

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *pickle_json(const tr_pickle *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "member", str_or_null(p->member));
    cJSON_AddNumberToObject(o, "offset", (double)p->offset);
    if (p->protocol >= 0)
        cJSON_AddNumberToObject(o, "protocol", p->protocol);
    else
        cJSON_AddNullToObject(o, "protocol");
    cJSON_AddNumberToObject(o, "opcodes", (double)p->opcodes);
    cJSON_AddBoolToObject(o, "complete", p->complete);
    cJSON *gl = cJSON_AddArrayToObject(o, "globals");
    for (size_t i = 0; i < p->nglobals; i++) {
        const tr_global *g = &p->globals[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "module", g->module);
        cJSON_AddStringToObject(e, "name", g->name);
        cJSON_AddItemToObject(e, "raw", str_or_null(g->raw));
        cJSON_AddStringToObject(e, "class", class_name(g->cls));
        cJSON_AddItemToObject(e, "why", str_or_null(g->why));
        cJSON_AddNumberToObject(e, "offset", (double)g->offset);
        cJSON_AddStringToObject(e, "opcode", op_lookup(g->opcode)->name);
        cJSON_AddItemToArray(gl, e);
    }
    cJSON *cl = cJSON_AddArrayToObject(o, "calls");
    for (size_t i = 0; i < p->ncalls; i++) {
        const tr_call *c = &p->calls[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToObject(e, "callable", str_or_null(c->callable));
        cJSON_AddStringToObject(e, "opcode", op_lookup(c->opcode)->name);
        cJSON_AddNumberToObject(e, "offset", (double)c->offset);
        cJSON_AddItemToObject(e, "args", str_or_null(c->args));
        cJSON_AddItemToArray(cl, e);
    }
    if (p->globals_dropped || p->calls_dropped) {
        cJSON_AddNumberToObject(o, "globals_not_listed", (double)p->globals_dropped);
        cJSON_AddNumberToObject(o, "calls_not_listed", (double)p->calls_dropped);
    }
    return o;
}

pks_err pks_result_write_json(const pks_result *r, FILE *out, int compact)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return PKS_ERR_NOMEM;
    cJSON_AddStringToObject(o, "path", r->path);
    cJSON_AddNumberToObject(o, "size", (double)r->size);
    cJSON_AddItemToObject(o, "sha256",
                          r->has_sha256 ? cJSON_CreateString(r->sha256) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "format", r->format);
    cJSON_AddStringToObject(o, "verdict", pks_verdict_name(r->verdict));
    cJSON_AddNumberToObject(o, "score", r->score);
    cJSON *pk = cJSON_AddArrayToObject(o, "pickles");
    for (size_t i = 0; i < r->npickles; i++)
        cJSON_AddItemToArray(pk, pickle_json(&r->pickles[i]));
    cJSON *fs = cJSON_AddArrayToObject(o, "findings");
    for (size_t i = 0; i < r->nfindings; i++) {
        const tr_finding *f = &r->findings[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "rule", f->rule);
        cJSON_AddStringToObject(e, "severity", sev_name(f->severity));
        cJSON_AddNumberToObject(e, "score", f->score);
        cJSON_AddItemToObject(e, "message", str_or_null(f->message));
        cJSON_AddItemToObject(e, "member", str_or_null(f->member));
        cJSON_AddNumberToObject(e, "offset", (double)f->offset);
        cJSON_AddItemToObject(e, "module", str_or_null(f->module));
        cJSON_AddItemToObject(e, "name", str_or_null(f->name));
        cJSON_AddNumberToObject(e, "count", f->count + 1);
        cJSON_AddItemToArray(fs, e);
    }
    if (r->findings_dropped)
        cJSON_AddNumberToObject(o, "findings_not_listed", (double)r->findings_dropped);
    if (r->nomem)
        cJSON_AddBoolToObject(o, "out_of_memory", 1);
    cJSON *es = cJSON_AddArrayToObject(o, "errors");
    for (size_t i = 0; i < r->nerrors; i++) {
        const tr_error *e = &r->errors[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddItemToObject(j, "message", str_or_null(e->message));
        cJSON_AddStringToObject(j, "code", pks_strerror(e->code));
        cJSON_AddItemToObject(j, "member", str_or_null(e->member));
        cJSON_AddNumberToObject(j, "offset", (double)e->offset);
        const op_info *oi = e->opcode >= 0 ? op_lookup((uint8_t)e->opcode) : NULL;
        cJSON_AddItemToObject(j, "opcode", str_or_null(oi ? oi->name : NULL));
        cJSON_AddItemToArray(es, j);
    }
    char *text = compact ? cJSON_PrintUnformatted(o) : cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return PKS_ERR_NOMEM;
    fputs(text, out);
    cJSON_free(text);
    return ferror(out) ? PKS_ERR_IO : PKS_OK;
}
