/* The symbolic pickle VM; see vm.h.
 *
 * Every opcode handler follows load() in Modules/_pickle.c: the same pops
 * and pushes, the same fence (nothing below the topmost mark can be popped),
 * the same errors (stack underflow, missing MARK, odd SETITEMS, missing memo
 * key). Where the loader would import or call, the VM records an event and
 * asks the policy; where it would run code we cannot see (a loader on
 * constant bytes), the VM scans those bytes as a nested pickle.
 *
 * Values are abstract and small (struct val, 24 bytes): scalars carry their
 * value or point into the input; containers point to a vobj holding up to
 * max_items tracked items; globals, call results and attributes carry the
 * index of the import that produced them and its policy class. All heap
 * memory of a stream is counted against max_heap; past it, new containers
 * are opaque (contents unknown) and a limit finding says so. */
#include "vm.h"

#include "decode.h"
#include "input.h"
#include "repr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef enum vkind {
    VK_NONE,
    VK_BOOL,
    VK_INT,
    VK_BIGINT, /* p/n: two's complement little-endian */
    VK_FLOAT,
    VK_STR,    /* p/n: UTF-8 */
    VK_BYTES,  /* p/n */
    VK_PY2STR, /* p/n: STRING/BINSTRING bytes; str or bytes depending on the loader's encoding */
    VK_BYTEARRAY,
    VK_TUPLE,
    VK_LIST,
    VK_DICT,
    VK_SET,
    VK_FROZENSET,
    VK_GLOBAL, /* g: import index */
    VK_OBJ,    /* result of a call; g: index of the callable's import, or -1 */
    VK_ATTR,   /* getattr(<global g>, p/n) */
    VK_BUFFER, /* NEXT_BUFFER */
    VK_UNKNOWN
} vkind;

enum {
    VF_LITERAL = 1, /* text or bytes written by a literal opcode */
    VF_FRESH = 2,   /* container made here, or instance of an allowlisted class made here */
    VF_OPAQUE = 4,  /* contents not tracked (heap budget) or not known */
    VF_PAYLOAD = 8, /* VK_OBJ carrying bytes in p/n (io.BytesIO of a constant) */
    VF_DTYPE = 16   /* VK_OBJ of numpy.dtype(<str>): the type string in p/n */
};

typedef struct vobj vobj;

typedef struct val {
    uint8_t kind;
    uint8_t flags;
    uint8_t cls;   /* pol_class of the global behind GLOBAL/OBJ/ATTR */
    uint8_t pkind; /* pol_kind of that global */
    int32_t g;
    union {
        int64_t i;
        double f;
        const uint8_t *p;
        vobj *o;
    };
    size_t n;
} val;

struct vobj {
    vobj *next;     /* every vobj of the stream, for freeing */
    uint64_t total; /* items ever added (tuple/list/set: values; dict: pairs) */
    uint32_t nitems, cap;
    val *items; /* dict: key, value, key, value, ... */
};

typedef struct memo_slot {
    uint64_t key;
    val v;
    bool used;
} memo_slot;

typedef struct vm {
    const pks_scanner *sc;
    const pks_limits *lim;
    pks_result *r;
    tr_pickle *pk;
    size_t pk_index;
    const char *member;
    int depth;
    dec d;
    const uint8_t *data;
    size_t len;
    int proto; /* the loader's self->proto: last PROTO, 0 before any */
    val *stack;
    size_t sp, stack_cap;
    size_t *marks;
    size_t nmarks, marks_cap;
    val *memo_dense; /* indices below dense_cap */
    uint8_t *memo_used;
    size_t dense_cap;
    memo_slot *memo_hash; /* larger indices */
    size_t hash_cap, hash_n;
    size_t memo_len;
    vobj *objs;
    void **blocks; /* other heap blocks (copied text, decoded bytes) */
    size_t nblocks, blocks_cap;
    size_t heap; /* bytes counted against max_heap */
    size_t decoded;
    bool heap_full_reported;
    bool events;
    bool failed;
    bool limit_hit;
    pks_error_info err;
    char *trace; /* the normalized trace text (docs/RULES.md) */
    size_t tlen, tcap;
    bool trace_full;
    uint8_t *raw; /* the stream's bytes without large blob payloads, for raw rules */
    size_t rlen, rcap;
    bool raw_full;
    uint64_t n_imports, n_calls, n_dangerous, n_unknown;
    bool joblib_array;     /* the last BUILD was a NumpyArrayWrapper's: its array follows */
    bool joblib_object;    /* ... pickled (object dtype) */
    bool joblib_aligned;   /* ... after a padding-length byte and padding */
    uint64_t joblib_bytes; /* ... of this many raw bytes */
} vm;

#define TRACE_MAX ((size_t)1 << 20) /* bytes of trace text per stream */
#define RAW_MAX   ((size_t)8 << 20) /* bytes of the raw view per stream */
#define RAW_BLOB  ((size_t)65536)   /* arguments larger than this are left out of it */

#define DENSE_MAX ((size_t)1 << 20)

/* ---- errors, findings, events -------------------------------------------- */

static void vm_fail(vm *v, size_t off, int opcode, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The loader raises here: decoding stops (first error wins). */
static void vm_fail(vm *v, size_t off, int opcode, const char *fmt, ...)
{
    if (v->failed)
        return;
    v->failed = true;
    v->err.code = PKS_ERR_STACK;
    v->err.offset = off;
    v->err.opcode = opcode;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err.message, sizeof v->err.message, fmt, ap);
    va_end(ap);
}

static void limit(vm *v, size_t off, int opcode, const char *what, size_t value)
{
    res_finding(v->r, v->lim->max_findings, "limit_reached", SEV_MEDIUM, 50, v->member, off, NULL,
                NULL, "limit reached: %s (%zu); the rest of the stream was not analysed", what,
                value);
    vm_fail(v, off, opcode, "limit reached: %s (%zu)", what, value);
    v->err.code = PKS_ERR_LIMIT;
    v->limit_hit = true;
}

/* An allocation failed: not a property of the file, so no finding; the scan
 * of this stream stops and the file's verdict becomes error (r->nomem). */
static void oom(vm *v, size_t off, int opcode, const char *what)
{
    vm_fail(v, off, opcode, "out of memory growing the %s", what);
    v->err.code = PKS_ERR_NOMEM;
    v->r->nomem = true;
}

#define FINDING(v, rule, sev, score, off, mod, name, ...)                                          \
    res_finding((v)->r, (v)->lim->max_findings, rule, sev, score, (v)->member, off, mod, name,     \
                __VA_ARGS__)

/* ---- trace ------------------------------------------------------------------ */

static void trace_line(vm *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends one line (at most 512 bytes) to the trace text. */
static void trace_line(vm *v, const char *fmt, ...)
{
    if (v->trace_full)
        return;
    if (v->tcap - v->tlen < 520) {
        size_t cap = v->tcap ? v->tcap * 2 : 4096;
        if (cap > TRACE_MAX) {
            v->trace_full = true;
            return;
        }
        char *t = realloc(v->trace, cap);
        if (!t) {
            v->trace_full = true;
            v->r->nomem = true; /* the rules would miss lines */
            return;
        }
        v->trace = t;
        v->tcap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v->trace + v->tlen, 512, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    v->tlen += (size_t)n < 511 ? (size_t)n : 511;
    v->trace[v->tlen++] = '\n';
}

/* Appends the bytes of a decoded opcode to the raw view, leaving out the
 * payload of large arguments (tensor blobs, big strings). */
static void raw_view(vm *v, const dec_op *op)
{
    if (v->raw_full)
        return;
    size_t n = op->end - op->offset;
    if (n > RAW_BLOB)
        n = 16; /* the opcode and its length field */
    if (n > RAW_MAX - v->rlen) {
        v->raw_full = true;
        return;
    }
    if (v->rcap - v->rlen < n) {
        size_t cap = v->rcap ? v->rcap : 4096;
        while (cap - v->rlen < n)
            cap *= 2;
        if (cap > RAW_MAX)
            cap = RAW_MAX;
        uint8_t *r = realloc(v->raw, cap);
        if (!r) {
            v->raw_full = true;
            v->r->nomem = true;
            return;
        }
        v->raw = r;
        v->rcap = cap;
    }
    memcpy(v->raw + v->rlen, v->data + op->offset, n);
    v->rlen += n;
}

/* ---- heap ------------------------------------------------------------------ */

/* What a malloc'd block of n bytes really costs (glibc's chunk header and
 * rounding), so that the heap budget bounds the resident set. */
static size_t cost(size_t n)
{
    return (n + 8 + 15) / 16 * 16;
}

/* A block of n bytes counted against the heap budget; NULL when over it. */
static void *heap_alloc(vm *v, size_t n)
{
    if (cost(n) > v->lim->max_heap - v->heap || n > v->lim->max_heap)
        return NULL;
    if (v->nblocks == v->blocks_cap) {
        size_t cap = v->blocks_cap ? v->blocks_cap * 2 : 64;
        void **b = realloc(v->blocks, cap * sizeof *b);
        if (!b) {
            v->r->nomem = true;
            return NULL;
        }
        v->blocks = b;
        v->blocks_cap = cap;
    }
    void *p = malloc(n ? n : 1);
    if (!p) {
        v->r->nomem = true;
        return NULL;
    }
    v->blocks[v->nblocks++] = p;
    v->heap += cost(n);
    return p;
}

static void heap_full(vm *v, size_t off)
{
    if (v->heap_full_reported)
        return;
    v->heap_full_reported = true;
    FINDING(v, "limit_reached", SEV_MEDIUM, 50, off, NULL, NULL,
            "limit reached: VM heap (%zu bytes); contents of later containers are not tracked",
            v->lim->max_heap);
}

static vobj *obj_new(vm *v, size_t off)
{
    size_t need = cost(sizeof(vobj));
    if (need > v->lim->max_heap - v->heap) {
        heap_full(v, off);
        return NULL;
    }
    vobj *o = calloc(1, sizeof *o);
    if (!o) {
        v->r->nomem = true;
        return NULL;
    }
    v->heap += need;
    o->next = v->objs;
    v->objs = o;
    return o;
}

/* Makes room for n tracked items at once (exact size, as far as
 * max_items): a container built from the stack knows its size. */
static void obj_reserve(vm *v, vobj *o, size_t n, size_t off)
{
    if (n > v->lim->max_items)
        n = v->lim->max_items;
    if (n <= o->cap)
        return;
    size_t grow = cost(n * sizeof(val)) - (o->cap ? cost(o->cap * sizeof(val)) : 0);
    if (grow > v->lim->max_heap - v->heap) {
        heap_full(v, off);
        return;
    }
    val *items = realloc(o->items, n * sizeof *items);
    if (!items) {
        v->r->nomem = true;
        return;
    }
    v->heap += grow;
    o->items = items;
    o->cap = (uint32_t)n;
}

/* Adds x to o's tracked items (counted beyond max_items). */
static void obj_add(vm *v, vobj *o, val x, size_t off)
{
    o->total++;
    if (o->nitems >= v->lim->max_items)
        return;
    if (o->nitems == o->cap) {
        uint32_t cap = o->cap ? o->cap * 2 : 4;
        if (cap > v->lim->max_items)
            cap = (uint32_t)v->lim->max_items;
        size_t grow = cost(cap * sizeof(val)) - (o->cap ? cost(o->cap * sizeof(val)) : 0);
        if (grow > v->lim->max_heap - v->heap) {
            heap_full(v, off);
            return;
        }
        val *items = realloc(o->items, cap * sizeof *items);
        if (!items) {
            v->r->nomem = true;
            return;
        }
        v->heap += grow;
        o->items = items;
        o->cap = cap;
    }
    o->items[o->nitems++] = x;
}

/* A copy of p[0..n) on the VM heap (for text decoded into the decoder's
 * scratch buffer); NULL over budget. */
static const uint8_t *heap_copy(vm *v, const uint8_t *p, size_t n)
{
    uint8_t *c = heap_alloc(v, n);
    if (c && n)
        memcpy(c, p, n);
    return c;
}

/* ---- values ---------------------------------------------------------------- */

static val mkval(vkind k)
{
    val x;
    memset(&x, 0, sizeof x);
    x.kind = (uint8_t)k;
    x.g = -1;
    return x;
}

static val mkcontainer(vm *v, vkind k, size_t off)
{
    val x = mkval(k);
    x.flags = VF_FRESH;
    x.o = obj_new(v, off);
    if (!x.o)
        x.flags |= VF_OPAQUE;
    return x;
}

static bool is_text(const val *x)
{
    return x->kind == VK_STR || x->kind == VK_BYTES || x->kind == VK_PY2STR ||
           x->kind == VK_BYTEARRAY;
}

static const tr_global *global_of(const vm *v, const val *x)
{
    if (x->g < 0 || (size_t)x->g >= v->pk->nglobals)
        return NULL;
    return &v->pk->globals[x->g];
}

/* True when x is the global module.name (canonical). */
static bool is_global(const vm *v, const val *x, const char *module, const char *name)
{
    const tr_global *g = x->kind == VK_GLOBAL ? global_of(v, x) : NULL;
    return g && strcmp(g->module, module) == 0 && strcmp(g->name, name) == 0;
}

/* Item i of a tracked tuple/list, or NULL. */
static const val *item(const val *t, size_t i)
{
    if ((t->kind != VK_TUPLE && t->kind != VK_LIST) || !t->o || i >= t->o->nitems)
        return NULL;
    return &t->o->items[i];
}

static size_t count_of(const val *t)
{
    return t->o ? (size_t)t->o->total : 0;
}

/* ---- rendering ------------------------------------------------------------- */

typedef struct sbuf {
    char buf[256];
    size_t len;
    bool full;
} sbuf;

static void sb_put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_put(sbuf *b, const char *fmt, ...)
{
    if (b->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    size_t room = sizeof b->buf - b->len;
    int n = vsnprintf(b->buf + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room - 4) {
        b->len = sizeof b->buf - 4;
        memcpy(b->buf + b->len, "...", 4);
        b->full = true;
    } else {
        b->len += (size_t)n;
    }
}

static void sb_text(sbuf *b, const uint8_t *p, size_t n, bool bytes)
{
    size_t show = n < 48 ? n : 48;
    sb_put(b, "%s'", bytes ? "b" : "");
    for (size_t i = 0; i < show && !b->full; i++) {
        uint8_t c = p[i];
        if (c == '\'' || c == '\\')
            sb_put(b, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            sb_put(b, "%c", c);
        else
            sb_put(b, "\\x%02x", c);
    }
    sb_put(b, "'%s", show < n ? "..." : "");
    if (show < n)
        sb_put(b, "(%zu bytes)", n);
}

static void render(const vm *v, sbuf *b, const val *x, int depth);

static void render_items(const vm *v, sbuf *b, const val *x, const char *open, const char *close,
                         int depth)
{
    sb_put(b, "%s", open);
    if (!x->o) {
        sb_put(b, "%s%s", (x->flags & VF_OPAQUE) ? "..." : "", close);
        return;
    }
    bool dict = x->kind == VK_DICT;
    for (uint32_t i = 0; i < x->o->nitems && !b->full; i++) {
        if (i)
            sb_put(b, dict && (i & 1) ? ": " : ", ");
        render(v, b, &x->o->items[i], depth + 1);
    }
    uint64_t shown = dict ? x->o->nitems / 2 : x->o->nitems;
    if (x->o->total > shown)
        sb_put(b, ", ...%llu more", (unsigned long long)(x->o->total - shown));
    if (x->kind == VK_TUPLE && x->o->total == 1)
        sb_put(b, ",");
    sb_put(b, "%s", close);
}

static void render(const vm *v, sbuf *b, const val *x, int depth)
{
    if (depth > 3) {
        sb_put(b, "...");
        return;
    }
    const tr_global *g = global_of(v, x);
    char f[40];
    switch ((vkind)x->kind) {
    case VK_NONE: sb_put(b, "None"); break;
    case VK_BOOL: sb_put(b, x->i ? "True" : "False"); break;
    case VK_INT: sb_put(b, "%lld", (long long)x->i); break;
    case VK_BIGINT: sb_put(b, "<int of %zu bytes>", x->n); break;
    case VK_FLOAT:
        repr_float(x->f, f);
        sb_put(b, "%s", f);
        break;
    case VK_STR: sb_text(b, x->p, x->n, false); break;
    case VK_PY2STR:
    case VK_BYTES: sb_text(b, x->p, x->n, true); break;
    case VK_BYTEARRAY:
        sb_put(b, "bytearray(");
        sb_text(b, x->p, x->n, true);
        sb_put(b, ")");
        break;
    case VK_TUPLE: render_items(v, b, x, "(", ")", depth); break;
    case VK_LIST: render_items(v, b, x, "[", "]", depth); break;
    case VK_DICT: render_items(v, b, x, "{", "}", depth); break;
    case VK_SET: render_items(v, b, x, "{", "}", depth); break;
    case VK_FROZENSET: render_items(v, b, x, "frozenset({", "})", depth); break;
    case VK_GLOBAL:
        if (g)
            sb_put(b, "%s.%s", g->module, g->name);
        else
            sb_put(b, "<global>");
        break;
    case VK_OBJ:
        if (g)
            sb_put(b, "%s.%s(...)", g->module, g->name);
        else
            sb_put(b, "<object>");
        break;
    case VK_ATTR:
        sb_put(b, "getattr(%s.%s, ", g ? g->module : "?", g ? g->name : "?");
        sb_text(b, x->p, x->n, false);
        sb_put(b, ")");
        break;
    case VK_BUFFER: sb_put(b, "<out-of-band buffer>"); break;
    case VK_UNKNOWN: sb_put(b, "?"); break;
    }
}

/* ---- stack ------------------------------------------------------------------ */

static size_t fence(const vm *v)
{
    return v->nmarks ? v->marks[v->nmarks - 1] : 0;
}

static bool push(vm *v, val x, size_t off, int opc)
{
    if (v->sp == v->stack_cap) {
        if (v->sp >= v->lim->max_stack) {
            limit(v, off, opc, "stack depth", v->lim->max_stack);
            return false;
        }
        size_t cap = v->stack_cap ? v->stack_cap * 2 : 256;
        if (cap > v->lim->max_stack)
            cap = v->lim->max_stack;
        val *s = realloc(v->stack, cap * sizeof *s);
        if (!s) {
            oom(v, off, opc, "stack");
            return false;
        }
        v->stack = s;
        v->stack_cap = cap;
    }
    v->stack[v->sp++] = x;
    return true;
}

static bool underflow(vm *v, size_t off, int opc)
{
    vm_fail(v, off, opc, "unpickling stack underflow");
    return false;
}

/* Pdata_pop: nothing at or below the fence can be popped. */
static bool pop(vm *v, val *out, size_t off, int opc)
{
    if (v->sp <= fence(v))
        return underflow(v, off, opc);
    *out = v->stack[--v->sp];
    return true;
}

/* marker(): pops the topmost mark; *mark gets the stack size it recorded. */
static bool marker(vm *v, size_t *mark, size_t off, int opc)
{
    if (v->nmarks == 0) {
        vm_fail(v, off, opc, "could not find MARK");
        return false;
    }
    *mark = v->marks[--v->nmarks];
    return true;
}

/* Items stack[from..sp) into a new container of kind k; pops them. */
static void obj_reserve(vm *v, vobj *o, size_t n, size_t off);

static val collect(vm *v, vkind k, size_t from, size_t off)
{
    val c = mkcontainer(v, k, off);
    if (c.o)
        obj_reserve(v, c.o, v->sp - from, off);
    for (size_t i = from; i < v->sp; i++)
        if (c.o)
            obj_add(v, c.o, v->stack[i], off);
    if (c.o && k == VK_DICT)
        c.o->total /= 2;
    v->sp = from;
    return c;
}

/* ---- memo ------------------------------------------------------------------- */

static bool memo_put(vm *v, uint64_t idx, val x, size_t off, int opc)
{
    if (idx < DENSE_MAX) {
        if (idx >= v->dense_cap) {
            size_t cap = v->dense_cap ? v->dense_cap : 1024;
            while (cap <= idx)
                cap *= 2;
            if (cap > DENSE_MAX)
                cap = DENSE_MAX;
            val *d = realloc(v->memo_dense, cap * sizeof *d);
            uint8_t *u = d ? realloc(v->memo_used, cap) : NULL;
            if (d)
                v->memo_dense = d;
            if (!u) {
                oom(v, off, opc, "memo");
                return false;
            }
            memset(u + v->dense_cap, 0, cap - v->dense_cap);
            v->memo_used = u;
            v->dense_cap = cap;
        }
        if (!v->memo_used[idx]) {
            if (v->memo_len >= v->lim->max_memo) {
                limit(v, off, opc, "memo entries", v->lim->max_memo);
                return false;
            }
            v->memo_used[idx] = 1;
            v->memo_len++;
        }
        v->memo_dense[idx] = x;
        return true;
    }
    /* Sparse, large indices: open addressing. */
    if (v->hash_n * 2 >= v->hash_cap) {
        size_t cap = v->hash_cap ? v->hash_cap * 2 : 64;
        memo_slot *h = calloc(cap, sizeof *h);
        if (!h) {
            oom(v, off, opc, "memo");
            return false;
        }
        for (size_t i = 0; i < v->hash_cap; i++)
            if (v->memo_hash[i].used) {
                size_t j = (size_t)(v->memo_hash[i].key * 0x9e3779b97f4a7c15ull) & (cap - 1);
                while (h[j].used)
                    j = (j + 1) & (cap - 1);
                h[j] = v->memo_hash[i];
            }
        free(v->memo_hash);
        v->memo_hash = h;
        v->hash_cap = cap;
    }
    size_t j = (size_t)(idx * 0x9e3779b97f4a7c15ull) & (v->hash_cap - 1);
    while (v->memo_hash[j].used && v->memo_hash[j].key != idx)
        j = (j + 1) & (v->hash_cap - 1);
    if (!v->memo_hash[j].used) {
        if (v->memo_len >= v->lim->max_memo) {
            limit(v, off, opc, "memo entries", v->lim->max_memo);
            return false;
        }
        v->memo_hash[j].used = true;
        v->memo_hash[j].key = idx;
        v->hash_n++;
        v->memo_len++;
    }
    v->memo_hash[j].v = x;
    return true;
}

static bool memo_get(vm *v, uint64_t idx, val *out)
{
    if (idx < v->dense_cap) {
        if (!v->memo_used[idx])
            return false;
        *out = v->memo_dense[idx];
        return true;
    }
    if (!v->hash_cap || idx < DENSE_MAX)
        return false;
    size_t j = (size_t)(idx * 0x9e3779b97f4a7c15ull) & (v->hash_cap - 1);
    while (v->memo_hash[j].used) {
        if (v->memo_hash[j].key == idx) {
            *out = v->memo_hash[j].v;
            return true;
        }
        j = (j + 1) & (v->hash_cap - 1);
    }
    return false;
}

/* ---- imports ------------------------------------------------------------------ */

/* A NUL-terminated copy of raw name bytes: control bytes escaped, and
 * every byte above 0x7f too unless the name is valid UTF-8. */
static char *name_copy(const uint8_t *p, size_t n)
{
    bool utf8 = dec_utf8_valid(p, n, false);
    size_t cap = n * 4 + 1;
    if (n > 4096)
        cap = 4096 * 4 + 8;
    char *s = malloc(cap), *o = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < n && (size_t)(o - s) + 5 < cap; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f || (p[i] >= 0x80 && !utf8))
            o += sprintf(o, "\\x%02x", p[i]);
        else
            *o++ = (char)p[i];
    }
    *o = '\0';
    return s;
}

/* Records an import of (module, name) from the stream, applies find_class's
 * mapping and the policy, raises the finding it deserves; returns the value
 * the loader would push. */
/* True when m[0..n) can name a module: dotted identifiers (non-ASCII
 * letters allowed). Anything else makes find_class raise before importing
 * anything (a text file's first line read as GLOBAL, for instance). */
static bool importable(const uint8_t *m, size_t n)
{
    if (n == 0 || m[0] == '.' || m[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = m[i];
        bool ident = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9') || c >= 0x80;
        if (c == '.' ? m[i + 1] == '.' : !ident)
            return false;
        if (c >= '0' && c <= '9' && (i == 0 || m[i - 1] == '.'))
            return false;
    }
    return true;
}

static val import(vm *v, size_t off, uint8_t opc, const uint8_t *m, size_t mn, const uint8_t *q,
                  size_t qn)
{
    if (!importable(m, mn)) {
        char shown[64];
        size_t k = 0;
        for (size_t i = 0; i < mn && k + 5 < sizeof shown; i++)
            k += (size_t)snprintf(shown + k, sizeof shown - k,
                                  m[i] >= 0x20 && m[i] < 0x7f ? "%c" : "\\x%02x", m[i]);
        vm_fail(v, off, opc, "'%s' is not a module name: find_class fails here", shown);
        return mkval(VK_UNKNOWN);
    }
    v->events = true;
    char *rm = name_copy(m, mn), *rq = name_copy(q, qn);
    val x = mkval(VK_GLOBAL);
    if (!rm || !rq) { /* the name is lost: the file's verdict becomes error */
        free(rm);
        free(rq);
        x.cls = POL_DANGEROUS;
        v->r->nomem = true;
        return x;
    }
    const char *cm = rm, *cq = rq;
    if (v->proto < 3)
        policy_map_py2(&cm, &cq);
    pol_verdict pv = policy_classify(v->sc->pol, cm, cq);
    x.cls = (uint8_t)pv.cls;
    x.pkind = (uint8_t)pv.kind;
    tr_pickle *pk = v->pk;
    if (pk->nglobals < v->lim->max_events) {
        tr_global *g = res_push((void **)&pk->globals, &pk->nglobals, &pk->capglobals, sizeof *g);
        if (g) {
            g->offset = off;
            g->opcode = opc;
            g->module = strdup(cm);
            g->name = strdup(cq);
            size_t rl = strlen(rm) + strlen(rq) + 2;
            g->raw = malloc(rl);
            if (g->raw)
                snprintf(g->raw, rl, "%s %s", rm, rq);
            g->cls = pv.cls;
            g->kind = pv.kind;
            g->why = pv.why;
            g->category = pv.category;
            x.g = (int32_t)(pk->nglobals - 1);
            if (!g->module || !g->name || !g->raw) { /* no half-built record */
                free(g->module);
                free(g->name);
                free(g->raw);
                pk->nglobals--;
                x.g = -1;
                v->r->nomem = true;
            }
        } else {
            v->r->nomem = true;
        }
    } else {
        if (pk->globals_dropped++ == 0)
            FINDING(v, "limit_reached", SEV_INFO, 0, off, NULL, NULL,
                    "limit reached: %zu globals listed per pickle; the rest are judged but only "
                    "counted",
                    v->lim->max_events);
    }
    static const char *const cls_names[] = {"allowed", "unknown", "flagged", "dangerous"};
    trace_line(v, "IMPORT %s %s %s @%zu", cm, cq, cls_names[pv.cls], off);
    v->n_imports++;
    v->n_dangerous += pv.cls == POL_DANGEROUS;
    v->n_unknown += pv.cls == POL_UNKNOWN;
    switch (pv.cls) {
    case POL_ALLOWED: break;
    case POL_UNKNOWN:
        FINDING(v, "unknown_global", SEV_MEDIUM, 50, off, cm, cq,
                "imports %s.%s, which is not on the allowlist", cm, cq);
        break;
    case POL_FLAGGED:
        FINDING(v, pv.category, SEV_HIGH, 70, off, cm, cq, "imports %s.%s (%s)", cm, cq, pv.why);
        break;
    case POL_DANGEROUS:
        FINDING(v, pv.category, SEV_CRITICAL, 100, off, cm, cq, "imports %s.%s (%s)", cm, cq,
                pv.why);
        break;
    }
    free(rm);
    free(rq);
    return x;
}

static void add_call(vm *v, size_t off, uint8_t opc, const char *callable, const char *args)
{
    v->events = true;
    v->n_calls++;
    trace_line(v, "CALL %s @%zu %s %s", callable, off, op_lookup(opc)->name, args);
    tr_pickle *pk = v->pk;
    if (pk->ncalls >= v->lim->max_events) {
        if (pk->calls_dropped++ == 0)
            FINDING(v, "limit_reached", SEV_INFO, 0, off, NULL, NULL,
                    "limit reached: %zu calls listed per pickle; the rest are judged but only "
                    "counted",
                    v->lim->max_events);
        return;
    }
    tr_call *c = res_push((void **)&pk->calls, &pk->ncalls, &pk->capcalls, sizeof *c);
    if (!c)
        return;
    c->offset = off;
    c->opcode = opc;
    c->callable = strdup(callable);
    c->args = strdup(args);
}

/* "module.name" of a callable value, for the trace. */
static void callable_name(const vm *v, const val *x, sbuf *b)
{
    const tr_global *g = global_of(v, x);
    switch ((vkind)x->kind) {
    case VK_GLOBAL: sb_put(b, "%s.%s", g ? g->module : "?", g ? g->name : "?"); return;
    case VK_ATTR:
        sb_put(b, "%s.%s.", g ? g->module : "?", g ? g->name : "?");
        for (size_t i = 0; i < x->n && i < 64; i++)
            sb_put(b, "%c", x->p[i] >= 0x20 && x->p[i] < 0x7f ? x->p[i] : '?');
        return;
    case VK_OBJ: sb_put(b, "<result of %s.%s>", g ? g->module : "?", g ? g->name : "?"); return;
    case VK_NONE:
    case VK_BOOL:
    case VK_INT:
    case VK_BIGINT:
    case VK_FLOAT:
    case VK_STR:
    case VK_BYTES:
    case VK_PY2STR:
    case VK_BYTEARRAY:
    case VK_TUPLE:
    case VK_LIST:
    case VK_DICT:
    case VK_SET:
    case VK_FROZENSET:
    case VK_BUFFER:
    case VK_UNKNOWN: break;
    }
    render(v, b, x, 0);
}

/* ---- constant folding and nested loaders -------------------------------------- */

/* The bytes a constant-ish value stands for (bytes, str, BytesIO payload). */
static bool const_bytes(const val *x, const uint8_t **p, size_t *n)
{
    if (is_text(x) || (x->kind == VK_OBJ && (x->flags & VF_PAYLOAD))) {
        *p = x->p;
        *n = x->n;
        return true;
    }
    return false;
}

static int b64val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes base64 (standard or URL-safe alphabet; other bytes skipped, as
 * b64decode does without validate=True). */
static size_t unbase64(const uint8_t *p, size_t n, uint8_t *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '=')
            break;
        int d = b64val(p[i]);
        if (d < 0)
            continue;
        acc = (acc << 6) | (uint32_t)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o;
}

static int hexdig(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static size_t unhex(const uint8_t *p, size_t n, uint8_t *out)
{
    size_t o = 0;
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        int d = hexdig(p[i]);
        if (d < 0)
            continue; /* bytes.fromhex skips spaces */
        if (hi < 0)
            hi = d;
        else {
            out[o++] = (uint8_t)(hi * 16 + d);
            hi = -1;
        }
    }
    return o;
}

/* str -> latin-1 bytes (code points above 255 are dropped: the real call
 * would fail anyway). */
static size_t latin1(const uint8_t *p, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c < 0x80) {
            out[o++] = c;
            i++;
        } else if ((c & 0xe0) == 0xc0 && i + 1 < n) {
            uint32_t cp = ((uint32_t)(c & 0x1f) << 6) | (p[i + 1] & 0x3fu);
            if (cp < 256)
                out[o++] = (uint8_t)cp;
            i += 2;
        } else {
            i += (c & 0xf0) == 0xe0 ? 3 : 4;
        }
    }
    return o;
}

typedef enum fold_kind {
    FOLD_NONE,
    FOLD_B64,
    FOLD_HEX,
    FOLD_LATIN1,
    FOLD_ZLIB,
    FOLD_SAME
} fold_kind;

/* Which pure function a callable is, for constant folding. */
static fold_kind fold_of(const vm *v, const val *fn, const val *args)
{
    static const struct {
        const char *m, *n;
        fold_kind k;
    } table[] = {
        {"base64", "b64decode", FOLD_B64},
        {"base64", "standard_b64decode", FOLD_B64},
        {"base64", "urlsafe_b64decode", FOLD_B64},
        {"base64", "decodebytes", FOLD_B64},
        {"base64", "decodestring", FOLD_B64},
        {"binascii", "a2b_base64", FOLD_B64},
        {"binascii", "unhexlify", FOLD_HEX},
        {"binascii", "a2b_hex", FOLD_HEX},
        {"builtins", "bytes.fromhex", FOLD_HEX},
        {"builtins", "bytearray.fromhex", FOLD_HEX},
        {"_codecs", "encode", FOLD_LATIN1},
        {"codecs", "encode", FOLD_LATIN1},
        {"zlib", "decompress", FOLD_ZLIB},
        {"builtins", "bytes", FOLD_SAME},
        {"builtins", "bytearray", FOLD_SAME},
        {"io", "BytesIO", FOLD_SAME},
        {"_io", "BytesIO", FOLD_SAME},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (is_global(v, fn, table[i].m, table[i].n))
            return table[i].k;
    if (is_global(v, fn, "codecs", "decode") || is_global(v, fn, "_codecs", "decode")) {
        const val *enc = item(args, 1);
        if (enc && enc->kind == VK_STR) {
            if (enc->n >= 3 && !memcmp(enc->p, "hex", 3))
                return FOLD_HEX;
            if (enc->n >= 6 && !memcmp(enc->p, "base64", 6))
                return FOLD_B64;
            if (enc->n >= 4 && !memcmp(enc->p, "zlib", 4))
                return FOLD_ZLIB;
        }
    }
    return FOLD_NONE;
}

/* Keeps p among the blocks freed with the stream. */
static bool keep_block(vm *v, void *p)
{
    if (v->nblocks == v->blocks_cap) {
        size_t cap = v->blocks_cap ? v->blocks_cap * 2 : 64;
        void **b = realloc(v->blocks, cap * sizeof *b);
        if (!b) {
            v->r->nomem = true;
            return false;
        }
        v->blocks = b;
        v->blocks_cap = cap;
    }
    v->blocks[v->nblocks++] = p;
    return true;
}

/* zlib.decompress into a buffer that grows as needed, up to cap bytes. */
static uint8_t *inflate_all(const uint8_t *p, size_t n, size_t cap, size_t *outn, bool *capped,
                            bool *nomem)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK) {
        *nomem = true;
        return NULL;
    }
    size_t size = 65536 < cap ? 65536 : cap;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        *nomem = true;
    zs.next_in = (Bytef *)(uintptr_t)p;
    zs.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
    int rc = Z_OK;
    while (buf) {
        zs.next_out = buf + zs.total_out;
        zs.avail_out = (uInt)(size - zs.total_out);
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END || (rc != Z_OK && rc != Z_BUF_ERROR))
            break;
        if (zs.total_out < size)
            break; /* input exhausted without the end: truncated stream */
        if (size >= cap) {
            *capped = true;
            break;
        }
        size_t bigger = size * 2 < cap ? size * 2 : cap;
        uint8_t *nb = realloc(buf, bigger);
        if (!nb) {
            free(buf);
            buf = NULL;
            *nomem = true;
            break;
        }
        buf = nb;
        size = bigger;
    }
    *outn = zs.total_out;
    inflateEnd(&zs);
    if (buf && rc != Z_STREAM_END && !*capped) {
        free(buf);
        return NULL; /* the real call raises: not valid zlib data */
    }
    return buf;
}

/* Applies a folding function to a constant; *out points at bytes owned by
 * the stream, counted against max_decoded. */
static bool fold(vm *v, fold_kind k, const uint8_t *p, size_t n, const uint8_t **out, size_t *outn,
                 size_t off)
{
    size_t room = v->lim->max_decoded - v->decoded;
    uint8_t *buf = NULL;
    size_t o = 0;
    bool capped = false;
    if (k == FOLD_ZLIB) {
        bool nomem = false;
        buf = inflate_all(p, n, room, &o, &capped, &nomem);
        if (nomem)
            v->r->nomem = true;
    } else {
        if (n > room) {
            capped = true;
            n = room;
        }
        buf = malloc(n ? n : 1);
        if (!buf)
            v->r->nomem = true;
        if (buf) {
            switch (k) {
            case FOLD_B64: o = unbase64(p, n, buf); break;
            case FOLD_HEX: o = unhex(p, n, buf); break;
            case FOLD_LATIN1: o = latin1(p, n, buf); break;
            case FOLD_SAME:
                memcpy(buf, p, n);
                o = n;
                break;
            case FOLD_ZLIB:
            case FOLD_NONE: break;
            }
        }
    }
    if (!buf || !keep_block(v, buf)) {
        free(buf);
        return false;
    }
    if (capped)
        FINDING(v, "limit_reached", SEV_MEDIUM, 50, off, NULL, NULL,
                "limit reached: decoded bytes (%zu); the decoded constant is cut there",
                v->lim->max_decoded);
    static const char *const names[] = {"none", "base64", "hex", "latin1", "zlib", "copy"};
    if (k == FOLD_B64 || k == FOLD_HEX || k == FOLD_ZLIB)
        trace_line(v, "DECODED %s @%zu %zu", names[k], off, o);
    v->decoded += o;
    *out = buf;
    *outn = o;
    return true;
}

static bool is_loader(const vm *v, const val *fn)
{
    static const char *const loaders[][2] = {
        {"pickle", "loads"},
        {"pickle", "load"},
        {"pickle", "_loads"},
        {"pickle", "_load"},
        {"_pickle", "loads"},
        {"_pickle", "load"},
        {"torch", "load"},
        {"torch.serialization", "load"},
        {"torch.storage", "_load_from_bytes"},
        {"numpy", "loads"},
        {"numpy", "load"},
        {"numpy.core.multiarray", "loads"},
        {"numpy.core.numeric", "loads"},
        {"joblib", "load"},
        {"joblib.numpy_pickle", "load"},
        {"dill", "loads"},
        {"dill", "load"},
        {"dill._dill", "loads"},
        {"cloudpickle", "loads"},
        {"cloudpickle", "load"},
        {"pandas", "read_pickle"},
        {"pandas.io.pickle", "read_pickle"},
    };
    for (size_t i = 0; i < sizeof loaders / sizeof loaders[0]; i++)
        if (is_global(v, fn, loaders[i][0], loaders[i][1]))
            return true;
    return false;
}

/* ---- calls ------------------------------------------------------------------- */

typedef enum getattr_shape {
    GA_BENIGN,       /* getattr(<allowlisted class>, '<NAME>'): an Enum member */
    GA_UNKNOWN_BASE, /* the same shape on a class that is merely not allowlisted */
    GA_DANGEROUS     /* anything else */
} getattr_shape;

/* Judges builtins.getattr(args): a constant, public, harmless attribute
 * name on a class global is the Enum-member shape CPython 3.11 writes. */
static getattr_shape getattr_of(const vm *v, const val *args)
{
    if (args->kind == VK_TUPLE && (args->flags & VF_OPAQUE))
        return GA_UNKNOWN_BASE; /* contents untracked past a limit, already reported */
    const val *base = item(args, 0), *name = item(args, 1);
    if (!base || !name || count_of(args) != 2 || base->kind != VK_GLOBAL || name->kind != VK_STR ||
        !(name->flags & VF_LITERAL) || name->n == 0 || name->n > 200)
        return GA_DANGEROUS;
    const tr_global *g = global_of(v, base);
    if (!g || memchr(name->p, '\0', name->n) || memchr(name->p, '.', name->n))
        return GA_DANGEROUS;
    char attr[256], qual[512];
    memcpy(attr, name->p, name->n);
    attr[name->n] = '\0';
    snprintf(qual, sizeof qual, "%s.%s", g->name, attr);
    if (policy_classify(v->sc->pol, g->module, qual).cls == POL_ALLOWED)
        return GA_BENIGN;
    if (policy_dangerous_attr(attr))
        return GA_DANGEROUS;
    if (base->cls == POL_ALLOWED && base->pkind == POL_KIND_CLASS)
        return GA_BENIGN;
    if (base->cls == POL_UNKNOWN || base->cls == POL_FLAGGED)
        return GA_UNKNOWN_BASE;
    return GA_DANGEROUS;
}

/* A finding about calling a dangerous global: it replaces the finding its
 * import raised (same rule and global), since the call says more. */
static void call_finding(vm *v, const char *rule, size_t off, const char *m, const char *n,
                         const char *text)
{
    for (size_t i = 0; i < v->r->nfindings; i++) {
        tr_finding *f = &v->r->findings[i];
        if (f->severity == SEV_CRITICAL && m && n && f->module && f->name && f->message &&
            !strcmp(f->module, m) && !strcmp(f->name, n) &&
            ((f->member == NULL) == (v->member == NULL)) &&
            (!f->member || !strcmp(f->member, v->member)) && strncmp(f->message, "calls", 5)) {
            char *msg = strdup(text), *rl = strdup(rule);
            if (msg && rl) {
                free(f->message);
                free(f->rule);
                f->message = msg;
                f->rule = rl;
            } else {
                free(msg);
                free(rl);
            }
            f->offset = off;
            f->count++;
            return;
        }
    }
    FINDING(v, rule, SEV_CRITICAL, 100, off, m, n, "%s", text);
}

/* A call the loader makes: callable fn with argument tuple args (kwargs
 * for NEWOBJ_EX). Records it, judges it, folds constants, follows nested
 * pickles, and returns the value the call leaves on the stack. */
static val call(vm *v, size_t off, uint8_t opc, const val *fn, const val *args, const val *kwargs,
                const char *suffix)
{
    sbuf name = {.len = 0}, a = {.len = 0};
    callable_name(v, fn, &name);
    sb_put(&name, "%s", suffix);
    render(v, &a, args, 0);
    if (kwargs) {
        sb_put(&a, ", **");
        render(v, &a, kwargs, 0);
    }
    add_call(v, off, opc, name.buf, a.buf);

    val res = mkval(VK_OBJ);
    res.g = fn->g;
    res.cls = fn->cls;
    res.pkind = fn->pkind;
    const tr_global *g = global_of(v, fn);
    const char *gm = g ? g->module : NULL, *gn = g ? g->name : NULL;

    if (fn->kind == VK_GLOBAL) {
        if (is_global(v, fn, "builtins", "getattr")) {
            getattr_shape ga = opc == OP_REDUCE ? getattr_of(v, args) : GA_DANGEROUS;
            const val *base = item(args, 0), *attr = item(args, 1);
            if (ga != GA_DANGEROUS && (!base || !attr)) {
                FINDING(v, "attribute_of_unknown", SEV_MEDIUM, 50, off, "builtins", "getattr",
                        "getattr with arguments not tracked past a limit");
                res.cls = POL_UNKNOWN;
                return res;
            }
            if (ga != GA_DANGEROUS) {
                res = mkval(VK_ATTR);
                res.g = base->g;
                res.cls = ga == GA_BENIGN ? POL_ALLOWED : POL_UNKNOWN;
                res.p = attr->p;
                res.n = attr->n;
                if (ga == GA_UNKNOWN_BASE)
                    FINDING(v, "attribute_of_unknown", SEV_MEDIUM, 50, off, "builtins", "getattr",
                            "getattr%s on a class that is not on the allowlist", a.buf);
                return res;
            }
            FINDING(v, "resolver", SEV_CRITICAL, 100, off, "builtins", "getattr",
                    "calls builtins.getattr%s: only getattr(<allowlisted class>, '<NAME>') is "
                    "benign",
                    a.buf);
            res.cls = POL_DANGEROUS;
            return res;
        }
        if (fn->cls == POL_DANGEROUS) {
            char text[600];
            snprintf(text, sizeof text, "calls %s%s", name.buf, a.buf);
            call_finding(v, g && g->category ? g->category : "dangerous_call", off, gm, gn, text);
        }
        if (fn->cls == POL_ALLOWED && fn->pkind == POL_KIND_CONST)
            FINDING(v, "call_on_constant", SEV_MEDIUM, 50, off, gm, gn, "calls the constant %s",
                    name.buf);
        /* Objects made by allowlisted classes and functions are fresh: BUILD
         * and SETITEMS on them are the pickler's normal doing. The class of
         * copyreg._reconstructor's result is its first argument. */
        if (is_global(v, fn, "numpy", "dtype")) {
            const val *t = item(args, 0);
            if (t && t->kind == VK_STR && !(t->flags & VF_OPAQUE)) {
                res.flags |= VF_DTYPE;
                res.p = t->p;
                res.n = t->n;
            }
        }
        if (fn->cls == POL_ALLOWED) {
            const val *cls0 = item(args, 0);
            if (is_global(v, fn, "copyreg", "_reconstructor") ||
                is_global(v, fn, "copyreg", "__newobj__") ||
                is_global(v, fn, "copyreg", "__newobj_ex__")) {
                if (cls0 && cls0->kind == VK_GLOBAL && cls0->cls == POL_ALLOWED) {
                    res.flags |= VF_FRESH;
                    res.g = cls0->g;
                }
            } else {
                res.flags |= VF_FRESH;
            }
        }
        /* Nested pickles: a loader on constant bytes is scanned; on anything
         * else it loads what the pickle computed at run time. */
        if (is_loader(v, fn)) {
            const val *a0 = item(args, 0);
            const uint8_t *p;
            size_t n;
            if (a0 && const_bytes(a0, &p, &n)) {
                if (v->depth + 1 > v->lim->max_nesting) {
                    limit(v, off, opc, "nested pickle depth", (size_t)v->lim->max_nesting);
                } else {
                    char member[256];
                    snprintf(member, sizeof member, "%s%snested@%zu", v->member ? v->member : "",
                             v->member ? "!" : "", off);
                    /* An allowlisted loader (torch.storage._load_from_bytes in old
                     * checkpoints) is judged by what it loads; any other is
                     * flagged for loading at all. */
                    bool allowed = fn->cls == POL_ALLOWED;
                    FINDING(v, "nested_pickle", allowed ? SEV_INFO : SEV_HIGH, allowed ? 0 : 70,
                            off, gm, gn,
                            "%s loads a constant nested pickle of %zu bytes, scanned as %s",
                            name.buf, n, member);
                    trace_line(v, "NESTED %s @%zu %zu", name.buf, off, n);
                    bool torch_legacy = gm && (!strcmp(gm, "torch") || !strncmp(gm, "torch.", 6));
                    scan_nested(v->sc, v->r, p, n, member, v->depth + 1, torch_legacy);
                }
            } else {
                trace_line(v, "NESTED_DYNAMIC %s @%zu", name.buf, off);
                FINDING(v, "nested_loader_dynamic", SEV_CRITICAL, 100, off, gm, gn,
                        "%s loads data built at run time: %s", name.buf, a.buf);
            }
            return res;
        }
        fold_kind fk = fold_of(v, fn, args);
        const val *a0 = item(args, 0);
        const uint8_t *p, *outp;
        size_t n, outn;
        if (fk != FOLD_NONE && a0 && const_bytes(a0, &p, &n) &&
            fold(v, fk, p, n, &outp, &outn, off)) {
            val b = mkval(VK_BYTES);
            if (is_global(v, fn, "io", "BytesIO") || is_global(v, fn, "_io", "BytesIO")) {
                b = res;
                b.flags |= VF_PAYLOAD;
            }
            b.p = outp;
            b.n = outn;
            return b;
        }
        return res;
    }
    if (fn->kind == VK_ATTR) {
        char qual[512], attr[128];
        size_t an = fn->n < sizeof attr - 1 ? fn->n : sizeof attr - 1;
        memcpy(attr, fn->p, an);
        attr[an] = '\0';
        snprintf(qual, sizeof qual, "%s.%s", gn ? gn : "?", attr);
        pol_verdict pv = policy_classify(v->sc->pol, gm ? gm : "?", qual);
        if (pv.cls == POL_ALLOWED) {
            res.flags |= VF_FRESH;
            return res;
        }
        if (pv.cls == POL_DANGEROUS || policy_dangerous_attr(attr))
            FINDING(v, "resolver", SEV_CRITICAL, 100, off, gm, qual,
                    "calls %s, a dangerous attribute reached through getattr", name.buf);
        else
            FINDING(v, "attribute_call", SEV_MEDIUM, 50, off, gm, qual,
                    "calls %s, an attribute that is not on the allowlist", name.buf);
        return res;
    }
    FINDING(v, "call_on_computed", SEV_HIGH, 70, off, NULL, NULL,
            "%s calls a value that is not a global: %s", op_lookup(opc)->name, name.buf);
    res.g = -1;
    res.cls = POL_UNKNOWN;
    return res;
}

/* SETITEM(S), APPEND(S), ADDITEMS, BUILD on target: benign on a fresh
 * container or a fresh instance of an allowlisted class; monkeypatching on a
 * global; a call of the target's method otherwise. */
static bool mutate(vm *v, size_t off, uint8_t opc, const val *target, const char *method,
                   const char *what)
{
    if (target->flags & VF_FRESH) {
        bool container = target->kind == VK_LIST || target->kind == VK_DICT ||
                         target->kind == VK_SET || target->kind == VK_OBJ;
        if (container || opc == OP_BUILD)
            return true;
    }
    sbuf name = {.len = 0};
    callable_name(v, target, &name);
    sb_put(&name, ".%s", method);
    add_call(v, off, opc, name.buf, what);
    const tr_global *g = global_of(v, target);
    if (target->kind == VK_GLOBAL || target->kind == VK_ATTR)
        FINDING(v, opc == OP_BUILD ? "build_on_global" : "global_mutation", SEV_CRITICAL, 100, off,
                g ? g->module : NULL, g ? g->name : NULL,
                "%s on %s: changes a module, class or function at load time", op_lookup(opc)->name,
                name.buf);
    else
        FINDING(v, opc == OP_BUILD ? "build_on_object" : "object_mutation", SEV_MEDIUM, 50, off,
                NULL, NULL, "%s calls %s on an object that is not a fresh allowlisted one",
                op_lookup(opc)->name, name.buf);
    return false;
}

/* ---- the opcode loop ----------------------------------------------------------- */

static void anomaly_findings(vm *v, const dec_op *op)
{
    unsigned an = op->anomalies;
    static const struct {
        unsigned bit;
        const char *id;
    } ids[] = {{DEC_ANOM_FRAME_NESTED, "frame_nested"},
               {DEC_ANOM_FRAME_CROSSED, "frame_crossed"},
               {DEC_ANOM_FRAME_UNFINISHED, "frame_unfinished"},
               {DEC_ANOM_FRAME_SHORT, "frame_short"},
               {DEC_ANOM_PROTO_LATE, "proto_late"},
               {DEC_ANOM_ABOVE_PROTO, "above_proto"}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (an & ids[i].bit)
            trace_line(v, "ANOMALY %s @%zu %s", ids[i].id, op->offset, op->info->name);
    if (an & (DEC_ANOM_FRAME_NESTED | DEC_ANOM_FRAME_CROSSED | DEC_ANOM_FRAME_UNFINISHED |
              DEC_ANOM_FRAME_SHORT))
        FINDING(v, "frame_violation", SEV_CRITICAL, 90, op->offset, NULL, NULL,
                "%s: %s (no pickler writes this; some unpicklers accept it)", op->info->name,
                (an & DEC_ANOM_FRAME_NESTED)    ? "FRAME inside an unfinished frame"
                : (an & DEC_ANOM_FRAME_SHORT)   ? "FRAME longer than the data that follows"
                : (an & DEC_ANOM_FRAME_CROSSED) ? "opcode runs past the end of its frame"
                                                : "STOP before the end of the frame");
    if (an & DEC_ANOM_PROTO_LATE)
        FINDING(v, "protocol_anomaly", SEV_MEDIUM, 40, op->offset, NULL, NULL,
                "PROTO after the first opcode");
    if (an & DEC_ANOM_ABOVE_PROTO)
        FINDING(v, "protocol_anomaly", SEV_MEDIUM, 40, op->offset, NULL, NULL,
                "%s is newer than the declared protocol", op->info->name);
}

/* Pushes a decoded literal argument as a value. */
static val literal(vm *v, const dec_op *op, vkind k)
{
    val x = mkval(k);
    x.flags = VF_LITERAL;
    const dec_value *a = &op->arg;
    switch (a->kind) {
    case DV_INT:
    case DV_BOOL: x.i = a->i; break;
    case DV_FLOAT: x.f = a->f; break;
    case DV_BIGINT:
    case DV_BYTES:
    case DV_STR:
        x.n = a->n;
        /* Arguments in the decoder's scratch buffer must be copied. */
        if (a->p >= v->data && a->p + a->n <= v->data + v->len) {
            x.p = a->p;
        } else {
            x.p = heap_copy(v, a->p, a->n);
            if (!x.p) {
                heap_full(v, op->offset);
                x.flags |= VF_OPAQUE;
                x.n = 0;
                x.p = (const uint8_t *)"";
            }
        }
        break;
    case DV_NONE:
    case DV_PAIR: break;
    }
    return x;
}

/* Item size of a numpy type string ("<f8", "|b1", "U10", "O"), 0 when
 * unknown, SIZE_MAX for object. */
static size_t dtype_itemsize(const uint8_t *p, size_t n)
{
    size_t i = 0;
    if (i < n && (p[i] == '<' || p[i] == '>' || p[i] == '|' || p[i] == '='))
        i++;
    if (i >= n)
        return 0;
    char kind = (char)p[i++];
    size_t digits = 0, num = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9' && digits < 12) {
        num = num * 10 + (size_t)(p[i++] - '0');
        digits++;
    }
    if (kind == 'O')
        return SIZE_MAX;
    if (kind == '?')
        return 1;
    if (!digits)
        return 0;
    if (kind == 'U')
        return num * 4;
    if (strchr("biufcSVMm", kind))
        return num;
    return 0;
}

/* BUILD on joblib's NumpyArrayWrapper: joblib then reads the array from the
 * file itself, right after the BUILD: a pickle for object dtypes, else an
 * optional padding and shape x itemsize raw bytes. Works out what follows
 * so that the opcode loop can skip it exactly and resume. */
static void joblib_wrapper(vm *v, const val *state, size_t off)
{
    if (state->kind != VK_DICT || !state->o) {
        vm_fail(v, off, OP_BUILD, "joblib array wrapper without a readable state");
        return;
    }
    const val *shape = NULL, *dtype = NULL;
    bool aligned = false;
    for (uint32_t i = 0; i + 1 < state->o->nitems; i += 2) {
        const val *k = &state->o->items[i], *x = &state->o->items[i + 1];
        if (k->kind != VK_STR)
            continue;
        if (k->n == 5 && !memcmp(k->p, "shape", 5))
            shape = x;
        else if (k->n == 5 && !memcmp(k->p, "dtype", 5))
            dtype = x;
        else if (k->n == 27 && !memcmp(k->p, "numpy_array_alignment_bytes", 27))
            aligned = x->kind != VK_NONE;
    }
    size_t itemsize = dtype && (dtype->flags & VF_DTYPE) ? dtype_itemsize(dtype->p, dtype->n) : 0;
    if (!shape || shape->kind != VK_TUPLE || (shape->flags & VF_OPAQUE) || itemsize == 0) {
        vm_fail(v, off, OP_BUILD, "joblib array wrapper: shape or dtype not understood");
        return;
    }
    uint64_t count = 1;
    for (size_t i = 0; i < count_of(shape); i++) {
        const val *d = item(shape, i);
        if (!d || d->kind != VK_INT || d->i < 0 ||
            (d->i > 0 && count > UINT64_MAX / (uint64_t)d->i)) {
            vm_fail(v, off, OP_BUILD, "joblib array wrapper: shape not understood");
            return;
        }
        count *= (uint64_t)d->i;
    }
    v->joblib_array = true;
    v->joblib_object = itemsize == SIZE_MAX;
    v->joblib_aligned = aligned;
    if (!v->joblib_object && count > UINT64_MAX / itemsize) {
        vm_fail(v, off, OP_BUILD, "joblib array wrapper: array size overflows");
        v->joblib_array = false;
        return;
    }
    v->joblib_bytes = v->joblib_object ? 0 : count * itemsize;
}

static void step(vm *v, const dec_op *op)
{
    size_t off = op->offset;
    uint8_t opc = op->info->byte;
    size_t mark;
    val a, b, c, x;

    switch ((op_code)opc) {
    case OP_MARK:
        if (v->nmarks == v->marks_cap) {
            if (v->nmarks >= v->lim->max_marks) {
                limit(v, off, opc, "open marks", v->lim->max_marks);
                return;
            }
            size_t cap = v->marks_cap ? v->marks_cap * 2 : 64;
            size_t *m = realloc(v->marks, cap * sizeof *m);
            if (!m) {
                oom(v, off, opc, "mark");
                return;
            }
            v->marks = m;
            v->marks_cap = cap;
        }
        v->marks[v->nmarks++] = v->sp;
        return;
    case OP_STOP: pop(v, &a, off, opc); return;
    case OP_POP:
        if (v->nmarks && v->marks[v->nmarks - 1] == v->sp)
            v->nmarks--;
        else
            pop(v, &a, off, opc);
        return;
    case OP_POP_MARK:
        if (marker(v, &mark, off, opc))
            v->sp = mark;
        return;
    case OP_DUP:
        if (v->sp <= fence(v)) {
            underflow(v, off, opc);
            return;
        }
        push(v, v->stack[v->sp - 1], off, opc);
        return;
    case OP_FLOAT:
    case OP_BINFLOAT: push(v, literal(v, op, VK_FLOAT), off, opc); return;
    case OP_INT:
    case OP_BININT:
    case OP_BININT1:
    case OP_BININT2:
    case OP_LONG:
    case OP_LONG1:
    case OP_LONG4:
        x = literal(v, op,
                    op->arg.kind == DV_BOOL     ? VK_BOOL
                    : op->arg.kind == DV_BIGINT ? VK_BIGINT
                                                : VK_INT);
        push(v, x, off, opc);
        return;
    case OP_NONE: push(v, mkval(VK_NONE), off, opc); return;
    case OP_NEWTRUE:
    case OP_NEWFALSE:
        x = mkval(VK_BOOL);
        x.i = opc == OP_NEWTRUE;
        push(v, x, off, opc);
        return;
    case OP_STRING:
    case OP_BINSTRING:
    case OP_SHORT_BINSTRING: push(v, literal(v, op, VK_PY2STR), off, opc); return;
    case OP_UNICODE:
    case OP_BINUNICODE:
    case OP_SHORT_BINUNICODE:
    case OP_BINUNICODE8: push(v, literal(v, op, VK_STR), off, opc); return;
    case OP_BINBYTES:
    case OP_SHORT_BINBYTES:
    case OP_BINBYTES8: push(v, literal(v, op, VK_BYTES), off, opc); return;
    case OP_BYTEARRAY8: push(v, literal(v, op, VK_BYTEARRAY), off, opc); return;
    case OP_EMPTY_DICT: push(v, mkcontainer(v, VK_DICT, off), off, opc); return;
    case OP_EMPTY_LIST: push(v, mkcontainer(v, VK_LIST, off), off, opc); return;
    case OP_EMPTY_TUPLE:
        /* Tuples never grow: the empty one needs no record. */
        x = mkval(VK_TUPLE);
        x.flags = VF_FRESH;
        push(v, x, off, opc);
        return;
    case OP_EMPTY_SET: push(v, mkcontainer(v, VK_SET, off), off, opc); return;
    case OP_TUPLE1:
    case OP_TUPLE2:
    case OP_TUPLE3: {
        size_t n = (size_t)(opc - OP_TUPLE1 + 1);
        if (v->sp < n || v->sp - n < fence(v)) {
            underflow(v, off, opc);
            return;
        }
        push(v, collect(v, VK_TUPLE, v->sp - n, off), off, opc);
        return;
    }
    case OP_TUPLE:
    case OP_LIST:
    case OP_FROZENSET:
        if (marker(v, &mark, off, opc))
            push(v,
                 collect(v,
                         opc == OP_TUPLE  ? VK_TUPLE
                         : opc == OP_LIST ? VK_LIST
                                          : VK_FROZENSET,
                         mark, off),
                 off, opc);
        return;
    case OP_DICT:
        if (!marker(v, &mark, off, opc))
            return;
        if ((v->sp - mark) % 2) {
            vm_fail(v, off, opc, "odd number of items for DICT");
            return;
        }
        push(v, collect(v, VK_DICT, mark, off), off, opc);
        return;
    case OP_APPEND:
    case OP_APPENDS:
    case OP_SETITEM:
    case OP_SETITEMS:
    case OP_ADDITEMS: {
        size_t x0;
        if (opc == OP_APPEND || opc == OP_SETITEM) {
            size_t k = opc == OP_APPEND ? 1 : 2;
            if (v->sp < k) {
                underflow(v, off, opc);
                return;
            }
            x0 = v->sp - k;
        } else if (!marker(v, &x0, off, opc)) {
            return;
        }
        if (x0 > v->sp || x0 <= fence(v)) {
            underflow(v, off, opc);
            return;
        }
        bool pairs = opc == OP_SETITEM || opc == OP_SETITEMS;
        if (pairs && (v->sp - x0) % 2) {
            vm_fail(v, off, opc, "odd number of items for SETITEMS");
            return;
        }
        if (v->sp == x0 && opc != OP_SETITEM && opc != OP_APPEND)
            return; /* nothing to do: the loader returns before touching the target */
        val *target = &v->stack[x0 - 1];
        sbuf items = {.len = 0};
        val t = mkcontainer(v, pairs ? VK_DICT : VK_TUPLE, off);
        for (size_t i = x0; i < v->sp && t.o; i++)
            obj_add(v, t.o, v->stack[i], off);
        render(v, &items, &t, 0);
        const char *method = pairs ? "__setitem__" : opc == OP_ADDITEMS ? "add" : "extend";
        bool tracked =
            (target->kind == VK_LIST || target->kind == VK_DICT || target->kind == VK_SET) &&
            target->o;
        if (mutate(v, off, opc, target, method, items.buf) && tracked) {
            for (size_t i = x0; i < v->sp; i++)
                obj_add(v, target->o, v->stack[i], off);
            if (pairs)
                target->o->total -= (v->sp - x0) / 2;
        }
        v->sp = x0;
        return;
    }
    case OP_BUILD:
        if (!pop(v, &a, off, opc))
            return;
        if (v->sp <= fence(v)) {
            underflow(v, off, opc);
            return;
        }
        {
            sbuf st = {.len = 0};
            render(v, &st, &a, 0);
            const val *target = &v->stack[v->sp - 1];
            if (mutate(v, off, opc, target, "__setstate__", st.buf) && target->kind == VK_OBJ &&
                is_global(v, &(val){.kind = VK_GLOBAL, .g = target->g}, "joblib.numpy_pickle",
                          "NumpyArrayWrapper"))
                joblib_wrapper(v, &a, off);
        }
        return;
    case OP_GLOBAL:
        push(v, import(v, off, opc, op->arg.p, op->arg.n, op->arg.p2, op->arg.n2), off, opc);
        return;
    case OP_STACK_GLOBAL:
        if (!pop(v, &b, off, opc) || !pop(v, &a, off, opc))
            return;
        {
            bool lit_a = a.kind == VK_STR && (a.flags & VF_LITERAL) && !(a.flags & VF_OPAQUE);
            bool lit_b = b.kind == VK_STR && (b.flags & VF_LITERAL) && !(b.flags & VF_OPAQUE);
            static const uint8_t q[] = "?";
            const uint8_t *mp = is_text(&a) ? a.p : q, *np = is_text(&b) ? b.p : q;
            size_t mn = is_text(&a) ? a.n : 1, nn = is_text(&b) ? b.n : 1;
            x = import(v, off, opc, mp, mn, np, nn);
            if (!lit_a || !lit_b) {
                sbuf ma = {.len = 0}, na = {.len = 0};
                render(v, &ma, &a, 0);
                render(v, &na, &b, 0);
                trace_line(v, "COMPUTED_NAME @%zu %s %s", off, ma.buf, na.buf);
                FINDING(v, "computed_global_name", SEV_CRITICAL, 100, off, NULL, NULL,
                        "STACK_GLOBAL with operands that are not str literals: module %s, name "
                        "%s (the name is computed at load time)",
                        ma.buf, na.buf);
                x.cls = POL_DANGEROUS;
            }
            push(v, x, off, opc);
        }
        return;
    case OP_INST:
        if (!marker(v, &mark, off, opc))
            return;
        x = import(v, off, opc, op->arg.p, op->arg.n, op->arg.p2, op->arg.n2);
        c = collect(v, VK_TUPLE, mark, off);
        push(v, call(v, off, opc, &x, &c, NULL, ""), off, opc);
        return;
    case OP_OBJ:
        if (!marker(v, &mark, off, opc))
            return;
        if (v->sp - mark < 1) {
            underflow(v, off, opc);
            return;
        }
        c = collect(v, VK_TUPLE, mark + 1, off);
        if (!pop(v, &a, off, opc))
            return;
        push(v, call(v, off, opc, &a, &c, NULL, ""), off, opc);
        return;
    case OP_REDUCE:
        if (!pop(v, &b, off, opc) || !pop(v, &a, off, opc))
            return;
        push(v, call(v, off, opc, &a, &b, NULL, ""), off, opc);
        return;
    case OP_NEWOBJ:
    case OP_NEWOBJ_EX:
        c = mkval(VK_NONE);
        if (opc == OP_NEWOBJ_EX && !pop(v, &c, off, opc))
            return;
        if (!pop(v, &b, off, opc) || !pop(v, &a, off, opc))
            return;
        push(v, call(v, off, opc, &a, &b, opc == OP_NEWOBJ_EX ? &c : NULL, ".__new__"), off, opc);
        return;
    case OP_PERSID:
    case OP_BINPERSID: {
        if (opc == OP_PERSID) {
            a = literal(v, op, VK_STR);
        } else if (!pop(v, &a, off, opc)) {
            return;
        }
        sbuf pid = {.len = 0};
        render(v, &pid, &a, 0);
        /* Recorded, but not an event that makes a stream pickle-like: a
         * default loader has no persistent_load and stops here. */
        bool ev = v->events;
        add_call(v, off, opc, "persistent_load", pid.buf);
        v->events = ev;
        /* torch's ('storage', <allowlisted storage type>, key, location,
         * numel) - with a sixth view-metadata item in the legacy format - is
         * the only benign shape known. */
        const val *t0 = item(&a, 0), *t1 = item(&a, 1), *t2 = item(&a, 2), *t3 = item(&a, 3);
        bool torch = a.kind == VK_TUPLE && (count_of(&a) == 5 || count_of(&a) == 6) && t0 &&
                     t0->kind == VK_STR && t0->n == 7 && !memcmp(t0->p, "storage", 7) && t1 &&
                     t1->kind == VK_GLOBAL && t1->cls == POL_ALLOWED && t2 && t2->kind == VK_STR &&
                     t3 && t3->kind == VK_STR;
        if (!torch)
            FINDING(v, "persistent_id", SEV_MEDIUM, 50, off, NULL, NULL,
                    "%s asks the loader's persistent_load for %s", op->info->name, pid.buf);
        x = mkval(VK_OBJ);
        if (torch)
            x.flags = VF_FRESH;
        push(v, x, off, opc);
        return;
    }
    case OP_GET:
    case OP_BINGET:
    case OP_LONG_BINGET:
        if (!memo_get(v, (uint64_t)op->arg.i, &x)) {
            vm_fail(v, off, opc, "Memo value not found at index %lld", (long long)op->arg.i);
            return;
        }
        push(v, x, off, opc);
        return;
    case OP_PUT:
    case OP_BINPUT:
    case OP_LONG_BINPUT:
    case OP_MEMOIZE:
        if (v->sp <= fence(v)) {
            underflow(v, off, opc);
            return;
        }
        memo_put(v, opc == OP_MEMOIZE ? v->memo_len : (uint64_t)op->arg.i, v->stack[v->sp - 1], off,
                 opc);
        return;
    case OP_PROTO:
        v->proto = (int)op->arg.i;
        if ((int)op->arg.i > v->pk->protocol)
            v->pk->protocol = (int)op->arg.i;
        return;
    case OP_FRAME: return;
    case OP_EXT1:
    case OP_EXT2:
    case OP_EXT4:
        v->events = true;
        add_call(v, off, opc, "copyreg extension registry", "");
        FINDING(v, "ext_opcode", SEV_CRITICAL, 100, off, NULL, NULL,
                "%s %lld: no extension code is registered in a default interpreter", op->info->name,
                (long long)op->arg.i);
        x = mkval(VK_GLOBAL);
        x.cls = POL_DANGEROUS;
        push(v, x, off, opc);
        return;
    case OP_NEXT_BUFFER: push(v, mkval(VK_BUFFER), off, opc); return;
    case OP_READONLY_BUFFER:
        if (v->sp <= fence(v))
            underflow(v, off, opc);
        return;
    }
}

static void vm_free(vm *v)
{
    for (vobj *o = v->objs, *next; o; o = next) {
        next = o->next;
        free(o->items);
        free(o);
    }
    for (size_t i = 0; i < v->nblocks; i++)
        free(v->blocks[i]);
    free(v->blocks);
    free(v->stack);
    free(v->marks);
    free(v->memo_dense);
    free(v->memo_used);
    free(v->memo_hash);
    free(v->trace);
    free(v->raw);
    dec_free(&v->d);
}

void vm_run(const pks_scanner *s, pks_result *r, const pks_input *in, const uint8_t *data,
            size_t len, size_t off, const char *member, int depth, vm_outcome *out)
{
    memset(out, 0, sizeof *out);
    vm v;
    memset(&v, 0, sizeof v);
    v.sc = s;
    v.lim = &s->lim;
    v.r = r;
    v.member = member;
    v.depth = depth;
    v.data = data;
    v.len = len;
    tr_pickle *pk = res_push((void **)&r->pickles, &r->npickles, &r->cappickles, sizeof *pk);
    if (!pk) {
        out->end = off;
        out->stop_scanning = true;
        out->err.code = PKS_ERR_NOMEM;
        snprintf(out->err.message, sizeof out->err.message, "out of memory");
        return;
    }
    v.pk_index = r->npickles - 1;
    pk->member = member ? strdup(member) : NULL;
    pk->offset = off;
    pk->protocol = -1;
    dec_init(&v.d, data, len, off);
    v.d.lenient_frames = true;
    v.d.max_line = s->lim.max_line;
    trace_line(&v, "PICKLE @%zu", off);
    size_t released = off; /* input pages below this were handed back */

    while (!v.failed) {
        /* The result's arrays may move when nested scans append pickles. */
        v.pk = &r->pickles[v.pk_index];
        if (r->opcodes_total >= s->lim.max_opcodes) {
            limit(&v, v.d.rd.off, -1, "opcodes per file", (size_t)s->lim.max_opcodes);
            break;
        }
        if ((r->opcodes_total & 4095) == 0 && res_expired(r, s->lim.max_findings, s->lim.max_ms)) {
            vm_fail(&v, v.d.rd.off, -1, "time limit per file reached");
            v.err.code = PKS_ERR_LIMIT;
            v.limit_hit = true;
            break;
        }
        dec_op op;
        pks_err e = dec_next(&v.d, &op);
        if (e == PKS_ERR_LIMIT) {
            limit(&v, v.d.err.offset, v.d.err.opcode, "text line length", s->lim.max_line);
            v.err = v.d.err;
            break;
        }
        if (e) {
            v.failed = true;
            v.err = v.d.err;
            if (e == PKS_ERR_NOMEM)
                r->nomem = true;
            break;
        }
        /* Give back the input pages behind the cursor every 16 MiB: values
         * that point there fault them in again if ever read. */
        if (in && op.end - released > (16u << 20)) {
            input_release(in, released, op.end - released - (1u << 20));
            released = op.end - (1u << 20);
        }
        r->opcodes_total++;
        v.pk->opcodes++;
        raw_view(&v, &op);
        if (op.anomalies)
            anomaly_findings(&v, &op);
        step(&v, &op);
        if (v.failed)
            break;
        if (v.joblib_array) {
            /* joblib's array data follows the wrapper's BUILD: skip it. */
            v.joblib_array = false;
            size_t at = v.d.rd.off;
            if (v.joblib_object) {
                vm_outcome inner;
                vm_run(s, r, in, data, len, at, member, depth, &inner);
                if (!inner.complete) {
                    vm_fail(&v, at, -1, "the pickled object array joblib reads here is broken");
                    break;
                }
                trace_line(&v, "SKIP joblib object array @%zu %zu", at, inner.end - at);
                v.d.rd.off = inner.end;
            } else {
                size_t pad = 0;
                if (v.joblib_aligned) {
                    if (at >= len) {
                        vm_fail(&v, at, -1, "joblib array padding missing");
                        break;
                    }
                    pad = 1 + data[at];
                }
                if (pad > len - at || v.joblib_bytes > len - at - pad) {
                    vm_fail(&v, at, -1, "joblib array of %llu bytes runs past the end",
                            (unsigned long long)v.joblib_bytes);
                    v.err.code = PKS_ERR_TRUNCATED;
                    break;
                }
                trace_line(&v, "SKIP joblib array @%zu %llu", at,
                           (unsigned long long)v.joblib_bytes);
                v.d.rd.off = at + pad + (size_t)v.joblib_bytes;
            }
        }
        if (op.info->byte == OP_STOP) {
            out->complete = true;
            break;
        }
    }
    if (out->complete)
        trace_line(&v, "END complete @%zu", v.d.rd.off);
    else
        trace_line(&v, "END broken @%llu %s", (unsigned long long)v.err.offset, v.err.message);
    if (s->rules) {
        rules_facts f = {member ? member : "",
                         "raw",
                         r->pickles[v.pk_index].protocol,
                         out->complete,
                         r->pickles[v.pk_index].opcodes,
                         v.n_imports,
                         v.n_calls,
                         v.n_dangerous,
                         v.n_unknown,
                         depth};
        rules_match(s->rules, r, s->lim.max_findings, &f, v.trace, v.tlen, v.raw, v.rlen, off,
                    s->jailed);
    }
    pk = &r->pickles[v.pk_index];
    pk->complete = out->complete;
    out->end = out->complete ? v.d.rd.off : (v.failed ? (size_t)v.err.offset : v.d.rd.off);
    out->events = v.events;
    out->stop_scanning = v.limit_hit;
    if (!out->complete)
        out->err = v.err;
    vm_free(&v);
}
