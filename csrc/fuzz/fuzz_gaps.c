/*
 * fuzz_gaps.c -- libFuzzer target: sz_gapped_assign and sz_gapped_fill (a
 * gap per event) on arbitrary events, gaps and parameters, checked against
 * a plain oracle, and with every gap equal against sz_batch_assign.
 *
 * Input layout (fuzz_input.h readers):
 *   u8 flags   bits 0-1 cap mode (3: none), bit 2 inclusive, bit 3
 *              min_is_nat, bits 4-5 key kind (int64, bytes, dense, int64),
 *              bit 6: passes over 16 events or more run in two parts on two
 *              threads (parallel.c), bit 7: every event takes event 0's gap
 *              (and the result is checked against sz_batch_assign's)
 *   u8 flags2  bit 0: the key-count estimate off, bit 1: dense keys'
 *              n_codes is bits 2-7 (0: 32) instead of 32, so codes can be
 *              out of range
 *   duration gap (params->gap: ignored, so anything, 0 and negative too),
 *   duration max
 *   then events until the input ends: u8 key, time (fz_time), u8 gap
 *   selector (see gap_of), which may read one more byte or a whole u64
 *
 * A gap is drawn so that the extremes occur: tiny; the distance from this
 * event's time to another event's, plus -1, 0 or 1 (windows that just
 * overlap, touch, or miss by one); reaching to INT64_MAX exactly or just
 * short of it (or one past: an overflow); large powers of two; any u64;
 * zero and negative now and then.
 *
 * The oracle is the rule of sessionize.h's sz_gapped_assign written the
 * slow, obvious way: each key's events sorted by (time, position), scanned
 * with a reach (the largest t + gap of the inactivity session) kept in
 * 128-bit arithmetic, caps applied as in tier 1.  Element errors are
 * checked to name exactly the first bad element in input order, each
 * element checked NaT, then gap, then overflow (gaps.c's order).
 */
#include "../sessionize.h"
#include "../sz_internal.h"
#include "fuzz_input.h"

#define MAX_EVENTS 4096

typedef __int128 i128;

typedef struct ev {
    int64_t t;
    size_t pos;
} ev;

static int ev_cmp(const void *a, const void *b)
{
    const ev *x = (const ev *)a, *y = (const ev *)b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int64_t clamp64(i128 v)
{
    if (v > INT64_MAX) return INT64_MAX;
    if (v < INT64_MIN) return INT64_MIN;
    return (int64_t)v;
}

/* The gap of event i, from its selector byte `sel` and the extra value
 * `x` read with it. */
static int64_t gap_of(uint8_t sel, int64_t x, const int64_t *t, size_t i, size_t n)
{
    if (sel < 0x80) return 1 + (sel & 31);  /* tiny */
    if (sel < 0xE0) {                       /* to another event's time */
        unsigned v = sel - 0x80u;
        size_t j = (i + 1 + v / 3) % n;
        i128 d = (i128)t[j] - t[i];
        if (d < 0) d = -d;
        d += (int)(v % 3) - 1;
        return d <= 0 ? 1 : clamp64(d);
    }
    if (sel < 0xF0) { /* reach INT64_MAX - k^3, or INT64_MAX + 1 */
        int k = sel & 15;
        i128 reach = k == 15 ? (i128)INT64_MAX + 1 : (i128)INT64_MAX - k * k * k;
        return clamp64(reach - t[i]);
    }
    if (sel < 0xFD) return (int64_t)1 << (2 + 5 * (sel - 0xF0));  /* 4 .. 2^62 */
    if (sel == 0xFD) return x;                                     /* any */
    if (sel == 0xFE) return 0;
    return x == 0xFF ? INT64_MIN : -x; /* 0xFF: negative */
}

/* The status the oracle expects of element i, SZ_OK if it is fine; in
 * gaps.c's order. */
static sz_status element(const sz_params *p, int64_t t, int64_t g)
{
    if (p->min_is_nat && t == INT64_MIN) return SZ_ERR_TIME_NAT;
    if (g <= 0) return SZ_ERR_GAP;
    if ((i128)t + g > INT64_MAX) return SZ_ERR_TIME_OVERFLOW;
    return SZ_OK;
}

typedef struct cols6 {
    int64_t *c[6]; /* start, end, window_end, count, index, first_event */
} cols6;

static const char *const col_name[6] = {"start", "end", "window_end", "count", "index",
                                        "first_event"};

static void cols_alloc(cols6 *o, size_t S, sz_session_columns *c)
{
    int k;
    for (k = 0; k < 6; k++) o->c[k] = (int64_t *)malloc((S ? S : 1) * sizeof(int64_t));
    c->start = o->c[0];
    c->end = o->c[1];
    c->window_end = o->c[2];
    c->count = o->c[3];
    c->index = o->c[4];
    c->first_event = o->c[5];
}

static void cols_free(cols6 *o)
{
    int k;
    for (k = 0; k < 6; k++) free(o->c[k]);
}

/* A closed session's window end: the reach as of its last event, no later
 * than the cap's limit (start + max; or the end of start's block, blocks
 * counted from the inactivity session's first event s). */
static int64_t window_end_of(const sz_params *p, i128 reach, i128 start, i128 s, i128 max)
{
    i128 we = reach;
    if (p->cap_mode == SZ_CAP_RESTART && start + max < we) we = start + max;
    if (p->cap_mode == SZ_CAP_FIXED) {
        i128 be = s + ((start - s) / max + 1) * max;
        if (be < we) we = be;
    }
    return (int64_t)we;
}

/* The oracle: ids and the six columns (o, sized n), keys in order of first
 * appearance (by code for dense keys), each key's sessions in time order.
 * Returns the number of sessions. */
static size_t oracle(const uint8_t *key, const int64_t *t, const int64_t *g, size_t n,
                     const sz_params *p, int dense, int64_t *ids, cols6 *o)
{
    ev *e = (ev *)malloc((n ? n : 1) * sizeof *e);
    int order[256], seen[256] = {0}, n_keys = 0, k;
    size_t i, S = 0;
    i128 max = p->max_duration;
    for (i = 0; i < n; i++)
        if (!seen[key[i]]) {
            seen[key[i]] = 1;
            order[n_keys++] = key[i];
        }
    if (dense) { /* by code */
        n_keys = 0;
        for (k = 0; k < 256; k++)
            if (seen[k]) order[n_keys++] = k;
    }
    for (k = 0; k < n_keys; k++) {
        size_t m = 0, j, key_first = S;
        i128 reach = 0, s = 0, start = 0, last = 0;
        for (i = 0; i < n; i++)
            if (key[i] == order[k]) {
                e[m].t = t[i];
                e[m].pos = i;
                m++;
            }
        qsort(e, m, sizeof *e, ev_cmp);
        for (j = 0; j < m; j++) {
            i128 ti = e[j].t;
            int fresh = j == 0 || (p->inclusive ? ti > reach : ti >= reach);
            int opens = fresh;
            if (!fresh && p->cap_mode == SZ_CAP_RESTART)
                opens = p->inclusive ? ti - start > max : ti - start >= max;
            else if (!fresh && p->cap_mode == SZ_CAP_FIXED)
                opens = (ti - s) / max != (last - s) / max;
            if (opens) {
                if (j > 0) /* close the session before: reach as of its last event */
                    o->c[2][S - 1] = window_end_of(p, reach, start, s, max);
                if (fresh) {
                    s = ti;
                    reach = ti + g[e[j].pos];
                }
                start = ti;
                o->c[0][S] = e[j].t;
                o->c[3][S] = 0;
                o->c[4][S] = (int64_t)(S - key_first);
                o->c[5][S] = (int64_t)e[j].pos;
                S++;
            }
            if ((i128)e[j].t + g[e[j].pos] > reach) reach = (i128)e[j].t + g[e[j].pos];
            o->c[1][S - 1] = e[j].t;
            o->c[3][S - 1]++;
            last = ti;
            ids[e[j].pos] = (int64_t)S - 1;
        }
        if (m > 0) o->c[2][S - 1] = window_end_of(p, reach, start, s, max);
    }
    free(e);
    return S;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int64_t keys64[MAX_EVENTS], codes[MAX_EVENTS], t[MAX_EVENTS], g[MAX_EVENTS],
        xs[MAX_EVENTS], ids[MAX_EVENTS], want[MAX_EVENTS];
    static unsigned char kbytes[MAX_EVENTS * 3];
    static uint8_t key[MAX_EVENTS], sel[MAX_EVENTS];
    fz f;
    sz_params p;
    sz_keys keys;
    sz_gapped *gp = NULL;
    uint8_t flags, flags2;
    int kind, same_gap;
    size_t n = 0, i, S = 0, pos = 0, bad_at = SZ_NO_POSITION;
    sz_status st, bad = SZ_OK;
    int64_t prev = 0;

    fz_init(&f, data, size);
    flags = fz_u8(&f);
    flags2 = fz_u8(&f);
    memset(&p, 0, sizeof p);
    p.cap_mode = (flags & 3) == 3 ? SZ_CAP_NONE : (flags & 3);
    p.inclusive = (flags >> 2) & 1;
    p.min_is_nat = (flags >> 3) & 1;
    kind = (flags >> 4) & 3;
    if (kind == 3) kind = SZ_KEYS_INT64;
    same_gap = flags >> 7;
    p.gap = fz_duration(&f); /* ignored */
    p.max_duration = fz_duration(&f);
    while (fz_more(&f) && n < MAX_EVENTS) {
        key[n] = fz_u8(&f) % 32;
        t[n] = prev = fz_time(&f, prev);
        sel[n] = fz_u8(&f);
        xs[n] = sel[n] == 0xFD ? (int64_t)fz_u64(&f) : sel[n] == 0xFF ? fz_u8(&f) : 0;
        n++;
    }
    for (i = 0; i < n; i++) {
        g[i] = same_gap && i > 0 ? g[0] : gap_of(sel[i], xs[i], t, i, n);
        codes[i] = key[i];
        keys64[i] = (int64_t)((uint64_t)key[i] * 0x9E3779B97F4A7C15ULL); /* spread over int64 */
        memset(kbytes + 3 * i, 0, 3);
        kbytes[3 * i + (key[i] % 3)] = key[i]; /* distinct 3-byte strings */
    }
    keys.kind = kind;
    keys.data = kind == SZ_KEYS_BYTES ? (const void *)kbytes
                : kind == SZ_KEYS_DENSE ? (const void *)codes
                                        : (const void *)keys64;
    keys.width = 3;
    keys.n_codes = (flags2 & 2) && (flags2 >> 2) ? (size_t)(flags2 >> 2) : 32;

    sz_test_parallel_min((flags & 0x40) ? 16 : 0);
    sz_set_threads((flags & 0x40) ? 2 : 0);
    sz_test_estimate(!(flags2 & 1));
    st = sz_gapped_assign(&gp, &keys, t, g, n, &p, ids, &S, &pos);

    {
        /* the parameters are checked first; params->gap is not one of them */
        sz_params q = p;
        q.gap = 1;
        if (sz_params_check(&q) != SZ_OK) {
            if (st != SZ_ERR_PARAM || gp != NULL || pos != SZ_NO_POSITION)
                FZ_FAIL("bad cap: status %d (%s), pos %zu", (int)st, sz_strerror(st), pos);
            goto out;
        }
    }
    for (i = 0; i < n && bad == SZ_OK; i++)
        if ((bad = element(&p, t[i], g[i])) != SZ_OK) bad_at = i;
    if (bad != SZ_OK) {
        /* exactly the first element at fault, with its own error */
        if (st != bad || pos != bad_at || gp != NULL || S != 0)
            FZ_FAIL("status %d (%s) at %zu, oracle %d (%s) at %zu (t %lld gap %lld)", (int)st,
                    sz_strerror(st), pos, (int)bad, sz_strerror(bad), bad_at,
                    (long long)t[bad_at], (long long)g[bad_at]);
        goto out;
    }
    if (kind == SZ_KEYS_DENSE) {
        for (i = 0; i < n && (size_t)codes[i] < keys.n_codes; i++) continue;
        if (i < n) {
            if (st != SZ_ERR_KEY_RANGE || gp != NULL || pos >= n
                || (size_t)codes[pos] < keys.n_codes)
                FZ_FAIL("status %d (%s) at %zu for a code out of range at %zu", (int)st,
                        sz_strerror(st), pos, i);
            goto out;
        }
    }
    if (st != SZ_OK) FZ_FAIL("status %d (%s) on valid input, pos %zu", (int)st, sz_strerror(st), pos);
    FZ_CHECK(pos == SZ_NO_POSITION && gp != NULL);
    FZ_CHECK(sz_gapped_sessions(gp) == S);
    {
        cols6 got, exp;
        sz_session_columns c, e;
        size_t want_S, s;
        int k;
        cols_alloc(&exp, n, &e);
        want_S = oracle(key, t, g, n, &p, kind == SZ_KEYS_DENSE, want, &exp);
        if (S != want_S) FZ_FAIL("%zu sessions, oracle %zu", S, want_S);
        for (i = 0; i < n; i++)
            if (ids[i] != want[i])
                FZ_FAIL("event %zu: session %lld, oracle %lld", i, (long long)ids[i],
                        (long long)want[i]);
        cols_alloc(&got, S, &c);
        FZ_CHECK(sz_gapped_fill(gp, &c) == SZ_OK);
        for (k = 0; k < 6; k++)
            for (s = 0; s < S; s++)
                if (got.c[k][s] != exp.c[k][s])
                    FZ_FAIL("session %zu: %s %lld, oracle %lld", s, col_name[k],
                            (long long)got.c[k][s], (long long)exp.c[k][s]);
        if (S > 0) {
            sz_session_columns z = c;
            z.window_end = NULL;
            FZ_CHECK(sz_gapped_fill(gp, &z) == SZ_ERR_PARAM);
        }

        if (same_gap && n > 0) {
            /* one gap for all: sz_batch_assign's sessions with that gap */
            sz_params q = p;
            sz_batch *b = NULL;
            int64_t *bids = (int64_t *)malloc(n * sizeof *bids);
            size_t bS = 0;
            cols6 bc;
            sz_session_columns bcc;
            q.gap = g[0];
            FZ_CHECK(sz_batch_assign(&b, &keys, t, n, &q, bids, &bS, NULL) == SZ_OK);
            if (bS != S) FZ_FAIL("%zu sessions, sz_batch_assign %zu", S, bS);
            for (i = 0; i < n; i++)
                if (ids[i] != bids[i])
                    FZ_FAIL("event %zu: session %lld, sz_batch_assign %lld", i,
                            (long long)ids[i], (long long)bids[i]);
            cols_alloc(&bc, bS, &bcc);
            FZ_CHECK(sz_batch_fill(b, t, bids, n, &bcc) == SZ_OK);
            for (k = 0; k < 6; k++)
                for (s = 0; s < S; s++)
                    if (got.c[k][s] != bc.c[k][s])
                        FZ_FAIL("session %zu: %s %lld, sz_batch_assign %lld", s, col_name[k],
                                (long long)got.c[k][s], (long long)bc.c[k][s]);
            cols_free(&bc);
            sz_batch_free(b);
            free(bids);
        }
        cols_free(&got);
        cols_free(&exp);
    }
out:
    if (st != SZ_OK) FZ_CHECK(gp == NULL);
    sz_test_parallel_min(0);
    sz_set_threads(0);
    sz_test_estimate(1);
    sz_gapped_free(gp);
    return 0;
}
