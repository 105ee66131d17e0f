/* Container formats; see container.h.
 *
 * Every reader hands members to ct_scan again, so containers nest (a zip in
 * a zip, an npz's .npy members, a gzip'd pickle); each level adds
 * "!name" to the member path. Decompressed data goes to an unlinked
 * temporary file that is then mapped: memory stays bounded, and the total
 * per file is capped by max_decompressed (a zip bomb is a finding). */
#include "container.h"

#include "input.h"
#include "rules.h"

#include <archive.h>
#include <archive_entry.h>
#include <bzlib.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define FIND(s, r, member, rule, sev, score, off, ...)                                             \
    res_finding(r, (s)->lim.max_findings, rule, sev, score, member, off, NULL, NULL, __VA_ARGS__)

/* ---- the container trace ------------------------------------------------------ */

/* Tampering events go to a trace text that the YARA trace rules judge
 * (rules/yara/trace/container.yar): one line per event,
 * "ZIP <event> @<offset> <member or -> <detail>". */
typedef struct ctrace {
    char *text;
    size_t len, cap;
} ctrace;

static void ct_event(ctrace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ct_event(ctrace *t, const char *fmt, ...)
{
    if (t->cap - t->len < 600) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        if (cap > (1u << 20))
            return;
        char *p = realloc(t->text, cap);
        if (!p)
            return;
        t->text = p;
        t->cap = cap;
        if (t->len == 0)
            t->text[t->len++] = '\n';
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->text + t->len, 590, fmt, ap);
    va_end(ap);
    if (n > 0) {
        t->len += (size_t)n < 589 ? (size_t)n : 589;
        t->text[t->len++] = '\n';
    }
}

static void ct_judge(const pks_scanner *s, pks_result *r, ctrace *t, const char *member,
                     const char *container)
{
    if (t->len && s->rules) {
        rules_facts f = {member ? member : "", container, -1, true, 0, 0, 0, 0, 0, 0};
        rules_match(s->rules, r, s->lim.max_findings, &f, t->text, t->len, NULL, 0, 0, s->jailed);
    }
    free(t->text);
    memset(t, 0, sizeof *t);
}

/* ---- spooling decompressed bytes -------------------------------------------- */

typedef struct spool {
    FILE *f;
    size_t len;
    void *map;
    uint8_t *mem; /* in the jail (no files): the bytes in memory */
    size_t cap;
    bool in_memory;
} spool;

static bool spool_open(const pks_scanner *s, spool *sp)
{
    memset(sp, 0, sizeof *sp);
    if (s->jailed) {
        sp->in_memory = true;
        return true;
    }
    sp->f = tmpfile();
    return sp->f != NULL;
}

static bool spool_write(spool *sp, const void *p, size_t n)
{
    if (sp->in_memory) {
        if (n > sp->cap - sp->len) {
            size_t nc = sp->cap ? sp->cap : 1u << 16;
            while (nc - sp->len < n) {
                if (nc > SIZE_MAX / 2)
                    return false;
                nc *= 2;
            }
            uint8_t *q = realloc(sp->mem, nc);
            if (!q)
                return false;
            sp->mem = q;
            sp->cap = nc;
        }
        if (n)
            memcpy(sp->mem + sp->len, p, n);
        sp->len += n;
        return true;
    }
    if (n && fwrite(p, 1, n, sp->f) != n)
        return false;
    sp->len += n;
    return true;
}

/* Maps what was written; *data gets it (empty data for nothing). */
static bool spool_map(spool *sp, const uint8_t **data)
{
    static const uint8_t empty[1];
    if (sp->len == 0) {
        *data = empty;
        return true;
    }
    if (sp->in_memory) {
        *data = sp->mem;
        return true;
    }
    if (fflush(sp->f) != 0)
        return false;
    sp->map = mmap(NULL, sp->len, PROT_READ, MAP_PRIVATE, fileno(sp->f), 0);
    if (sp->map == MAP_FAILED) {
        sp->map = NULL;
        return false;
    }
    *data = sp->map;
    return true;
}

static void spool_close(spool *sp)
{
    if (sp->map)
        munmap(sp->map, sp->len);
    if (sp->f)
        fclose(sp->f);
    free(sp->mem);
    memset(sp, 0, sizeof *sp);
}

/* Bytes a file may still decompress. */
static size_t room(const pks_scanner *s, const pks_result *r)
{
    return r->decompressed < s->lim.max_decompressed ? s->lim.max_decompressed - r->decompressed
                                                     : 0;
}

typedef enum codec {
    C_GZIP,
    C_ZLIB,
    C_RAW_DEFLATE,
    C_BZ2,
    C_XZ,
    C_LZMA_ALONE,
    C_ZSTD,
    C_LZ4
} codec;

static const char *codec_name(codec c)
{
    switch (c) {
    case C_GZIP: return "gzip";
    case C_ZLIB: return "zlib";
    case C_RAW_DEFLATE: return "deflate";
    case C_BZ2: return "bz2";
    case C_XZ: return "xz";
    case C_LZMA_ALONE: return "lzma";
    case C_ZSTD: return "zstd";
    case C_LZ4: return "lz4";
    }
    return "?";
}

typedef enum dstat { D_OK, D_CORRUPT, D_CAPPED, D_IO, D_MEMLIMIT } dstat;

/* Adds got decompressed bytes to sp unless that passes cap. */
static dstat put(spool *sp, const uint8_t *out, size_t got, size_t cap)
{
    if (got > cap - sp->len)
        return D_CAPPED;
    return spool_write(sp, out, got) ? D_OK : D_IO;
}

/* Decompresses src into sp, at most cap bytes. */
static dstat decompress(codec c, const uint8_t *src, size_t n, size_t cap, spool *sp)
{
    uint8_t out[1 << 16];
    dstat st = D_OK;
    switch (c) {
    case C_GZIP:
    case C_ZLIB:
    case C_RAW_DEFLATE: {
        z_stream z;
        memset(&z, 0, sizeof z);
        int wbits = c == C_GZIP ? 16 + MAX_WBITS : c == C_ZLIB ? MAX_WBITS : -MAX_WBITS;
        if (inflateInit2(&z, wbits) != Z_OK)
            return D_IO;
        size_t done = 0;
        int rc = Z_OK;
        while (rc != Z_STREAM_END) {
            if (z.avail_in == 0 && done < n) {
                size_t chunk = n - done < (1u << 30) ? n - done : 1u << 30;
                z.next_in = (Bytef *)(uintptr_t)(src + done);
                z.avail_in = (uInt)chunk;
                done += chunk;
            }
            z.next_out = out;
            z.avail_out = sizeof out;
            rc = inflate(&z, Z_NO_FLUSH);
            size_t got = sizeof out - z.avail_out;
            if ((st = put(sp, out, got, cap)) != D_OK)
                break;
            if (rc == Z_STREAM_END)
                break;
            if (rc != Z_OK && !(rc == Z_BUF_ERROR && got > 0)) {
                st = D_CORRUPT;
                break;
            }
            if (got == 0 && z.avail_in == 0 && done >= n) {
                st = D_CORRUPT; /* input ended before the stream did */
                break;
            }
        }
        inflateEnd(&z);
        return st;
    }
    case C_BZ2: {
        bz_stream b;
        memset(&b, 0, sizeof b);
        if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK)
            return D_IO;
        b.next_in = (char *)(uintptr_t)src;
        b.avail_in = (unsigned)(n > UINT32_MAX ? UINT32_MAX : n);
        for (;;) {
            b.next_out = (char *)out;
            b.avail_out = sizeof out;
            int rc = BZ2_bzDecompress(&b);
            size_t got = sizeof out - b.avail_out;
            if ((st = put(sp, out, got, cap)) != D_OK)
                break;
            if (rc == BZ_STREAM_END)
                break;
            if (rc != BZ_OK || (got == 0 && b.avail_in == 0)) {
                st = D_CORRUPT;
                break;
            }
        }
        BZ2_bzDecompressEnd(&b);
        return st;
    }
    case C_XZ:
    case C_LZMA_ALONE: {
        /* The header chooses the dictionary size: cap the decoder's memory
         * (xz -9 needs 65 MiB), or a 13-byte file asks for 4 GiB. */
        lzma_stream l = LZMA_STREAM_INIT;
        const uint64_t memlimit = 128u << 20;
        lzma_ret init = c == C_XZ ? lzma_stream_decoder(&l, memlimit, LZMA_CONCATENATED)
                                  : lzma_alone_decoder(&l, memlimit);
        if (init != LZMA_OK)
            return D_IO;
        l.next_in = src;
        l.avail_in = n;
        for (;;) {
            l.next_out = out;
            l.avail_out = sizeof out;
            lzma_ret rc = lzma_code(&l, LZMA_FINISH);
            size_t got = sizeof out - l.avail_out;
            if ((st = put(sp, out, got, cap)) != D_OK)
                break;
            if (rc == LZMA_STREAM_END)
                break;
            if (rc == LZMA_MEMLIMIT_ERROR) {
                st = D_MEMLIMIT;
                break;
            }
            if (rc != LZMA_OK) {
                st = D_CORRUPT;
                break;
            }
        }
        lzma_end(&l);
        return st;
    }
    case C_ZSTD: {
        ZSTD_DStream *z = ZSTD_createDStream();
        if (!z)
            return D_IO;
        ZSTD_initDStream(z);
        ZSTD_inBuffer ib = {src, n, 0};
        size_t rc = 1;
        while (rc != 0) {
            ZSTD_outBuffer ob = {out, sizeof out, 0};
            rc = ZSTD_decompressStream(z, &ob, &ib);
            if (ZSTD_isError(rc)) {
                st = D_CORRUPT;
                break;
            }
            if ((st = put(sp, out, ob.pos, cap)) != D_OK)
                break;
            if (ib.pos == ib.size && ob.pos == 0 && rc != 0) {
                st = D_CORRUPT;
                break;
            }
        }
        ZSTD_freeDStream(z);
        return st;
    }
    case C_LZ4: {
        LZ4F_dctx *d;
        if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
            return D_IO;
        size_t pos = 0, rc = 1;
        while (rc != 0) {
            size_t outn = sizeof out, inn = n - pos;
            rc = LZ4F_decompress(d, out, &outn, src + pos, &inn, NULL);
            if (LZ4F_isError(rc)) {
                st = D_CORRUPT;
                break;
            }
            pos += inn;
            if ((st = put(sp, out, outn, cap)) != D_OK)
                break;
            if (pos >= n && outn == 0 && rc != 0) {
                st = D_CORRUPT;
                break;
            }
        }
        LZ4F_freeDecompressionContext(d);
        return st;
    }
    }
    return D_IO;
}

/* "member!name"; NULL (and r->nomem: the scan is incomplete) on no memory. */
static char *join(pks_result *r, const char *member, const char *name)
{
    size_t l = (member ? strlen(member) + 1 : 0) + strlen(name) + 1;
    char *p = malloc(l);
    if (p)
        snprintf(p, l, "%s%s%s", member ? member : "", member ? "!" : "", name);
    else
        r->nomem = true;
    return p;
}

/* Decompresses and scans what a compressed stream holds. */
static bool scan_compressed(const pks_scanner *s, pks_result *r, const uint8_t *data, size_t len,
                            const char *member, int cdepth, codec c)
{
    if (res_expired(r, s->lim.max_findings, s->lim.max_ms))
        return true;
    spool sp;
    if (!spool_open(s, &sp)) {
        res_error(r, member, 0, -1, PKS_ERR_IO,
                  "cannot create a temporary file to decompress into");
        FIND(s, r, member, "container.unreadable", SEV_MEDIUM, 50, 0,
             "the %s data could not be decompressed (no temporary file)", codec_name(c));
        return true;
    }
    dstat st = decompress(c, data, len, room(s, r), &sp);
    r->decompressed += sp.len;
    if (st == D_CAPPED)
        FIND(s, r, member, "limit_reached", SEV_MEDIUM, 50, 0,
             "limit reached: decompressed bytes (%zu): %s data expands beyond it (a compression "
             "bomb is not followed)",
             s->lim.max_decompressed, codec_name(c));
    else if (st == D_CORRUPT)
        FIND(s, r, member, "container.corrupt", SEV_MEDIUM, 50, 0,
             "the %s stream is corrupt or truncated after %zu decompressed bytes", codec_name(c),
             sp.len);
    else if (st == D_MEMLIMIT)
        FIND(s, r, member, "limit_reached", SEV_MEDIUM, 50, 0,
             "limit reached: the %s header asks for more than 128 MiB of decoder memory",
             codec_name(c));
    const uint8_t *inner;
    bool found = true;
    if (st == D_IO || !spool_map(&sp, &inner)) {
        res_error(r, member, 0, -1, PKS_ERR_IO, "decompression failed");
    } else {
        char *m = join(r, member, codec_name(c));
        found = ct_scan(s, r, NULL, inner, sp.len, m, cdepth + 1) || st != D_OK;
        free(m);
    }
    spool_close(&sp);
    return found;
}

/* ---- npy ------------------------------------------------------------------------ */

/* .npy: magic, version, header length, a Python dict literal; an object
 * dtype (alone or inside a structured dtype) means a pickle follows. */
static bool scan_npy(const pks_scanner *s, pks_result *r, const uint8_t *data, size_t len,
                     const char *member)
{
    if (len < 10) {
        FIND(s, r, member, "container.corrupt", SEV_MEDIUM, 50, 0, "truncated .npy header");
        return true;
    }
    uint8_t major = data[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)data[8] | (size_t)data[9] << 8;
        hstart = 10;
    } else if ((major == 2 || major == 3) && len >= 12) {
        hlen = (size_t)data[8] | (size_t)data[9] << 8 | (size_t)data[10] << 16 |
               (size_t)data[11] << 24;
        hstart = 12;
    } else {
        FIND(s, r, member, "container.corrupt", SEV_MEDIUM, 50, 6, ".npy version %u is unknown",
             major);
        return true;
    }
    if (hlen > len - hstart) {
        FIND(s, r, member, "container.corrupt", SEV_MEDIUM, 50, 8,
             ".npy header of %zu bytes runs past the end", hlen);
        return true;
    }
    const char *h = (const char *)data + hstart;
    /* 'O' as a dtype code: "'|O'" or "'O'" inside descr. */
    bool object = false;
    for (size_t i = 0; i + 2 < hlen; i++)
        if ((h[i] == '\'' || h[i] == '"' || h[i] == '|') && h[i + 1] == 'O' &&
            (h[i + 2] == '\'' || h[i + 2] == '"'))
            object = true;
    if (!object)
        return false; /* plain array: no pickle */
    size_t off = hstart + hlen;
    bool found = scan_pickles(s, r, NULL, data + off, len - off, member, 0, 0, false);
    if (!found)
        FIND(s, r, member, "container.corrupt", SEV_MEDIUM, 50, off,
             "an object .npy whose payload is not a pickle");
    return true;
}

/* ---- zip ------------------------------------------------------------------------- */

typedef struct zentry {
    char *name;
    uint16_t flags, method;
    uint32_t crc;
    uint64_t csize, usize, lho;
    size_t data, end; /* data start and end in the archive, from the local header */
    bool ok;
} zentry;

static uint16_t u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t u64(const uint8_t *p)
{
    return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32;
}

/* Offset of the end-of-central-directory record, or len. */
static size_t find_eocd(const uint8_t *data, size_t len)
{
    if (len < 22)
        return len;
    size_t lo = len - 22 > 65535 ? len - 22 - 65535 : 0;
    for (size_t i = len - 22 + 1; i-- > lo;)
        if (data[i] == 'P' && data[i + 1] == 'K' && data[i + 2] == 5 && data[i + 3] == 6 &&
            (size_t)u16(data + i + 20) == len - i - 22)
            return i;
    return len;
}

static const struct zentry *sort_entries; /* for cmp_entry_names (single-threaded qsort) */

static int cmp_entry_names(const void *a, const void *b)
{
    const size_t *x = a, *y = b;
    int c = strcmp(sort_entries[*x].name, sort_entries[*y].name);
    return c ? c : (*x > *y) - (*x < *y);
}

static int cmp_range(const void *a, const void *b)
{
    const size_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

static size_t local_member(const pks_scanner *s, pks_result *r, const uint8_t *data, size_t len,
                           size_t off, const char *member, const char *prefix, int cdepth,
                           bool *found);

static bool scan_zip(const pks_scanner *s, pks_result *r, const uint8_t *data, size_t len,
                     const char *member, int cdepth, size_t eocd)
{
    ctrace t = {0};
    uint64_t total = u16(data + eocd + 10), cdsize = u32(data + eocd + 12),
             cdoff = u32(data + eocd + 16);
    size_t zip64_rec = len;
    /* A ZIP64 locator just before the EOCD record points at the ZIP64
     * record (torch writes them always); its values win when the EOCD's
     * are saturated. */
    if (eocd >= 20 && u32(data + eocd - 20) == 0x07064b50) {
        uint64_t rec = u64(data + eocd - 20 + 8);
        if (len >= 56 && rec <= len - 56 && u32(data + rec) == 0x06064b50) {
            zip64_rec = (size_t)rec;
            if (total == 0xffff || cdsize == 0xffffffffu || cdoff == 0xffffffffu) {
                total = u64(data + rec + 32);
                cdsize = u64(data + rec + 40);
                cdoff = u64(data + rec + 48);
            }
        }
    }
    if (cdoff > len || cdsize > len - cdoff) {
        FIND(s, r, member, "container.corrupt", SEV_MEDIUM, 50, eocd,
             "the central directory (offset %llu, %llu bytes) lies outside the file",
             (unsigned long long)cdoff, (unsigned long long)cdsize);
        return true;
    }
    if (total > s->lim.max_members) {
        FIND(s, r, member, "limit_reached", SEV_MEDIUM, 50, eocd,
             "limit reached: zip members (%zu of %llu read)", s->lim.max_members,
             (unsigned long long)total);
        total = s->lim.max_members;
    }
    zentry *e = calloc(total ? total : 1, sizeof *e);
    size_t *ranges = calloc(2 * (total + 3), sizeof *ranges);
    if (!e || !ranges) {
        free(e);
        free(ranges);
        res_error(r, member, 0, -1, PKS_ERR_NOMEM, "out of memory for the zip directory");
        return true;
    }
    size_t n = 0, p = cdoff;
    while (n < total && cdoff + cdsize - p >= 46 && u32(data + p) == 0x02014b50) {
        zentry *z = &e[n];
        z->flags = u16(data + p + 8);
        z->method = u16(data + p + 10);
        z->crc = u32(data + p + 16);
        z->csize = u32(data + p + 20);
        z->usize = u32(data + p + 24);
        size_t nl = u16(data + p + 28), xl = u16(data + p + 30), cl = u16(data + p + 32);
        z->lho = u32(data + p + 42);
        if (46 + nl + xl + cl > cdoff + cdsize - p)
            break;
        z->name = malloc(nl + 1);
        if (!z->name) {
            r->nomem = true;
            break;
        }
        memcpy(z->name, data + p + 46, nl);
        z->name[nl] = '\0';
        /* ZIP64 extra field: 64-bit values for the fields set to all ones */
        for (size_t x = p + 46 + nl; x + 4 <= p + 46 + nl + xl;) {
            uint16_t id = u16(data + x), sz = u16(data + x + 2);
            if (x + 4 + sz > p + 46 + nl + xl)
                break;
            if (id == 0x0001) {
                size_t q = x + 4, qe = x + 4 + sz;
                if (z->usize == 0xffffffffu && qe - q >= 8) {
                    z->usize = u64(data + q);
                    q += 8;
                }
                if (z->csize == 0xffffffffu && qe - q >= 8) {
                    z->csize = u64(data + q);
                    q += 8;
                }
                if (z->lho == 0xffffffffu && qe - q >= 8)
                    z->lho = u64(data + q);
            }
            x += 4 + (size_t)sz;
        }
        p += 46 + nl + xl + cl;
        n++;
    }
    if (n < total)
        FIND(s, r, member, "container.corrupt", SEV_MEDIUM, 50, p,
             "the central directory announces %llu members but holds %zu readable entries",
             (unsigned long long)total, n);
    size_t nranges = 0;
    ranges[nranges * 2] = cdoff;
    ranges[nranges * 2 + 1] = cdoff + cdsize;
    nranges++;
    ranges[nranges * 2] = eocd;
    ranges[nranges * 2 + 1] = len;
    nranges++;
    if (zip64_rec < len) { /* the ZIP64 record and its locator are no hidden bytes */
        ranges[nranges * 2] = zip64_rec;
        ranges[nranges * 2 + 1] = eocd;
        nranges++;
    }
    /* Duplicate names, by sorting the entries' names: n log n. */
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (order) {
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        sort_entries = e;
        qsort(order, n, sizeof *order, cmp_entry_names);
        for (size_t i = 1; i < n; i++)
            if (!strcmp(e[order[i - 1]].name, e[order[i]].name)) {
                size_t first = order[i - 1] < order[i] ? order[i - 1] : order[i];
                size_t second = order[i - 1] < order[i] ? order[i] : order[i - 1];
                char *dm = join(r, member, e[second].name);
                ct_event(&t, "ZIP duplicate_name @%zu %s entries %zu and %zu",
                         (size_t)e[second].lho, dm ? dm : "?", first, second);
                free(dm);
            }
        free(order);
    }
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (res_expired(r, s->lim.max_findings, s->lim.max_ms))
            break;
        zentry *z = &e[i];
        char *m = join(r, member, z->name);
        if (!m)
            continue;
        if (z->lho > len || len - z->lho < 30 || u32(data + z->lho) != 0x04034b50) {
            FIND(s, r, m, "container.corrupt", SEV_MEDIUM, 50, z->lho,
                 "no local header where the central directory says member '%s' starts", z->name);
            free(m);
            continue;
        }
        const uint8_t *lh = data + z->lho;
        size_t lnl = u16(lh + 26), lxl = u16(lh + 28);
        if (30 + lnl + lxl > len - z->lho) {
            FIND(s, r, m, "container.corrupt", SEV_MEDIUM, 50, z->lho,
                 "the local header of '%s' runs past the end", z->name);
            free(m);
            continue;
        }
        if (lnl != strlen(z->name) || memcmp(lh + 30, z->name, lnl) != 0)
            ct_event(&t, "ZIP name_mismatch @%zu %s local header says '%.*s'", (size_t)z->lho, m,
                     (int)(lnl > 200 ? 200 : lnl), (const char *)lh + 30);
        if (u16(lh + 8) != z->method || (u16(lh + 6) & 0x1) != (z->flags & 0x1))
            ct_event(&t, "ZIP header_mismatch @%zu %s method or encryption differ", (size_t)z->lho,
                     m);
        if (z->flags & ~(uint16_t)(0x0008 | 0x0800 | 0x0002 | 0x0004 | 0x0001))
            ct_event(&t, "ZIP odd_flags @%zu %s 0x%04x", (size_t)z->lho, m, z->flags);
        z->data = z->lho + 30 + lnl + lxl;
        if (z->csize > len - z->data) {
            FIND(s, r, m, "container.corrupt", SEV_MEDIUM, 50, z->lho,
                 "member '%s' (%llu bytes) runs past the end of the archive", z->name,
                 (unsigned long long)z->csize);
            free(m);
            continue;
        }
        z->end = z->data + (size_t)z->csize;
        size_t rend = z->end;
        if (z->flags & 0x0008) { /* a data descriptor follows: 12 or 20 bytes, +4 with PK78 */
            bool sig = len - z->end >= 4 && u32(data + z->end) == 0x08074b50;
            bool big = z->csize > 0xfffffffeu || z->usize > 0xfffffffeu;
            rend += (size_t)((sig ? 4 : 0) + (big ? 20 : 12));
        }
        ranges[nranges * 2] = z->lho;
        ranges[nranges * 2 + 1] = rend < len ? rend : len;
        nranges++;
        if (z->flags & 0x0001) {
            FIND(s, r, m, "container.encrypted", SEV_HIGH, 70, z->lho,
                 "member '%s' is encrypted and cannot be scanned", z->name);
            free(m);
            continue;
        }
        const uint8_t *content = data + z->data;
        size_t clen = (size_t)z->csize;
        spool sp = {0};
        if (z->method == 8) {
            if (!spool_open(s, &sp)) {
                res_error(r, m, z->lho, -1, PKS_ERR_IO,
                          "cannot create a temporary file to decompress into");
                free(m);
                continue;
            }
            dstat st = decompress(C_RAW_DEFLATE, content, clen, room(s, r), &sp);
            r->decompressed += sp.len;
            if (st == D_CAPPED)
                FIND(s, r, m, "limit_reached", SEV_MEDIUM, 50, z->lho,
                     "limit reached: decompressed bytes (%zu) in member '%s' (a zip bomb is not "
                     "followed)",
                     s->lim.max_decompressed, z->name);
            else if (st != D_OK)
                FIND(s, r, m, "container.corrupt", SEV_MEDIUM, 50, z->lho,
                     "member '%s' does not inflate", z->name);
            if (!spool_map(&sp, &content)) {
                spool_close(&sp);
                free(m);
                continue;
            }
            clen = sp.len;
        } else if (z->method != 0) {
            ct_event(&t, "ZIP unsupported_method @%zu %s %u", (size_t)z->lho, m, z->method);
            free(m);
            continue;
        }
        /* Scan first, CRC after: the CRC reads the whole member, which only
         * pays off for members holding pickles (tensor data is skipped). */
        bool pk = ct_scan(s, r, NULL, content, clen, m, cdepth + 1);
        if (pk) {
            found = true;
            uLong c = crc32(0L, Z_NULL, 0);
            for (size_t off = 0; off < clen; off += 1u << 30)
                c = crc32(c, content + off,
                          (uInt)(clen - off < (1u << 30) ? clen - off : 1u << 30));
            if ((uint32_t)c != z->crc)
                ct_event(&t, "ZIP bad_crc @%zu %s %08lx, the directory says %08x", (size_t)z->lho,
                         m, c, z->crc);
        }
        spool_close(&sp);
        free(m);
    }
    /* Bytes outside every member: gaps between what the directory covers.
     * Only the gaps are searched for unlisted local headers, so member data
     * (gigabytes of tensors) is never read here. */
    qsort(ranges, nranges, 2 * sizeof *ranges, cmp_range);
    size_t covered = 0, gaps = 0, first_gap = 0;
    for (size_t i = 0; i <= nranges; i++) {
        size_t next = i < nranges ? ranges[2 * i] : len;
        if (next > covered) {
            if (!gaps)
                first_gap = covered;
            gaps += next - covered;
            for (size_t off = covered; next - off >= 4;) {
                const uint8_t *hit = memmem(data + off, next - off, "PK\x03\x04", 4);
                if (!hit)
                    break;
                size_t at = (size_t)(hit - data);
                ct_event(&t,
                         "ZIP unlisted_member @%zu - a local header the directory does not list",
                         at);
                /* Streaming readers would read it: its content is scanned. */
                char prefix[64];
                snprintf(prefix, sizeof prefix, "unlisted@%zu:", at);
                local_member(s, r, data, next, at, member, prefix, cdepth, &found);
                off = at + 4;
            }
        }
        if (i < nranges && ranges[2 * i + 1] > covered)
            covered = ranges[2 * i + 1];
    }
    if (gaps)
        ct_event(&t, "ZIP hidden_bytes @%zu - %zu bytes belong to no member", first_gap, gaps);
    for (size_t i = 0; i < n; i++)
        free(e[i].name);
    free(e);
    free(ranges);
    ct_judge(s, r, &t, member, "zip");
    return found;
}

/* Scans the member whose local header is at data[off] (within data[0..len))
 * under the name prefix + its local name. Returns the offset after it, or 0
 * when the walk cannot go on. */
static size_t local_member(const pks_scanner *s, pks_result *r, const uint8_t *data, size_t len,
                           size_t off, const char *member, const char *prefix, int cdepth,
                           bool *found)
{
    if (len - off < 30 || u32(data + off) != 0x04034b50)
        return 0;
    uint16_t flags = u16(data + off + 6), method = u16(data + off + 8);
    uint64_t csize = u32(data + off + 18);
    size_t nl = u16(data + off + 26), xl = u16(data + off + 28);
    if (30 + nl + xl > len - off)
        return 0;
    char name[600];
    snprintf(name, sizeof name, "%s%.*s", prefix, (int)(nl < 500 ? nl : 500),
             (const char *)data + off + 30);
    size_t start = off + 30 + nl + xl;
    if ((flags & 0x0008) && csize == 0) {
        FIND(s, r, member, "container.corrupt", SEV_MEDIUM, 50, off,
             "member '%s' has no size in its local header; the walk stops there", name);
        return 0;
    }
    size_t avail = len - start < csize ? len - start : (size_t)csize;
    char *m = join(r, member, name);
    if (!m)
        return 0;
    if (method == 0) {
        *found |= ct_scan(s, r, NULL, data + start, avail, m, cdepth + 1);
    } else if (method == 8) {
        spool sp;
        if (spool_open(s, &sp)) {
            dstat st = decompress(C_RAW_DEFLATE, data + start, avail, room(s, r), &sp);
            r->decompressed += sp.len;
            const uint8_t *content;
            if (st == D_CAPPED)
                FIND(s, r, m, "limit_reached", SEV_MEDIUM, 50, off,
                     "limit reached: decompressed bytes (%zu)", s->lim.max_decompressed);
            if (spool_map(&sp, &content))
                *found |= ct_scan(s, r, NULL, content, sp.len, m, cdepth + 1);
            spool_close(&sp);
        }
    }
    free(m);
    if (avail < csize)
        return 0;
    return start + (size_t)csize + ((flags & 0x0008) ? 16 : 0);
}

/* A zip without a readable end of central directory (truncated, or only
 * local headers): the local headers are walked in order, as streaming
 * readers do, and every member they delimit is scanned. */
static bool scan_zip_local(const pks_scanner *s, pks_result *r, const uint8_t *data, size_t len,
                           const char *member, int cdepth)
{
    FIND(s, r, member, "container.corrupt", SEV_MEDIUM, 50, len,
         "a zip archive without a central directory (truncated?): local headers walked");
    bool found = false;
    size_t off = 0, count = 0;
    while (off < len) {
        if (++count > s->lim.max_members) {
            FIND(s, r, member, "limit_reached", SEV_MEDIUM, 50, off,
                 "limit reached: zip members (%zu)", s->lim.max_members);
            break;
        }
        off = local_member(s, r, data, len, off, member, "", cdepth, &found);
        if (!off)
            break;
    }
    return true; /* a broken archive is never "nothing pickle-like" */
}

/* ---- tar and 7z (libarchive) --------------------------------------------------------- */

static bool scan_archive(const pks_scanner *s, pks_result *r, const uint8_t *data, size_t len,
                         const char *member, int cdepth, const char *kind)
{
    struct archive *a = archive_read_new();
    if (!a)
        return true;
    archive_read_support_format_tar(a);
    archive_read_support_format_7zip(a);
    archive_read_support_filter_all(a);
    bool found = false;
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        FIND(s, r, member, "container.corrupt", SEV_MEDIUM, 50, 0,
             "the %s archive cannot be read: %s", kind, archive_error_string(a));
        archive_read_free(a);
        return true;
    }
    struct archive_entry *ent;
    size_t count = 0;
    int rc;
    while ((rc = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
        if (++count > s->lim.max_members) {
            FIND(s, r, member, "limit_reached", SEV_MEDIUM, 50, 0,
                 "limit reached: archive members (%zu)", s->lim.max_members);
            break;
        }
        if (archive_entry_filetype(ent) != AE_IFREG)
            continue;
        const char *name = archive_entry_pathname(ent);
        char *m = join(r, member, name ? name : "?");
        spool sp;
        if (!m || !spool_open(s, &sp)) {
            free(m);
            break;
        }
        uint8_t buf[1 << 16];
        la_ssize_t got;
        bool capped = false;
        while ((got = archive_read_data(a, buf, sizeof buf)) > 0) {
            if ((size_t)got > room(s, r) - sp.len) {
                capped = true;
                break;
            }
            spool_write(&sp, buf, (size_t)got);
        }
        r->decompressed += sp.len;
        if (capped)
            FIND(s, r, m, "limit_reached", SEV_MEDIUM, 50, 0,
                 "limit reached: decompressed bytes (%zu)", s->lim.max_decompressed);
        if (got < 0)
            FIND(s, r, m, "container.corrupt", SEV_MEDIUM, 50, 0, "member '%s' cannot be read",
                 name ? name : "?");
        const uint8_t *content;
        if (spool_map(&sp, &content))
            found |= ct_scan(s, r, NULL, content, sp.len, m, cdepth + 1);
        spool_close(&sp);
        free(m);
    }
    if (rc != ARCHIVE_EOF && rc != ARCHIVE_OK)
        FIND(s, r, member, "container.corrupt", SEV_MEDIUM, 50, 0, "the %s archive is damaged: %s",
             kind, archive_error_string(a));
    archive_read_free(a);
    return found;
}

/* ---- sniffing --------------------------------------------------------------------------- */

static bool has(const uint8_t *d, size_t len, size_t off, const char *magic, size_t n)
{
    return len >= off + n && memcmp(d + off, magic, n) == 0;
}

/* torch's legacy format starts with a pickle of its magic number,
 * 0x1950a86a20f9469cfc6c, as LONG1. */
static bool torch_legacy(const uint8_t *d, size_t len)
{
    static const uint8_t magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                    0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};
    return len >= sizeof magic && memcmp(d, magic, sizeof magic) == 0;
}

bool ct_scan(const pks_scanner *s, pks_result *r, const pks_input *in, const uint8_t *data,
             size_t len, const char *member, int cdepth)
{
    const char *fmt = "pickle";
    bool top = member == NULL;
    if (cdepth > s->lim.max_containers) {
        FIND(s, r, member, "limit_reached", SEV_MEDIUM, 50, 0,
             "limit reached: containers nested deeper than %d", s->lim.max_containers);
        return true;
    }
    bool found;
    codec c;
    bool compressed = true;
    if (has(data, len, 0, "\x1f\x8b", 2))
        c = C_GZIP;
    else if (has(data, len, 0, "BZh", 3) && len > 3 && data[3] >= '1' && data[3] <= '9')
        c = C_BZ2;
    else if (has(data, len, 0,
                 "\xfd"
                 "7zXZ\x00",
                 6))
        c = C_XZ;
    else if (has(data, len, 0, "\x28\xb5\x2f\xfd", 4))
        c = C_ZSTD;
    else if (has(data, len, 0, "\x04\x22\x4d\x18", 4))
        c = C_LZ4;
    else if (len >= 2 && data[0] == 0x78 && (data[0] * 256 + data[1]) % 31 == 0)
        c = C_ZLIB;
    else if (len >= 13 && data[0] == 0x5d && data[1] == 0 && data[2] == 0 &&
             (data[4] != 0 || data[3] != 0))
        c = C_LZMA_ALONE; /* props 0x5d and a dictionary size: LZMA_ALONE (joblib's lzma) */
    else
        compressed = false;
    if (compressed) {
        fmt = codec_name(c);
        found = scan_compressed(s, r, data, len, member, cdepth, c);
    } else if (has(data, len, 0, "\x93NUMPY", 6)) {
        fmt = "npy";
        found = scan_npy(s, r, data, len, member);
    } else if (has(data, len, 0, "7z\xbc\xaf\x27\x1c", 6)) {
        fmt = "7z";
        found = scan_archive(s, r, data, len, member, cdepth, "7z");
    } else if (has(data, len, 257, "ustar", 5)) {
        fmt = "tar";
        found = scan_archive(s, r, data, len, member, cdepth, "tar");
    } else {
        size_t eocd = find_eocd(data, len);
        bool zip = eocd < len;
        bool zip_at_start =
            has(data, len, 0, "PK\x03\x04", 4) || has(data, len, 0, "PK\x05\x06", 4);
        if (zip && zip_at_start) {
            fmt = "zip";
            found = scan_zip(s, r, data, len, member, cdepth, eocd);
        } else if (!zip && has(data, len, 0, "PK\x03\x04", 4)) {
            fmt = "zip";
            found = scan_zip_local(s, r, data, len, member, cdepth);
        } else if (torch_legacy(data, len)) {
            fmt = "torch-legacy";
            found = scan_pickles(s, r, in, data, len, member, 0, 5, top);
        } else {
            found = scan_pickles(s, r, in, data, len, member, 0, 0, top);
            if (zip) {
                /* A polyglot: a pickle at offset 0 that is also a zip. Both
                 * readings count. */
                if (found) {
                    ctrace t = {0};
                    ct_event(&t, "ZIP polyglot @%zu - a pickle at offset 0 and a zip directory",
                             eocd);
                    ct_judge(s, r, &t, member, "pickle+zip");
                }
                fmt = found ? "pickle+zip" : "zip";
                found |= scan_zip(s, r, data, len, member, cdepth, eocd);
            }
        }
        if (fmt[0] == 'z' && top) {
            /* torch writes '<archive>/data.pkl'; numpy's npz holds .npy members */
            for (size_t i = 0; i < r->npickles; i++) {
                const char *pm = r->pickles[i].member;
                if (pm && strstr(pm, "data.pkl"))
                    fmt = "torch-zip";
                else if (pm && strstr(pm, ".npy") && fmt[0] == 'z' && fmt[1] == 'i')
                    fmt = "npz";
            }
        }
    }
    if (top)
        r->format = fmt;
    return found;
}
