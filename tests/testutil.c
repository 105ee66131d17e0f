/* Shared test helpers; see testutil.h. */
#include "testutil.h"

#include "bigint.h"
#include "repr.h"
#include "result.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static char *hex_prefixed(const char *prefix, const uint8_t *p, size_t n, const uint8_t *p2,
                          size_t n2)
{
    size_t total = strlen(prefix) + 2 * (n + (p2 ? 1 + n2 : 0)) + 1;
    char *s = malloc(total), *o = s;
    o += sprintf(o, "%s", prefix);
    for (size_t i = 0; i < n; i++)
        o += sprintf(o, "%02x", p[i]);
    if (p2) {
        o += sprintf(o, "20");
        for (size_t i = 0; i < n2; i++)
            o += sprintf(o, "%02x", p2[i]);
    }
    return s;
}

char *tu_canon(const dec_value *v)
{
    char buf[64];
    switch (v->kind) {
    case DV_NONE: return strdup("-");
    case DV_BOOL: return strdup(v->i ? "b:True" : "b:False");
    case DV_INT: snprintf(buf, sizeof buf, "i:%lld", (long long)v->i); return strdup(buf);
    case DV_BIGINT: {
        size_t cap = bi_decimal_cap(v->n) + 2;
        char *s = malloc(cap + 2);
        strcpy(s, "i:");
        if (!bi_to_decimal(v->p, v->n, s + 2, cap))
            strcpy(s, "i:?");
        return s;
    }
    case DV_FLOAT: {
        char f[40];
        repr_float(v->f, f);
        snprintf(buf, sizeof buf, "f:%s", f);
        return strdup(buf);
    }
    case DV_BYTES: return hex_prefixed("y:", v->p, v->n, NULL, 0);
    case DV_STR: return hex_prefixed("s:", v->p, v->n, NULL, 0);
    case DV_PAIR: return hex_prefixed("s:", v->p, v->n, v->p2, v->n2);
    }
    return strdup("?");
}

pks_err tu_decode_all(const uint8_t *data, size_t len, pks_error_info *err, size_t *nops,
                      unsigned *anomalies)
{
    dec d;
    dec_init(&d, data, len, 0);
    size_t count = 0;
    unsigned an = 0;
    pks_err e;
    for (;;) {
        dec_op op;
        e = dec_next(&d, &op);
        if (e) {
            if (err)
                *err = d.err;
            break;
        }
        count++;
        an |= op.anomalies;
        if (op.info->byte == OP_STOP) {
            if (d.rd.off >= len)
                break;
            dec_restart(&d);
        }
    }
    dec_free(&d);
    if (nops)
        *nops = count;
    if (anomalies)
        *anomalies = an;
    return e;
}

uint8_t *tu_unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *b = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned x;
        sscanf(hex + 2 * i, "%2x", &x);
        b[i] = (uint8_t)x;
    }
    *len = n;
    return b;
}

bool tu_reports_global(const struct pks_result *r, const char *dotted)
{
    char buf[1024];
    for (size_t i = 0; i < r->npickles; i++)
        for (size_t k = 0; k < r->pickles[i].nglobals; k++) {
            snprintf(buf, sizeof buf, "%s.%s", r->pickles[i].globals[k].module,
                     r->pickles[i].globals[k].name);
            if (strcmp(buf, dotted) == 0)
                return true;
        }
    return false;
}
