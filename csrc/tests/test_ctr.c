/*
 * test_ctr.c -- C-only tests of the search-session CTR reduction (tier 3).
 *
 * Built by `make -C csrc test` next to test_core, with -DSZ_TESTING
 * -DSZ_DEBUG; no Python.  The heart is a slow, obviously correct reference
 * (ref_ctr) written from SPEC.md section 4 and the header's words, not from
 * ctr.c: group events by key with a linear search, order each key's events
 * by (time, position) with an insertion sort, cut user sessions, give each
 * its close moment in 128-bit arithmetic as the header defines it (an
 * event's time; last + gap, plus one when inclusive, for the gap rule),
 * sort the sessions with qsort, split them at searches.  Thousands of
 * generated inputs, in every arrival order, are compared with sz_ctr_run()
 * and sz_ctr_fill(); the path (ORDERED or SORTING) is predicted from the
 * input's shape.  Then element errors and their positions, API errors, and
 * every allocation made to fail in turn.
 *
 * Output: one line per test group, then "N passed, N failed" (checks).
 */
#include "../sessionize.h"
#include "../sz_ctr.h"
#include "../sz_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SZ_TEST_SIMPLE_CHECK 1  /* harness.h's check_() and CHECK */
#include "harness.h"

#define RNG_SEED 0x9E3779B97F4A7C15ULL

__extension__ typedef __int128 i128;

/* ---- checks ------------------------------------------------------------ */




/* ---- a test input ------------------------------------------------------ */

typedef struct cin {
    int kkind;            /* sz_key_kind */
    size_t width;         /* SZ_KEYS_BYTES */
    size_t n_codes;       /* SZ_KEYS_DENSE */
    size_t n;
    int64_t *ik;          /* INT64 / DENSE keys */
    unsigned char *bk;    /* BYTES keys */
    uint8_t *kinds;
    int64_t *t;           /* NULL: no times */
    sz_ctr_params p;
    const char *order;
} cin;

static void cin_alloc(cin *in, int kkind, size_t width, size_t n, int with_times)
{
    memset(in, 0, sizeof *in);
    in->kkind = kkind;
    in->width = width;
    in->n = n;
    in->ik = (int64_t *)xmalloc((n ? n : 1) * sizeof *in->ik);
    in->bk = (unsigned char *)xmalloc((n ? n : 1) * (width ? width : 1));
    in->kinds = (uint8_t *)xmalloc(n ? n : 1);
    in->t = with_times ? (int64_t *)xmalloc((n ? n : 1) * sizeof *in->t) : NULL;
    in->order = "";
}

static void cin_free(cin *in)
{
    free(in->ik);
    free(in->bk);
    free(in->kinds);
    free(in->t);
}

static sz_keys cin_keys(const cin *in)
{
    sz_keys k;
    k.kind = in->kkind;
    k.data = in->kkind == SZ_KEYS_BYTES ? (const void *)in->bk : (const void *)in->ik;
    k.width = in->width;
    k.n_codes = in->n_codes;
    return k;
}

static int same_key(const cin *in, size_t i, size_t j)
{
    if (in->kkind == SZ_KEYS_BYTES)
        return memcmp(in->bk + i * in->width, in->bk + j * in->width, in->width) == 0;
    return in->ik[i] == in->ik[j];
}

static int64_t time_of(const cin *in, size_t i)
{
    return in->t ? in->t[i] : (int64_t)i;
}

static void describe(const cin *in, const char *what)
{
    snprintf(ctx, sizeof ctx,
             "%s: kkind=%d width=%zu n=%zu order=%s times=%d gap=%lld incl=%d "
             "flush=%d",
             what, in->kkind, in->width, in->n, in->order, in->t != NULL,
             (long long)in->p.gap, in->p.inclusive, in->p.flush);
}

static int dumps_left = 3;
static void dump_input(const cin *in)
{
    size_t i;
    if (dumps_left <= 0 || in->n > 60) return;
    dumps_left--;
    printf("    reproducer (%s):\n    keys/kinds/times =", ctx);
    for (i = 0; i < in->n; i++) {
        long long k = in->kkind == SZ_KEYS_BYTES ? (long long)in->bk[i * in->width]
                                                 : (long long)in->ik[i];
        printf(" (%lld,%d,%lld)", k, in->kinds[i], (long long)time_of(in, i));
    }
    printf("\n");
}

/* ---- the reference ----------------------------------------------------- */

typedef struct rsess {
    int phase;          /* 0: closed during the input; 1: flushed */
    i128 moment;        /* phase 0: when it closed; 1: its first search's time */
    int cls;            /* phase 0 ties: 0 closes first */
    size_t tie;         /* then: a position */
    size_t *ev;         /* its events, in time order */
    size_t m;
} rsess;

typedef struct rrow {
    int64_t session, search, clicks;
} rrow;

typedef struct rout {
    rrow *rows;
    size_t R, S;
    int dirty;          /* some key's needed events come out of time order */
} rout;

static int cmp_rsess(const void *a, const void *b)
{
    const rsess *x = (const rsess *)a, *y = (const rsess *)b;
    if (x->phase != y->phase) return x->phase < y->phase ? -1 : 1;
    if (x->moment != y->moment) return x->moment < y->moment ? -1 : 1;
    if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1;
    return x->tie < y->tie ? -1 : x->tie > y->tie;
}

static int has_search(const cin *in, const rsess *s)
{
    size_t j;
    for (j = 0; j < s->m; j++)
        if (in->kinds[s->ev[j]] == SZ_SEARCH) return 1;
    return 0;
}

static const cin *cmp_in;  /* qsort has no context argument */

/* By key (any consistent order), then input position. */
static int cmp_key_pos(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c;
    if (cmp_in->kkind == SZ_KEYS_BYTES)
        c = memcmp(cmp_in->bk + i * cmp_in->width, cmp_in->bk + j * cmp_in->width,
                   cmp_in->width);
    else
        c = (cmp_in->ik[i] > cmp_in->ik[j]) - (cmp_in->ik[i] < cmp_in->ik[j]);
    if (c) return c;
    return i < j ? -1 : i > j;
}

static void ref_ctr(const cin *in, rout *out)
{
    size_t n = in->n, i, j, ns = 0, base = 0;
    size_t *evs = (size_t *)xmalloc((n ? n : 1) * sizeof *evs);  /* by key, time order */
    rsess *ss = (rsess *)xmalloc((n ? n : 1) * sizeof *ss);
    int64_t max_t = INT64_MIN;
    const int gap = in->p.gap > 0;
    const i128 thr = (i128)in->p.gap + (in->p.inclusive ? 1 : 0);

    out->dirty = 0;
    for (i = 0; i < n; i++) {
        if (time_of(in, i) > max_t) max_t = time_of(in, i);
        evs[i] = i;
    }
    /* the keys' events, each key's in input order */
    cmp_in = in;
    qsort(evs, n, sizeof *evs, cmp_key_pos);
    while (base < n) {
        size_t *ord = evs + base, m = 1, cur = 0;
        int64_t hi = INT64_MIN;
        while (base + m < n && same_key(in, ord[0], ord[m])) m++;
        base += m;
        /* are the events that matter (all, with a gap) in time order? */
        for (j = 0; j < m; j++) {
            i = ord[j];
            if (in->t && (gap || in->kinds[i] == SZ_SEARCH || in->kinds[i] == SZ_CLICK
                          || in->kinds[i] == SZ_APP_CLOSE || in->kinds[i] == SZ_TIMEOUT)) {
                if (time_of(in, i) < hi) out->dirty = 1;
                if (time_of(in, i) > hi) hi = time_of(in, i);
            }
        }
        /* time order, ties in input order: a stable insertion sort */
        for (i = 1; i < m; i++) {
            size_t v = ord[i];
            for (j = i; j > 0 && time_of(in, ord[j - 1]) > time_of(in, v); j--)
                ord[j] = ord[j - 1];
            ord[j] = v;
        }
        /* user sessions */
        for (i = 0; i < m; i++) {
            size_t e = ord[i];
            if (i > cur && gap
                && (i128)time_of(in, e) - time_of(in, ord[i - 1]) >= thr) {
                rsess *s = &ss[ns++];
                s->phase = 0;
                s->moment = (i128)time_of(in, ord[i - 1]) + thr;
                s->cls = 0;
                s->tie = ord[i - 1];
                s->ev = ord + cur;
                s->m = i - cur;
                cur = i;
            }
            if (in->kinds[e] == SZ_APP_CLOSE || in->kinds[e] == SZ_TIMEOUT) {
                rsess *s = &ss[ns++];
                s->phase = 0;
                s->moment = time_of(in, e);
                s->cls = 1;
                s->tie = e;
                s->ev = ord + cur;
                s->m = i + 1 - cur;
                cur = i + 1;
            }
        }
        if (cur < m) {  /* still open at the end of the input */
            rsess *s = &ss[ns++];
            size_t last = ord[m - 1];
            s->ev = ord + cur;
            s->m = m - cur;
            if (gap && (i128)max_t - time_of(in, last) >= thr) {
                s->phase = 0;
                s->moment = (i128)time_of(in, last) + thr;
                s->cls = 0;
                s->tie = last;
            } else {
                s->phase = in->p.flush ? 1 : 2;  /* 2: dropped */
                s->cls = 0;
                s->moment = 0;
                s->tie = 0;
                for (j = 0; j < s->m; j++) {
                    if (in->kinds[s->ev[j]] == SZ_SEARCH) {
                        s->moment = time_of(in, s->ev[j]);
                        s->tie = s->ev[j];
                        break;
                    }
                }
            }
        }
    }
    /* keep sessions with a search, not dropped; sort; number; split */
    {
        size_t kept = 0, s, R = 0;
        for (s = 0; s < ns; s++) {
            if (ss[s].phase == 2 || !has_search(in, &ss[s])) continue;
            ss[kept++] = ss[s];
        }
        qsort(ss, kept, sizeof *ss, cmp_rsess);
        out->rows = (rrow *)xmalloc((n ? n : 1) * sizeof *out->rows);
        for (s = 0; s < kept; s++) {
            rrow *row = NULL;
            for (j = 0; j < ss[s].m; j++) {
                size_t e = ss[s].ev[j];
                if (in->kinds[e] == SZ_SEARCH) {
                    row = &out->rows[R++];
                    row->session = (int64_t)s;
                    row->search = (int64_t)e;
                    row->clicks = 0;
                } else if (in->kinds[e] == SZ_CLICK && row) {
                    row->clicks++;
                }
            }
        }
        out->R = R;
        out->S = kept;
    }
    free(evs);
    free(ss);
}

static void rout_free(rout *r) { free(r->rows); }

/* ---- compare ----------------------------------------------------------- */

static long paths_seen[3];

static int run_compare(const cin *in)
{
    rout r;
    sz_ctr *c = NULL;
    sz_keys keys = cin_keys(in);
    size_t R = 0, pos = 0, i;
    int ok = 1;
    sz_status st;
    ref_ctr(in, &r);
    st = sz_ctr_run(&c, &keys, in->kinds, in->t, in->n, &in->p, &R, &pos);
    ok &= CHECK(st == SZ_OK);
    if (st == SZ_OK) {
        int64_t *session = (int64_t *)xmalloc((R ? R : 1) * 8);
        int64_t *search = (int64_t *)xmalloc((R ? R : 1) * 8);
        int64_t *clicks = (int64_t *)xmalloc((R ? R : 1) * 8);
        uint8_t *clicked = (uint8_t *)xmalloc(R ? R : 1);
        sz_ctr_columns cols;
        cols.session = session;
        cols.search = search;
        cols.clicks = clicks;
        cols.clicked = clicked;
        ok &= CHECK(pos == SZ_NO_POSITION);
        ok &= CHECK(R == r.R);
        ok &= CHECK(sz_ctr_rows(c) == R);
        ok &= CHECK(sz_ctr_sessions(c) == r.S);
        ok &= CHECK(sz_ctr_fill(c, &cols) == SZ_OK);
        if (R == r.R) {
            int rows_ok = 1;
            for (i = 0; i < R; i++) {
                rows_ok &= session[i] == r.rows[i].session && search[i] == r.rows[i].search
                           && clicks[i] == r.rows[i].clicks
                           && clicked[i] == (r.rows[i].clicks > 0);
                if (!rows_ok) break;
            }
            ok &= CHECK(rows_ok);
            if (!rows_ok && n_fail <= MAX_REPORTS)
                printf("    row %zu: got (%lld, %lld, %lld) want (%lld, %lld, %lld)\n", i,
                       (long long)session[i], (long long)search[i], (long long)clicks[i],
                       (long long)r.rows[i].session, (long long)r.rows[i].search,
                       (long long)r.rows[i].clicks);
        }
        {
            int want = r.dirty ? SZ_PATH_SORTING : SZ_PATH_ORDERED;
            int got = sz_ctr_path_taken(c);
            ok &= CHECK(got == want);
            if (got >= 0 && got < 3) paths_seen[got]++;
        }
        free(session);
        free(search);
        free(clicks);
        free(clicked);
    }
    if (!ok) dump_input(in);
    sz_ctr_free(c);
    rout_free(&r);
    return ok;
}

/* ---- generators -------------------------------------------------------- */

enum { ORD_TIME, ORD_KEYTIME, ORD_PERKEY, ORD_SHUFFLE, ORD_JITTER, N_ORD };
static const char *const ord_name[N_ORD] = {"time", "key-time", "per-key",
                                            "shuffled", "jitter"};

static uint8_t random_kind(int mix)
{
    /* mix 0: realistic; 1: uniform; 2: few closes (long sessions) */
    static const uint8_t realistic[20] = {0, 0, 1, 1, 1, 1, 2, 2, 2, 3,
                                          3, 3, 3, 3, 4, 4, 5, 1, 3, 2};
    if (mix == 1) return (uint8_t)rndn(SZ_N_KINDS);
    if (mix == 2) {
        uint8_t k = realistic[rndn(20)];
        return (k == 4 || k == 5) && coin(80) ? 3 : k;
    }
    return realistic[rndn(20)];
}

static void set_key(cin *in, size_t i, size_t key_no)
{
    if (in->kkind == SZ_KEYS_BYTES) {
        size_t b;
        for (b = 0; b < in->width; b++)
            in->bk[i * in->width + b] = (unsigned char)(b == 0 ? key_no : (key_no >> 8) * 31 + b);
    } else if (in->kkind == SZ_KEYS_DENSE) {
        in->ik[i] = (int64_t)key_no;
    } else {
        in->ik[i] = (int64_t)sz__hash_u64((uint64_t)key_no + 77) ^ (int64_t)(key_no & 1);
    }
}

/* Events (key number, kind, time) generated per key with increasing times,
 * then arranged in the chosen arrival order. */
typedef struct gev {
    size_t key;
    uint8_t kind;
    int64_t t;
    uint64_t r;
} gev;

static int cmp_gev_time(const void *a, const void *b)
{
    const gev *x = (const gev *)a, *y = (const gev *)b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->r < y->r ? -1 : x->r > y->r;
}

static int cmp_gev_key(const void *a, const void *b)
{
    const gev *x = (const gev *)a, *y = (const gev *)b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->r < y->r ? -1 : x->r > y->r;
}

static int cmp_gev_r(const void *a, const void *b)
{
    const gev *x = (const gev *)a, *y = (const gev *)b;
    return x->r < y->r ? -1 : x->r > y->r;
}

static void gen(cin *in, int kkind, size_t n, size_t K, int order, int with_times,
                int64_t gap, int mix, int64_t step)
{
    gev *g = (gev *)xmalloc((n ? n : 1) * sizeof *g);
    int64_t *clock = (int64_t *)xmalloc((K ? K : 1) * sizeof *clock);
    size_t i, k;
    cin_alloc(in, kkind, kkind == SZ_KEYS_BYTES ? 1 + rndn(12) : 0, n, with_times);
    in->n_codes = kkind == SZ_KEYS_DENSE ? K + rndn(3) : 0;
    for (k = 0; k < K; k++) clock[k] = (int64_t)rndn(50) - 20;
    for (i = 0; i < n; i++) {
        size_t key = rndn(K);
        /* steps around gap: 0 (ties), exactly gap, gap +- 1, small, big */
        int64_t d;
        switch (rndn(7)) {
        case 0: d = 0; break;
        case 1: d = gap > 0 ? gap : step; break;
        case 2: d = gap > 0 ? gap + 1 : step; break;
        case 3: d = gap > 1 ? gap - 1 : 1; break;
        case 4: d = 3 * (gap > 0 ? gap : step); break;
        default: d = (int64_t)rndn((size_t)step + 1); break;
        }
        clock[key] += d;
        g[i].key = key;
        g[i].kind = random_kind(mix);
        g[i].t = clock[key];
        g[i].r = rnd();
    }
    switch (order) {
    case ORD_TIME: qsort(g, n, sizeof *g, cmp_gev_time); break;
    case ORD_KEYTIME: qsort(g, n, sizeof *g, cmp_gev_key); break;
    case ORD_SHUFFLE: qsort(g, n, sizeof *g, cmp_gev_r); break;
    case ORD_JITTER:
        qsort(g, n, sizeof *g, cmp_gev_time);
        for (i = 0; i + 1 < n; i++) {
            if (coin(5)) {
                gev x = g[i];
                g[i] = g[i + 1];
                g[i + 1] = x;
            }
        }
        break;
    default: break;  /* ORD_PERKEY: generation order, each key increasing */
    }
    for (i = 0; i < n; i++) {
        set_key(in, i, g[i].key);
        in->kinds[i] = g[i].kind;
        if (in->t) in->t[i] = g[i].t;
    }
    in->order = ord_name[order];
    in->p.gap = with_times ? gap : 0;
    free(g);
    free(clock);
}

/* ---- tests ------------------------------------------------------------- */

static void test_seed(void)
{
    /* the first Bytewax seed: 1.0, 1.0, 0.0 in close order (flush off) */
    static const int64_t users[12] = {1, 1, 1, 1, 1, 1, 1, 2, 1, 2, 1, 2};
    static const uint8_t kinds[12] = {SZ_APP_OPEN, SZ_SEARCH, SZ_RESULTS, SZ_CLICK,
                                      SZ_SEARCH,  SZ_RESULTS, SZ_CLICK, SZ_APP_OPEN,
                                      SZ_CLICK,   SZ_SEARCH,  SZ_APP_CLOSE, SZ_APP_CLOSE};
    int64_t times[12], session[3], search[3], clicks[3];
    uint8_t clicked[3];
    sz_keys keys = {SZ_KEYS_INT64, users, 0, 0};
    sz_ctr_params p = {0, 1, 0, 0};
    sz_ctr_columns cols;
    sz_ctr *c = NULL;
    size_t R = 0, i;
    int variant;
    group_begin("bytewax seeds");
    cols.session = session;
    cols.search = search;
    cols.clicks = clicks;
    cols.clicked = clicked;
    for (i = 0; i < 12; i++) times[i] = 1000 + (int64_t)i;  /* one second apart */
    for (variant = 0; variant < 3; variant++) {
        /* 0: no times, no flush; 1: times one apart, gap 5; 2: both, flushed */
        p.gap = variant == 1 ? 5 : 0;
        p.flush = variant != 0;
        CHECK(sz_ctr_run(&c, &keys, kinds, variant ? times : NULL, 12, &p, &R, NULL)
              == SZ_OK);
        CHECK(R == 3);
        if (R == 3) {
            CHECK(sz_ctr_fill(c, &cols) == SZ_OK);
            CHECK(clicked[0] == 1 && clicked[1] == 1 && clicked[2] == 0);
            CHECK(search[0] == 1 && search[1] == 4 && search[2] == 9);
            CHECK(clicks[0] == 1 && clicks[1] == 2 && clicks[2] == 0);
            CHECK(session[0] == 0 && session[1] == 0 && session[2] == 1);
        }
        CHECK(sz_ctr_sessions(c) == 2);
        sz_ctr_free(c);
        c = NULL;
    }
    group_end("");
}

static void test_hand(void)
{
    /* Hand cases of the close order and the edge cases: (key, kind, time). */
    static const struct {
        const char *what;
        int64_t gap;
        int incl, flush, n;
        int64_t k[10];
        uint8_t kind[10];
        int64_t t[10];
        int R;
        int64_t search[6], session[6], clicks[6];
    } cases[] = {
        {"click before any search is dropped", 0, 1, 1, 4,
         {1, 1, 1, 1}, {3, 1, 3, 3}, {0, 1, 2, 3}, 1, {1}, {0}, {2}},
        {"session without a search: no row", 0, 1, 1, 3,
         {1, 1, 1}, {0, 3, 4}, {0, 1, 2}, 0, {0}, {0}, {0}},
        {"APP_OPEN inside a session does not split it", 0, 1, 1, 4,
         {1, 1, 1, 1}, {1, 0, 3, 4}, {0, 1, 2, 3}, 1, {0}, {0}, {1}},
        {"after APP_CLOSE any event starts the next session", 0, 1, 1, 4,
         {1, 1, 1, 1}, {1, 4, 3, 1}, {0, 1, 2, 3}, 2, {0, 3}, {0, 1}, {0, 0}},
        {"TIMEOUT closes", 0, 1, 0, 4,
         {1, 1, 2, 2}, {1, 5, 1, 3}, {0, 1, 2, 3}, 1, {0}, {0}, {0}},
        {"flush=0 drops the open sessions", 0, 1, 0, 3,
         {1, 2, 2}, {1, 1, 4}, {0, 1, 2}, 1, {1}, {0}, {0}},
        {"flushed sessions come last, by first search", 0, 1, 1, 5,
         {1, 2, 3, 3, 1}, {1, 1, 1, 4, 3}, {0, 1, 2, 3, 4}, 3, {2, 0, 1}, {0, 1, 2},
         {0, 1, 0}},
        {"gap rule, inclusive: exactly gap apart share", 10, 1, 1, 3,
         {1, 1, 1}, {1, 3, 3}, {0, 10, 21}, 1, {0}, {0}, {1}},
        {"gap rule, exclusive: exactly gap apart split", 10, 0, 1, 3,
         {1, 1, 1}, {1, 3, 1}, {0, 10, 20}, 2, {0, 2}, {0, 1}, {0, 0}},
        {"a key's session ends when the watermark passes it", 10, 1, 0, 3,
         {1, 2, 2}, {1, 1, 3}, {0, 5, 11}, 1, {0}, {0}, {0}},
        {"gap close before an event's close at its moment (inclusive: +1)", 10, 1, 1, 4,
         {1, 2, 2, 1}, {1, 1, 4, 0}, {0, 5, 11, 40}, 2, {0, 1}, {0, 1}, {0, 0}},
        {"event's close at the window end first when inclusive", 10, 1, 1, 4,
         {1, 2, 2, 1}, {1, 1, 4, 0}, {0, 5, 10, 40}, 2, {1, 0}, {0, 1}, {0, 0}},
        {"gap close first at the window end when exclusive", 10, 0, 1, 4,
         {1, 2, 2, 1}, {1, 1, 4, 0}, {0, 5, 10, 40}, 2, {0, 1}, {0, 1}, {0, 0}},
        {"searches in time order within a session (out of input order)", 0, 1, 1, 4,
         {1, 1, 1, 1}, {1, 3, 1, 4}, {5, 6, 1, 9}, 2, {2, 0}, {0, 0}, {0, 1}},
    };
    size_t c, i;
    group_begin("hand-computed cases");
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        cin in;
        int n = cases[c].n;
        cin_alloc(&in, SZ_KEYS_INT64, 0, (size_t)n, 1);
        for (i = 0; i < (size_t)n; i++) {
            in.ik[i] = cases[c].k[i];
            in.kinds[i] = cases[c].kind[i];
            in.t[i] = cases[c].t[i];
        }
        in.p.gap = cases[c].gap;
        in.p.inclusive = cases[c].incl;
        in.p.flush = cases[c].flush;
        in.order = cases[c].what;
        describe(&in, cases[c].what);
        run_compare(&in);  /* the reference agrees with ... */
        {
            rout r;  /* ... the hand-computed answer */
            ref_ctr(&in, &r);
            CHECK(r.R == (size_t)cases[c].R);
            for (i = 0; i < r.R && i < (size_t)cases[c].R; i++) {
                CHECK(r.rows[i].search == cases[c].search[i]);
                CHECK(r.rows[i].session == cases[c].session[i]);
                CHECK(r.rows[i].clicks == cases[c].clicks[i]);
            }
            rout_free(&r);
        }
        cin_free(&in);
    }
    group_end("");
}

static void test_random(void)
{
    long cases = 0, events = 0;
    int rep;
    char detail[200];
    group_begin("random vs reference");
    paths_seen[0] = paths_seen[1] = paths_seen[2] = 0;
    for (rep = 0; rep < 6000; rep++) {
        cin in;
        int kkind = (int)rndn(3), order = (int)rndn(N_ORD);
        int with_times = !coin(20), mix = (int)rndn(3);
        size_t n = coin(10) ? rndn(4) : 1 + rndn(coin(20) ? 600 : 80);
        size_t K = 1 + rndn(coin(50) ? 4 : 30);
        int64_t gap = with_times && coin(70) ? 1 + (int64_t)rndn(20) : 0;
        if (!with_times && order != ORD_SHUFFLE) order = ORD_PERKEY;
        gen(&in, kkind, n, K, order, with_times, gap, mix, 8);
        in.p.inclusive = coin(50);
        in.p.flush = coin(60);
        in.p.min_is_nat = coin(30);
        describe(&in, "random");
        run_compare(&in);
        cases++;
        events += (long)n;
        cin_free(&in);
    }
    snprintf(detail, sizeof detail, "%ld cases, %ld events; paths ordered/sorting = %ld/%ld",
             cases, events, paths_seen[SZ_PATH_ORDERED], paths_seen[SZ_PATH_SORTING]);
    group_end(detail);
}

static void test_extreme_times(void)
{
    /* times near the ends of int64: moments computed without overflow */
    int rep;
    group_begin("int64 limits");
    for (rep = 0; rep < 600; rep++) {
        cin in;
        size_t i, n = 1 + rndn(40);
        int64_t gap = coin(50) ? 1 + (int64_t)rndn(5) : INT64_MAX / 2;
        gen(&in, (int)rndn(3), n, 1 + rndn(4), (int)rndn(N_ORD), 1, gap, 0, 4);
        for (i = 0; i < n; i++) {
            int64_t hi = INT64_MAX - gap;
            in.t[i] = coin(50) ? hi - (int64_t)rndn(30) : INT64_MIN + 1 + (int64_t)rndn(30);
            if (coin(20)) in.t[i] = hi;
        }
        in.p.inclusive = coin(50);
        in.p.flush = coin(50);
        in.p.min_is_nat = 1;
        describe(&in, "extreme");
        run_compare(&in);
        in.p.gap = 0;  /* and without the gap rule: INT64_MAX is a time too */
        for (i = 0; i < n; i++)
            if (coin(10)) in.t[i] = INT64_MAX;
        in.p.min_is_nat = 0;
        for (i = 0; i < n; i++)
            if (coin(10)) in.t[i] = INT64_MIN;
        run_compare(&in);
        cin_free(&in);
    }
    group_end("");
}

static void test_big(void)
{
    /* enough keys to size the table from the estimate, or, with it off, to
     * grow it; every order, with and without times */
    int order, kkind, est;
    group_begin("big inputs (table sized, and grown)");
    for (est = 1; est >= 0; est--) {
        sz_test_estimate(est);
        for (kkind = 0; kkind < 3; kkind++) {
            for (order = 0; order < N_ORD; order++) {
                cin in;
                int times = order != ORD_PERKEY;  /* per-key order: also no times */
                gen(&in, kkind, 60000, 40000, order, times, order == ORD_KEYTIME ? 0 : 7, 0, 5);
                in.p.inclusive = 1;
                in.p.flush = 1;
                describe(&in, est ? "big" : "big, growing");
                run_compare(&in);
                cin_free(&in);
            }
        }
    }
    sz_test_estimate(1);
    group_end("");
}

/* Keys crowded into a few home slots of the smallest table (1024 slots):
 * long probe runs, so the deletion without times (a closed session's key
 * leaves the table, the keys after it shift back) is exercised hard. */
static void test_collisions(void)
{
    int rep, kk;
    group_begin("crowded hash table");
    for (kk = SZ_KEYS_INT64; kk <= SZ_KEYS_BYTES; kk++) {
        int64_t pool_i[64];
        unsigned char pool_b[64 * 8];
        size_t found = 0;
        uint64_t cand = 1;
        while (found < 64) {  /* keys whose hash lands in slots 0..7 of 1024 */
            uint64_t h;
            unsigned char b[8];
            cand++;
            memcpy(b, &cand, 8);
            h = kk == SZ_KEYS_INT64 ? sz__hash_u64(cand) : sz__hash_bytes(b, 8);
            if ((h & 1023u) >= 8) continue;
            pool_i[found] = (int64_t)cand;
            memcpy(pool_b + found * 8, b, 8);
            found++;
        }
        for (rep = 0; rep < 300; rep++) {
            cin in;
            size_t i, n = 50 + rndn(450);
            int with_times = coin(30);
            cin_alloc(&in, kk, kk == SZ_KEYS_BYTES ? 8 : 0, n, with_times);
            for (i = 0; i < n; i++) {
                size_t key = rndn(8 + rndn(56));
                in.ik[i] = pool_i[key];
                if (kk == SZ_KEYS_BYTES) memcpy(in.bk + i * 8, pool_b + key * 8, 8);
                in.kinds[i] = random_kind((int)rndn(3));
                if (in.t) in.t[i] = (int64_t)i;
            }
            in.p.flush = coin(50);
            in.p.inclusive = 1;
            in.order = "crowded";
            describe(&in, "crowded");
            run_compare(&in);
            cin_free(&in);
        }
    }
    group_end("");
}

/* The first bad element is reported: at one position, a bad kind before a
 * bad time before a bad key code. */
static void test_element_errors(void)
{
    int rep;
    long planted = 0;
    char detail[120];
    group_begin("element errors");
    for (rep = 0; rep < 2000; rep++) {
        cin in;
        size_t n = 1 + rndn(200), i, want = SZ_NO_POSITION, pos = 0;
        int kkind = (int)rndn(3), e, nbad = 1 + (int)rndn(3);
        sz_status want_st = SZ_OK, st;
        sz_keys keys;
        sz_ctr *c = (sz_ctr *)(void *)&rep;
        size_t R = 7;
        gen(&in, kkind, n, 1 + rndn(10), (int)rndn(N_ORD), 1, 1 + (int64_t)rndn(10), 0, 5);
        in.p.min_is_nat = 1;
        in.p.flush = 1;
        for (e = 0; e < nbad; e++) {
            size_t at = rndn(n);
            int what = (int)rndn(kkind == SZ_KEYS_DENSE ? 4 : 3);
            if (what == 0) in.kinds[at] = (uint8_t)(SZ_N_KINDS + rndn(250));
            if (what == 1) in.t[at] = INT64_MIN;
            if (what == 2) in.t[at] = INT64_MAX - (int64_t)rndn((size_t)in.p.gap);
            if (what == 3) in.ik[at] = coin(50) ? -1 : (int64_t)in.n_codes;
            planted++;
        }
        keys = cin_keys(&in);
        for (i = 0; i < n && want == SZ_NO_POSITION; i++) {
            if (in.kinds[i] >= SZ_N_KINDS) want_st = SZ_ERR_KIND;
            else if (in.t[i] == INT64_MIN) want_st = SZ_ERR_TIME_NAT;
            else if (in.t[i] > INT64_MAX - in.p.gap) want_st = SZ_ERR_TIME_OVERFLOW;
            else if (kkind == SZ_KEYS_DENSE
                     && (in.ik[i] < 0 || (uint64_t)in.ik[i] >= in.n_codes))
                want_st = SZ_ERR_KEY_RANGE;
            if (want_st != SZ_OK) want = i;
        }
        describe(&in, "element error");
        st = sz_ctr_run(&c, &keys, in.kinds, in.t, n, &in.p, &R, &pos);
        CHECK(st == want_st);
        CHECK(pos == want);
        if (st != SZ_OK) {
            CHECK(c == NULL);
            CHECK(R == 0);
        }
        sz_ctr_free(st == SZ_OK ? c : NULL);
        cin_free(&in);
    }
    snprintf(detail, sizeof detail, "%ld planted errors", planted);
    group_end(detail);
}

static void test_api_errors(void)
{
    int64_t k[2] = {1, 2}, t[2] = {0, 1};
    uint8_t kinds[2] = {SZ_SEARCH, SZ_CLICK};
    sz_keys keys = {SZ_KEYS_INT64, k, 0, 0};
    sz_ctr_params p = {0, 1, 1, 0};
    sz_ctr *c = NULL;
    size_t pos = 0, R = 0;
    group_begin("API errors");
    CHECK(sz_ctr_run(NULL, &keys, kinds, t, 2, &p, &R, &pos) == SZ_ERR_PARAM);
    CHECK(sz_ctr_run(&c, NULL, kinds, t, 2, &p, &R, &pos) == SZ_ERR_PARAM && c == NULL);
    CHECK(sz_ctr_run(&c, &keys, NULL, t, 2, &p, &R, &pos) == SZ_ERR_PARAM);
    CHECK(sz_ctr_run(&c, &keys, kinds, t, 2, NULL, &R, &pos) == SZ_ERR_PARAM);
    p.gap = -1;
    CHECK(sz_ctr_run(&c, &keys, kinds, t, 2, &p, &R, &pos) == SZ_ERR_PARAM);
    p.gap = 5;  /* the gap rule needs times */
    CHECK(sz_ctr_run(&c, &keys, kinds, NULL, 2, &p, &R, &pos) == SZ_ERR_PARAM);
    CHECK(pos == SZ_NO_POSITION);
    p.gap = 0;
    keys.kind = 7;
    CHECK(sz_ctr_run(&c, &keys, kinds, t, 2, &p, &R, &pos) == SZ_ERR_PARAM);
    keys.kind = SZ_KEYS_BYTES;
    keys.width = 0;
    CHECK(sz_ctr_run(&c, &keys, kinds, t, 2, &p, &R, &pos) == SZ_ERR_PARAM);
    keys.kind = SZ_KEYS_INT64;
    CHECK(sz_ctr_run(&c, &keys, kinds, t, (size_t)SZ_MAX_EVENTS + 1, &p, &R, &pos)
          == SZ_ERR_TOO_LARGE);
    keys.kind = SZ_KEYS_DENSE;
    keys.n_codes = (size_t)SZ_MAX_EVENTS + 1;
    CHECK(sz_ctr_run(&c, &keys, kinds, t, 2, &p, &R, &pos) == SZ_ERR_TOO_LARGE);
    keys.kind = SZ_KEYS_INT64;
    /* n = 0: no rows, and NULL arrays are fine */
    CHECK(sz_ctr_run(&c, &keys, NULL, NULL, 0, &p, &R, &pos) == SZ_OK);
    CHECK(R == 0 && sz_ctr_rows(c) == 0 && sz_ctr_sessions(c) == 0);
    {
        sz_ctr_columns cols = {NULL, NULL, NULL, NULL};
        CHECK(sz_ctr_fill(c, &cols) == SZ_OK);
        CHECK(sz_ctr_fill(NULL, &cols) == SZ_ERR_PARAM);
        CHECK(sz_ctr_fill(c, NULL) == SZ_ERR_PARAM);
    }
    sz_ctr_free(c);
    sz_ctr_free(NULL);
    CHECK(sz_ctr_rows(NULL) == 0 && sz_ctr_sessions(NULL) == 0);
    CHECK(sz_ctr_path_taken(NULL) == -1);
    CHECK(strcmp(sz_strerror(SZ_ERR_KIND), "unknown event kind") == 0);
    CHECK(SZ_ERR_KIND == 9 && SZ_APP_OPEN == 0 && SZ_SEARCH == 1 && SZ_RESULTS == 2
          && SZ_CLICK == 3 && SZ_APP_CLOSE == 4 && SZ_TIMEOUT == 5);
    group_end("");
}

/* Every allocation of a run made to fail in turn: SZ_ERR_NOMEM, nothing
 * leaked (valgrind), and then a clean run equal to the reference. */
static void alloc_walk(const cin *in, long *fail_points, long *most)
{
    sz_keys keys = cin_keys(in);
    long k, made = 0;
    for (k = 1;; k++) {
        sz_ctr *c = (sz_ctr *)(void *)&made;
        size_t R = 5, pos = 0;
        sz_status st;
        sz_test_fail_after(k);
        st = sz_ctr_run(&c, &keys, in->kinds, in->t, in->n, &in->p, &R, &pos);
        made = sz_test_fail_after(0);
        if (made < k) {
            CHECK(st == SZ_OK);
            sz_ctr_free(st == SZ_OK ? c : NULL);
            run_compare(in);
            break;
        }
        (*fail_points)++;
        CHECK(st == SZ_ERR_NOMEM);
        CHECK(pos == SZ_NO_POSITION);
        CHECK(c == NULL);
        CHECK(R == 0);
        if (k > 10000) {
            CHECK(!"allocation walk does not end");
            break;
        }
    }
    if (made > *most) *most = made;
}

static void test_alloc_failures(void)
{
    long fail_points = 0, walks = 0, most = 0;
    int kkind, order;
    char detail[160];
    group_begin("allocation failures");
    sz_test_fail_after(0);
    for (kkind = 0; kkind < 3; kkind++) {
        for (order = 0; order < N_ORD; order++) {
            cin in;
            /* big enough to grow the table (the estimate off for half of
             * them); the dirty keys take the redo */
            sz_test_estimate(order & 1);
            gen(&in, kkind, 50000, 36000, order, order != ORD_KEYTIME, 6, 0, 4);
            in.p.inclusive = 1;
            in.p.flush = 1;
            describe(&in, "alloc walk");
            alloc_walk(&in, &fail_points, &most);
            walks++;
            cin_free(&in);
            sz_test_estimate(1);
            gen(&in, kkind, 300, 20, order, 1, 0, 0, 4);  /* small, no gap */
            in.p.flush = order & 1;
            describe(&in, "alloc walk, small");
            alloc_walk(&in, &fail_points, &most);
            walks++;
            cin_free(&in);
        }
    }
    {
        cin in;
        cin_alloc(&in, SZ_KEYS_INT64, 0, 0, 0);
        describe(&in, "alloc walk, n=0");
        alloc_walk(&in, &fail_points, &most);
        walks++;
        cin_free(&in);
    }
    snprintf(detail, sizeof detail,
             "%ld walks, %ld injected failures, up to %ld allocations per call", walks,
             fail_points, most);
    group_end(detail);
}

int main(void)
{
    rng_state = RNG_SEED;
    sz_test_fail_after(0);
    test_api_errors();
    test_seed();
    test_hand();
    test_random();
    test_extreme_times();
    test_big();
    test_collisions();
    test_element_errors();
    test_alloc_failures();
    /* again with every pass over 16 events or more in two parts on two
     * threads (the redo's grouping): the same failure points, walked */
    printf("-- again, passes run in two parts on two threads\n");
    sz_set_threads(2);
    sz_test_parallel_min(16);
    test_alloc_failures();
    sz_test_parallel_min(0);
    sz_set_threads(0);
    printf("%ld passed, %ld failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
