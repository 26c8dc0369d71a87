/*
 * errors.c - names for the error codes.
 */
#include "internal.h"

#include <string.h>

const char *csp_strerror(int code)
{
    switch (code) {
    case 0: return "success";
    case CSP_ECLOSED: return "channel closed";
    case CSP_EAGAIN: return "operation would block, or no thread available";
    case CSP_ETIMEDOUT: return "timed out";
    case CSP_EINVAL: return "invalid argument";
    case CSP_ENOMEM: return "out of memory";
    default: return "unknown error";
    }
}
