/* The restricted loader: executes one pickle the way CPython's C unpickler
 * does, but with concrete values of a closed set of types and with every
 * global checked against the allowlist, then writes the object graph in the
 * typed JSON encoding of docs/LOADER.md. Nothing is imported or called:
 * an allowlisted callable applied to arguments becomes a record of the call
 * ({"$reduce": name, "args": ...}), a class instantiated becomes
 * {"$class": name, ...}, a few builtins that picklers emit for plain values
 * (set, frozenset, bytearray, complex, _codecs.encode) are evaluated, and
 * torch storages arrive as descriptions through their persistent ids. */
#include "loader.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigint.h"
#include "decode.h"
#include "sha256.h"

typedef enum lk {
    LV_NONE,
    LV_BOOL,
    LV_INT,
    LV_BIGINT,
    LV_FLOAT,
    LV_COMPLEX,
    LV_STR,
    LV_BYTES,
    LV_BYTEARRAY,
    LV_LIST,
    LV_TUPLE,
    LV_DICT,
    LV_SET,
    LV_FROZENSET,
    LV_GLOBAL,
    LV_OBJECT,
    LV_STORAGE
} lk;

typedef struct lv lv;
struct lv {
    lk k;
    bool owned;     /* p is a copy we free */
    bool is_new;    /* object made by NEWOBJ/NEWOBJ_EX/OBJ/INST: "$class", else "$reduce" */
    uint8_t hstate; /* tuples and frozensets: 0 not known yet, 1 hashable, 2 not */
    bool hashed;    /* hval holds the hash (tuples and frozensets are immutable) */
    uint64_t hval;
    uint32_t refs;    /* references from the graph, counted before emission */
    uint32_t id;      /* emission id, 0 before first emission */
    int64_t i;        /* BOOL, INT; STORAGE: numel */
    double f, f2;     /* FLOAT; COMPLEX real and imaginary */
    const uint8_t *p; /* STR (UTF-8), BYTES, BYTEARRAY, BIGINT (two's complement LE) */
    size_t n;
    lv **a; /* LIST/TUPLE/SET/FROZENSET items; DICT keys and values interleaved */
    size_t na, cap;
    uint32_t *hidx; /* DICT/SET: open-addressing index into a (entry number + 1) */
    size_t hcap;
    char *name;     /* GLOBAL, OBJECT: "module.qualname"; STORAGE: its type */
    pol_kind pkind; /* GLOBAL */
    lv *args, *kwargs, *state, *items, *list; /* OBJECT; STORAGE: args = key, kwargs = location */
};

typedef struct ld {
    const ldr_opts *o;
    const uint8_t *data;
    size_t len;
    bool torch;
    int proto;
    lv **all; /* every value, for freeing */
    size_t nall, capall;
    lv **stack;
    size_t nstack, capstack;
    size_t *marks;
    size_t nmarks, capmarks;
    uint64_t *mkeys; /* memo: open addressing, key+1 (0 = empty) */
    lv **mvals;
    size_t mcap, mcount;
    uint32_t next_id;
    pks_error_info *err;
    size_t cur_off;
    int cur_op;
    bool failed;
    lv *none, *bools[2]; /* None, False, True: one value each, as in Python */
} ld;

static __attribute__((format(printf, 2, 3))) pks_err refuse(ld *L, const char *fmt, ...);
static pks_err refuse(ld *L, const char *fmt, ...)
{
    if (!L->failed) {
        L->failed = true;
        L->err->code = PKS_ERR_REFUSED;
        L->err->offset = L->cur_off;
        L->err->opcode = L->cur_op;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(L->err->message, sizeof L->err->message, fmt, ap);
        va_end(ap);
    }
    return L->err->code;
}

static pks_err fail_code(ld *L, pks_err code, const char *msg)
{
    if (!L->failed) {
        refuse(L, "%s", msg);
        L->err->code = code;
    }
    return L->err->code;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elem)
            return false;
        nc *= 2;
    }
    void *q = realloc(*p, nc * elem);
    if (!q)
        return false;
    *p = q;
    *cap = nc;
    return true;
}

static lv *mk(ld *L, lk k)
{
    if (L->nall >= L->o->max_values) {
        fail_code(L, PKS_ERR_LIMIT, "value limit reached");
        return NULL;
    }
    if (!grow((void **)&L->all, &L->capall, L->nall + 1, sizeof *L->all)) {
        fail_code(L, PKS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    lv *v = calloc(1, sizeof *v);
    if (!v) {
        fail_code(L, PKS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    v->k = k;
    L->all[L->nall++] = v;
    return v;
}

static void lv_free(lv *v)
{
    if (v->owned)
        free((void *)(uintptr_t)v->p);
    free(v->a);
    free(v->hidx);
    free(v->name);
    free(v);
}

/* Bytes that live in the input are referenced; decoder scratch is copied. */
static bool set_bytes(ld *L, lv *v, const uint8_t *p, size_t n)
{
    if (p >= L->data && n <= L->len && p <= L->data + L->len - n) {
        v->p = p;
        v->n = n;
        return true;
    }
    uint8_t *c = malloc(n ? n : 1);
    if (!c) {
        fail_code(L, PKS_ERR_NOMEM, "out of memory");
        return false;
    }
    if (n)
        memcpy(c, p, n);
    v->p = c;
    v->n = n;
    v->owned = true;
    return true;
}

static bool push_item(ld *L, lv *c, lv *x)
{
    if (!grow((void **)&c->a, &c->cap, c->na + 1, sizeof *c->a)) {
        fail_code(L, PKS_ERR_NOMEM, "out of memory");
        return false;
    }
    c->a[c->na++] = x;
    return true;
}

/* ---- Hashing and equality, as far as dict keys and set members need ----- */

/* Keys nest at most this deep; deeper ones are refused (Python would
 * recurse as deep, in C, while hashing them). */
#define KEY_DEPTH 200
/* Element comparisons allowed for one dict or set insertion: equal keys
 * built as DAGs of shared tuples would otherwise cost 2^depth. */
#define KEY_WORK 1000000

static bool hashable(lv *v, unsigned depth)
{
    switch (v->k) {
    case LV_LIST:
    case LV_DICT:
    case LV_SET:
    case LV_BYTEARRAY: return false;
    case LV_TUPLE:
    case LV_FROZENSET:
        if (v->hstate)
            return v->hstate == 1;
        if (depth > KEY_DEPTH)
            return false;
        v->hstate = 1;
        for (size_t i = 0; i < v->na; i++)
            if (!hashable(v->a[i], depth + 1)) {
                v->hstate = 2;
                break;
            }
        return v->hstate == 1;
    case LV_NONE:
    case LV_BOOL:
    case LV_INT:
    case LV_BIGINT:
    case LV_FLOAT:
    case LV_COMPLEX:
    case LV_STR:
    case LV_BYTES:
    case LV_GLOBAL:
    case LV_OBJECT:
    case LV_STORAGE: return true;
    }
    return false;
}

/* A number as an int64 when it is an integral value in range. */
static bool as_int(const lv *v, int64_t *out)
{
    if (v->k == LV_BOOL || v->k == LV_INT) {
        *out = v->i;
        return true;
    }
    if (v->k == LV_FLOAT && v->f == floor(v->f) && v->f >= -9.2e18 && v->f <= 9.2e18) {
        *out = (int64_t)v->f;
        return true;
    }
    if (v->k == LV_COMPLEX && v->f2 == 0.0 && v->f == floor(v->f) && fabs(v->f) <= 9.2e18) {
        *out = (int64_t)v->f;
        return true;
    }
    return false;
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static uint64_t lv_hash(lv *v)
{
    int64_t x;
    if (v->hashed)
        return v->hval;
    if (as_int(v, &x))
        return mix((uint64_t)x);
    switch (v->k) {
    case LV_NONE: return 0x9e3779b97f4a7c15ULL;
    case LV_FLOAT: {
        uint64_t b;
        memcpy(&b, &v->f, sizeof b);
        return mix(b);
    }
    case LV_COMPLEX: {
        uint64_t b, c;
        memcpy(&b, &v->f, sizeof b);
        memcpy(&c, &v->f2, sizeof c);
        return mix(b ^ mix(c));
    }
    case LV_BIGINT: return hash_bytes(v->p, v->n, 1);
    case LV_STR: return hash_bytes(v->p, v->n, 2);
    case LV_BYTES: return hash_bytes(v->p, v->n, 3);
    case LV_GLOBAL: return hash_bytes((const uint8_t *)v->name, strlen(v->name), 4);
    case LV_TUPLE: {
        uint64_t h = 5;
        for (size_t i = 0; i < v->na; i++)
            h = mix(h ^ lv_hash(v->a[i])) + i;
        v->hashed = true;
        return v->hval = h;
    }
    case LV_FROZENSET: {
        uint64_t h = 6;
        for (size_t i = 0; i < v->na; i++)
            h += lv_hash(v->a[i]);
        v->hashed = true;
        return v->hval = mix(h);
    }
    case LV_BOOL:
    case LV_INT:
    case LV_BYTEARRAY:
    case LV_LIST:
    case LV_DICT:
    case LV_SET:
    case LV_OBJECT:
    case LV_STORAGE: break;
    }
    return mix((uint64_t)(uintptr_t)v);
}

static size_t find_key_at(const lv *c, lv *key, size_t *work, unsigned depth);

/* Python's ==, as dict lookup applies it; *work counts element comparisons
 * down to 0, after which everything is unequal (the caller refuses), and
 * recursion deeper than 10000 spends all of it. */
static bool lv_eq(lv *a, lv *b, size_t *work, unsigned depth)
{
    if (*work == 0 || depth > 10000) {
        *work = 0;
        return false;
    }
    --*work;
    if (a == b)
        return true; /* identity first, as Python's dict does (a NaN finds itself) */
    int64_t x = 0, y = 0;
    bool ia = as_int(a, &x), ib = as_int(b, &y);
    if (ia || ib)
        return ia && ib && x == y;
    if ((a->k == LV_FLOAT || a->k == LV_COMPLEX) && (b->k == LV_FLOAT || b->k == LV_COMPLEX)) {
        double a2 = a->k == LV_COMPLEX ? a->f2 : 0.0, b2 = b->k == LV_COMPLEX ? b->f2 : 0.0;
        return a->f == b->f && a2 == b2;
    }
    if (a->k != b->k)
        return false;
    switch (a->k) {
    case LV_NONE: return true;
    case LV_BIGINT:
    case LV_STR:
    case LV_BYTES: return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
    case LV_GLOBAL: return strcmp(a->name, b->name) == 0;
    case LV_TUPLE:
        if (a->na != b->na || lv_hash(a) != lv_hash(b))
            return false;
        for (size_t i = 0; i < a->na; i++)
            if (!lv_eq(a->a[i], b->a[i], work, depth + 1))
                return false;
        return true;
    case LV_FROZENSET:
        if (a->na != b->na || lv_hash(a) != lv_hash(b))
            return false;
        for (size_t i = 0; i < a->na; i++)
            if (find_key_at(b, a->a[i], work, depth + 1) == SIZE_MAX)
                return false;
        return true;
    case LV_BOOL:
    case LV_INT:
    case LV_FLOAT:
    case LV_COMPLEX:
    case LV_BYTEARRAY:
    case LV_LIST:
    case LV_DICT:
    case LV_SET:
    case LV_OBJECT:
    case LV_STORAGE: break;
    }
    return false;
}

/* Dicts keep keys at a[2i], values at a[2i+1]; sets keep members at a[i]. */
static size_t entry_width(const lv *c)
{
    return c->k == LV_DICT ? 2 : 1;
}

static size_t entry_count(const lv *c)
{
    return c->na / entry_width(c);
}

/* Index of key in c, or SIZE_MAX. */
static size_t find_key_at(const lv *c, lv *key, size_t *work, unsigned depth)
{
    size_t w = entry_width(c), n = entry_count(c);
    if (!c->hidx) {
        for (size_t i = 0; i < n; i++)
            if (lv_eq(c->a[i * w], key, work, depth))
                return i;
        return SIZE_MAX;
    }
    size_t mask = c->hcap - 1;
    for (size_t j = lv_hash(key) & mask;; j = (j + 1) & mask) {
        uint32_t e = c->hidx[j];
        if (e == 0)
            return SIZE_MAX;
        if (lv_eq(c->a[(e - 1) * w], key, work, depth))
            return e - 1;
    }
}

static bool reindex(ld *L, lv *c, size_t want)
{
    size_t cap = 16;
    while (cap < want * 2)
        cap *= 2;
    uint32_t *h = calloc(cap, sizeof *h);
    if (!h)
        return fail_code(L, PKS_ERR_NOMEM, "out of memory"), false;
    size_t w = entry_width(c), n = entry_count(c);
    for (size_t i = 0; i < n; i++) {
        size_t j = lv_hash(c->a[i * w]) & (cap - 1);
        while (h[j])
            j = (j + 1) & (cap - 1);
        h[j] = (uint32_t)(i + 1);
    }
    free(c->hidx);
    c->hidx = h;
    c->hcap = cap;
    return true;
}

/* d[key] = val (val NULL: set add). Python keeps the first key object and
 * the position of the first insertion, and the last value. */
static bool put_key(ld *L, lv *c, lv *key, lv *val)
{
    if (!hashable(key, 0)) {
        refuse(L, "unhashable key or set member (%s)",
               key->k == LV_LIST   ? "list"
               : key->k == LV_DICT ? "dict"
               : key->k == LV_TUPLE || key->k == LV_FROZENSET
                   ? "a tuple or frozenset holding one, or nested deeper than 200"
                   : "set or bytearray");
        return false;
    }
    lv_hash(key); /* cached now, so that hashing a key that holds it stays shallow */
    size_t work = KEY_WORK;
    size_t at = find_key_at(c, key, &work, 0);
    if (work == 0) {
        refuse(L, "dict key or set member too costly to compare (shared nested tuples)");
        return false;
    }
    if (at != SIZE_MAX) {
        if (val)
            c->a[at * 2 + 1] = val;
        return true;
    }
    if (entry_count(c) >= UINT32_MAX - 1)
        return fail_code(L, PKS_ERR_LIMIT, "too many entries"), false;
    if (!push_item(L, c, key) || (val && !push_item(L, c, val)))
        return false;
    size_t n = entry_count(c);
    if (n > 8 && (!c->hidx || n * 2 > c->hcap))
        return reindex(L, c, n);
    if (c->hidx) {
        size_t j = lv_hash(key) & (c->hcap - 1);
        while (c->hidx[j])
            j = (j + 1) & (c->hcap - 1);
        c->hidx[j] = (uint32_t)n;
    }
    return true;
}

/* ---- Stack, marks, memo ------------------------------------------------ */

static bool push(ld *L, lv *v)
{
    if (!v)
        return false;
    if (!grow((void **)&L->stack, &L->capstack, L->nstack + 1, sizeof *L->stack))
        return fail_code(L, PKS_ERR_NOMEM, "out of memory"), false;
    L->stack[L->nstack++] = v;
    return true;
}

/* &L->stack[i], without arithmetic on a NULL stack (nothing pushed yet) */
static lv **stack_at(const ld *L, size_t i)
{
    return L->stack ? L->stack + i : NULL;
}

static size_t floor_of_stack(const ld *L)
{
    return L->nmarks ? L->marks[L->nmarks - 1] : 0;
}

static lv *pop(ld *L)
{
    if (L->nstack <= floor_of_stack(L)) {
        fail_code(L, PKS_ERR_STACK, "stack underflow");
        return NULL;
    }
    return L->stack[--L->nstack];
}

static lv *top(ld *L)
{
    if (L->nstack <= floor_of_stack(L)) {
        fail_code(L, PKS_ERR_STACK, "stack underflow");
        return NULL;
    }
    return L->stack[L->nstack - 1];
}

/* Pops to the last mark: *items gets the start of the items, *n their number. */
static bool pop_mark(ld *L, size_t *start, size_t *n)
{
    if (!L->nmarks)
        return fail_code(L, PKS_ERR_STACK, "no MARK on the mark stack"), false;
    *start = L->marks[--L->nmarks];
    *n = L->nstack - *start;
    return true;
}

static bool memo_put(ld *L, uint64_t key, lv *v)
{
    if (L->mcount * 2 + 2 > L->mcap) {
        size_t nc = L->mcap ? L->mcap * 2 : 64;
        uint64_t *nk = calloc(nc, sizeof *nk);
        lv **nv = calloc(nc, sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return fail_code(L, PKS_ERR_NOMEM, "out of memory"), false;
        }
        for (size_t i = 0; i < L->mcap; i++) {
            if (!L->mkeys[i])
                continue;
            size_t j = mix(L->mkeys[i]) & (nc - 1);
            while (nk[j])
                j = (j + 1) & (nc - 1);
            nk[j] = L->mkeys[i];
            nv[j] = L->mvals[i];
        }
        free(L->mkeys);
        free(L->mvals);
        L->mkeys = nk;
        L->mvals = nv;
        L->mcap = nc;
    }
    uint64_t k = key + 1;
    size_t j = mix(k) & (L->mcap - 1);
    while (L->mkeys[j] && L->mkeys[j] != k)
        j = (j + 1) & (L->mcap - 1);
    if (!L->mkeys[j])
        L->mcount++;
    L->mkeys[j] = k;
    L->mvals[j] = v;
    return true;
}

static lv *memo_get(ld *L, uint64_t key)
{
    if (L->mcap && key != UINT64_MAX) {
        uint64_t k = key + 1;
        for (size_t j = mix(k) & (L->mcap - 1); L->mkeys[j]; j = (j + 1) & (L->mcap - 1))
            if (L->mkeys[j] == k)
                return L->mvals[j];
    }
    char m[64];
    snprintf(m, sizeof m, "memo key %" PRIu64 " was never stored", key);
    fail_code(L, PKS_ERR_STACK, m);
    return NULL;
}

/* ---- Values from arguments --------------------------------------------- */

static lv *mk_from_arg(ld *L, const dec_value *a, lk k)
{
    lv *v = mk(L, k);
    if (!v)
        return NULL;
    switch (a->kind) {
    case DV_INT:
    case DV_BOOL:
        v->i = a->i;
        if (k == LV_FLOAT)
            v->f = (double)a->i;
        break;
    case DV_FLOAT: v->f = a->f; break;
    case DV_BIGINT:
        v->k = LV_BIGINT;
        if (!set_bytes(L, v, a->p, a->n))
            return NULL;
        break;
    case DV_BYTES:
    case DV_STR:
        if (!set_bytes(L, v, a->p, a->n))
            return NULL;
        break;
    case DV_NONE:
    case DV_PAIR: break;
    }
    return v;
}

static char *join_name(const char *m, const char *q)
{
    size_t n = strlen(m) + strlen(q) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s.%s", m, q);
    return s;
}

/* GLOBAL, STACK_GLOBAL, INST: the policy decides; anything not allowlisted
 * is refused with its name. */
static lv *find_class(ld *L, const uint8_t *m, size_t mn, const uint8_t *q, size_t qn)
{
    char *ms = strndup((const char *)m, mn), *qs = strndup((const char *)q, qn);
    if (!ms || !qs || memchr(m, 0, mn) || memchr(q, 0, qn)) {
        free(ms);
        free(qs);
        if (!ms || !qs)
            fail_code(L, PKS_ERR_NOMEM, "out of memory");
        else
            refuse(L, "global name contains a NUL byte");
        return NULL;
    }
    const char *cm = ms, *cq = qs;
    if (L->proto < 3)
        policy_map_py2(&cm, &cq);
    pol_verdict pv = policy_classify(L->o->pol, cm, cq);
    if (pv.cls != POL_ALLOWED) {
        refuse(L, "global '%s %s' is not allowlisted (%s)", cm, cq, pv.category);
        free(ms);
        free(qs);
        return NULL;
    }
    lv *v = mk(L, LV_GLOBAL);
    if (v) {
        v->name = join_name(cm, cq);
        v->pkind = pv.kind;
        if (!v->name) {
            fail_code(L, PKS_ERR_NOMEM, "out of memory");
            v = NULL;
        }
    }
    free(ms);
    free(qs);
    return v;
}

/* ---- Calls ---------------------------------------------------------------- */

static lv *tuple_of(ld *L, lv **items, size_t n)
{
    lv *t = mk(L, LV_TUPLE);
    if (!t)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!push_item(L, t, items[i]))
            return NULL;
    return t;
}

static bool is_str(const lv *v, const char *s)
{
    return v->k == LV_STR && v->n == strlen(s) && memcmp(v->p, s, v->n) == 0;
}

/* str -> bytes by latin-1, as _codecs.encode(s, 'latin1') and
 * bytearray(s, 'latin-1') do for protocol 0-2 bytes. */
static lv *latin1(ld *L, const lv *s, lk k)
{
    uint8_t *o = malloc(s->n ? s->n : 1);
    if (!o)
        return fail_code(L, PKS_ERR_NOMEM, "out of memory"), NULL;
    size_t n = 0;
    for (size_t i = 0; i < s->n;) {
        uint8_t c = s->p[i];
        if (c < 0x80) {
            o[n++] = c;
            i++;
        } else if ((c & 0xe0) == 0xc0 && i + 1 < s->n && c <= 0xc3) {
            o[n++] = (uint8_t)(((c & 0x1f) << 6) | (s->p[i + 1] & 0x3f));
            i += 2;
        } else {
            free(o);
            refuse(L, "latin-1 encoding of a character above U+00FF");
            return NULL;
        }
    }
    lv *v = mk(L, k);
    if (!v) {
        free(o);
        return NULL;
    }
    v->p = o;
    v->n = n;
    v->owned = true;
    return v;
}

/* The builtins picklers use for plain values; NULL with no failure when f
 * is not one of them. */
static lv *builtin_call(ld *L, const lv *f, const lv *args, bool *handled)
{
    *handled = true;
    const char *n = f->name;
    size_t na = args->na;
    lv **a = args->a;
    if (!strcmp(n, "builtins.set") || !strcmp(n, "builtins.frozenset")) {
        lv *s = mk(L, !strcmp(n, "builtins.set") ? LV_SET : LV_FROZENSET);
        if (!s || na > 1)
            return na > 1 ? (refuse(L, "%s takes at most 1 argument", n), NULL) : NULL;
        if (na == 1) {
            lv *it = a[0];
            size_t w = it->k == LV_DICT ? 2 : 1;
            if (it->k != LV_LIST && it->k != LV_TUPLE && it->k != LV_SET && it->k != LV_FROZENSET &&
                it->k != LV_DICT)
                return refuse(L, "%s of a value that is not a builtin iterable", n), NULL;
            for (size_t i = 0; i < it->na; i += w)
                if (!put_key(L, s, it->a[i], NULL))
                    return NULL;
        }
        return s;
    }
    if (!strcmp(n, "builtins.bytearray") || !strcmp(n, "_codecs.encode") ||
        !strcmp(n, "builtins.bytes")) {
        lk k = !strcmp(n, "builtins.bytearray") ? LV_BYTEARRAY : LV_BYTES;
        if (na == 0) {
            lv *v = mk(L, k);
            if (v)
                v->p = (const uint8_t *)"";
            return v;
        }
        if (na == 1 && (a[0]->k == LV_BYTES || a[0]->k == LV_BYTEARRAY)) {
            lv *v = mk(L, k);
            if (v && !set_bytes(L, v, a[0]->p, a[0]->n))
                return NULL;
            return v;
        }
        if (na == 2 && a[0]->k == LV_STR &&
            (is_str(a[1], "latin1") || is_str(a[1], "latin-1") || is_str(a[1], "latin_1")))
            return latin1(L, a[0], k);
        *handled = false;
        return NULL;
    }
    if (!strcmp(n, "builtins.complex")) {
        double re = 0, im = 0;
        for (size_t i = 0; i < na && i < 2; i++) {
            double *d = i ? &im : &re;
            if (a[i]->k == LV_FLOAT)
                *d = a[i]->f;
            else if (a[i]->k == LV_INT || a[i]->k == LV_BOOL)
                *d = (double)a[i]->i;
            else
                return refuse(L, "complex() of a value that is not a real number"), NULL;
        }
        if (na > 2)
            return refuse(L, "complex() takes at most 2 arguments"), NULL;
        lv *v = mk(L, LV_COMPLEX);
        if (v) {
            v->f = re;
            v->f2 = im;
        }
        return v;
    }
    *handled = false;
    return NULL;
}

/* REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST: f applied to args. */
static lv *call(ld *L, lv *f, lv *args, lv *kwargs, bool is_new)
{
    if (f->k != LV_GLOBAL)
        return refuse(L, "call of a value that is not an allowlisted global"), NULL;
    if (args->k != LV_TUPLE)
        return refuse(L, "call arguments are not a tuple"), NULL;
    if (f->pkind == POL_KIND_CONST)
        return refuse(L, "'%s' is allowlisted as a constant, not as something to call", f->name),
               NULL;
    if (!is_new && !kwargs) {
        bool handled;
        lv *v = builtin_call(L, f, args, &handled);
        if (handled || L->failed)
            return v;
    }
    lv *o = mk(L, LV_OBJECT);
    if (!o)
        return NULL;
    o->name = strdup(f->name);
    if (!o->name)
        return fail_code(L, PKS_ERR_NOMEM, "out of memory"), NULL;
    o->is_new = is_new;
    o->args = args;
    o->kwargs = kwargs;
    return o;
}

/* BUILD: builtin containers have no state to set. */
static bool build(ld *L, lv *obj, lv *state)
{
    if (obj->k != LV_OBJECT)
        return refuse(L, "BUILD on a builtin value"), false;
    if (!obj->state && state->k == LV_DICT && state->na == 0)
        return true; /* an empty __dict__ update: no state, as __reduce_ex__ reports it */
    if (obj->state && obj->state->k == LV_DICT && state->k == LV_DICT) {
        for (size_t i = 0; i + 1 < state->na; i += 2)
            if (!put_key(L, obj->state, state->a[i], state->a[i + 1]))
                return false;
        return true;
    }
    obj->state = state;
    return true;
}

/* SETITEM(S) on a dict, or on an allowlisted instance (OrderedDict and other
 * dict-likes): the pairs are recorded as its items. */
static bool setitems(ld *L, lv *target, lv **kv, size_t n)
{
    if (n % 2)
        return fail_code(L, PKS_ERR_STACK, "odd number of items for SETITEMS"), false;
    lv *d = target;
    if (target->k == LV_OBJECT) {
        if (!target->items && !(target->items = mk(L, LV_DICT)))
            return false;
        d = target->items;
    } else if (target->k != LV_DICT) {
        return refuse(L, "SETITEM on a value that is not a dict"), false;
    }
    for (size_t i = 0; i < n; i += 2)
        if (!put_key(L, d, kv[i], kv[i + 1]))
            return false;
    return true;
}

static bool appends(ld *L, lv *target, lv **items, size_t n)
{
    lv *l = target;
    if (target->k == LV_OBJECT) {
        if (!target->list && !(target->list = mk(L, LV_LIST)))
            return false;
        l = target->list;
    } else if (target->k != LV_LIST) {
        return refuse(L, "APPEND on a value that is not a list"), false;
    }
    for (size_t i = 0; i < n; i++)
        if (!push_item(L, l, items[i]))
            return false;
    return true;
}

/* A torch persistent id: ('storage', StorageType, key, location, numel),
 * with a sixth item (view metadata, None or a tuple) in legacy checkpoints. */
static lv *persistent(ld *L, lv *pid)
{
    if (!L->torch)
        return refuse(L, "persistent id outside a torch checkpoint"), NULL;
    if (pid->k != LV_TUPLE || (pid->na != 5 && pid->na != 6) || !is_str(pid->a[0], "storage") ||
        pid->a[1]->k != LV_GLOBAL || pid->a[2]->k != LV_STR || pid->a[3]->k != LV_STR ||
        pid->a[4]->k != LV_INT)
        return refuse(L, "persistent id is not a torch storage reference"), NULL;
    lv *s = mk(L, LV_STORAGE);
    if (!s)
        return NULL;
    s->name = strdup(pid->a[1]->name);
    if (!s->name)
        return fail_code(L, PKS_ERR_NOMEM, "out of memory"), NULL;
    s->args = pid->a[2];
    s->kwargs = pid->a[3];
    s->i = pid->a[4]->i;
    return s;
}

/* ---- The interpreter ----------------------------------------------------- */

static bool stack_take(ld *L, size_t start, size_t n, lv *into)
{
    for (size_t i = 0; i < n; i++)
        if (!push_item(L, into, L->stack[start + i]))
            return false;
    L->nstack = start;
    return true;
}

static bool step(ld *L, const dec_op *op)
{
    const dec_value *a = &op->arg;
    size_t start, n;
    lv *x, *y, *z;
    switch ((op_code)op->info->byte) {
    case OP_PROTO: L->proto = (int)a->i; return true;
    case OP_FRAME: return true;
    case OP_STOP: return true;
    case OP_MARK:
        if (!grow((void **)&L->marks, &L->capmarks, L->nmarks + 1, sizeof *L->marks))
            return fail_code(L, PKS_ERR_NOMEM, "out of memory"), false;
        L->marks[L->nmarks++] = L->nstack;
        return true;
    case OP_POP:
        if (L->nstack > floor_of_stack(L)) {
            L->nstack--;
            return true;
        }
        if (L->nstack == floor_of_stack(L) && L->nmarks) /* C unpickler: POP of a mark */
            return L->nmarks--, true;
        return fail_code(L, PKS_ERR_STACK, "stack underflow"), false;
    case OP_POP_MARK: return pop_mark(L, &start, &n) && (L->nstack = start, true);
    case OP_DUP: return (x = top(L)) != NULL && push(L, x);
    case OP_NONE:
        if (!L->none)
            L->none = mk(L, LV_NONE);
        return push(L, L->none);
    case OP_NEWTRUE:
    case OP_NEWFALSE:
        n = op->info->byte == OP_NEWTRUE;
        if (!L->bools[n] && (L->bools[n] = mk(L, LV_BOOL)) != NULL)
            L->bools[n]->i = (int64_t)n;
        return push(L, L->bools[n]);
    case OP_INT: return push(L, mk_from_arg(L, a, a->kind == DV_BOOL ? LV_BOOL : LV_INT));
    case OP_BININT:
    case OP_BININT1:
    case OP_BININT2:
    case OP_LONG:
    case OP_LONG1:
    case OP_LONG4: return push(L, mk_from_arg(L, a, LV_INT));
    case OP_FLOAT:
    case OP_BINFLOAT: return push(L, mk_from_arg(L, a, LV_FLOAT));
    case OP_STRING:
    case OP_BINSTRING:
    case OP_SHORT_BINSTRING:
        /* Python 3 loads these as str by ASCII (encoding='ASCII' default) */
        for (size_t i = 0; i < a->n; i++)
            if (a->p[i] >= 0x80)
                return refuse(L, "non-ASCII STRING: loads with encoding='ASCII' fail"), false;
        return push(L, mk_from_arg(L, a, LV_STR));
    case OP_BINBYTES:
    case OP_SHORT_BINBYTES:
    case OP_BINBYTES8: return push(L, mk_from_arg(L, a, LV_BYTES));
    case OP_BYTEARRAY8: return push(L, mk_from_arg(L, a, LV_BYTEARRAY));
    case OP_UNICODE:
    case OP_BINUNICODE:
    case OP_SHORT_BINUNICODE:
    case OP_BINUNICODE8: return push(L, mk_from_arg(L, a, LV_STR));
    case OP_EMPTY_LIST: return push(L, mk(L, LV_LIST));
    case OP_EMPTY_DICT: return push(L, mk(L, LV_DICT));
    case OP_EMPTY_SET: return push(L, mk(L, LV_SET));
    case OP_EMPTY_TUPLE: return push(L, mk(L, LV_TUPLE));
    case OP_TUPLE1:
    case OP_TUPLE2:
    case OP_TUPLE3:
        n = (size_t)(op->info->byte - OP_TUPLE1 + 1);
        if (L->nstack < floor_of_stack(L) + n)
            return fail_code(L, PKS_ERR_STACK, "stack underflow"), false;
        x = tuple_of(L, L->stack + L->nstack - n, n);
        L->nstack -= n;
        return push(L, x);
    case OP_TUPLE:
        if (!pop_mark(L, &start, &n))
            return false;
        x = mk(L, LV_TUPLE);
        return x && stack_take(L, start, n, x) && push(L, x);
    case OP_LIST:
        if (!pop_mark(L, &start, &n))
            return false;
        x = mk(L, LV_LIST);
        return x && stack_take(L, start, n, x) && push(L, x);
    case OP_FROZENSET:
        if (!pop_mark(L, &start, &n))
            return false;
        x = mk(L, LV_FROZENSET);
        if (!x)
            return false;
        for (size_t i = 0; i < n; i++)
            if (!put_key(L, x, L->stack[start + i], NULL))
                return false;
        L->nstack = start;
        return push(L, x);
    case OP_DICT:
        if (!pop_mark(L, &start, &n))
            return false;
        if (n % 2)
            return fail_code(L, PKS_ERR_STACK, "odd number of items for DICT"), false;
        x = mk(L, LV_DICT);
        if (!x || !setitems(L, x, stack_at(L, start), n))
            return false;
        L->nstack = start;
        return push(L, x);
    case OP_APPEND: return (y = pop(L)) && (x = top(L)) && appends(L, x, &y, 1);
    case OP_APPENDS:
        if (!pop_mark(L, &start, &n))
            return false;
        if (start == 0)
            return fail_code(L, PKS_ERR_STACK, "stack underflow"), false;
        x = L->stack[start - 1];
        if (!appends(L, x, stack_at(L, start), n))
            return false;
        L->nstack = start;
        return true;
    case OP_SETITEM:
        if (!(z = pop(L)) || !(y = pop(L)) || !(x = top(L)))
            return false;
        {
            lv *kv[2] = {y, z};
            return setitems(L, x, kv, 2);
        }
    case OP_SETITEMS:
        if (!pop_mark(L, &start, &n))
            return false;
        if (start == 0)
            return fail_code(L, PKS_ERR_STACK, "stack underflow"), false;
        if (!setitems(L, L->stack[start - 1], stack_at(L, start), n))
            return false;
        L->nstack = start;
        return true;
    case OP_ADDITEMS:
        if (!pop_mark(L, &start, &n))
            return false;
        if (start == 0)
            return fail_code(L, PKS_ERR_STACK, "stack underflow"), false;
        x = L->stack[start - 1];
        if (x->k != LV_SET)
            return refuse(L, "ADDITEMS on a value that is not a set"), false;
        for (size_t i = 0; i < n; i++)
            if (!put_key(L, x, L->stack[start + i], NULL))
                return false;
        L->nstack = start;
        return true;
    case OP_PUT:
    case OP_BINPUT:
    case OP_LONG_BINPUT:
        if (a->i < 0)
            return fail_code(L, PKS_ERR_STACK, "negative memo key"), false;
        return (x = top(L)) && memo_put(L, (uint64_t)a->i, x);
    case OP_MEMOIZE: return (x = top(L)) && memo_put(L, L->mcount, x);
    case OP_GET:
    case OP_BINGET:
    case OP_LONG_BINGET:
        return push(L, memo_get(L, a->kind == DV_INT && a->i >= 0 ? (uint64_t)a->i : UINT64_MAX));
    case OP_GLOBAL: return push(L, find_class(L, a->p, a->n, a->p2, a->n2));
    case OP_STACK_GLOBAL:
        if (!(y = pop(L)) || !(x = pop(L)))
            return false;
        if (x->k != LV_STR || y->k != LV_STR)
            return refuse(L, "STACK_GLOBAL operands are not strings"), false;
        return push(L, find_class(L, x->p, x->n, y->p, y->n));
    case OP_REDUCE:
        if (!(y = pop(L)) || !(x = pop(L)))
            return false;
        return push(L, call(L, x, y, NULL, false));
    case OP_NEWOBJ:
        if (!(y = pop(L)) || !(x = pop(L)))
            return false;
        return push(L, call(L, x, y, NULL, true));
    case OP_NEWOBJ_EX:
        if (!(z = pop(L)) || !(y = pop(L)) || !(x = pop(L)))
            return false;
        if (z->k != LV_DICT)
            return refuse(L, "NEWOBJ_EX keyword arguments are not a dict"), false;
        return push(L, call(L, x, y, z, true));
    case OP_BUILD: return (y = pop(L)) && (x = top(L)) && build(L, x, y);
    case OP_INST:
        if (!pop_mark(L, &start, &n) || !(x = find_class(L, a->p, a->n, a->p2, a->n2)))
            return false;
        y = mk(L, LV_TUPLE);
        if (!y || !stack_take(L, start, n, y))
            return false;
        return push(L, call(L, x, y, NULL, false)); /* _instantiate: klass(*args) */
    case OP_OBJ:
        if (!pop_mark(L, &start, &n))
            return false;
        if (n == 0)
            return refuse(L, "OBJ without a class"), false;
        x = L->stack[start];
        y = mk(L, LV_TUPLE);
        if (!y || !stack_take(L, start + 1, n - 1, y))
            return false;
        L->nstack = start;
        return push(L, call(L, x, y, NULL, false));
    case OP_PERSID: x = mk_from_arg(L, a, LV_STR); return x && push(L, persistent(L, x));
    case OP_BINPERSID: return (x = pop(L)) && push(L, persistent(L, x));
    case OP_EXT1:
    case OP_EXT2:
    case OP_EXT4:
        return refuse(L, "extension code %" PRId64 ": the extension registry is not allowlisted",
                      a->i),
               false;
    case OP_NEXT_BUFFER:
    case OP_READONLY_BUFFER:
        return refuse(L, "out-of-band buffers are not supported by the restricted loader"), false;
    }
    return refuse(L, "opcode %s is not supported", op->info->name), false;
}

/* ---- Emission ------------------------------------------------------------ */

void ldr_put(ldr_buf *b, const char *s, size_t n)
{
    if (b->overflow || b->nomem)
        return;
    if (n > b->max - b->n) {
        b->overflow = true;
        return;
    }
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->n + n + 1)
            nc *= 2;
        char *q = realloc(b->p, nc);
        if (!q) {
            b->nomem = true;
            return;
        }
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void out_s(ldr_buf *b, const char *s)
{
    ldr_put(b, s, strlen(s));
}

static __attribute__((format(printf, 2, 3))) void out_f(ldr_buf *b, const char *fmt, ...);
static void out_f(ldr_buf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        ldr_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string of UTF-8 text (lone surrogates included), ASCII only, as
 * Python's json.dumps writes it. */
void ldr_put_str(ldr_buf *b, const uint8_t *p, size_t n)
{
    ldr_put(b, "\"", 1);
    size_t i = 0;
    while (i < n && !b->overflow) {
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        ldr_put(b, (const char *)p + i, run - i);
        i = run;
        if (i >= n)
            break;
        uint32_t c = p[i];
        size_t len = 1;
        if (c >= 0xf0 && i + 3 < n) {
            c = ((c & 0x07u) << 18) | ((p[i + 1] & 0x3fu) << 12) | ((p[i + 2] & 0x3fu) << 6) |
                (p[i + 3] & 0x3fu);
            len = 4;
        } else if (c >= 0xe0 && i + 2 < n) {
            c = ((c & 0x0fu) << 12) | ((p[i + 1] & 0x3fu) << 6) | (p[i + 2] & 0x3fu);
            len = 3;
        } else if (c >= 0xc0 && i + 1 < n) {
            c = ((c & 0x1fu) << 6) | (p[i + 1] & 0x3fu);
            len = 2;
        }
        i += len;
        switch (c) {
        case '"': out_s(b, "\\\""); continue;
        case '\\': out_s(b, "\\\\"); continue;
        case '\n': out_s(b, "\\n"); continue;
        case '\r': out_s(b, "\\r"); continue;
        case '\t': out_s(b, "\\t"); continue;
        case '\b': out_s(b, "\\b"); continue;
        case '\f': out_s(b, "\\f"); continue;
        default: break;
        }
        if (c >= 0x10000) {
            c -= 0x10000;
            out_f(b, "\\u%04x\\u%04x", 0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
        } else {
            out_f(b, "\\u%04x", c);
        }
    }
    ldr_put(b, "\"", 1);
}

/* A double as Python's repr writes it: shortest round-trip digits, fixed
 * notation for exponents -4..15, else d.ddde+XX. */
static void out_double(ldr_buf *b, double x)
{
    char e[40];
    int p;
    for (p = 1; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, x);
        if (strtod(e, NULL) == x)
            break;
    }
    char digits[24];
    size_t nd = 0;
    const char *s = e;
    bool neg = *s == '-';
    if (neg)
        s++;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9' && nd < sizeof digits - 1)
            digits[nd++] = *s;
    int exp = *s == 'e' ? atoi(s + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = 0;
    char o[64];
    size_t k = 0;
    if (neg)
        o[k++] = '-';
    if (exp >= -4 && exp < 16) {
        if (exp >= 0) {
            for (int i = 0; i <= exp; i++)
                o[k++] = (size_t)i < nd ? digits[i] : '0';
            o[k++] = '.';
            if ((size_t)exp + 1 < nd)
                for (size_t i = (size_t)exp + 1; i < nd; i++)
                    o[k++] = digits[i];
            else
                o[k++] = '0';
        } else {
            o[k++] = '0';
            o[k++] = '.';
            for (int i = 0; i < -exp - 1; i++)
                o[k++] = '0';
            for (size_t i = 0; i < nd; i++)
                o[k++] = digits[i];
        }
        o[k] = 0;
    } else {
        o[k++] = digits[0];
        if (nd > 1) {
            o[k++] = '.';
            for (size_t i = 1; i < nd; i++)
                o[k++] = digits[i];
        }
        snprintf(o + k, sizeof o - k, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
    out_s(b, o);
}

static void out_float(ldr_buf *b, double x)
{
    if (isnan(x))
        out_s(b, "{\"$float\":\"nan\"}");
    else if (isinf(x))
        out_s(b, x > 0 ? "{\"$float\":\"inf\"}" : "{\"$float\":\"-inf\"}");
    else
        out_double(b, x);
}

static void out_b64(ldr_buf *b, const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    ldr_put(b, "\"", 1);
    for (size_t i = 0; i < n && !b->overflow; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[0] = tab[v >> 18];
        q[1] = tab[(v >> 12) & 63];
        q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        ldr_put(b, q, 4);
    }
    ldr_put(b, "\"", 1);
}

static void out_bytes(ldr_buf *b, const char *tag, const lv *v, size_t inline_max)
{
    out_f(b, "{\"%s\":", tag);
    if (v->n <= inline_max) {
        out_b64(b, v->p, v->n);
    } else {
        sha256_ctx c;
        char hex[65];
        sha256_init(&c);
        sha256_update(&c, v->p, v->n);
        sha256_final(&c, hex);
        out_f(b, "null,\"size\":%zu,\"sha256\":\"%s\"", v->n, hex);
    }
    ldr_put(b, "}", 1);
}

static bool id_eligible(const lv *v)
{
    switch (v->k) {
    case LV_LIST:
    case LV_DICT:
    case LV_SET:
    case LV_BYTEARRAY:
    case LV_OBJECT: return true;
    case LV_TUPLE:
    case LV_FROZENSET: return v->na > 0;
    case LV_NONE:
    case LV_BOOL:
    case LV_INT:
    case LV_BIGINT:
    case LV_FLOAT:
    case LV_COMPLEX:
    case LV_STR:
    case LV_BYTES:
    case LV_GLOBAL:
    case LV_STORAGE: return false;
    }
    return false;
}

static void each_child(lv *v, void (*fn)(void *, lv *), void *ctx)
{
    for (size_t i = 0; i < v->na; i++)
        fn(ctx, v->a[i]);
    lv *extra[] = {v->args, v->kwargs, v->state, v->items, v->list};
    if (v->k == LV_OBJECT)
        for (size_t i = 0; i < 5; i++)
            if (extra[i])
                fn(ctx, extra[i]);
}

/* Counts references; an explicit stack so that depth costs no C stack. */
typedef struct counter {
    lv **todo;
    size_t n, cap;
    bool nomem;
} counter;

static void count_one(void *ctx, lv *v)
{
    counter *c = ctx;
    if (!id_eligible(v))
        return;
    if (v->refs++ > 0)
        return;
    if (!grow((void **)&c->todo, &c->cap, c->n + 1, sizeof *c->todo)) {
        c->nomem = true;
        return;
    }
    c->todo[c->n++] = v;
}

static bool count_refs(lv *root)
{
    counter c = {0};
    count_one(&c, root);
    while (c.n && !c.nomem) {
        lv *v = c.todo[--c.n];
        each_child(v, count_one, &c);
    }
    free(c.todo);
    return !c.nomem;
}

typedef struct emitter {
    const ldr_opts *o;
    ldr_buf *b;
    uint32_t next_id;
    unsigned depth;
    bool too_deep;
    bool keymode; /* a sort key: no $id/$ref */
} emitter;

static void emit(emitter *E, lv *v);

static void emit_seq(emitter *E, lv **a, size_t n, size_t stride, size_t first)
{
    ldr_put(E->b, "[", 1);
    for (size_t i = first; i < n; i += stride) {
        if (i > first)
            ldr_put(E->b, ",", 1);
        emit(E, a[i]);
    }
    ldr_put(E->b, "]", 1);
}

static int cmp_key(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(x[0] ? x[0] : "", y[0] ? y[0] : "");
}

/* Set members in the order of their encodings (Python's set order depends
 * on the hash seed, so neither order would be reproducible). */
static void emit_set(emitter *E, lv *v)
{
    size_t n = v->na;
    /* pairs (key text, member index as a pointer-sized slot) */
    char **keys = calloc(n ? 2 * n : 1, sizeof *keys);
    if (!keys) {
        E->b->nomem = true;
        return;
    }
    for (size_t i = 0; i < n && !E->too_deep; i++) {
        ldr_buf kb = {.max = E->b->max};
        emitter K = {.o = E->o, .b = &kb, .depth = E->depth, .keymode = true};
        emit(&K, v->a[i]);
        if (K.too_deep)
            E->too_deep = true;
        if (kb.overflow)
            E->b->overflow = true;
        if (kb.nomem)
            E->b->nomem = true;
        keys[2 * i] = kb.p ? kb.p : strdup("");
        keys[2 * i + 1] = (char *)(uintptr_t)i;
    }
    qsort(keys, n, 2 * sizeof *keys, cmp_key);
    ldr_put(E->b, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            ldr_put(E->b, ",", 1);
        emit(E, v->a[(uintptr_t)keys[2 * i + 1]]);
        free(keys[2 * i]);
    }
    ldr_put(E->b, "]", 1);
    free(keys);
}

static void emit_pairs(emitter *E, lv *d)
{
    ldr_put(E->b, "[", 1);
    for (size_t i = 0; i + 1 < d->na; i += 2) {
        if (i)
            ldr_put(E->b, ",", 1);
        ldr_put(E->b, "[", 1);
        emit(E, d->a[i]);
        ldr_put(E->b, ",", 1);
        emit(E, d->a[i + 1]);
        ldr_put(E->b, "]", 1);
    }
    ldr_put(E->b, "]", 1);
}

static bool plain_keys(const lv *d)
{
    for (size_t i = 0; i < d->na; i += 2)
        if (d->a[i]->k != LV_STR || (d->a[i]->n && d->a[i]->p[0] == '$'))
            return false;
    return true;
}

/* The dtype a torch storage type name implies, and its item size. */
static const char *storage_dtype(const char *type, unsigned *size)
{
    static const struct {
        const char *type, *dtype;
        unsigned size;
    } map[] = {
        {"torch.FloatStorage", "float32", 4},
        {"torch.DoubleStorage", "float64", 8},
        {"torch.HalfStorage", "float16", 2},
        {"torch.BFloat16Storage", "bfloat16", 2},
        {"torch.LongStorage", "int64", 8},
        {"torch.IntStorage", "int32", 4},
        {"torch.ShortStorage", "int16", 2},
        {"torch.CharStorage", "int8", 1},
        {"torch.ByteStorage", "uint8", 1},
        {"torch.BoolStorage", "bool", 1},
        {"torch.ComplexFloatStorage", "complex64", 8},
        {"torch.ComplexDoubleStorage", "complex128", 16},
        {"torch.QInt8Storage", "qint8", 1},
        {"torch.QUInt8Storage", "quint8", 1},
        {"torch.QInt32Storage", "qint32", 4},
        {"torch.UntypedStorage", "uint8", 1},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(type, map[i].type)) {
            *size = map[i].size;
            return map[i].dtype;
        }
    *size = 0;
    return NULL;
}

static bool int_tuple(const lv *t)
{
    if (t->k != LV_TUPLE)
        return false;
    for (size_t i = 0; i < t->na; i++)
        if (t->a[i]->k != LV_INT)
            return false;
    return true;
}

/* torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...):
 * metadata only, never the weights. */
static bool emit_tensor(emitter *E, const lv *o)
{
    if (strcmp(o->name, "torch._utils._rebuild_tensor_v2") != 0 || !o->args || o->args->na < 4)
        return false;
    lv **a = o->args->a;
    if (a[0]->k != LV_STORAGE || a[1]->k != LV_INT || !int_tuple(a[2]) || !int_tuple(a[3]))
        return false;
    unsigned isz;
    const char *dt = storage_dtype(a[0]->name, &isz);
    ldr_buf *b = E->b;
    out_s(b, "{\"$tensor\":{\"dtype\":");
    if (dt)
        out_f(b, "\"%s\"", dt);
    else
        ldr_put_str(b, (const uint8_t *)a[0]->name, strlen(a[0]->name));
    out_s(b, ",\"shape\":");
    emit_seq(E, a[2]->a, a[2]->na, 1, 0);
    out_s(b, ",\"stride\":");
    emit_seq(E, a[3]->a, a[3]->na, 1, 0);
    out_s(b, ",\"storage\":");
    ldr_put_str(b, a[0]->args->p, a[0]->args->n);
    out_s(b, ",\"device\":");
    ldr_put_str(b, a[0]->kwargs->p, a[0]->kwargs->n);
    out_f(b, ",\"storage_offset\":%" PRId64 ",\"storage_numel\":%" PRId64, a[1]->i, a[0]->i);
    /* nbytes: elements times item size, as Tensor.nbytes. The view must stay
     * inside its storage: offset + 1 + sum((size-1)*stride) <= numel, with
     * no negative size or stride; torch refuses such a tensor when it loads,
     * so it is marked here. */
    int64_t numel = 1, last = a[1]->i;
    bool overflow = a[1]->i < 0, empty = false;
    for (size_t i = 0; i < a[2]->na; i++) {
        int64_t sz = a[2]->a[i]->i, st = i < a[3]->na ? a[3]->a[i]->i : 0, t;
        if (sz < 0 || st < 0)
            overflow = true;
        if (sz == 0)
            empty = true;
        if (__builtin_mul_overflow(numel, sz, &numel))
            overflow = true;
        if (sz > 0 &&
            (__builtin_mul_overflow(sz - 1, st, &t) || __builtin_add_overflow(last, t, &last)))
            overflow = true;
    }
    int64_t nb;
    if (!overflow && dt && !__builtin_mul_overflow(numel, (int64_t)isz, &nb))
        out_f(b, ",\"nbytes\":%" PRId64, nb);
    if (overflow || a[2]->na != a[3]->na || (!empty && last >= a[0]->i))
        out_s(b, ",\"out_of_bounds\":true");
    if (o->args->na > 4) {
        out_s(b, ",\"requires_grad\":");
        emit(E, a[4]);
    }
    out_s(b, "}}");
    return true;
}

static void emit_body(emitter *E, lv *v)
{
    ldr_buf *b = E->b;
    switch (v->k) {
    case LV_NONE: out_s(b, "null"); return;
    case LV_BOOL: out_s(b, v->i ? "true" : "false"); return;
    case LV_INT:
        if (v->i >= -(INT64_C(1) << 53) && v->i <= (INT64_C(1) << 53))
            out_f(b, "%" PRId64, v->i);
        else
            out_f(b, "{\"$int\":\"%" PRId64 "\"}", v->i);
        return;
    case LV_BIGINT: {
        int64_t x;
        if (bi_to_int64(v->p, v->n, &x)) {
            lv t = {.k = LV_INT, .i = x};
            emit_body(E, &t);
            return;
        }
        size_t cap = bi_decimal_cap(v->n);
        char *s = malloc(cap);
        if (!s || !bi_to_decimal(v->p, v->n, s, cap)) {
            free(s);
            b->nomem = true;
            return;
        }
        out_s(b, "{\"$int\":\"");
        out_s(b, s);
        out_s(b, "\"}");
        free(s);
        return;
    }
    case LV_FLOAT: out_float(b, v->f); return;
    case LV_COMPLEX:
        out_s(b, "{\"$complex\":[");
        out_float(b, v->f);
        ldr_put(b, ",", 1);
        out_float(b, v->f2);
        out_s(b, "]}");
        return;
    case LV_STR: ldr_put_str(b, v->p, v->n); return;
    case LV_BYTES: out_bytes(b, "$bytes", v, E->o->inline_bytes); return;
    case LV_BYTEARRAY: out_bytes(b, "$bytearray", v, E->o->inline_bytes); return;
    case LV_LIST: emit_seq(E, v->a, v->na, 1, 0); return;
    case LV_TUPLE:
        out_s(b, "{\"$tuple\":");
        emit_seq(E, v->a, v->na, 1, 0);
        ldr_put(b, "}", 1);
        return;
    case LV_SET:
    case LV_FROZENSET:
        out_s(b, v->k == LV_SET ? "{\"$set\":" : "{\"$frozenset\":");
        emit_set(E, v);
        ldr_put(b, "}", 1);
        return;
    case LV_DICT:
        if (plain_keys(v)) {
            ldr_put(b, "{", 1);
            for (size_t i = 0; i + 1 < v->na; i += 2) {
                if (i)
                    ldr_put(b, ",", 1);
                ldr_put_str(b, v->a[i]->p, v->a[i]->n);
                ldr_put(b, ":", 1);
                emit(E, v->a[i + 1]);
            }
            ldr_put(b, "}", 1);
        } else {
            out_s(b, "{\"$dict\":");
            emit_pairs(E, v);
            ldr_put(b, "}", 1);
        }
        return;
    case LV_GLOBAL:
        out_s(b, "{\"$global\":");
        ldr_put_str(b, (const uint8_t *)v->name, strlen(v->name));
        ldr_put(b, "}", 1);
        return;
    case LV_STORAGE:
        out_s(b, "{\"$storage\":{\"type\":");
        ldr_put_str(b, (const uint8_t *)v->name, strlen(v->name));
        out_s(b, ",\"key\":");
        ldr_put_str(b, v->args->p, v->args->n);
        out_s(b, ",\"location\":");
        ldr_put_str(b, v->kwargs->p, v->kwargs->n);
        out_f(b, ",\"numel\":%" PRId64 "}}", v->i);
        return;
    case LV_OBJECT:
        if (emit_tensor(E, v))
            return;
        out_s(b, v->is_new ? "{\"$class\":" : "{\"$reduce\":");
        ldr_put_str(b, (const uint8_t *)v->name, strlen(v->name));
        out_s(b, ",\"args\":");
        emit_seq(E, v->args->a, v->args->na, 1, 0);
        if (v->kwargs) {
            out_s(b, ",\"kwargs\":");
            emit(E, v->kwargs);
        }
        if (v->state) {
            out_s(b, ",\"state\":");
            emit(E, v->state);
        }
        if (v->list) {
            out_s(b, ",\"list\":");
            emit_seq(E, v->list->a, v->list->na, 1, 0);
        }
        if (v->items) {
            out_s(b, ",\"items\":");
            emit_pairs(E, v->items);
        }
        ldr_put(b, "}", 1);
        return;
    }
}

static void emit(emitter *E, lv *v)
{
    if (E->b->overflow || E->b->nomem || E->too_deep)
        return;
    if (E->depth >= E->o->max_depth) {
        E->too_deep = true;
        return;
    }
    if (!E->keymode && id_eligible(v) && v->refs > 1) {
        if (v->id) {
            out_f(E->b, "{\"$ref\":%" PRIu32 "}", v->id);
            return;
        }
        v->id = ++E->next_id;
        out_f(E->b, "{\"$id\":%" PRIu32 ",\"$value\":", v->id);
        E->depth++;
        emit_body(E, v);
        E->depth--;
        ldr_put(E->b, "}", 1);
        return;
    }
    E->depth++;
    emit_body(E, v);
    E->depth--;
}

void ldr_defaults(ldr_opts *o, const policy *pol)
{
    o->pol = pol;
    o->inline_bytes = 4096;
    o->max_output = 64u << 20;
    o->max_ops = 100000000;
    o->max_values = 10000000;
    o->max_depth = 5000;
}

void ldr_buf_free(ldr_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

pks_err ldr_load(const ldr_opts *o, const uint8_t *data, size_t len, size_t off,
                 bool torch_storages, ldr_buf *out, size_t *end, pks_error_info *err)
{
    pks_error_info dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    ld L = {.o = o, .data = data, .len = len, .torch = torch_storages, .proto = 0, .err = err};
    dec d;
    dec_init(&d, data, len, off);
    d.lenient_frames = true;
    dec_op op;
    lv *root = NULL;
    uint64_t nops = 0;
    for (;;) {
        pks_err e = dec_next(&d, &op);
        if (e != PKS_OK) {
            *err = d.err;
            L.failed = true;
            break;
        }
        L.cur_off = op.offset;
        L.cur_op = op.info->byte;
        if (++nops > o->max_ops) {
            fail_code(&L, PKS_ERR_LIMIT, "opcode limit reached");
            break;
        }
        if (!step(&L, &op)) {
            if (!L.failed)
                refuse(&L, "cannot apply %s", op.info->name);
            break;
        }
        if (op.info->byte == OP_STOP) {
            if (L.nstack == 0) {
                refuse(&L, "STOP with an empty stack");
                break;
            }
            root = L.stack[L.nstack - 1];
            if (end)
                *end = op.end;
            break;
        }
    }
    if (root && !L.failed) {
        if (!count_refs(root)) {
            fail_code(&L, PKS_ERR_NOMEM, "out of memory");
        } else {
            out->max = o->max_output;
            emitter E = {.o = o, .b = out};
            emit(&E, root);
            if (E.too_deep)
                fail_code(&L, PKS_ERR_LIMIT, "object graph nested deeper than the depth limit");
            else if (out->overflow)
                fail_code(&L, PKS_ERR_LIMIT, "JSON output larger than the output limit");
            else if (out->nomem)
                fail_code(&L, PKS_ERR_NOMEM, "out of memory");
        }
        if (L.failed) {
            err->offset = 0;
            err->opcode = -1;
        }
    }
    for (size_t i = 0; i < L.nall; i++)
        lv_free(L.all[i]);
    free(L.all);
    free(L.stack);
    free(L.marks);
    free(L.mkeys);
    free(L.mvals);
    dec_free(&d);
    return L.failed ? (err->code ? err->code : PKS_ERR_STACK) : PKS_OK;
}
