/* The one error enum's descriptions, and the version string. */
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
    }
    return "unknown error";
}

const char *pks_version(void)
{
    return PKS_VERSION;
}
