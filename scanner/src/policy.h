/* The policy: which globals a pickle may use. An exact allowlist of
 * (module, qualname) with a kind (class, func, const) decides what is clean;
 * a denylist of categories and severities decides how bad the rest is. The
 * shipped lists (rules/policy/ files) are built into the binary; more can be
 * added from files. Also the name analysis find_class implies: the Python 2
 * mapping below protocol 3 and dotted qualnames from protocol 4. */
#ifndef PKS_POLICY_H
#define PKS_POLICY_H

#include <stdbool.h>
#include <stddef.h>

typedef enum pol_class {
    POL_ALLOWED,  /* exact allowlist entry */
    POL_UNKNOWN,  /* not on either list: suspicious */
    POL_FLAGGED,  /* denylist entry of severity high: suspicious, with its category */
    POL_DANGEROUS /* denylist entry of severity critical, or a dangerous name shape */
} pol_class;

typedef enum pol_kind { POL_KIND_NONE, POL_KIND_CLASS, POL_KIND_FUNC, POL_KIND_CONST } pol_kind;

typedef struct pol_verdict {
    pol_class cls;
    pol_kind kind;        /* for POL_ALLOWED */
    const char *category; /* rule id for POL_FLAGGED/POL_DANGEROUS, else "unknown_global" */
    const char *why;      /* one line: which entry or shape decided */
} pol_verdict;

typedef struct policy policy;

/* The built-in policy (shipped allowlist and denylist). NULL on no memory. */
policy *policy_new(void);
void policy_free(policy *p);

/* True when names is a comma-separated list of shipped allowlists: stdlib,
 * numpy, torch, sklearn, pandas, scipy, joblib, modern. */
bool policy_is_name(const char *names);

/* A policy of the named shipped allowlists only (stdlib is always in), with
 * the whole denylist. NULL when a name is unknown or on no memory. */
policy *policy_new_named(const char *names);

/* Adds entries in the allowlist format ("module qualname kind") or the
 * denylist format ("category severity module qualname"). Returns the number
 * of the first bad line, or 0 when all lines were read. */
size_t policy_add_allow(policy *p, const char *text);
size_t policy_add_deny(policy *p, const char *text);

/* Classifies a canonical (module, qualname). */
pol_verdict policy_classify(const policy *p, const char *module, const char *qualname);

/* True when name (an attribute reached through getattr or a dotted
 * qualname) is one a benign pickle never needs: dunders, private names and
 * known dangerous method names (system, popen, write_text, ...). */
bool policy_dangerous_attr(const char *name);

/* find_class's Python 2 mapping, applied when proto < 3: rewrites
 * the module and name pointers to static strings when a mapping applies; returns true when
 * it changed something. */
bool policy_map_py2(const char **module, const char **name);

#endif
