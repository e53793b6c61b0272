/*
 * convert.c -- float seconds to integer microseconds, as Apache Beam does.
 */
#include "sz_internal.h"

sz_status sz_seconds_to_micros(const double *seconds, size_t n, int64_t *out,
                               size_t *err_pos)
{
    /* Beam's Timestamp(seconds) is int(seconds * 1000000): an IEEE multiply
     * then truncation toward zero; C's cast does the same.  Doubles in
     * [-2^63, 2^63) convert exactly; the bounds are powers of two, so they
     * are exact doubles too. */
    const double lo = -9223372036854775808.0, hi = 9223372036854775808.0;
    sz_status st = SZ_OK;
    size_t i;
    if (err_pos) *err_pos = SZ_NO_POSITION;
    for (i = 0; i < n; i++) {
        double us = seconds[i] * 1e6;
        if (SZ_LIKELY(us >= lo && us < hi)) {
            out[i] = (int64_t)us;
            continue;
        }
        st = us != us ? SZ_ERR_TIME_NAN : SZ_ERR_TIME_RANGE;
        if (err_pos) *err_pos = i;
        break;
    }
    return st;
}
