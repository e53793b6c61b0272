/*
 * test_gaps.c -- sz_gapped_assign (a gap per event) against two models:
 *   - the scalar core: with every gap equal, ids and all six columns are
 *     sz_batch_assign()'s, for each key kind, cap mode and inclusive;
 *   - a brute-force model written from the definition: per key, windows
 *     [t, t + gap) merged while any two overlap (or touch, inclusive), then
 *     the cap applied to each merged interval's events, by a plain loop;
 * on random inputs dense in touching windows and ties; plus the element
 * errors and every allocation failure (nothing leaks, under ASan and
 * valgrind in CI).
 */
#include "../sessionize.h"
#define SZ_TEST_SIMPLE_CHECK
#include "harness.h"

#define RNG_SEED 0x9E3779B97F4A7C15ULL

typedef struct run {
    size_t S;
    int64_t *ids, *c[6];
} run;

static void run_free(run *r)
{
    int k;
    free(r->ids);
    for (k = 0; k < 6; k++) free(r->c[k]);
    memset(r, 0, sizeof *r);
}

static void cols_of(run *r, size_t S, sz_session_columns *cc)
{
    int k;
    r->S = S;
    for (k = 0; k < 6; k++) r->c[k] = (int64_t *)xmalloc((S ? S : 1) * sizeof(int64_t));
    cc->start = r->c[0];
    cc->end = r->c[1];
    cc->window_end = r->c[2];
    cc->count = r->c[3];
    cc->index = r->c[4];
    cc->first_event = r->c[5];
}

static sz_status run_gapped(const sz_keys *k, const int64_t *t, const int64_t *g, size_t n,
                            const sz_params *p, run *r, size_t *pos)
{
    sz_gapped *gp = NULL;
    sz_session_columns cc;
    size_t S = 0;
    sz_status st;
    memset(r, 0, sizeof *r);
    r->ids = (int64_t *)xmalloc((n ? n : 1) * sizeof(int64_t));
    st = sz_gapped_assign(&gp, k, t, g, n, p, r->ids, &S, pos);
    if (st != SZ_OK) return st;
    CHECK(sz_gapped_sessions(gp) == S);
    cols_of(r, S, &cc);
    st = sz_gapped_fill(gp, &cc);
    sz_gapped_free(gp);
    return st;
}

static sz_status run_batch(const sz_keys *k, const int64_t *t, size_t n, const sz_params *p,
                           run *r)
{
    sz_batch *b = NULL;
    sz_session_columns cc;
    size_t S = 0;
    sz_status st;
    memset(r, 0, sizeof *r);
    r->ids = (int64_t *)xmalloc((n ? n : 1) * sizeof(int64_t));
    st = sz_batch_assign(&b, k, t, n, p, r->ids, &S, NULL);
    if (st != SZ_OK) return st;
    cols_of(r, S, &cc);
    st = sz_batch_fill(b, t, r->ids, n, &cc);
    sz_batch_free(b);
    return st;
}

static int same(const run *a, const run *b, size_t n)
{
    int k;
    if (a->S != b->S || memcmp(a->ids, b->ids, n * sizeof(int64_t)) != 0) return 0;
    for (k = 0; k < 6; k++)
        if (a->S && memcmp(a->c[k], b->c[k], a->S * sizeof(int64_t)) != 0) return 0;
    return 1;
}

/* ---- the brute-force model ------------------------------------------------ */

/* Sessions of the events of one key: order[0 .. m) their positions in time
 * order (ties by position), written as session numbers from *next on into
 * ids, and their columns into c (indexed by session number). */
static void model_key(const int64_t *t, const int64_t *g, const uint32_t *order, size_t m,
                      const sz_params *p, int64_t *ids, int64_t *c[6], int64_t *next)
{
    size_t a = 0;
    int64_t first_sid = *next;
    while (a < m) {
        /* the merged interval from a: grow while some window of it
         * reaches the next event */
        size_t b = a + 1, j, s0;
        int64_t reach = t[order[a]] + g[order[a]];
        for (;;) {
            reach = t[order[a]] + g[order[a]];
            for (j = a; j < b; j++)
                if (t[order[j]] + g[order[j]] > reach) reach = t[order[j]] + g[order[j]];
            if (b < m && (p->inclusive ? t[order[b]] <= reach : t[order[b]] < reach))
                b++;
            else
                break;
        }
        /* the cap over events [a, b): restart measures from the session's
         * start, fixed cuts blocks from the interval's start */
        s0 = a;
        while (s0 < b) {
            size_t e = s0 + 1;
            int64_t st = t[order[s0]], limit, we, sid = (*next)++;
            if (p->cap_mode == SZ_CAP_RESTART) {
                while (e < b && (p->inclusive ? t[order[e]] - st <= p->max_duration
                                              : t[order[e]] - st < p->max_duration))
                    e++;
                limit = st + p->max_duration;
            } else if (p->cap_mode == SZ_CAP_FIXED) {
                int64_t base = t[order[a]];
                int64_t blk = (st - base) / p->max_duration;
                limit = base + (blk + 1) * p->max_duration;
                while (e < b && t[order[e]] < limit) e++;
            } else {
                e = b;
                limit = INT64_MAX;
            }
            /* reach as of the session's last event, over the interval */
            we = INT64_MIN;
            for (j = a; j < e; j++)
                if (t[order[j]] + g[order[j]] > we) we = t[order[j]] + g[order[j]];
            if (limit < we) we = limit;
            c[0][sid] = st;
            c[1][sid] = t[order[e - 1]];
            c[2][sid] = we;
            c[3][sid] = (int64_t)(e - s0);
            c[4][sid] = sid - first_sid;
            c[5][sid] = order[s0];
            for (j = s0; j < e; j++) ids[order[j]] = sid;
            s0 = e;
        }
        a = b;
    }
}

/* The whole input: keys (int64) in order of first appearance. */
static void model(const int64_t *keys, const int64_t *t, const int64_t *g, size_t n,
                  const sz_params *p, run *r)
{
    uint32_t *order = (uint32_t *)xmalloc((n ? n : 1) * sizeof *order);
    char *done = (char *)xcalloc(n ? n : 1, 1);
    int64_t next = 0;
    size_t i, j, k;
    int q;
    memset(r, 0, sizeof *r);
    r->ids = (int64_t *)xmalloc((n ? n : 1) * sizeof(int64_t));
    for (q = 0; q < 6; q++) r->c[q] = (int64_t *)xmalloc((n ? n : 1) * sizeof(int64_t));
    for (i = 0; i < n; i++) {
        size_t m = 0;
        if (done[i]) continue;
        for (j = i; j < n; j++)
            if (keys[j] == keys[i]) {
                done[j] = 1;
                /* insertion by (time, position) */
                k = m++;
                while (k > 0 && t[order[k - 1]] > t[j]) {
                    order[k] = order[k - 1];
                    k--;
                }
                order[k] = (uint32_t)j;
            }
        model_key(t, g, order, m, p, r->ids, r->c, &next);
    }
    r->S = (size_t)next;
    free(order);
    free(done);
}

/* ---- the tests ----------------------------------------------------------- */

static sz_params mkp(int inclusive, int mode, int64_t max)
{
    sz_params p;
    memset(&p, 0, sizeof p);
    p.gap = 1;
    p.inclusive = inclusive;
    p.cap_mode = mode;
    p.max_duration = max;
    return p;
}

/* Random events: few keys, times 0..span, gaps 1..gmax, so windows touch
 * and times tie often; in input order shuffled or by time. */
static void gen(int64_t *keys, int64_t *t, int64_t *g, size_t n, int n_keys, int64_t span,
                int64_t gmax, int sorted)
{
    size_t i;
    for (i = 0; i < n; i++) {
        keys[i] = (int64_t)(rnd() % (uint64_t)n_keys) * 7919 - 50;
        t[i] = (int64_t)(rnd() % (uint64_t)(span + 1));
        g[i] = 1 + (int64_t)(rnd() % (uint64_t)gmax);
    }
    if (sorted)  /* by time: insertion sort, n is small */
        for (i = 1; i < n; i++) {
            size_t j = i;
            while (j > 0 && t[j - 1] > t[j]) {
                int64_t x = t[j]; t[j] = t[j - 1]; t[j - 1] = x;
                x = keys[j]; keys[j] = keys[j - 1]; keys[j - 1] = x;
                x = g[j]; g[j] = g[j - 1]; g[j - 1] = x;
                j--;
            }
        }
}

static void test_against_model(void)
{
    enum { N = 400 };
    static int64_t keys[N], t[N], g[N];
    int round, bad = 0;
    group_begin("per-event gaps against the brute-force model");
    for (round = 0; round < 3000; round++) {
        size_t n = (size_t)(rnd() % N);
        int mode = round % 3, inclusive = (round / 3) % 2;
        sz_params p = mkp(inclusive, mode, 1 + (int64_t)(rnd() % 30));
        sz_keys k;
        run got, want;
        size_t pos;
        gen(keys, t, g, n, 1 + (int)(rnd() % 6), (int64_t)(rnd() % 400), 1 + (int64_t)(rnd() % 25),
            (int)(rnd() % 2));
        k.kind = SZ_KEYS_INT64;
        k.data = keys;
        k.width = 8;
        k.n_codes = 0;
        snprintf(ctx, sizeof ctx, "round %d n %zu mode %d inclusive %d max %lld", round, n, mode,
                 inclusive, (long long)p.max_duration);
        if (!CHECK(run_gapped(&k, t, g, n, &p, &got, &pos) == SZ_OK)) {
            run_free(&got);
            continue;
        }
        model(keys, t, g, n, &p, &want);
        if (!CHECK(same(&got, &want, n))) bad++;
        run_free(&got);
        run_free(&want);
    }
    group_end(bad ? "mismatches" : "");
}

static void test_constant_is_scalar(void)
{
    enum { N = 3000 };
    static int64_t keys[N], t[N], g[N], codes[N];
    int round;
    group_begin("a constant gap array is the scalar gap");
    for (round = 0; round < 600; round++) {
        size_t n = (size_t)(rnd() % N), i;
        int mode = round % 3, inclusive = (round / 3) % 2, kind = (round / 6) % 2;
        int64_t gap = 1 + (int64_t)(rnd() % 40);
        sz_params p = mkp(inclusive, mode, 1 + (int64_t)(rnd() % 60));
        sz_keys k;
        run a, b;
        gen(keys, t, g, n, 1 + (int)(rnd() % 50), (int64_t)(rnd() % 3000), 1, (int)(rnd() % 2));
        for (i = 0; i < n; i++) {
            g[i] = gap;
            codes[i] = (int64_t)((uint64_t)keys[i] % 97);
        }
        k.kind = kind ? SZ_KEYS_DENSE : SZ_KEYS_INT64;
        k.data = kind ? codes : keys;
        k.width = 8;
        k.n_codes = 97;
        p.gap = gap;
        snprintf(ctx, sizeof ctx, "round %d n %zu gap %lld mode %d inclusive %d kind %d", round,
                 n, (long long)gap, mode, inclusive, kind);
        CHECK(run_gapped(&k, t, g, n, &p, &a, NULL) == SZ_OK);
        CHECK(run_batch(&k, t, n, &p, &b) == SZ_OK);
        CHECK(same(&a, &b, n));
        run_free(&a);
        run_free(&b);
    }
    group_end("");
}

static void test_errors(void)
{
    int64_t keys[4] = {1, 1, 2, 2}, t[4] = {0, 5, 3, INT64_MAX - 10}, g[4] = {3, 3, 3, 3};
    sz_params p = mkp(1, SZ_CAP_NONE, 0);
    sz_keys k;
    run r;
    size_t pos;
    group_begin("element and parameter errors");
    k.kind = SZ_KEYS_INT64;
    k.data = keys;
    k.width = 8;
    k.n_codes = 0;
    g[1] = 0;
    CHECK(run_gapped(&k, t, g, 4, &p, &r, &pos) == SZ_ERR_GAP && pos == 1);
    run_free(&r);
    g[1] = -4;
    CHECK(run_gapped(&k, t, g, 4, &p, &r, &pos) == SZ_ERR_GAP && pos == 1);
    run_free(&r);
    g[1] = 3;
    g[3] = 11;  /* INT64_MAX - 10 + 11 overflows */
    CHECK(run_gapped(&k, t, g, 4, &p, &r, &pos) == SZ_ERR_TIME_OVERFLOW && pos == 3);
    run_free(&r);
    g[3] = 10;  /* reaches INT64_MAX exactly: fine */
    g[0] = 100; /* the largest gap: the coarse one is lowered to 10 */
    CHECK(run_gapped(&k, t, g, 4, &p, &r, &pos) == SZ_OK && r.S == 3 && r.c[2][0] == 100
          && r.c[3][0] == 2 && r.c[2][2] == INT64_MAX);
    run_free(&r);
    p.min_is_nat = 1;
    t[2] = INT64_MIN;
    CHECK(run_gapped(&k, t, g, 4, &p, &r, &pos) == SZ_ERR_TIME_NAT && pos == 2);
    run_free(&r);
    t[2] = 3;
    p.cap_mode = SZ_CAP_RESTART;
    p.max_duration = 0;
    CHECK(run_gapped(&k, t, g, 4, &p, &r, &pos) == SZ_ERR_PARAM);
    run_free(&r);
    p.cap_mode = SZ_CAP_NONE;
    CHECK(sz_gapped_assign(NULL, &k, t, NULL, 4, &p, keys, NULL, NULL) == SZ_ERR_PARAM);
    CHECK(sz_gapped_fill(NULL, NULL) == SZ_ERR_PARAM);
    sz_gapped_free(NULL);
    /* every time negative: room for any gap (fuzz_gaps found INT64_MAX -
     * the largest time overflowing here) */
    {
        int64_t nt[2] = {-12, -5}, ng[2] = {6, 3};
        CHECK(run_gapped(&k, nt, ng, 2, &p, &r, &pos) == SZ_OK && r.S == 2
              && r.c[2][0] == -6 && r.c[2][1] == -2);
        run_free(&r);
        nt[0] = INT64_MIN + 1;  /* and the most negative time (not NaT here) */
        p.min_is_nat = 0;
        CHECK(run_gapped(&k, nt, ng, 2, &p, &r, &pos) == SZ_OK && r.S == 2);
        run_free(&r);
    }
    /* empty input */
    CHECK(run_gapped(&k, t, g, 0, &p, &r, &pos) == SZ_OK && r.S == 0);
    run_free(&r);
    group_end("");
}

static void test_alloc_failures(void)
{
    enum { N = 2000 };
    static int64_t keys[N], t[N], g[N];
    sz_params p = mkp(1, SZ_CAP_FIXED, 17);
    sz_keys k;
    run want;
    long fail, points = 0;
    group_begin("allocation failures");
    gen(keys, t, g, N, 5, 20000, 40, 0);  /* shuffled: long runs get sorted */
    k.kind = SZ_KEYS_INT64;
    k.data = keys;
    k.width = 8;
    k.n_codes = 0;
    model(keys, t, g, N, &p, &want);
    for (fail = 1;; fail++) {
        run got;
        sz_status st;
        sz_test_fail_after(fail);
        st = run_gapped(&k, t, g, N, &p, &got, NULL);
        sz_test_fail_after(0);
        snprintf(ctx, sizeof ctx, "failing allocation %ld", fail);
        if (st == SZ_OK) {
            CHECK(same(&got, &want, N));
            run_free(&got);
            break;
        }
        CHECK(st == SZ_ERR_NOMEM);
        run_free(&got);
        points++;
    }
    run_free(&want);
    {
        char detail[80];
        snprintf(detail, sizeof detail, "%ld injected failures", points);
        group_end(detail);
    }
}

int main(void)
{
    rng_state = RNG_SEED;
    test_errors();
    test_against_model();
    test_constant_is_scalar();
    test_alloc_failures();
    printf("test_gaps: %ld passed, %ld failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
