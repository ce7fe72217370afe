/* Error reporting: a status code plus a message that says what went wrong in
 * the user's terms. Messages are truncated, never overflowed. */
#include "rivulet/core.h"

#include <stdio.h>
#include <string.h>

rv_status rv_error_set(rv_error *err, rv_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

rv_status rv_error_prefix(rv_error *err, const char *fmt, ...)
{
    if (!err)
        return RV_EINVAL;
    char prefix[256], old[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    /* truncation is the intent: a long message keeps its start */
    size_t n = strlen(prefix);
    if (n > sizeof err->message - 3)
        n = sizeof err->message - 3;
    memcpy(err->message, prefix, n);
    memcpy(err->message + n, ": ", 2);
    size_t room = sizeof err->message - n - 3;
    size_t m = strnlen(old, room);
    memcpy(err->message + n + 2, old, m);
    err->message[n + 2 + m] = '\0';
    return err->code;
}

void rv_error_clear(rv_error *err)
{
    if (err) {
        err->code = RV_OK;
        err->message[0] = '\0';
    }
}

const char *rv_strerror(rv_status code)
{
    switch (code) {
    case RV_OK: return "ok";
    case RV_EINVAL: return "invalid argument";
    case RV_ENOMEM: return "out of memory";
    case RV_EIO: return "input/output error";
    case RV_ECORRUPT: return "corrupt data";
    case RV_ENOTFOUND: return "not found";
    case RV_ETYPE: return "wrong type";
    case RV_ESTATE: return "invalid state";
    case RV_EUNSUPPORTED: return "unsupported operation";
    case RV_EVERSION: return "unknown format version";
    default: return "unknown error";
    }
}
