/* pklscan load: the layout of a file decides where its pickles are, the
 * restricted loader rebuilds each of them, and the whole of that runs in the
 * jail. Layouts: raw pickles one after another (joblib, pandas, plain
 * pickle files), PyTorch's legacy checkpoint (five pickles, the fourth with
 * storage persistent ids), zip archives (PyTorch's ARCHIVE/data.pkl with storage
 * persistent ids; every other member whose bytes start like a pickle),
 * .npy files with an object dtype (a pickle after the header). */
#include "load.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "jail.h"
#include "opcodes.h"

void pks_load_defaults(pks_load_opts *o, const policy *pol)
{
    ldr_defaults(&o->ldr, pol);
    o->sandbox = true;
    o->timeout_ms = 30000;
    o->max_memory = 8ull << 30;
}

static void put_s(ldr_buf *b, const char *s)
{
    ldr_put(b, s, strlen(s));
}

static void put_jstr(ldr_buf *b, const char *s)
{
    ldr_put_str(b, (const uint8_t *)s, strlen(s));
}

typedef struct doc {
    const ldr_opts *o;
    ldr_buf *b;
    size_t count, refused;
} doc;

/* Loads one pickle at data[off] and appends its entry; *end gets the offset
 * after STOP (or len when it failed). */
static bool one(doc *D, const char *member, const uint8_t *data, size_t len, size_t off, bool torch,
                size_t *end)
{
    ldr_buf v = {0};
    pks_error_info err;
    size_t e = len;
    pks_err rc = ldr_load(D->o, data, len, off, torch, &v, &e, &err);
    if (rc == PKS_ERR_NOMEM) {
        /* not a property of the file: the whole load failed (in the jail:
         * status "error", reason "memory") */
        ldr_buf_free(&v);
        D->b->nomem = true;
        return false;
    }
    char num[64];
    put_s(D->b, D->count++ ? ",{" : "{");
    if (member) {
        put_s(D->b, "\"member\":");
        put_jstr(D->b, member);
        put_s(D->b, ",");
    }
    snprintf(num, sizeof num, "\"offset\":%zu,", off);
    put_s(D->b, num);
    if (rc == PKS_OK) {
        put_s(D->b, "\"value\":");
        put_s(D->b, v.p ? v.p : "null");
    } else {
        D->refused++;
        const op_info *oi = err.opcode >= 0 ? op_lookup((uint8_t)err.opcode) : NULL;
        snprintf(num, sizeof num, "\"error\":{\"offset\":%" PRIu64 ",\"opcode\":", err.offset);
        put_s(D->b, num);
        put_jstr(D->b, oi ? oi->name : "");
        put_s(D->b, ",\"code\":");
        put_jstr(D->b, pks_strerror(err.code));
        put_s(D->b, ",\"message\":");
        put_jstr(D->b, err.message);
        put_s(D->b, "}");
        e = len;
    }
    put_s(D->b, "}");
    ldr_buf_free(&v);
    if (end)
        *end = e;
    return !D->b->overflow && !D->b->nomem;
}

static bool looks_like_pickle(const uint8_t *p, size_t n)
{
    return n >= 2 && p[0] == 0x80 && p[1] <= 5;
}

static uint64_t le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void zip_error(doc *D, const char *member, const char *msg)
{
    put_s(D->b, D->count++ ? ",{" : "{");
    if (member) {
        put_s(D->b, "\"member\":");
        put_jstr(D->b, member);
        put_s(D->b, ",");
    }
    put_s(D->b, "\"error\":{\"message\":");
    put_jstr(D->b, msg);
    put_s(D->b, "}}");
    D->refused++;
}

#define ZIP_MEMBER_MAX (1ull << 32) /* decompressed bytes of one member */

/* Member data, stored or deflated: *out is malloc'd, or data itself when
 * stored (*owned false). want < usize inflates only the first want bytes.
 * NULL with msg set on failure. */
static uint8_t *zip_member(const uint8_t *data, size_t len, uint64_t loc, uint64_t csize,
                           uint64_t usize, uint64_t want, unsigned method, size_t *n, bool *owned,
                           const char **msg)
{
    *owned = false;
    if (loc > len || len - loc < 30 || le(data + loc, 4) != 0x04034b50) {
        *msg = "local header missing";
        return NULL;
    }
    uint64_t start = loc + 30 + le(data + loc + 26, 2) + le(data + loc + 28, 2);
    if (start > len || csize > len - start) {
        *msg = "member data runs past the end of the file";
        return NULL;
    }
    if (method == 0) {
        *n = (size_t)csize;
        return (uint8_t *)(uintptr_t)(data + start);
    }
    if (method != 8) {
        *msg = "compression method not supported by the loader";
        return NULL;
    }
    if (usize > ZIP_MEMBER_MAX) {
        *msg = "member larger than the loader's 4 GiB limit";
        return NULL;
    }
    if (usize / 1032 > csize + 1) { /* deflate cannot expand more than 1032:1 */
        *msg = "declared size impossible for its deflate data";
        return NULL;
    }
    if (want > usize)
        want = usize;
    uint8_t *out = malloc(want ? (size_t)want : 1);
    if (!out) {
        *msg = "out of memory";
        return NULL;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) {
        free(out);
        *msg = "out of memory";
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)(data + start);
    z.avail_in = (uInt)(csize > UINT32_MAX ? UINT32_MAX : csize);
    z.next_out = out;
    z.avail_out = (uInt)(want > UINT32_MAX ? UINT32_MAX : want);
    int rc = inflate(&z, want < usize ? Z_SYNC_FLUSH : Z_FINISH);
    size_t got = (size_t)z.total_out;
    inflateEnd(&z);
    if (want < usize ? got != want : (rc != Z_STREAM_END || got != usize)) {
        free(out);
        *msg = "deflate data is corrupt or its size is not the declared one";
        return NULL;
    }
    *n = got;
    *owned = true;
    return out;
}

/* The offset of the pickle in an .npy file with an object dtype, or 0.
 * *header (may be NULL) gets the bytes the header spans, 0 when data does
 * not start like an .npy file. */
static size_t npy_pickle_at(const uint8_t *data, size_t len, uint64_t *header)
{
    if (header)
        *header = 0;
    if (len < 12 || memcmp(data, "\x93NUMPY", 6) != 0)
        return 0;
    uint64_t hl = le(data + 8, 2), start = 10;
    if (data[6] >= 2) {
        hl = le(data + 8, 4);
        start = 12;
    }
    if (header)
        *header = start + hl;
    if (hl > len - start || memmem(data + start, (size_t)hl, "'|O'", 4) == NULL)
        return 0;
    return (size_t)(start + hl);
}

static size_t npy_pickle(const uint8_t *data, size_t len)
{
    return npy_pickle_at(data, len, NULL);
}

#define NPY_PEEK (1u << 16) /* bytes of a deflated .npy member read to see its header */

/* Our own central-directory walk (zip64 included): libarchive would call
 * localtime(), which reads /etc/localtime, a file the jail cannot open. */
static bool load_zip(doc *D, const uint8_t *data, size_t len)
{
    size_t eocd = SIZE_MAX;
    for (size_t i = len >= 22 ? len - 22 : 0, stop = len > 65557 ? len - 65557 : 0; len >= 22;
         i--) {
        if (le(data + i, 4) == 0x06054b50) {
            eocd = i;
            break;
        }
        if (i == stop)
            break;
    }
    if (eocd == SIZE_MAX) {
        zip_error(D, NULL, "no end of central directory record");
        return !D->b->overflow && !D->b->nomem;
    }
    uint64_t count = le(data + eocd + 10, 2), cdoff = le(data + eocd + 16, 4);
    if ((count == 0xffff || cdoff == 0xffffffff) && eocd >= 20 &&
        le(data + eocd - 20, 4) == 0x07064b50) {
        uint64_t z64 = le(data + eocd - 20 + 8, 8);
        if (z64 <= len && len - z64 >= 56 && le(data + z64, 4) == 0x06064b50) {
            count = le(data + z64 + 32, 8);
            cdoff = le(data + z64 + 48, 8);
        }
    }
    uint64_t p = cdoff;
    for (uint64_t i = 0; i < count; i++) {
        if (p > len || len - p < 46 || le(data + p, 4) != 0x02014b50) {
            zip_error(D, NULL, "central directory entry missing or truncated");
            break;
        }
        unsigned method = (unsigned)le(data + p + 10, 2);
        uint64_t csize = le(data + p + 20, 4), usize = le(data + p + 24, 4);
        size_t nl = (size_t)le(data + p + 28, 2), xl = (size_t)le(data + p + 30, 2),
               cl = (size_t)le(data + p + 32, 2);
        uint64_t loc = le(data + p + 42, 4);
        if (len - p - 46 < (uint64_t)nl + xl + cl) {
            zip_error(D, NULL, "central directory entry truncated");
            break;
        }
        char name[1024];
        snprintf(name, sizeof name, "%.*s", (int)(nl < 1023 ? nl : 1023), data + p + 46);
        /* zip64 extra field: the sizes and offset that are 0xffffffff */
        const uint8_t *x = data + p + 46 + nl, *xe = x + xl;
        while (xe - x >= 4) {
            size_t id = (size_t)le(x, 2), sz = (size_t)le(x + 2, 2);
            if ((size_t)(xe - x - 4) < sz)
                break;
            if (id == 1) {
                const uint8_t *q = x + 4, *qe = x + 4 + sz;
                if (usize == 0xffffffff && qe - q >= 8)
                    usize = le(q, 8), q += 8;
                if (csize == 0xffffffff && qe - q >= 8)
                    csize = le(q, 8), q += 8;
                if (loc == 0xffffffff && qe - q >= 8)
                    loc = le(q, 8);
            }
            x += 4 + sz;
        }
        p += 46 + nl + xl + cl;
        size_t l = strlen(name);
        bool torch = l >= 8 && !strcmp(name + l - 8, "data.pkl");
        bool pkl = torch || (l > 4 && !strcmp(name + l - 4, ".pkl"));
        if (!pkl && method != 0 && !(l > 4 && !strcmp(name + l - 4, ".npy")))
            continue; /* only stored members and .npy files are sniffed for a pickle */
        size_t n = 0;
        bool owned;
        const char *msg = NULL;
        /* a deflated .npy member: its header first, the rest only when it
         * holds objects (the arrays of an npz are never inflated) */
        uint64_t want = !pkl && method == 8 ? NPY_PEEK : usize, header = 0;
        uint8_t *m = zip_member(data, len, loc, csize, usize, want, method, &n, &owned, &msg);
        size_t at = m ? npy_pickle_at(m, n, &header) : 0;
        if (m && want < usize && (at || header > n)) {
            if (owned)
                free(m);
            m = zip_member(data, len, loc, csize, usize, usize, method, &n, &owned, &msg);
            at = m ? npy_pickle(m, n) : 0;
        }
        if (!m) {
            if (pkl)
                zip_error(D, name, msg);
            continue;
        }
        bool ok = true;
        if (at)
            ok = one(D, name, m, n, at, false, NULL);
        else if (pkl || looks_like_pickle(m, n))
            ok = one(D, name, m, n, 0, torch, NULL);
        if (owned)
            free(m);
        if (!ok)
            return false;
    }
    return !D->b->overflow && !D->b->nomem;
}

/* A legacy torch checkpoint starts with the pickled magic number
 * 0x1950a86a20f9469cfc6c: LONG1 of 10 bytes after PROTO 2. */
static bool is_torch_legacy(const uint8_t *p, size_t n)
{
    static const uint8_t magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                    0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    return n >= sizeof magic && memcmp(p, magic, sizeof magic) == 0;
}

bool pks_load_document(const ldr_opts *o, const uint8_t *data, size_t len, ldr_buf *b)
{
    doc D = {.o = o, .b = b};
    const char *fmt = "pickle";
    if (len >= 4 && !memcmp(data, "PK\x03\x04", 4))
        fmt = "zip";
    else if (len >= 10 && !memcmp(data, "\x93NUMPY", 6))
        fmt = "npy";
    else if (is_torch_legacy(data, len))
        fmt = "torch-legacy";
    put_s(b, "{\"format\":");
    put_jstr(b, fmt);
    put_s(b, ",\"pickles\":[");
    bool ok = true;
    if (!strcmp(fmt, "zip")) {
        ok = load_zip(&D, data, len);
    } else if (!strcmp(fmt, "npy")) {
        size_t at = npy_pickle(data, len);
        if (at)
            ok = one(&D, NULL, data, len, at, false, NULL);
    } else {
        bool legacy = !strcmp(fmt, "torch-legacy");
        size_t off = 0;
        for (int i = 0; ok && off < len; i++) {
            if (legacy && i == 5)
                break; /* the raw storage bytes follow */
            if (i > 0 && !legacy && !looks_like_pickle(data + off, len - off))
                break;
            ok = one(&D, NULL, data, len, off, legacy && i == 3, &off);
        }
    }
    char tail[64];
    snprintf(tail, sizeof tail, "],\"refused\":%zu}", D.refused);
    put_s(b, tail);
    return ok && !b->overflow && !b->nomem;
}

typedef struct child_ctx {
    const ldr_opts *o;
    const uint8_t *data;
    size_t len;
} child_ctx;

static int child_main(void *ctx, int fd)
{
    child_ctx *c = ctx;
    ldr_buf b = {.max = c->o->max_output};
    if (!pks_load_document(c->o, c->data, c->len, &b)) {
        if (b.nomem)
            pks_jail_nomem();
        return 3;
    }
    return pks_jail_write(fd, b.p, b.n) == 0 ? 0 : 4;
}

/* The value of four hex digits at p (n bytes available), or -1. */
static long hex4(const char *p, size_t n)
{
    if (n < 4)
        return -1;
    long v = 0;
    for (size_t i = 0; i < 4; i++) {
        char ch = p[i];
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* cJSON rejects \u escapes of lone surrogates, which the encoding writes for
 * Python strings that hold them: a copy with those replaced by \ufffd is
 * what gets parsed. */
static char *without_lone_surrogates(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    memcpy(c, s, n);
    c[n] = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (c[i] != '\\')
            continue;
        long v = c[i + 1] == 'u' ? hex4(c + i + 2, n - i - 2) : -1;
        if (v < 0) {
            i++;
            continue;
        }
        bool high = v >= 0xd800 && v < 0xdc00, low = v >= 0xdc00 && v < 0xe000;
        if (high && i + 11 < n && c[i + 6] == '\\' && c[i + 7] == 'u') {
            long w = hex4(c + i + 8, n - i - 8);
            if (w >= 0xdc00 && w < 0xe000) {
                i += 11; /* a proper pair */
                continue;
            }
        }
        if (high || low)
            memcpy(c + i + 2, "fffd", 4);
        i += 5;
    }
    return c;
}

bool pks_load_reply_valid(const char *s, size_t n, size_t *refused)
{
    char *c = without_lone_surrogates(s, n);
    if (!c)
        return false;
    cJSON *j = cJSON_ParseWithLength(c, n);
    bool ok = j && cJSON_IsObject(j) && cJSON_IsArray(cJSON_GetObjectItem(j, "pickles")) &&
              cJSON_IsNumber(cJSON_GetObjectItem(j, "refused")) &&
              cJSON_IsString(cJSON_GetObjectItem(j, "format"));
    if (ok && refused)
        *refused = (size_t)cJSON_GetObjectItem(j, "refused")->valuedouble;
    cJSON_Delete(j);
    free(c);
    return ok;
}

static void print_json_str(FILE *out, const char *s)
{
    ldr_buf b = {.max = SIZE_MAX};
    put_jstr(&b, s);
    fputs(b.p && !b.nomem ? b.p : "\"?\"", out); /* out of memory: still valid JSON */
    ldr_buf_free(&b);
}

void pks_load_error(const char *path, const char *reason, const char *message, FILE *out)
{
    fputs("{\"file\":", out);
    print_json_str(out, path);
    fputs(",\"status\":\"error\",\"error\":{\"reason\":", out);
    print_json_str(out, reason);
    fputs(",\"message\":", out);
    print_json_str(out, message);
    fputs("}}\n", out);
}

int pks_load_report(const pks_load_opts *o, const char *path, const uint8_t *data, size_t len,
                    FILE *out)
{
    char *reply = NULL;
    size_t n = 0;
    char why[256] = "";
    const char *jail_status = NULL;
    if (o->sandbox) {
        pks_jail_opts jo;
        pks_jail_defaults(&jo);
        jo.timeout_ms = o->timeout_ms;
        jo.max_reply = o->ldr.max_output + 1024;
        jo.max_memory = o->max_memory ? o->max_memory + len : 0;
        jo.cpu_seconds = o->timeout_ms / 1000 + 1;
        child_ctx c = {&o->ldr, data, len};
        pks_jail_result r;
        if (pks_jail_run(&jo, child_main, &c, &r) == 0) {
            reply = r.reply;
            n = r.reply_len;
        } else {
            jail_status = pks_jail_status_name(r.status);
            snprintf(why, sizeof why, "%s", r.detail);
            free(r.reply);
        }
    } else {
        ldr_buf b = {.max = o->ldr.max_output};
        if (pks_load_document(&o->ldr, data, len, &b)) {
            reply = b.p;
            n = b.n;
        } else {
            snprintf(why, sizeof why, "%s", b.nomem ? "out of memory" : "output limit reached");
            ldr_buf_free(&b);
        }
    }
    size_t refused = 0;
    if (reply && !pks_load_reply_valid(reply, n, &refused)) {
        free(reply);
        reply = NULL;
        jail_status = "invalid-reply";
        snprintf(why, sizeof why, "the loader's reply is not a valid document");
    }
    fputs("{\"file\":", out);
    print_json_str(out, path);
    fprintf(out, ",\"sandbox\":\"%s\",", o->sandbox ? "seccomp" : "none");
    int rc;
    if (reply) {
        rc = refused ? 1 : 0;
        fprintf(out, "\"status\":\"%s\",", refused ? "refused" : "ok");
        fwrite(reply + 1, 1, n - 1, out); /* the document without its opening brace */
    } else {
        rc = 2;
        fputs("\"status\":\"error\",\"error\":{\"reason\":", out);
        print_json_str(out, jail_status ? jail_status : "loader");
        fputs(",\"message\":", out);
        print_json_str(out, why);
        fputs("}}", out);
    }
    fputc('\n', out);
    free(reply);
    return rc;
}
