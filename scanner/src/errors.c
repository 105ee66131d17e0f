/* The one error enum's descriptions, verdict names, and the version string. */
#include "pklscan.h"

const char *pks_strerror(pks_err e)
{
    switch (e) {
    case PKS_OK: return "success";
    case PKS_ERR_NOMEM: return "out of memory";
    case PKS_ERR_IO: return "input/output error";
    case PKS_ERR_USAGE: return "invalid arguments";
    case PKS_ERR_TRUNCATED: return "truncated pickle data";
    case PKS_ERR_BAD_OPCODE: return "not a pickle opcode";
    case PKS_ERR_BAD_ARG: return "invalid opcode argument";
    case PKS_ERR_BAD_TEXT: return "invalid text encoding";
    case PKS_ERR_BAD_LENGTH: return "invalid declared length";
    case PKS_ERR_BAD_PROTOCOL: return "unsupported pickle protocol";
    case PKS_ERR_LIMIT: return "limit reached";
    case PKS_ERR_EMPTY: return "no pickle data";
    case PKS_ERR_STACK: return "invalid stack operation";
    case PKS_ERR_REFUSED: return "refused by the restricted loader";
    }
    return "unknown error";
}

const char *pks_verdict_name(pks_verdict v)
{
    switch (v) {
    case PKS_VERDICT_CLEAN: return "clean";
    case PKS_VERDICT_SUSPICIOUS: return "suspicious";
    case PKS_VERDICT_MALICIOUS: return "malicious";
    case PKS_VERDICT_ERROR: return "error";
    case PKS_VERDICT_SKIPPED: return "skipped";
    }
    return "unknown";
}

const char *pks_version(void)
{
    return PKS_VERSION;
}
