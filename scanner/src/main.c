/* The pklscan command line.
 *
 *   pklscan [scan] [options] PATH...   scan files and directories (the default)
 *   pklscan dis FILE...                disassemble every pickle in FILE
 *   pklscan load [options] FILE...     rebuild allowlisted objects in the jail, as JSON
 *   pklscan opcodes [--markdown]       print the opcode table
 *
 * Scanning walks directories recursively, never stops a batch for one bad
 * file, writes text, JSON or JSON Lines, and exits like clamscan: 0 when
 * every file is below the --fail-on threshold, 1 when one reached it, 2 when
 * something could not be scanned and nothing reached it; 64 for usage
 * errors. See docs/CLI.md. */
#include "jail.h"
#include "load.h"
#include "policy.h"
#include "opcodes.h"
#include "pklscan.h"
#include "vm.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <iconv.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Sanitizer builds: the ASan runtime needs system calls the jail forbids and
 * reserves terabytes of address space, so loads run unjailed (and say so)
 * and scan --sandbox forks without the filter and the memory limit. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define EXIT_FOUND        1
#define EXIT_DECODE_ERROR 2
#define EXIT_USAGE        64

static void usage(FILE *f)
{
    fputs(
        "usage: pklscan [scan] [options] PATH...   scan files and directories ('-' = stdin)\n"
        "       pklscan dis FILE...                  disassemble every pickle in FILE\n"
        "       pklscan load [options] FILE...       rebuild the allowlisted objects of FILE\n"
        "                                            in a seccomp jail; one JSON line per file\n"
        "       pklscan opcodes [--markdown]         print the opcode table\n"
        "       pklscan --version | --help\n"
        "\n"
        "scan options:\n"
        "  --format text|json|jsonl   report format (default text)\n"
        "  -o, --output FILE          write the report to FILE instead of stdout\n"
        "  --fail-on suspicious|malicious\n"
        "                             verdict from which the exit code is 1 (default suspicious)\n"
        "  --allow MODULE.QUALNAME    allow one more global (repeatable)\n"
        "  --policy FILE              allow the globals listed in FILE (repeatable)\n"
        "  --no-repo-policy           do not load .pklscan-policy from the repository root\n"
        "  --rules DIR                add the YARA rules in DIR/trace and DIR/raw\n"
        "  --no-default-rules         do not use the shipped YARA rules\n"
        "  --explain                  text: say why each global got its class\n"
        "  --limit NAME=VALUE         change a limit (repeatable; --limits lists them)\n"
        "  --limits                   list the limits with their defaults and exit\n"
        "  --follow-symlinks          follow symbolic links while walking directories\n"
        "  --sha256 / --no-sha256     include the SHA-256 of each file (default: on for json\n"
        "                             and jsonl, off for text)\n"
        "  -v, --verbose              text: list every finding under its file\n"
        "  -q, --quiet                text: print only files that are not clean\n"
        "  --no-summary               text: no summary block\n"
        "  --sandbox                  scan each file in a forked, seccomp-jailed child; a\n"
        "                             child that fails makes the file an error, never clean\n"
        "\n"
        "load options:\n"
        "  --allow MODULE.QUALNAME, --policy FILE   as for scan\n"
        "  --policy NAME[,NAME...]    use only these shipped allowlists (stdlib is always\n"
        "                             in): numpy, torch, sklearn, pandas, scipy, joblib, modern\n"
        "  --no-sandbox               load in this process, without the jail (sanitizer\n"
        "                             builds, systems without seccomp); the report says so\n"
        "  --timeout MS               wall-clock limit of the jail (default 30000)\n"
        "  --memory MIB               address-space limit of the jail (default 8192)\n"
        "  --inline-bytes N           write bytes up to N long in full, longer ones as size\n"
        "                             and SHA-256 (default 4096)\n",
        f);
}

/* ---- dis ---------------------------------------------------------------------- */

static int cmd_dis(int argc, char **argv)
{
    if (argc < 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        const char *path = argv[i];
        if (argc > 1)
            printf("%s==> %s <==\n", i ? "\n" : "", path);
        pks_input *in = NULL;
        pks_err e = pks_input_open(path, &in);
        if (e) {
            fprintf(stderr, "pklscan: %s: cannot read: %s\n", path,
                    e == PKS_ERR_IO ? strerror(errno) : pks_strerror(e));
            rc = EXIT_DECODE_ERROR;
            continue;
        }
        pks_error_info err;
        e = pks_disassemble(in, stdout, &err);
        fflush(stdout);
        if (e) {
            const op_info *o = err.opcode >= 0 ? op_lookup((uint8_t)err.opcode) : NULL;
            char opname[32];
            if (o)
                snprintf(opname, sizeof opname, "%s", o->name);
            else if (err.opcode >= 0)
                snprintf(opname, sizeof opname, "byte 0x%02x", err.opcode);
            else
                snprintf(opname, sizeof opname, "end of data");
            fprintf(stderr, "pklscan: %s: error at offset %llu (%s): %s [%s]\n", path,
                    (unsigned long long)err.offset, opname, err.message, pks_strerror(err.code));
            rc = EXIT_DECODE_ERROR;
        }
        pks_input_free(in);
    }
    return rc;
}

/* ---- load ------------------------------------------------------------------ */

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-')
        return false;
    *v = x;
    return true;
}

static int cmd_load(int argc, char **argv)
{
    pks_scanner *sc = NULL;
    if (pks_scanner_new(&sc) != PKS_OK) {
        fprintf(stderr, "pklscan: out of memory\n");
        return EXIT_DECODE_ERROR;
    }
    /* --policy NAME[,NAME...] first: the shipped allowlists the load may use
     * (stdlib always); --policy FILE and --allow then add to them */
    for (int i = 0; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--policy") != 0 || !policy_is_name(argv[i + 1]))
            continue;
        policy *named = policy_new_named(argv[i + 1]);
        if (!named) {
            fprintf(stderr, "pklscan: out of memory\n");
            pks_scanner_free(sc);
            return EXIT_DECODE_ERROR;
        }
        policy_free(sc->pol);
        sc->pol = named;
        argv[++i] = NULL; /* consumed */
    }
    pks_load_opts o;
    pks_load_defaults(&o, sc->pol);
    if (SANITIZED)
        o.sandbox = false; /* the sanitizer runtime needs system calls the jail forbids */
    int nfiles = 0, rc = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        if (!strcmp(a, "--no-sandbox")) {
            o.sandbox = false;
        } else if (!strcmp(a, "--allow") && val) {
            if (pks_scanner_allow(sc, argv[++i]) != PKS_OK) {
                fprintf(stderr, "pklscan: --allow takes MODULE.QUALNAME, got '%s'\n", argv[i]);
                rc = EXIT_USAGE;
            }
        } else if (!strcmp(a, "--policy") && i + 1 < argc && !val) {
            i++; /* a shipped allowlist name, applied above */
        } else if (!strcmp(a, "--policy") && val) {
            size_t line = 0;
            pks_err e = pks_scanner_add_policy_file(sc, argv[++i], &line);
            if (e) {
                fprintf(stderr, "pklscan: policy %s: %s\n", argv[i],
                        e == PKS_ERR_IO ? "cannot be read" : "bad line");
                rc = EXIT_USAGE;
            }
        } else if (!strcmp(a, "--timeout") && val && parse_u64(argv[++i], &x) && x > 0 &&
                   x < 86400000) {
            o.timeout_ms = (unsigned)x;
        } else if (!strcmp(a, "--memory") && val && parse_u64(argv[++i], &x) && x > 0 &&
                   x < (1u << 30)) {
            o.max_memory = x << 20;
        } else if (!strcmp(a, "--inline-bytes") && val && parse_u64(argv[++i], &x) &&
                   x <= (64u << 20)) {
            o.ldr.inline_bytes = (size_t)x;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "pklscan: load: unknown option or bad value '%s'\n", a);
            rc = EXIT_USAGE;
        } else {
            argv[nfiles++] = argv[i];
        }
    }
    if (rc || nfiles == 0) {
        if (!nfiles)
            usage(stderr);
        pks_scanner_free(sc);
        return EXIT_USAGE;
    }
    for (int i = 0; i < nfiles; i++) {
        pks_input *in = NULL;
        pks_err e = pks_input_open(argv[i], &in);
        if (e) {
            fprintf(stderr, "pklscan: %s: cannot read: %s\n", argv[i],
                    e == PKS_ERR_IO ? strerror(errno) : pks_strerror(e));
            pks_load_error(argv[i], "io", e == PKS_ERR_IO ? strerror(errno) : pks_strerror(e),
                           stdout);
            rc = EXIT_DECODE_ERROR;
            continue;
        }
        fflush(stdout);
        int r = pks_load_report(&o, argv[i], pks_input_data(in), pks_input_size(in), stdout);
        if (r == 2 || (r == 1 && rc != EXIT_DECODE_ERROR))
            rc = r == 2 ? EXIT_DECODE_ERROR : EXIT_FOUND;
        pks_input_free(in);
    }
    fflush(stdout);
    pks_scanner_free(sc);
    return rc;
}

static int cmd_opcodes(int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "--markdown") == 0) {
        size_t n = op_markdown(NULL, 0);
        char *buf = malloc(n + 1);
        if (!buf)
            return EXIT_DECODE_ERROR;
        op_markdown(buf, n + 1);
        fputs(buf, stdout);
        free(buf);
        return 0;
    }
    if (argc != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    size_t count;
    const op_info *t = op_table(&count);
    for (size_t i = 0; i < count; i++)
        printf("0x%02x  %-17s %-20s proto %u  %s\n", t[i].byte, t[i].name, op_arg_name(t[i].arg),
               t[i].proto, t[i].doc);
    return 0;
}

/* ---- scan --------------------------------------------------------------------- */

typedef enum fmt { FMT_TEXT, FMT_JSON, FMT_JSONL } fmt;

typedef struct run {
    pks_scanner *sc;
    FILE *out;
    fmt format;
    pks_verdict fail_on;
    bool follow, sha256, verbose, quiet, summary, explain, sandbox;
    size_t counts[5];
    size_t files;
    bool reached, errors;
} run;

/* Counts one file's verdict toward the exit code and the summary. */
static void count(run *R, pks_verdict v)
{
    R->counts[v]++;
    if (v == PKS_VERDICT_ERROR)
        R->errors = true;
    else if ((v == PKS_VERDICT_SUSPICIOUS || v == PKS_VERDICT_MALICIOUS) && v >= R->fail_on)
        R->reached = true;
}

/* One file's report in the chosen format, without the JSON array's commas. */
static void write_result(const run *R, const pks_result *r, FILE *out)
{
    pks_verdict v = pks_result_verdict(r);
    switch (R->format) {
    case FMT_TEXT:
        if (!(R->quiet && (v == PKS_VERDICT_CLEAN || v == PKS_VERDICT_SKIPPED))) {
            pks_result_write_text(r, out, R->verbose);
            if (R->explain)
                pks_result_write_explain(r, out);
        }
        break;
    case FMT_JSON: pks_result_write_json(r, out, 0); break;
    case FMT_JSONL:
        pks_result_write_json(r, out, 1);
        fputc('\n', out);
        break;
    }
}

/* Writes text already formatted for one file, with the JSON array's
 * separators, and counts it. */
static void emit_text(run *R, pks_verdict v, const char *text, size_t n)
{
    count(R, v);
    if (R->format == FMT_JSON)
        fputs(R->files ? ",\n" : "\n", R->out);
    fwrite(text, 1, n, R->out);
    if (R->format == FMT_JSONL)
        fflush(R->out);
    R->files++;
}

/* Writes one file's result and counts it. Takes ownership of r. */
static void emit(run *R, pks_result *r)
{
    count(R, pks_result_verdict(r));
    if (R->format == FMT_JSON)
        fputs(R->files ? ",\n" : "\n", R->out);
    write_result(R, r, R->out);
    if (R->format == FMT_JSONL)
        fflush(R->out);
    R->files++;
    pks_result_free(r);
}

static void emit_error(run *R, const char *path, const char *reason)
{
    pks_result *r = NULL;
    if (pks_result_new_error(path, reason, &r) == PKS_OK)
        emit(R, r);
    else
        fprintf(stderr, "pklscan: %s: %s (and out of memory)\n", path, reason);
}

/* scan --sandbox: the scan of one file runs in the jail. The child writes
 * its verdict on a first line, then the file's report as it would appear;
 * the parent checks both before printing anything. */
typedef struct scan_child {
    run *R;
    const pks_input *in;
    const char *path;
} scan_child;

static int scan_child_main(void *ctx, int fd)
{
    scan_child *c = ctx;
    c->R->sc->jailed = true; /* this process's copy only */
    pks_result *r = NULL;
    if (pks_scan_input(c->R->sc, c->in, c->path, c->R->sha256, &r) != PKS_OK)
        pks_jail_nomem();
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!m)
        pks_jail_nomem();
    fprintf(m, "%d\n", (int)pks_result_verdict(r));
    write_result(c->R, r, m);
    if (fclose(m) != 0)
        pks_jail_nomem();
    return pks_jail_write(fd, buf, n) == 0 ? 0 : 4;
}

/* The reply: a verdict digit and a newline, then text without NUL bytes;
 * for JSON formats one object whose "verdict" is that verdict. */
static bool sandbox_reply_ok(const run *R, const char *s, size_t n, pks_verdict *v)
{
    if (n < 2 || s[0] < '0' || s[0] > '4' || s[1] != '\n' || memchr(s, 0, n))
        return false;
    *v = (pks_verdict)(s[0] - '0');
    if (R->format == FMT_TEXT)
        return true;
    cJSON *j = cJSON_ParseWithLength(s + 2, n - 2);
    cJSON *verdict = j ? cJSON_GetObjectItem(j, "verdict") : NULL;
    bool ok = cJSON_IsObject(j) && cJSON_IsString(verdict) &&
              !strcmp(verdict->valuestring, pks_verdict_name(*v));
    cJSON_Delete(j);
    return ok;
}

static void scan_file(run *R, const char *path)
{
    pks_input *in = NULL;
    pks_err e = pks_input_open(path, &in);
    if (e) {
        char reason[256];
        snprintf(reason, sizeof reason, "cannot read: %s",
                 e == PKS_ERR_IO ? strerror(errno) : pks_strerror(e));
        emit_error(R, path, reason);
        return;
    }
    if (R->sandbox) {
        pks_jail_opts jo;
        pks_jail_defaults(&jo);
        jo.timeout_ms = R->sc->lim.max_ms ? (unsigned)R->sc->lim.max_ms + 5000 : 60000;
        jo.cpu_seconds = jo.timeout_ms / 1000 + 1;
        jo.max_memory = SANITIZED ? 0 : (8ull << 30) + pks_input_size(in);
        jo.seccomp = !SANITIZED;
        scan_child c = {R, in, path};
        pks_jail_result jr;
        pks_verdict v;
        fflush(R->out);
        if (pks_jail_run(&jo, scan_child_main, &c, &jr) == 0 &&
            sandbox_reply_ok(R, jr.reply, jr.reply_len, &v)) {
            emit_text(R, v, jr.reply + 2, jr.reply_len - 2);
        } else {
            char reason[300];
            snprintf(reason, sizeof reason, "the scan in the sandbox failed (%s): %s",
                     jr.status == PKS_JAIL_OK ? "invalid-reply" : pks_jail_status_name(jr.status),
                     jr.status == PKS_JAIL_OK ? "the reply is not a report" : jr.detail);
            emit_error(R, path, reason);
        }
        free(jr.reply);
        pks_input_free(in);
        return;
    }
    pks_result *r = NULL;
    if (pks_scan_input(R->sc, in, path, R->sha256, &r) != PKS_OK) {
        pks_input_free(in);
        pks_result_free(r);
        emit_error(R, path, "out of memory");
        return;
    }
    pks_input_free(in);
    emit(R, r);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct dirstack {
    dev_t dev[64];
    ino_t ino[64];
    int n;
} dirstack;

static void scan_path(run *R, const char *path, bool top, dirstack *ds);

static void scan_dir(run *R, const char *path, const struct stat *st, dirstack *ds)
{
    for (int i = 0; i < ds->n; i++)
        if (ds->dev[i] == st->st_dev && ds->ino[i] == st->st_ino) {
            emit_error(R, path, "directory loop (symbolic links)");
            return;
        }
    if (ds->n == 64) {
        emit_error(R, path, "directories nested deeper than 64 levels");
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        char reason[256];
        snprintf(reason, sizeof reason, "cannot open directory: %s", strerror(errno));
        emit_error(R, path, reason);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        size_t l = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(l);
        if (!names[n])
            break;
        snprintf(names[n], l, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    ds->dev[ds->n] = st->st_dev;
    ds->ino[ds->n] = st->st_ino;
    ds->n++;
    for (size_t i = 0; i < n; i++) {
        scan_path(R, names[i], false, ds);
        free(names[i]);
    }
    ds->n--;
    free(names);
}

static void scan_path(run *R, const char *path, bool top, dirstack *ds)
{
    if (strcmp(path, "-") == 0 && top) {
        scan_file(R, path);
        return;
    }
    struct stat st;
    if (lstat(path, &st) != 0) {
        char reason[256];
        snprintf(reason, sizeof reason, "cannot stat: %s", strerror(errno));
        emit_error(R, path, reason);
        return;
    }
    if (S_ISLNK(st.st_mode)) {
        if (!R->follow && !top)
            return; /* like find(1) without -L; docs/CLI.md says so */
        if (stat(path, &st) != 0) {
            char reason[256];
            snprintf(reason, sizeof reason, "broken symbolic link: %s", strerror(errno));
            emit_error(R, path, reason);
            return;
        }
    }
    if (S_ISDIR(st.st_mode)) {
        scan_dir(R, path, &st, ds);
        return;
    }
    if (S_ISREG(st.st_mode) || top) {
        /* A FIFO or device named on the command line is read as asked; met
         * while walking a directory, it is reported and never opened. */
        scan_file(R, path);
        return;
    }
    emit_error(R, path,
               S_ISFIFO(st.st_mode)   ? "not a regular file (FIFO), not opened"
               : S_ISSOCK(st.st_mode) ? "not a regular file (socket), not opened"
                                      : "not a regular file (device), not opened");
}

/* The nearest .pklscan-policy in the current directory or above it, up to
 * the repository root (the first directory holding .git); "" when none. */
static void find_repo_policy(char *out, size_t cap)
{
    char dir[4096];
    out[0] = '\0';
    if (!getcwd(dir, sizeof dir))
        return;
    for (;;) {
        char probe[4200];
        snprintf(probe, sizeof probe, "%s/.pklscan-policy", dir);
        if (access(probe, R_OK) == 0) {
            snprintf(out, cap, "%s", probe);
            return;
        }
        snprintf(probe, sizeof probe, "%s/.git", dir);
        if (access(probe, F_OK) == 0)
            return; /* the repository root has none */
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return;
        *slash = '\0';
    }
}

static int cmd_scan(int argc, char **argv)
{
    run R;
    memset(&R, 0, sizeof R);
    R.out = stdout;
    R.fail_on = PKS_VERDICT_SUSPICIOUS;
    R.summary = true;
    int sha = -1;
    bool repo_policy = true, default_rules = true;
    const char *outpath = NULL, *rules_dir = NULL;
    char **paths = calloc((size_t)argc + 1, sizeof *paths);
    size_t npaths = 0;
    if (!paths || pks_scanner_new(&R.sc) != PKS_OK) {
        fprintf(stderr, "pklscan: out of memory\n");
        free(paths);
        return EXIT_DECODE_ERROR;
    }
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--format") && val) {
            i++;
            if (!strcmp(val, "text"))
                R.format = FMT_TEXT;
            else if (!strcmp(val, "json"))
                R.format = FMT_JSON;
            else if (!strcmp(val, "jsonl"))
                R.format = FMT_JSONL;
            else {
                fprintf(stderr, "pklscan: unknown format '%s'\n", val);
                rc = EXIT_USAGE;
            }
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && val) {
            outpath = argv[++i];
        } else if (!strcmp(a, "--fail-on") && val) {
            i++;
            if (!strcmp(val, "suspicious"))
                R.fail_on = PKS_VERDICT_SUSPICIOUS;
            else if (!strcmp(val, "malicious"))
                R.fail_on = PKS_VERDICT_MALICIOUS;
            else {
                fprintf(stderr, "pklscan: --fail-on takes suspicious or malicious\n");
                rc = EXIT_USAGE;
            }
        } else if (!strcmp(a, "--allow") && val) {
            if (pks_scanner_allow(R.sc, argv[++i]) != PKS_OK) {
                fprintf(stderr, "pklscan: --allow takes MODULE.QUALNAME, got '%s'\n", argv[i]);
                rc = EXIT_USAGE;
            }
        } else if (!strcmp(a, "--policy") && val) {
            size_t line = 0;
            pks_err pe = pks_scanner_add_policy_file(R.sc, argv[++i], &line);
            if (pe) {
                if (pe == PKS_ERR_IO)
                    fprintf(stderr, "pklscan: cannot read policy %s: %s\n", argv[i],
                            strerror(errno));
                else
                    fprintf(stderr,
                            "pklscan: %s:%zu: expected 'module qualname class|func|const'\n",
                            argv[i], line);
                rc = EXIT_USAGE;
            }
        } else if (!strcmp(a, "--no-repo-policy")) {
            repo_policy = false;
        } else if (!strcmp(a, "--rules") && val) {
            rules_dir = argv[++i];
        } else if (!strcmp(a, "--no-default-rules")) {
            default_rules = false;
        } else if (!strcmp(a, "--limit") && val) {
            const char *spec = argv[++i], *eq = strchr(spec, '=');
            char name[64];
            char *end = NULL;
            unsigned long long v = eq ? strtoull(eq + 1, &end, 10) : 0;
            if (!eq || (size_t)(eq - spec) >= sizeof name || end == eq + 1 || *end) {
                fprintf(stderr, "pklscan: --limit takes NAME=VALUE, got '%s'\n", spec);
                rc = EXIT_USAGE;
            } else {
                snprintf(name, sizeof name, "%.*s", (int)(eq - spec), spec);
                if (pks_scanner_set_limit(R.sc, name, v) != PKS_OK) {
                    fprintf(stderr,
                            "pklscan: no such limit or bad value: '%s' (--limits lists them)\n",
                            spec);
                    rc = EXIT_USAGE;
                }
            }
        } else if (!strcmp(a, "--limits")) {
            puts("limits (--limit NAME=VALUE):");
            pks_limits_describe(stdout);
            pks_scanner_free(R.sc);
            free(paths);
            return 0;
        } else if (!strcmp(a, "--explain")) {
            R.explain = true;
        } else if (!strcmp(a, "--follow-symlinks")) {
            R.follow = true;
        } else if (!strcmp(a, "--sha256")) {
            sha = 1;
        } else if (!strcmp(a, "--no-sha256")) {
            sha = 0;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            R.verbose = true;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            R.quiet = true;
        } else if (!strcmp(a, "--sandbox")) {
            R.sandbox = true;
            /* libarchive converts 7z names with iconv, whose first use reads
             * gconv-modules.cache: load it now, before any jail forbids
             * opening files */
            iconv_t cd = iconv_open("UTF-8", "UTF-16LE");
            if (cd != (iconv_t)-1)
                iconv_close(cd);
        } else if (!strcmp(a, "--no-summary")) {
            R.summary = false;
        } else if (!strcmp(a, "--")) {
            while (++i < argc)
                paths[npaths++] = argv[i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "pklscan: unknown option '%s'\n", a);
            rc = EXIT_USAGE;
        } else {
            paths[npaths++] = argv[i];
        }
    }
    if (!rc && (rules_dir || !default_rules)) {
        char err[512];
        if (pks_scanner_set_rules(R.sc, rules_dir, default_rules, err, sizeof err) != PKS_OK) {
            fprintf(stderr, "pklscan: rules: %s\n", err);
            rc = EXIT_USAGE;
        }
    }
    if (!rc && repo_policy) {
        char path[4300];
        find_repo_policy(path, sizeof path);
        size_t line = 0;
        if (path[0] && pks_scanner_add_policy_file(R.sc, path, &line) != PKS_OK) {
            fprintf(stderr, "pklscan: %s:%zu: bad policy line\n", path, line);
            rc = EXIT_USAGE;
        }
    }
    if (!rc && npaths == 0) {
        fprintf(stderr, "pklscan: nothing to scan\n");
        rc = EXIT_USAGE;
    }
    if (!rc && outpath && !(R.out = fopen(outpath, "w"))) {
        fprintf(stderr, "pklscan: cannot write %s: %s\n", outpath, strerror(errno));
        rc = EXIT_DECODE_ERROR;
    }
    if (rc) {
        if (rc == EXIT_USAGE)
            usage(stderr);
        pks_scanner_free(R.sc);
        free(paths);
        return rc;
    }
    R.sha256 = sha >= 0 ? sha : R.format != FMT_TEXT;

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (R.format == FMT_JSON)
        fprintf(R.out, "{\"tool\": {\"name\": \"pklscan\", \"version\": \"%s\"},\n\"files\": [",
                pks_version());
    for (size_t i = 0; i < npaths; i++) {
        dirstack ds = {.n = 0};
        scan_path(&R, paths[i], true, &ds);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (R.format == FMT_JSON)
        fprintf(R.out,
                "\n],\n\"summary\": {\"files\": %zu, \"clean\": %zu, \"suspicious\": %zu, "
                "\"malicious\": %zu, \"error\": %zu, \"skipped\": %zu, \"seconds\": %.3f}}\n",
                R.files, R.counts[PKS_VERDICT_CLEAN], R.counts[PKS_VERDICT_SUSPICIOUS],
                R.counts[PKS_VERDICT_MALICIOUS], R.counts[PKS_VERDICT_ERROR],
                R.counts[PKS_VERDICT_SKIPPED], secs);
    else if (R.format == FMT_TEXT && R.summary)
        fprintf(R.out,
                "\n----------- SCAN SUMMARY -----------\n"
                "Scanned files: %zu\nClean: %zu\nSuspicious: %zu\nMalicious: %zu\nErrors: %zu\n"
                "Skipped: %zu\nTime: %.3f sec\n",
                R.files, R.counts[PKS_VERDICT_CLEAN], R.counts[PKS_VERDICT_SUSPICIOUS],
                R.counts[PKS_VERDICT_MALICIOUS], R.counts[PKS_VERDICT_ERROR],
                R.counts[PKS_VERDICT_SKIPPED], secs);
    if (fflush(R.out) != 0 || ferror(R.out)) {
        fprintf(stderr, "pklscan: writing the report failed: %s\n", strerror(errno));
        R.errors = true;
    }
    if (R.out != stdout)
        fclose(R.out);
    pks_scanner_free(R.sc);
    free(paths);
    return R.reached ? EXIT_FOUND : R.errors ? EXIT_DECODE_ERROR : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0) {
        printf("pklscan %s\n", pks_version());
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "dis") == 0)
        return cmd_dis(argc - 2, argv + 2);
    if (strcmp(cmd, "load") == 0)
        return cmd_load(argc - 2, argv + 2);
    if (strcmp(cmd, "opcodes") == 0)
        return cmd_opcodes(argc - 2, argv + 2);
    if (strcmp(cmd, "scan") == 0)
        return cmd_scan(argc - 2, argv + 2);
    return cmd_scan(argc - 1, argv + 1);
}
