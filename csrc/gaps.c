/*
 * gaps.c -- tier 1 with a gap per event (sz_gapped_assign, sessionize.h).
 *
 * Flink's withDynamicGap and Spark's session_window(time, gap column): event
 * i opens the window [t_i, t_i + gaps[i]); a key's windows that overlap
 * merge (and those that touch, when inclusive), so a session reaches to the
 * largest t_i + gaps[i] of its events, not to its last event plus one gap.
 *
 * The grouping is the scalar path's: sz_batch_assign() with a "coarse" gap
 * no smaller than any event's gap puts each key's events in sessions that
 * are unions of the dynamic ones (two neighbours of one dynamic session are
 * at most the larger gap apart), numbered by key and then time.  Those
 * coarse sessions are laid out by a stable counting sort of their ids,
 * each put in time order (ties in input order) if it is not already, and
 * scanned with the dynamic rule, which carries a key's state across its
 * coarse sessions: so correctness does not rest on the coarse gap, which
 * is lowered where times near INT64_MAX leave no room for the largest.
 */
#include "sz_internal.h"
#include "sz_sort.h"

#include <stdlib.h>
#include <string.h>

struct sz_gapped {
    size_t n_events, n_sessions;
    int64_t *cols;  /* 6 x n_sessions: start, end, window_end, count, index,
                       first_event */
};

/* The events at perm[0 .. m) in time order, ties in perm's order (which is
 * input order): insertion sort for a short run, else a stable radix sort
 * of (time, position) pairs. */
static sz_status sz__time_order(const int64_t *times, uint32_t *perm, size_t m,
                                int64_t *tt, int64_t *tmp_t, uint32_t *tmp_p)
{
    size_t i;
    for (i = 1; i < m && times[perm[i - 1]] <= times[perm[i]]; i++) continue;
    if (i == m) return SZ_OK;
    if (m <= 32) {
        for (i = 1; i < m; i++) {
            uint32_t p = perm[i];
            size_t j = i;
            while (j > 0 && times[perm[j - 1]] > times[p]) {
                perm[j] = perm[j - 1];
                j--;
            }
            perm[j] = p;
        }
        return SZ_OK;
    }
    for (i = 0; i < m; i++) tt[i] = times[perm[i]];
    sz__sort_pairs(tt, perm, m, tmp_t, tmp_p);
    return SZ_OK;
}

/* One key's running state: the session being built and its inactivity
 * session's reach. */
typedef struct sz__dyn {
    int64_t reach;   /* largest t + gap of the inactivity session so far */
    int64_t anchor;  /* restart: the session's start; fixed: its block end */
    int64_t sid;     /* the session being built, or -1 */
} sz__dyn;

/* Closes session `sid`: its window end is the reach as of its last event,
 * no later than the cap's limit. */
static void sz__dyn_close(const sz_rule *r, int64_t *we, const sz__dyn *d)
{
    int64_t w = d->reach;
    if (r->mode == SZ_CAP_RESTART) {
        int64_t limit = sz__sat_add(d->anchor, r->max);
        if (limit < w) w = limit;
    } else if (r->mode == SZ_CAP_FIXED) {
        if (d->anchor < w) w = d->anchor;
    }
    we[d->sid] = w;
}

sz_status sz_gapped_assign(sz_gapped **out, const sz_keys *keys,
                           const int64_t *times, const int64_t *gaps, size_t n,
                           const sz_params *params, int64_t *ids,
                           size_t *n_sessions, size_t *err_pos)
{
    sz_params p;
    sz_rule r;
    sz_batch *coarse = NULL;
    int64_t *cols = NULL, *tt = NULL, *tmp_t = NULL;
    int64_t gmax = 1, tmax = INT64_MIN, next_sid = 0, key_first = 0;
    uint32_t *perm = NULL, *tmp_p = NULL;
    size_t S0 = 0, i, c, big = 0, prev_lo = 0, *at = NULL;
    sz__dyn d;
    sz_gapped *g = NULL;
    sz_status st;

    if (out) *out = NULL;
    if (n_sessions) *n_sessions = 0;
    if (err_pos) *err_pos = SZ_NO_POSITION;
    if (params == NULL) return SZ_ERR_PARAM;
    p = *params;
    p.gap = 1;  /* not used: the events carry theirs */
    if (sz_params_check(&p) != SZ_OK) return SZ_ERR_PARAM;
    if (n > 0 && (keys == NULL || times == NULL || gaps == NULL || ids == NULL))
        return SZ_ERR_PARAM;
    if (n > SZ_MAX_EVENTS) return SZ_ERR_TOO_LARGE;

    /* Every event's own checks, in input order: the first at fault is
     * reported. */
    for (i = 0; i < n; i++) {
        int64_t t = times[i], gi = gaps[i];
        if (p.min_is_nat && t == INT64_MIN) {
            if (err_pos) *err_pos = i;
            return SZ_ERR_TIME_NAT;
        }
        if (gi <= 0) {
            if (err_pos) *err_pos = i;
            return SZ_ERR_GAP;
        }
        if (t > INT64_MAX - gi) {
            if (err_pos) *err_pos = i;
            return SZ_ERR_TIME_OVERFLOW;
        }
        if (gi > gmax) gmax = gi;
        if (t > tmax) tmax = t;
    }
    /* t + coarse gap must not overflow for any event (each has t + its own
     * gap <= INT64_MAX, so INT64_MAX - tmax >= 1); with every time
     * negative there is room for any gap, and INT64_MAX - tmax would
     * overflow (found by fuzz_gaps) */
    p.gap = n == 0 || tmax < 0 || gmax <= INT64_MAX - tmax ? gmax : INT64_MAX - tmax;
    p.inclusive = 1;
    {
        sz_params q = *params;  /* the caller's cap, and its inclusive */
        q.gap = 1;
        sz__rule_init(&r, &q);
    }

    st = sz_batch_assign(&coarse, keys, times, n, &p, ids, &S0, err_pos);
    if (st != SZ_OK) goto done;

    /* the events by coarse session, input order within one: a counting
     * sort of the ids, `at` each session's first slot (then next free) */
    at = (size_t *)SZ_MALLOC(sz__mul_size(S0 + 1, sizeof *at));
    perm = (uint32_t *)SZ_MALLOC(sz__mul_size(n ? n : 1, sizeof *perm));
    if (at == NULL || perm == NULL) goto nomem;
    memset(at, 0, (S0 + 1) * sizeof *at);
    for (i = 0; i < n; i++) at[ids[i] + 1]++;
    for (c = 0; c < S0; c++) {
        if (at[c + 1] > big) big = at[c + 1];
        at[c + 1] += at[c];
    }
    for (i = 0; i < n; i++) perm[at[ids[i]]++] = (uint32_t)i;
    /* at[c] is now session c's end, the next one's start */
    if (big > 32) {
        tt = (int64_t *)SZ_MALLOC(sz__mul_size(big, sizeof *tt));
        tmp_t = (int64_t *)SZ_MALLOC(sz__mul_size(big, sizeof *tmp_t));
        tmp_p = (uint32_t *)SZ_MALLOC(sz__mul_size(big, sizeof *tmp_p));
        if (tt == NULL || tmp_t == NULL || tmp_p == NULL) goto nomem;
    }

    /* At most one session per event: the columns are sized for n and
     * trimmed to the count found. */
    cols = (int64_t *)SZ_MALLOC(sz__mul_size(n ? 6 * n : 1, sizeof *cols));
    if (cols == NULL) goto nomem;
    {
        int64_t *start = cols, *end = cols + n, *we = cols + 2 * n,
                *count = cols + 3 * n, *index = cols + 4 * n, *first = cols + 5 * n;
        size_t lo = 0;
        d.sid = -1;
        d.reach = d.anchor = 0;
        for (c = 0; c < S0; c++) {
            size_t m = at[c] - lo, j;
            uint32_t *seg = perm + lo;
            /* a new key: a key's coarse sessions are numbered together */
            int new_key = c == 0 || sz__key_cmp(keys, keys->kind, seg[0], perm[prev_lo]) != 0;
            prev_lo = lo;
            sz__time_order(times, seg, m, tt, tmp_t, tmp_p);
            if (new_key) {
                if (d.sid >= 0) sz__dyn_close(&r, we, &d);
                d.sid = -1;
                key_first = next_sid;
            }
            for (j = 0; j < m; j++) {
                uint32_t e = seg[j];
                int64_t t = times[e], reach = t + gaps[e];
                /* a new inactivity session: the key's first event, or one
                 * past the reach (at it, when not inclusive) */
                int fresh = d.sid < 0 || (params->inclusive ? t > d.reach : t >= d.reach);
                int opens = fresh;
                if (!fresh && r.mode == SZ_CAP_RESTART)
                    opens = (uint64_t)t - (uint64_t)d.anchor >= r.cap_thr;
                else if (!fresh && r.mode == SZ_CAP_FIXED)
                    opens = t >= d.anchor;
                if (opens) {
                    if (d.sid >= 0) sz__dyn_close(&r, we, &d);
                    d.sid = next_sid++;
                    start[d.sid] = t;
                    count[d.sid] = 0;
                    index[d.sid] = d.sid - key_first;
                    first[d.sid] = (int64_t)e;
                    if (r.mode == SZ_CAP_RESTART)
                        d.anchor = t;
                    else if (r.mode == SZ_CAP_FIXED)  /* blocks count from the
                                                         inactivity session's start */
                        d.anchor = fresh ? sz__sat_add(t, r.max)
                                         : sz__next_block_end(d.anchor, t, r.max);
                    if (fresh) d.reach = reach;
                }
                if (reach > d.reach) d.reach = reach;
                end[d.sid] = t;
                count[d.sid]++;
                ids[e] = d.sid;
            }
            lo += m;
        }
        if (d.sid >= 0) sz__dyn_close(&r, we, &d);
    }

    g = (sz_gapped *)SZ_MALLOC(sizeof *g);
    if (g == NULL) goto nomem;
    g->n_events = n;
    g->n_sessions = (size_t)next_sid;
    g->cols = cols;
    cols = NULL;
    if (n_sessions) *n_sessions = g->n_sessions;
    if (out) {
        *out = g;
        g = NULL;
    }
    st = SZ_OK;
    goto done;
nomem:
    st = SZ_ERR_NOMEM;
done:
    sz_gapped_free(g);
    sz_batch_free(coarse);
    SZ_FREE(at);
    SZ_FREE(cols);
    SZ_FREE(perm);
    SZ_FREE(tt);
    SZ_FREE(tmp_t);
    SZ_FREE(tmp_p);
    return st;
}

size_t sz_gapped_sessions(const sz_gapped *g) { return g ? g->n_sessions : 0; }

sz_status sz_gapped_fill(const sz_gapped *g, const sz_session_columns *c)
{
    size_t S, n, k;
    int64_t *dst[6];
    if (g == NULL || c == NULL) return SZ_ERR_PARAM;
    S = g->n_sessions;
    n = g->n_events;
    dst[0] = c->start;
    dst[1] = c->end;
    dst[2] = c->window_end;
    dst[3] = c->count;
    dst[4] = c->index;
    dst[5] = c->first_event;
    for (k = 0; k < 6; k++) {
        if (S == 0) continue;
        if (dst[k] == NULL) return SZ_ERR_PARAM;
        memcpy(dst[k], g->cols + k * n, S * sizeof *dst[k]);
    }
    return SZ_OK;
}

void sz_gapped_free(sz_gapped *g)
{
    if (g == NULL) return;
    SZ_FREE(g->cols);
    SZ_FREE(g);
}
