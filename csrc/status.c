/*
 * status.c -- status names, parameter checks, and the rule's thresholds.
 */
#include "sz_internal.h"

const char *sz_strerror(sz_status status)
{
    switch (status) {
    case SZ_OK: return "ok";
    case SZ_ERR_NOMEM: return "out of memory";
    case SZ_ERR_PARAM: return "invalid parameter";
    case SZ_ERR_TIME_NAT: return "time is missing (NaT)";
    case SZ_ERR_TIME_OVERFLOW: return "time + gap overflows int64";
    case SZ_ERR_TOO_LARGE: return "too many events for one call";
    case SZ_ERR_KEY_RANGE: return "key code out of range";
    case SZ_ERR_TIME_NAN: return "time is NaN";
    case SZ_ERR_TIME_RANGE: return "time out of int64 range";
    case SZ_ERR_SNAPSHOT: return "snapshot truncated, corrupted or foreign";
    case SZ_ERR_KIND: return "unknown event kind";
    case SZ_ERR_ARROW_TYPE: return "unsupported Arrow type";
    case SZ_ERR_ARROW_INVALID: return "malformed Arrow array";
    case SZ_ERR_NULL: return "null element";
    case SZ_ERR_GAP: return "gap is zero or negative";
    }
    return "unknown status";
}

sz_status sz_params_check(const sz_params *p)
{
    if (p == NULL || p->gap <= 0) return SZ_ERR_PARAM;
    switch (p->cap_mode) {
    case SZ_CAP_NONE: return SZ_OK;
    case SZ_CAP_RESTART:
    case SZ_CAP_FIXED: return p->max_duration > 0 ? SZ_OK : SZ_ERR_PARAM;
    default: return SZ_ERR_PARAM;
    }
}

void sz__rule_init(sz_rule *r, const sz_params *p)
{
    /* gap <= INT64_MAX, so gap + 1 fits in uint64. */
    r->gap = p->gap;
    r->gap_thr = (uint64_t)p->gap + (p->inclusive ? 1u : 0u);
    r->mode = p->cap_mode;
    r->max = p->cap_mode == SZ_CAP_NONE ? 0 : p->max_duration;
    r->cap_thr = (uint64_t)r->max + (p->inclusive ? 1u : 0u);
    r->t_lo = p->min_is_nat ? INT64_MIN + 1 : INT64_MIN;
    r->t_hi = INT64_MAX - p->gap;
}
