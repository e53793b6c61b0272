/*
 * fuzz_batch.c -- libFuzzer target: sz_batch_assign and sz_batch_fill on
 * arbitrary events and parameters, checked against a plain oracle.
 *
 * Input layout (fuzz_input.h readers):
 *   u8 flags   bits 0-1 cap mode (3: none), bit 2 inclusive, bit 3
 *              min_is_nat, bits 4-5 key kind (int64, bytes, dense, int64),
 *              bit 6: passes over 16 events or more run in two parts on two
 *              threads (parallel.c), bit 7: the key-count estimate off
 *   duration gap, duration max
 *   then events until the input ends: u8 key, time (fz_time)
 *
 * The oracle is the rule of SPEC.md section 1 written the slow, obvious
 * way (each key's events sorted by (time, position), 128-bit arithmetic);
 * element errors are checked to name a bad element of the right kind.
 */
#include "../sessionize.h"
#include "../sz_internal.h"
#include "fuzz_input.h"

#define MAX_EVENTS 4096

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

/* Does an event at t open a new session after `last` (and a session that
 * started at `start`, or whose inactivity session started at `origin`)? */
static int opens(const sz_params *p, int64_t last, int64_t start, int64_t origin, int64_t t)
{
    __int128 d = (__int128)t - last;
    if (p->inclusive ? d > p->gap : d >= p->gap) return 1;
    if (p->cap_mode == SZ_CAP_RESTART) {
        __int128 c = (__int128)t - start;
        return p->inclusive ? c > p->max_duration : c >= p->max_duration;
    }
    if (p->cap_mode == SZ_CAP_FIXED)
        return ((__int128)t - origin) / p->max_duration
               != ((__int128)last - origin) / p->max_duration;
    return 0;
}

/* The session ids the oracle gives: keys in order of first appearance (by
 * code for dense keys), each key's sessions in time order. */
static size_t oracle(const uint8_t *key, const int64_t *t, size_t n, const sz_params *p,
                     int dense, int64_t *ids)
{
    ev *e = (ev *)malloc((n ? n : 1) * sizeof *e);
    int order[256], seen[256] = {0}, n_keys = 0, k;
    size_t i, S = 0;
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
        size_t m = 0, j;
        int64_t last = 0, start = 0, origin = 0;
        for (i = 0; i < n; i++)
            if (key[i] == order[k]) {
                e[m].t = t[i];
                e[m].pos = i;
                m++;
            }
        qsort(e, m, sizeof *e, ev_cmp);
        for (j = 0; j < m; j++) {
            if (j == 0 || opens(p, last, start, origin, e[j].t)) {
                if (j == 0 || (p->inclusive ? (__int128)e[j].t - last > p->gap
                                            : (__int128)e[j].t - last >= p->gap))
                    origin = e[j].t;
                start = e[j].t;
                S++;
            }
            last = e[j].t;
            ids[e[j].pos] = (int64_t)S - 1;
        }
    }
    free(e);
    return S;
}

/* The status the oracle expects of element i, SZ_OK if it is fine. */
static sz_status element(const sz_params *p, int64_t t)
{
    if (p->min_is_nat && t == INT64_MIN) return SZ_ERR_TIME_NAT;
    if ((__int128)t + p->gap > INT64_MAX) return SZ_ERR_TIME_OVERFLOW;
    return SZ_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int64_t keys64[MAX_EVENTS], codes[MAX_EVENTS], t[MAX_EVENTS], ids[MAX_EVENTS], want[MAX_EVENTS];
    static unsigned char kbytes[MAX_EVENTS * 3];
    static uint8_t key[MAX_EVENTS];
    fz f;
    sz_params p;
    sz_keys keys;
    sz_batch *b = NULL;
    uint8_t flags;
    int kind;
    size_t n = 0, i, S = 0, pos = 0, want_S;
    sz_status st, bad = SZ_OK;
    int64_t prev = 0;

    fz_init(&f, data, size);
    flags = fz_u8(&f);
    memset(&p, 0, sizeof p);
    p.cap_mode = (flags & 3) == 3 ? SZ_CAP_NONE : (flags & 3);
    p.inclusive = (flags >> 2) & 1;
    p.min_is_nat = (flags >> 3) & 1;
    kind = (flags >> 4) & 3;
    if (kind == 3) kind = SZ_KEYS_INT64;
    p.gap = fz_duration(&f);
    p.max_duration = fz_duration(&f);
    while (fz_more(&f) && n < MAX_EVENTS) {
        key[n] = fz_u8(&f) % 32;
        t[n] = prev = fz_time(&f, prev);
        n++;
    }
    for (i = 0; i < n; i++) {
        codes[i] = key[i];
        keys64[i] = (int64_t)((uint64_t)key[i] * 0x9E3779B97F4A7C15ULL);  /* spread over int64 */
        memset(kbytes + 3 * i, 0, 3);
        kbytes[3 * i + (key[i] % 3)] = key[i];  /* distinct 3-byte strings */
    }
    keys.kind = kind;
    keys.data = kind == SZ_KEYS_BYTES ? (const void *)kbytes
                : kind == SZ_KEYS_DENSE ? (const void *)codes
                                        : (const void *)keys64;
    keys.width = 3;
    keys.n_codes = 32;

    sz_test_parallel_min((flags & 0x40) ? 16 : 0);
    sz_set_threads((flags & 0x40) ? 2 : 0);
    sz_test_estimate(!(flags & 0x80));
    st = sz_batch_assign(&b, &keys, t, n, &p, ids, &S, &pos);
    sz_test_parallel_min(0);
    sz_set_threads(0);
    sz_test_estimate(1);

    if (sz_params_check(&p) != SZ_OK) {
        FZ_CHECK(st == SZ_ERR_PARAM && b == NULL);
        return 0;
    }
    for (i = 0; i < n && bad == SZ_OK; i++) bad = element(&p, t[i]);
    if (bad != SZ_OK) {
        /* an element error, naming an element that has it */
        FZ_CHECK(st == SZ_ERR_TIME_NAT || st == SZ_ERR_TIME_OVERFLOW);
        FZ_CHECK(b == NULL && pos < n && element(&p, t[pos]) == st);
        return 0;
    }
    if (st != SZ_OK) FZ_FAIL("status %d (%s) on valid input", (int)st, sz_strerror(st));
    FZ_CHECK(pos == SZ_NO_POSITION);
    want_S = oracle(key, t, n, &p, kind == SZ_KEYS_DENSE, want);
    if (S != want_S) FZ_FAIL("%zu sessions, oracle %zu", S, want_S);
    for (i = 0; i < n; i++)
        if (ids[i] != want[i])
            FZ_FAIL("event %zu: session %lld, oracle %lld", i, (long long)ids[i],
                    (long long)want[i]);
    FZ_CHECK(sz_batch_sessions(b) == S);
    {
        /* the sessions' columns agree with their events */
        int64_t *col = (int64_t *)malloc((6 * S + 1) * sizeof *col);
        sz_session_columns c;
        size_t s;
        c.start = col;
        c.end = col + S;
        c.window_end = col + 2 * S;
        c.count = col + 3 * S;
        c.index = col + 4 * S;
        c.first_event = col + 5 * S;
        FZ_CHECK(sz_batch_fill(b, t, ids, n, &c) == SZ_OK);
        for (s = 0; s < S; s++) {
            int64_t cnt = 0, lo = INT64_MAX, hi = INT64_MIN;
            for (i = 0; i < n; i++)
                if ((size_t)ids[i] == s) {
                    cnt++;
                    if (t[i] < lo) lo = t[i];
                    if (t[i] > hi) hi = t[i];
                }
            FZ_CHECK(c.count[s] == cnt && c.start[s] == lo && c.end[s] == hi);
            FZ_CHECK(c.window_end[s] >= hi);
            FZ_CHECK(c.first_event[s] >= 0 && (size_t)c.first_event[s] < n);
            FZ_CHECK(ids[c.first_event[s]] == (int64_t)s && t[c.first_event[s]] == lo);
        }
        free(col);
    }
    sz_batch_free(b);
    return 0;
}
