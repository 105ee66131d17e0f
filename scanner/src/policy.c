/* The allowlist/denylist policy and the name analysis behind it; see
 * policy.h. Allow entries are kept sorted for binary search; deny entries
 * are few and scanned in order. */
#include "policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The shipped lists, embedded at build time (cmake/embed.cmake). */
extern const char pks_policy_stdlib_allow[], pks_policy_numpy_allow[], pks_policy_torch_allow[],
    pks_policy_sklearn_allow[], pks_policy_pandas_allow[], pks_policy_scipy_allow[],
    pks_policy_joblib_allow[], pks_policy_modern_allow[], pks_policy_denylist[];

struct compat_name {
    const char *m2, *n2, *m3, *n3;
};
struct compat_module {
    const char *m2, *m3;
};
#include "compat_names.inc"

typedef struct allow_entry {
    char *module, *qualname;
    pol_kind kind;
} allow_entry;

typedef struct deny_entry {
    char *category, *module, *qualname; /* qualname "*" = whole module tree */
    bool critical;
} deny_entry;

struct policy {
    allow_entry *allow;
    size_t nallow, capallow;
    bool sorted;
    deny_entry *deny;
    size_t ndeny, capdeny;
};

static int allow_cmp(const void *a, const void *b)
{
    const allow_entry *x = a, *y = b;
    int c = strcmp(x->module, y->module);
    return c ? c : strcmp(x->qualname, y->qualname);
}

/* Splits the next non-comment line of text into at most max fields. Returns
 * the number of fields (0 for blank/comment lines) and advances *text. */
static size_t next_fields(const char **text, char *buf, size_t cap, char **fields, size_t max)
{
    const char *s = *text, *nl = strchr(s, '\n');
    size_t len = nl ? (size_t)(nl - s) : strlen(s);
    *text = nl ? nl + 1 : s + len;
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *hash = strchr(buf, '#');
    if (hash)
        *hash = '\0';
    size_t n = 0;
    for (char *tok = strtok(buf, " \t\r"); tok && n < max + 1; tok = strtok(NULL, " \t\r"))
        fields[n++] = tok;
    return n;
}

size_t policy_add_allow(policy *p, const char *text)
{
    char buf[1024], *f[4];
    size_t lineno = 0;
    while (*text) {
        lineno++;
        size_t n = next_fields(&text, buf, sizeof buf, f, 3);
        if (n == 0)
            continue;
        pol_kind kind = n == 3 && !strcmp(f[2], "class")   ? POL_KIND_CLASS
                        : n == 3 && !strcmp(f[2], "func")  ? POL_KIND_FUNC
                        : n == 3 && !strcmp(f[2], "const") ? POL_KIND_CONST
                                                           : POL_KIND_NONE;
        if (kind == POL_KIND_NONE)
            return lineno;
        if (p->nallow == p->capallow) {
            size_t cap = p->capallow ? p->capallow * 2 : 128;
            allow_entry *a = realloc(p->allow, cap * sizeof *a);
            if (!a)
                return lineno;
            p->allow = a;
            p->capallow = cap;
        }
        allow_entry *e = &p->allow[p->nallow];
        e->module = strdup(f[0]);
        e->qualname = strdup(f[1]);
        e->kind = kind;
        if (!e->module || !e->qualname) {
            free(e->module);
            free(e->qualname);
            return lineno;
        }
        p->nallow++;
        p->sorted = false;
    }
    qsort(p->allow, p->nallow, sizeof *p->allow, allow_cmp);
    p->sorted = true;
    return 0;
}

size_t policy_add_deny(policy *p, const char *text)
{
    char buf[1024], *f[5];
    size_t lineno = 0;
    while (*text) {
        lineno++;
        size_t n = next_fields(&text, buf, sizeof buf, f, 4);
        if (n == 0)
            continue;
        if (n != 4 || (strcmp(f[1], "critical") != 0 && strcmp(f[1], "high") != 0))
            return lineno;
        if (p->ndeny == p->capdeny) {
            size_t cap = p->capdeny ? p->capdeny * 2 : 128;
            deny_entry *d = realloc(p->deny, cap * sizeof *d);
            if (!d)
                return lineno;
            p->deny = d;
            p->capdeny = cap;
        }
        deny_entry *e = &p->deny[p->ndeny];
        e->category = strdup(f[0]);
        e->module = strdup(f[2]);
        e->qualname = strdup(f[3]);
        e->critical = strcmp(f[1], "critical") == 0;
        if (!e->category || !e->module || !e->qualname) {
            free(e->category);
            free(e->module);
            free(e->qualname);
            return lineno;
        }
        p->ndeny++;
    }
    return 0;
}

/* The shipped allowlists by name; stdlib is always part of a policy. */
static const struct {
    const char *name;
    const char *text;
} shipped[] = {
    {"stdlib", pks_policy_stdlib_allow}, {"numpy", pks_policy_numpy_allow},
    {"torch", pks_policy_torch_allow},   {"sklearn", pks_policy_sklearn_allow},
    {"pandas", pks_policy_pandas_allow}, {"scipy", pks_policy_scipy_allow},
    {"joblib", pks_policy_joblib_allow}, {"modern", pks_policy_modern_allow},
};

static policy *build(const bool *use)
{
    policy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++)
        if ((i == 0 || use[i]) && policy_add_allow(p, shipped[i].text)) {
            policy_free(p);
            return NULL;
        }
    if (policy_add_deny(p, pks_policy_denylist)) {
        policy_free(p);
        return NULL;
    }
    return p;
}

policy *policy_new(void)
{
    bool use[sizeof shipped / sizeof shipped[0]];
    for (size_t i = 0; i < sizeof use / sizeof use[0]; i++)
        use[i] = true;
    return build(use);
}

bool policy_is_name(const char *names)
{
    const char *s = names;
    while (*s) {
        size_t n = strcspn(s, ",");
        bool known = false;
        for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++)
            known |= strlen(shipped[i].name) == n && strncmp(shipped[i].name, s, n) == 0;
        if (!known || n == 0)
            return false;
        s += n;
        if (*s == ',')
            s++;
    }
    return *names != 0;
}

policy *policy_new_named(const char *names)
{
    if (!policy_is_name(names))
        return NULL;
    bool use[sizeof shipped / sizeof shipped[0]] = {false};
    for (const char *s = names; *s;) {
        size_t n = strcspn(s, ",");
        for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++)
            if (strlen(shipped[i].name) == n && strncmp(shipped[i].name, s, n) == 0)
                use[i] = true;
        s += n;
        if (*s == ',')
            s++;
    }
    return build(use);
}

void policy_free(policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nallow; i++) {
        free(p->allow[i].module);
        free(p->allow[i].qualname);
    }
    for (size_t i = 0; i < p->ndeny; i++) {
        free(p->deny[i].category);
        free(p->deny[i].module);
        free(p->deny[i].qualname);
    }
    free(p->allow);
    free(p->deny);
    free(p);
}

static const allow_entry *find_allow(const policy *p, const char *module, const char *qualname)
{
    allow_entry key = {(char *)(uintptr_t)module, (char *)(uintptr_t)qualname, POL_KIND_NONE};
    return bsearch(&key, p->allow, p->nallow, sizeof *p->allow, allow_cmp);
}

/* module equals m, or is inside package m. */
static bool module_in(const char *module, const char *m)
{
    size_t n = strlen(m);
    return strncmp(module, m, n) == 0 && (module[n] == '\0' || module[n] == '.');
}

/* The most severe deny entry for (module, qualname), or NULL. A qualname
 * entry also covers attributes reached through it ("Popen" covers
 * "Popen.__init__"). */
static const deny_entry *find_deny(const policy *p, const char *module, const char *qualname)
{
    const deny_entry *best = NULL;
    for (size_t i = 0; i < p->ndeny; i++) {
        const deny_entry *e = &p->deny[i];
        bool star = strcmp(e->qualname, "*") == 0;
        if (star ? !module_in(module, e->module) : strcmp(module, e->module) != 0)
            continue;
        if (!star && !module_in(qualname, e->qualname))
            continue;
        if (!best || (e->critical && !best->critical))
            best = e;
    }
    return best;
}

bool policy_dangerous_attr(const char *name)
{
    static const char *const exact[] = {
        "system",       "popen",       "popen2",        "popen3",
        "popen4",       "eval",        "compile",       "open",
        "write",        "write_text",  "write_bytes",   "writelines",
        "unlink",       "remove",      "rmdir",         "rmtree",
        "removedirs",   "rename",      "renames",       "replace",
        "symlink",      "symlink_to",  "hardlink_to",   "link",
        "link_to",      "mkdir",       "makedirs",      "touch",
        "chmod",        "chown",       "truncate",      "kill",
        "killpg",       "fork",        "forkpty",       "putenv",
        "unsetenv",     "startfile",   "load",          "loads",
        "dump",         "call",        "check_call",    "check_output",
        "run",          "Popen",       "getoutput",     "getstatusoutput",
        "urlopen",      "urlretrieve", "connect",       "create_connection",
        "settrace",     "setprofile",  "import_module", "modules",
        "resolve_name", "locate",      "attrgetter",    "methodcaller",
        "partial",      "reduce",      "setattr",       "getattr",
        "delattr",      "globals",     "locals",        "vars",
        "breakpoint",   "input",       "addsitedir",    "register",
        "read_pickle",  "environ",     "path",
    };
    if (name[0] == '_')
        return true; /* private names and dunders */
    if (strncmp(name, "exec", 4) == 0 || strncmp(name, "spawn", 5) == 0)
        return true;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(name, exact[i]) == 0)
            return true;
    return false;
}

static pol_verdict verdict(pol_class cls, pol_kind kind, const char *category, const char *why)
{
    pol_verdict v = {cls, kind, category, why};
    return v;
}

pol_verdict policy_classify(const policy *p, const char *module, const char *qualname)
{
    const allow_entry *a = find_allow(p, module, qualname);
    if (a)
        return verdict(POL_ALLOWED, a->kind, NULL, "exact allowlist entry");
    const deny_entry *d = find_deny(p, module, qualname);
    if (d && d->critical)
        return verdict(POL_DANGEROUS, POL_KIND_NONE, d->category, "denylist entry");
    /* A dotted qualname (protocol 4 walks attributes): dangerous when it
     * passes through a private or dunder attribute, through a module the
     * denylist names (a re-export such as pathlib.os), or ends in a
     * dangerous attribute. */
    if (strchr(qualname, '.')) {
        char buf[512];
        size_t n = strlen(qualname);
        if (n >= sizeof buf)
            return verdict(POL_DANGEROUS, POL_KIND_NONE, "resolver", "overlong dotted qualname");
        memcpy(buf, qualname, n + 1);
        for (char *c = buf, *dot; c; c = dot ? dot + 1 : NULL) {
            dot = strchr(c, '.');
            if (dot)
                *dot = '\0';
            if (policy_dangerous_attr(c))
                return verdict(POL_DANGEROUS, POL_KIND_NONE, "resolver",
                               "dotted qualname walks through a private, dunder or dangerous "
                               "attribute");
            if (dot) {
                const deny_entry *m = find_deny(p, c, dot + 1);
                if (m && m->critical)
                    return verdict(POL_DANGEROUS, POL_KIND_NONE, m->category,
                                   "dotted qualname reaches a denylisted module");
            }
        }
    }
    if (d)
        return verdict(POL_FLAGGED, POL_KIND_NONE, d->category, "denylist entry");
    return verdict(POL_UNKNOWN, POL_KIND_NONE, "unknown_global", "not on the allowlist");
}

static int name_cmp(const void *key, const void *elem)
{
    const char *const *k = key;
    const struct compat_name *e = elem;
    int c = strcmp(k[0], e->m2);
    return c ? c : strcmp(k[1], e->n2);
}

static int module_cmp(const void *key, const void *elem)
{
    const struct compat_module *e = elem;
    return strcmp(key, e->m2);
}

bool policy_map_py2(const char **module, const char **name)
{
    const char *key[2] = {*module, *name};
    const struct compat_name *n =
        bsearch(key, compat_name_map, sizeof compat_name_map / sizeof compat_name_map[0],
                sizeof compat_name_map[0], name_cmp);
    if (n) {
        *module = n->m3;
        *name = n->n3;
        return true;
    }
    const struct compat_module *m =
        bsearch(*module, compat_module_map, sizeof compat_module_map / sizeof compat_module_map[0],
                sizeof compat_module_map[0], module_cmp);
    if (m) {
        *module = m->m3;
        return true;
    }
    return false;
}
