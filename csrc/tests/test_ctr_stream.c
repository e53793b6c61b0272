/*
 * test_ctr_stream.c -- the search-CTR stream (tier 3, sz_ctr_stream).
 *
 * The oracle is the batch reduction, sz_ctr_run(), which test_ctr.c checks
 * against a reference: over the events the stream accepted (those not
 * behind the watermark, which this file computes on its own), the rows a
 * stream emits up to its flush are the batch's rows with flush, as a set
 * grouped into sessions; when the events come in time order in one push,
 * row for row, numbers included.  Around that:
 *   - random scripts (keys in two namespaces, kinds, times or none, gaps,
 *     delays, disorder, advances, chunks), and every chunking of short ones;
 *   - a snapshot at a random point: the restored stream and the original
 *     continue with identical output; every byte flip and truncation of a
 *     snapshot is rejected; doctored snapshots with a valid checksum are
 *     rejected or restore to a stream that runs without fault;
 *   - allocation failures at every point of a script: the failed call
 *     reports what it consumed, a retry continues, and the rows in all are
 *     the rows of a run without failures;
 *   - API errors: bad config, bad kinds and times (with positions);
 *   - a flush and an advance that close a million sessions: rows in order,
 *     in O(k log k) comparisons (counted).  --quick or SZ_TEST_QUICK=1
 *     (valgrind) makes them small.
 */
#include "../sessionize.h"
#include "../sz_internal.h"
#include "../sz_snapshot.h"  /* SZ__COUNTER_MAX */
#include "../sz_sort.h"      /* sz_test_sort_cmps */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SZ_TEST_SIMPLE_CHECK
#include "harness.h"

#define RNG_SEED 0x5eed0c7e5eedULL

/* ---- a script: events, and advances between them --------------------------- */

enum { OP_EVENT = 0, OP_ADVANCE = 1 };

typedef struct op {
    int type;
    uint64_t key;
    uint8_t ns, kind;
    int64_t t;  /* event: its time; advance: the watermark */
} op;

typedef struct script {
    sz_ctr_stream_config cfg;
    op *ops;
    size_t n;
    size_t *cuts;  /* chunk boundaries over the events: pushes end there */
} script;

typedef struct rec {  /* one output record, as compared */
    int kind;
    uint64_t key, session, search;
    int64_t time, clicks;
    uint32_t ns;
} rec;

typedef struct recs {
    rec *r;
    size_t n, cap;
} recs;

static void recs_add(recs *o, const sz_ctr_stream_out *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        rec *r;
        if (x[i].kind == SZ_CTR_OUT_KEY_FREED) continue;
        if (o->n == o->cap) {
            o->cap = o->cap ? o->cap * 2 : 64;
            o->r = (rec *)xrealloc(o->r, o->cap * sizeof *o->r);
        }
        r = &o->r[o->n++];
        memset(r, 0, sizeof *r);
        r->kind = x[i].kind;
        r->key = x[i].key;
        r->ns = x[i].key_ns;
        r->session = x[i].session;
        r->search = x[i].search;
        r->time = x[i].time;
        r->clicks = x[i].clicks;
    }
}

static void collect(recs *o, const sz_ctr_stream *s)
{
    size_t n;
    const sz_ctr_stream_out *x = sz_ctr_stream_output(s, &n);
    recs_add(o, x, n);
}

/* Random script.  Times rise with jitter; `disorder` percent of events are
 * thrown back further than the delay (late, usually). */
static void make_script(script *sc, size_t n, int times, int gap, int64_t delay,
                        unsigned disorder, unsigned advances, int n_keys)
{
    size_t i, e = 0;
    int64_t now = 1000;
    memset(sc, 0, sizeof *sc);
    sc->cfg.times = times;
    sc->cfg.gap = times && gap ? 1 + rndi(20) : 0;
    sc->cfg.inclusive = coin(50);
    sc->cfg.delay = times ? delay : 0;
    sc->ops = (op *)xcalloc(n, sizeof *sc->ops);
    sc->cuts = (size_t *)xcalloc(n + 1, sizeof *sc->cuts);
    for (i = 0; i < n; i++) {
        op *o = &sc->ops[i];
        if (times && coin(advances)) {
            o->type = OP_ADVANCE;
            o->t = now - rndi(30) + rndi(10);
            continue;
        }
        o->type = OP_EVENT;
        o->key = (uint64_t)rndi(n_keys);
        o->ns = (uint8_t)(o->key & 1);
        /* kinds: searches and clicks common, closes less */
        {
            static const uint8_t pick[] = {0, 1, 1, 1, 2, 3, 3, 3, 3, 4, 5};
            o->kind = pick[rndn(sizeof pick)];
        }
        if (times) {
            now += rndi(8);
            o->t = now;
            if (delay > 0) o->t -= rndi(delay + 1);
            if (coin(disorder)) o->t -= 1 + rndi(40);
        }
        e++;
    }
    (void)e;
}

static void script_free(script *sc)
{
    free(sc->ops);
    free(sc->cuts);
}

/* Which events are late: the watermark, computed here on its own. */
static void lateness(const script *sc, uint8_t *late)
{
    int64_t wm = INT64_MIN, max_seen = INT64_MIN;
    size_t i;
    for (i = 0; i < sc->n; i++) {
        const op *o = &sc->ops[i];
        late[i] = 0;
        if (!sc->cfg.times) continue;
        if (o->type == OP_ADVANCE) {
            if (o->t > wm) wm = o->t;
            continue;
        }
        if (o->t > max_seen) {
            max_seen = o->t;
            if (max_seen - sc->cfg.delay > wm) wm = max_seen - sc->cfg.delay;
        }
        late[i] = o->t < wm;
    }
}

/* Runs the script; pushes end at chunk cuts (cut[i]: a push ends after op
 * i) and before every advance.  Returns the stream (flushed unless asked
 * not to).  snap_at: after that op, the stream is replaced by its restored
 * snapshot (SIZE_MAX: never). */
static sz_ctr_stream *run(const script *sc, const uint8_t *cut, recs *out, int flush,
                          size_t snap_at)
{
    sz_ctr_stream *s = NULL;
    uint64_t *k = (uint64_t *)xmalloc((sc->n + 1) * 8);
    uint8_t *ns = (uint8_t *)xmalloc(sc->n + 1), *kd = (uint8_t *)xmalloc(sc->n + 1);
    int64_t *t = (int64_t *)xmalloc((sc->n + 1) * 8);
    size_t i, m = 0;
    if (sz_ctr_stream_new(&sc->cfg, &s) != SZ_OK) {
        CHECK(!"new failed");
        return NULL;
    }
    for (i = 0; i <= sc->n; i++) {
        int end = i == sc->n || sc->ops[i].type == OP_ADVANCE || (i > 0 && cut[i - 1]);
        if (end && m > 0) {
            size_t done = 0, pos = 0;
            CHECK(sz_ctr_stream_push(s, k, ns, kd, sc->cfg.times ? t : NULL, m, 0,
                                     &done, &pos) == SZ_OK);
            CHECK(done == m);
            collect(out, s);
            m = 0;
        }
        if (i == sc->n) break;
        if (sc->ops[i].type == OP_ADVANCE) {
            CHECK(sz_ctr_stream_advance(s, sc->ops[i].t) == SZ_OK);
            collect(out, s);
        } else {
            k[m] = sc->ops[i].key;
            ns[m] = sc->ops[i].ns;
            kd[m] = sc->ops[i].kind;
            t[m] = sc->ops[i].t;
            m++;
        }
        if (i == snap_at) {
            /* push what is pending, then swap in the restored copy */
            if (m > 0) {
                size_t done = 0;
                CHECK(sz_ctr_stream_push(s, k, ns, kd, sc->cfg.times ? t : NULL, m, 0,
                                         &done, NULL) == SZ_OK);
                collect(out, s);
                m = 0;
            }
            {
                size_t len = sz_ctr_stream_snapshot_size(s);
                unsigned char *b = (unsigned char *)xmalloc(len);
                sz_ctr_stream *r = NULL;
                CHECK(sz_ctr_stream_snapshot(s, b, len) == SZ_OK);
                CHECK(sz_ctr_stream_restore(b, len, &r) == SZ_OK);
                if (r) {
                    sz_ctr_stream_stats a, c;
                    size_t len2 = sz_ctr_stream_snapshot_size(r);
                    unsigned char *b2 = (unsigned char *)xmalloc(len2);
                    sz_ctr_stream_stats_get(s, &a);
                    sz_ctr_stream_stats_get(r, &c);
                    CHECK(a.keys == c.keys && a.open_searches == c.open_searches
                          && a.buffered == c.buffered && a.events == c.events
                          && a.watermark == c.watermark && a.sessions == c.sessions);
                    /* the same state writes the same bytes */
                    CHECK(len2 == len && sz_ctr_stream_snapshot(r, b2, len2) == SZ_OK
                          && memcmp(b, b2, len) == 0);
                    free(b2);
                    sz_ctr_stream_free(s);
                    s = r;
                }
                free(b);
            }
        }
    }
    if (flush) {
        CHECK(sz_ctr_stream_flush(s) == SZ_OK);
        collect(out, s);
    }
    free(k);
    free(ns);
    free(kd);
    free(t);
    return s;
}

/* ---- the oracle: batch over the accepted events ---------------------------- */

typedef struct canon {  /* a row, by what does not depend on emission order */
    uint64_t search, first;  /* its ordinal, and its session's first search's */
    int64_t clicks;
    uint64_t key;
} canon;

static int canon_cmp(const void *a, const void *b)
{
    const canon *x = (const canon *)a, *y = (const canon *)b;
    return x->search < y->search ? -1 : x->search > y->search;
}

/* The rows of `o` in canonical form; also checks that sessions are
 * numbered densely in emission order, contiguous, searches in order. */
static size_t canonize(const recs *o, canon *c, uint64_t *n_late, uint64_t *late_ords)
{
    size_t i, m = 0, start = 0;
    uint64_t expect = 0;
    *n_late = 0;
    for (i = 0; i < o->n; i++) {
        const rec *r = &o->r[i];
        if (r->kind == SZ_CTR_OUT_LATE) {
            late_ords[(*n_late)++] = r->search;
            continue;
        }
        if (m == 0 || r->session != c[start].first) {
            /* a new session: the next number */
            CHECK(r->session == expect);
            expect = r->session + 1;
            start = m;
        } else {  /* searches in time order (ties: arrival) */
            const rec *q = &o->r[i - 1];
            CHECK(r->time > q->time || (r->time == q->time && r->search > q->search));
        }
        c[m].search = r->search;
        c[m].first = r->session;
        c[m].clicks = r->clicks;
        c[m].key = r->key * 2 + r->ns;
        m++;
    }
    /* session numbers -> first search ordinal */
    for (i = 0; i < m;) {
        size_t j = i;
        while (j < m && c[j].first == c[i].first) j++;
        {
            uint64_t f = c[i].search, k;
            for (k = i; k < j; k++) c[k].first = f;
        }
        i = j;
    }
    qsort(c, m, sizeof *c, canon_cmp);
    return m;
}

/* Batch over the accepted events, with flush; rows in canonical form (and,
 * in batch order, in `ordered` when not NULL). */
static size_t batch(const script *sc, const uint8_t *late, canon *c, recs *ordered)
{
    size_t i, n = 0, rows = 0, e = 0;
    int64_t *kk = (int64_t *)xmalloc((sc->n + 1) * 8), *t = (int64_t *)xmalloc((sc->n + 1) * 8);
    int64_t *pos = (int64_t *)xmalloc((sc->n + 1) * 8);
    uint8_t *kd = (uint8_t *)xmalloc(sc->n + 1);
    sz_keys keys;
    sz_ctr_params p;
    sz_ctr *res = NULL;
    for (i = 0; i < sc->n; i++) {
        const op *o = &sc->ops[i];
        if (o->type != OP_EVENT) continue;
        if (!late[i]) {
            kk[n] = (int64_t)(o->key * 2 + o->ns);
            kd[n] = o->kind;
            t[n] = o->t;
            pos[n] = (int64_t)e;
            n++;
        }
        e++;
    }
    keys.kind = SZ_KEYS_INT64;
    keys.data = kk;
    keys.width = 0;
    keys.n_codes = 0;
    p.gap = sc->cfg.gap;
    p.inclusive = sc->cfg.inclusive;
    p.flush = 1;
    p.min_is_nat = 0;
    CHECK(sz_ctr_run(&res, &keys, kd, sc->cfg.times ? t : NULL, n, &p, &rows, NULL)
          == SZ_OK);
    if (res) {
        int64_t *se = (int64_t *)xmalloc((rows + 1) * 8), *sr = (int64_t *)xmalloc((rows + 1) * 8);
        int64_t *cl = (int64_t *)xmalloc((rows + 1) * 8);
        sz_ctr_columns cols;
        memset(&cols, 0, sizeof cols);
        cols.session = se;
        cols.search = sr;
        cols.clicks = cl;
        sz_ctr_fill(res, &cols);
        for (i = 0; i < rows; i++) {
            c[i].search = (uint64_t)pos[sr[i]];
            c[i].clicks = cl[i];
            c[i].key = (uint64_t)kk[sr[i]];
            c[i].first = (i > 0 && se[i] == se[i - 1]) ? c[i - 1].first : c[i].search;
            if (ordered) {
                sz_ctr_stream_out x;
                memset(&x, 0, sizeof x);
                x.kind = SZ_CTR_OUT_ROW;
                x.key = (uint64_t)kk[sr[i]] / 2;
                x.key_ns = (uint32_t)(kk[sr[i]] & 1);
                x.session = (uint64_t)se[i];
                x.search = c[i].search;
                x.time = sc->cfg.times ? t[sr[i]] : (int64_t)c[i].search;
                x.clicks = cl[i];
                recs_add(ordered, &x, 1);
            }
        }
        free(se);
        free(sr);
        free(cl);
        sz_ctr_free(res);
        qsort(c, rows, sizeof *c, canon_cmp);
    }
    free(kk);
    free(t);
    free(pos);
    free(kd);
    return rows;
}

static int canon_equal(const canon *a, size_t na, const canon *b, size_t nb)
{
    size_t i;
    if (na != nb) return 0;
    for (i = 0; i < na; i++)
        if (a[i].search != b[i].search || a[i].first != b[i].first
            || a[i].clicks != b[i].clicks || a[i].key != b[i].key)
            return 0;
    return 1;
}

static int recs_equal(const recs *a, const recs *b)
{
    size_t i;
    if (a->n != b->n) return 0;
    for (i = 0; i < a->n; i++) {
        const rec *x = &a->r[i], *y = &b->r[i];
        if (x->kind != y->kind || x->key != y->key || x->ns != y->ns
            || x->session != y->session || x->search != y->search
            || x->time != y->time || x->clicks != y->clicks)
            return 0;
    }
    return 1;
}

/* The stream's rows and lates against batch and the lateness computed here. */
static void compare(const script *sc, const recs *o)
{
    uint8_t *late = (uint8_t *)xmalloc(sc->n + 1);
    canon *a = (canon *)xmalloc((sc->n + 1) * sizeof *a), *b = (canon *)xmalloc((sc->n + 1) * sizeof *b);
    uint64_t *lo = (uint64_t *)xmalloc((sc->n + 1) * 8), n_late, i, e = 0, j = 0;
    size_t na, nb;
    int ok = 1;
    lateness(sc, late);
    na = canonize(o, a, &n_late, lo);
    nb = batch(sc, late, b, NULL);
    CHECK(canon_equal(a, na, b, nb));
    for (i = 0; i < sc->n; i++) {
        if (sc->ops[i].type != OP_EVENT) continue;
        if (late[i]) ok &= j < n_late && lo[j++] == e;
        e++;
    }
    CHECK(ok && j == n_late);
    free(late);
    free(a);
    free(b);
    free(lo);
}

static void random_cuts(const script *sc, uint8_t *cut, unsigned pct)
{
    size_t i;
    for (i = 0; i < sc->n; i++) cut[i] = coin(pct);
}

/* ---- groups ---------------------------------------------------------------- */

static void test_api(void)
{
    sz_ctr_stream_config c;
    sz_ctr_stream *s = NULL;
    uint64_t k[3] = {1, 2, 3};
    uint8_t kd[3] = {1, 7, 3};
    int64_t t[3] = {5, 6, INT64_MAX};
    size_t done = 9, pos = 9;
    group_begin("API errors");
    memset(&c, 0, sizeof c);
    c.gap = -1;
    c.times = 1;
    CHECK(sz_ctr_stream_new(&c, &s) == SZ_ERR_PARAM && s == NULL);
    c.gap = 5;
    c.times = 0;
    CHECK(sz_ctr_stream_new(&c, &s) == SZ_ERR_PARAM);
    c.gap = 0;
    c.delay = 3;
    CHECK(sz_ctr_stream_new(&c, &s) == SZ_ERR_PARAM);
    c.delay = -1;
    c.times = 1;
    CHECK(sz_ctr_stream_new(&c, &s) == SZ_ERR_PARAM);
    c.delay = 0;
    c.gap = 10;
    CHECK(sz_ctr_stream_new(&c, &s) == SZ_OK);
    CHECK(sz_ctr_stream_push(s, k, NULL, kd, t, 3, 0, &done, &pos) == SZ_ERR_KIND);
    CHECK(pos == 1 && done == 0);
    kd[1] = 3;
    CHECK(sz_ctr_stream_push(s, k, NULL, kd, t, 3, 0, &done, &pos) == SZ_ERR_TIME_OVERFLOW);
    CHECK(pos == 2 && done == 0);
    CHECK(sz_ctr_stream_push(s, k, NULL, kd, NULL, 3, 0, &done, &pos) == SZ_ERR_PARAM);
    {
        sz_ctr_stream_stats st;
        sz_ctr_stream_stats_get(s, &st);
        CHECK(st.events == 0 && st.keys == 0 && st.watermark == INT64_MIN);
    }
    CHECK(sz_ctr_stream_push(s, k, NULL, kd, t, 2, 0, &done, &pos) == SZ_OK && done == 2);
    CHECK(sz_ctr_stream_has_key(s, 1, 0) && !sz_ctr_stream_has_key(s, 2, 0));
    CHECK(sz_ctr_stream_keys_in(s, 0) == 1 && sz_ctr_stream_keys_in(s, 1) == 0);
    sz_ctr_stream_free(s);
    sz_ctr_stream_free(NULL);
    c.times = 0;
    c.gap = 0;
    CHECK(sz_ctr_stream_new(&c, &s) == SZ_OK);
    CHECK(sz_ctr_stream_advance(s, 5) == SZ_ERR_PARAM);
    CHECK(sz_ctr_stream_push(s, k, NULL, kd, t, 2, 0, &done, &pos) == SZ_ERR_PARAM);
    sz_ctr_stream_free(s);
    CHECK(sz_ctr_stream_restore((const unsigned char *)"SZCTRSTR", 8, &s) == SZ_ERR_SNAPSHOT);
    CHECK(s == NULL);
    group_end("");
}

/* The first Bytewax seed: no times, sessions closed by AppClose, no flush:
 * 1.0, 1.0, 0.0 in close order. */
static void test_seed(void)
{
    /* AppOpen(1) Search(1) Results(1) Click(1) Search(1) Results(1) Click(1)
     * AppOpen(2) Click(1) Search(2) AppClose(1) AppClose(2) */
    uint64_t k[12] = {1, 1, 1, 1, 1, 1, 1, 2, 1, 2, 1, 2};
    uint8_t kd[12] = {0, 1, 2, 3, 1, 2, 3, 0, 3, 1, 4, 4};
    sz_ctr_stream_config c;
    sz_ctr_stream *s = NULL;
    recs o;
    size_t i;
    group_begin("bytewax seed");
    memset(&c, 0, sizeof c);
    memset(&o, 0, sizeof o);
    CHECK(sz_ctr_stream_new(&c, &s) == SZ_OK);
    for (i = 0; i < 12; i++) {
        CHECK(sz_ctr_stream_push(s, k + i, NULL, kd + i, NULL, 1, 0, NULL, NULL) == SZ_OK);
        collect(&o, s);
    }
    CHECK(o.n == 3);
    if (o.n == 3) {
        CHECK(o.r[0].clicks > 0 && o.r[1].clicks > 0 && o.r[2].clicks == 0);
        CHECK(o.r[0].search == 1 && o.r[1].search == 4 && o.r[2].search == 9);
        CHECK(o.r[0].session == 0 && o.r[1].session == 0 && o.r[2].session == 1);
    }
    {
        sz_ctr_stream_stats st;
        sz_ctr_stream_stats_get(s, &st);
        CHECK(st.keys == 0 && st.open_searches == 0);  /* nothing open: nothing held */
    }
    sz_ctr_stream_free(s);
    free(o.r);
    group_end("");
}

static void test_random(void)
{
    long cases = 0, lates = 0;
    char d[96];
    group_begin("random vs batch");
    for (cases = 0; cases < 3000; cases++) {
        script sc;
        uint8_t *cut;
        recs o;
        int times = coin(80);
        size_t n = 1 + rndn(coin(20) ? 400 : 60);
        make_script(&sc, n, times, coin(70), coin(50) ? rndi(12) : 0,
                    coin(40) ? 8 : 0, coin(30) ? 6 : 0, 1 + (int)rndn(8));
        sc.n = n;
        cut = (uint8_t *)xmalloc(n + 1);
        random_cuts(&sc, cut, (unsigned)rndn(60));
        memset(&o, 0, sizeof o);
        snprintf(ctx, sizeof ctx, "case %ld n %zu times %d gap %lld delay %lld", cases, n,
                 times, (long long)sc.cfg.gap, (long long)sc.cfg.delay);
        sz_ctr_stream_free(run(&sc, cut, &o, 1, SIZE_MAX));
        compare(&sc, &o);
        {
            size_t i;
            for (i = 0; i < o.n; i++) lates += o.r[i].kind == SZ_CTR_OUT_LATE;
        }
        free(o.r);
        free(cut);
        script_free(&sc);
    }
    snprintf(d, sizeof d, "%ld cases, %ld late events", cases, lates);
    group_end(d);
}

/* In time order, in one push, then a flush: the batch's rows exactly. */
static void test_exact(void)
{
    long cases;
    group_begin("in order, one push: batch row for row");
    for (cases = 0; cases < 1000; cases++) {
        script sc;
        uint8_t *cut, *late;
        recs o, b;
        canon *c;
        size_t n = 1 + rndn(200);
        make_script(&sc, n, coin(80), coin(70), 0, 0, 0, 1 + (int)rndn(10));
        sc.n = n;
        cut = (uint8_t *)xcalloc(n + 1, 1);
        late = (uint8_t *)xcalloc(n + 1, 1);
        c = (canon *)xmalloc((n + 1) * sizeof *c);
        memset(&o, 0, sizeof o);
        memset(&b, 0, sizeof b);
        snprintf(ctx, sizeof ctx, "case %ld", cases);
        sz_ctr_stream_free(run(&sc, cut, &o, 1, SIZE_MAX));
        batch(&sc, late, c, &b);
        CHECK(recs_equal(&o, &b));
        free(o.r);
        free(b.r);
        free(c);
        free(cut);
        free(late);
        script_free(&sc);
    }
    group_end("");
}

/* Every chunking of short scripts gives the same rows and lates. */
static void test_chunkings(void)
{
    long cases, runs = 0;
    char d[64];
    group_begin("every chunking");
    for (cases = 0; cases < 150; cases++) {
        script sc;
        size_t n = 1 + rndn(9), mask;
        uint8_t cut[16];
        make_script(&sc, n, coin(80), coin(70), coin(50) ? rndi(6) : 0, 10, 10, 3);
        sc.n = n;
        for (mask = 0; mask < ((size_t)1 << n); mask++) {
            recs o;
            size_t i;
            for (i = 0; i < n; i++) cut[i] = (uint8_t)((mask >> i) & 1);
            memset(&o, 0, sizeof o);
            snprintf(ctx, sizeof ctx, "case %ld mask %zx", cases, mask);
            sz_ctr_stream_free(run(&sc, cut, &o, 1, SIZE_MAX));
            compare(&sc, &o);
            free(o.r);
            runs++;
        }
        script_free(&sc);
    }
    snprintf(d, sizeof d, "%ld runs", runs);
    group_end(d);
}

/* A snapshot anywhere: the restored stream continues identically. */
static void test_snapshot_continue(void)
{
    long cases;
    group_begin("snapshot mid-stream continues identically");
    for (cases = 0; cases < 1500; cases++) {
        script sc;
        size_t n = 1 + rndn(120);
        uint8_t *cut;
        recs a, b;
        size_t at;
        int flush = coin(70);
        make_script(&sc, n, coin(80), coin(70), coin(50) ? rndi(10) : 0,
                    coin(30) ? 8 : 0, coin(30) ? 6 : 0, 1 + (int)rndn(6));
        sc.n = n;
        cut = (uint8_t *)xmalloc(n + 1);
        random_cuts(&sc, cut, 30);
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        snprintf(ctx, sizeof ctx, "case %ld", cases);
        at = rndn(n);
        cut[at] = 1;  /* the same chunks in both runs: a push ends there */
        sz_ctr_stream_free(run(&sc, cut, &a, flush, SIZE_MAX));
        sz_ctr_stream_free(run(&sc, cut, &b, flush, at));
        CHECK(recs_equal(&a, &b));
        free(a.r);
        free(b.r);
        free(cut);
        script_free(&sc);
    }
    group_end("");
}

/* Byte flips and truncations are rejected; doctored snapshots with a valid
 * checksum are rejected or run without fault. */
static void test_snapshot_damage(void)
{
    long cases, flips = 0, doctored_ok = 0, doctored = 0;
    char d[128];
    group_begin("damaged snapshots");
    for (cases = 0; cases < 60; cases++) {
        script sc;
        size_t n = 1 + rndn(40), len, i;
        uint8_t *cut;
        recs o;
        sz_ctr_stream *s;
        unsigned char *b, *x;
        make_script(&sc, n, coin(80), coin(70), rndi(10), 0, 0, 4);
        sc.n = n;
        cut = (uint8_t *)xcalloc(n + 1, 1);
        memset(&o, 0, sizeof o);
        s = run(&sc, cut, &o, 0, SIZE_MAX);
        len = sz_ctr_stream_snapshot_size(s);
        b = (unsigned char *)xmalloc(len);
        x = (unsigned char *)xmalloc(len);
        CHECK(sz_ctr_stream_snapshot(s, b, len) == SZ_OK);
        CHECK(sz_ctr_stream_snapshot(s, b, len - 1) == SZ_ERR_PARAM);
        for (i = 0; i < len; i++) {
            sz_ctr_stream *r = (sz_ctr_stream *)(void *)&o;
            memcpy(x, b, len);
            x[i] ^= (unsigned char)(1u << rndn(8));
            CHECK(sz_ctr_stream_restore(x, len, &r) == SZ_ERR_SNAPSHOT && r == NULL);
            CHECK(sz_ctr_stream_restore(b, i, &r) == SZ_ERR_SNAPSHOT && r == NULL);
            flips++;
        }
        for (i = 0; i < 200; i++) {  /* doctored, checksum fixed */
            sz_ctr_stream *r = NULL;
            uint64_t sum;
            size_t j = 16 + rndn(len - 24);
            memcpy(x, b, len);
            x[j] = (unsigned char)rnd();
            sum = sz__hash_bytes(x, len - 8);
            memcpy(x + len - 8, &sum, 8);
            doctored++;
            if (sz_ctr_stream_restore(x, len, &r) == SZ_OK) {
                uint64_t k[4] = {0, 1, 2, 3};
                uint8_t kd[4] = {1, 3, 4, 1};
                int64_t t[4] = {2000, 2001, 2002, 5000};
                sz_ctr_stream_config c;
                sz_ctr_stream_config_get(r, &c);
                doctored_ok++;
                (void)sz_ctr_stream_push(r, k, NULL, kd, c.times ? t : NULL, 4, 0, NULL,
                                         NULL);
                if (c.times) (void)sz_ctr_stream_advance(r, 1 << 20);
                (void)sz_ctr_stream_flush(r);
                sz_ctr_stream_free(r);
            } else {
                CHECK(r == NULL);
            }
        }
        free(b);
        free(x);
        free(o.r);
        free(cut);
        sz_ctr_stream_free(s);
        script_free(&sc);
    }
    snprintf(d, sizeof d, "%ld flips and truncations; %ld of %ld doctored accepted", flips,
             doctored_ok, doctored);
    group_end(d);
}

/* Allocation failures at every point: the call says how far it got; a retry
 * continues; the rows in all are those of a run without failures. */
static void test_alloc(void)
{
    long cases, walks = 0, injected = 0;
    char d[96];
    group_begin("allocation failures");
    for (cases = 0; cases < 40; cases++) {
        script sc;
        size_t n = 1 + rndn(80);
        uint8_t *cut;
        recs clean;
        long fail_at;
        make_script(&sc, n, coin(80), coin(70), rndi(8), 8, 5, 1 + (int)rndn(5));
        sc.n = n;
        cut = (uint8_t *)xmalloc(n + 1);
        random_cuts(&sc, cut, 40);
        memset(&clean, 0, sizeof clean);
        sz_ctr_stream_free(run(&sc, cut, &clean, 1, SIZE_MAX));
        for (fail_at = 1;; fail_at++) {
            sz_ctr_stream *s = NULL;
            recs o;
            size_t i, m = 0;
            int fired = 0;
            uint64_t k[512];
            uint8_t ns[512], kd[512];
            int64_t t[512];
            sz_status st;
            memset(&o, 0, sizeof o);
            sz_test_fail_after(fail_at);
            st = sz_ctr_stream_new(&sc.cfg, &s);
            if (st != SZ_OK) {
                CHECK(st == SZ_ERR_NOMEM && s == NULL);
                sz_test_fail_after(0);
                injected++;
                continue;
            }
            for (i = 0; i <= sc.n; i++) {
                int end = i == sc.n || sc.ops[i].type == OP_ADVANCE || (i > 0 && cut[i - 1]);
                if (end && m > 0) {
                    size_t off = 0;
                    while (off < m) {
                        size_t done = 0;
                        st = sz_ctr_stream_push(s, k + off, ns + off, kd + off,
                                                sc.cfg.times ? t + off : NULL, m - off, 0,
                                                &done, NULL);
                        collect(&o, s);
                        off += done;
                        if (st == SZ_ERR_NOMEM) fired = 1;
                        else CHECK(st == SZ_OK && off == m);
                        if (st == SZ_OK) break;
                    }
                    m = 0;
                }
                if (i == sc.n) break;
                if (sc.ops[i].type == OP_ADVANCE) {
                    while ((st = sz_ctr_stream_advance(s, sc.ops[i].t)) == SZ_ERR_NOMEM) {
                        collect(&o, s);
                        fired = 1;
                    }
                    collect(&o, s);
                } else {
                    k[m] = sc.ops[i].key;
                    ns[m] = sc.ops[i].ns;
                    kd[m] = sc.ops[i].kind;
                    t[m] = sc.ops[i].t;
                    m++;
                }
            }
            while ((st = sz_ctr_stream_flush(s)) == SZ_ERR_NOMEM) {
                collect(&o, s);
                fired = 1;
            }
            collect(&o, s);
            if (sz_test_fail_after(0) < fail_at && !fired) {
                sz_ctr_stream_free(s);
                free(o.r);
                break;
            }
            injected++;
            snprintf(ctx, sizeof ctx, "case %ld fail_at %ld", cases, fail_at);
            compare(&sc, &o);
            sz_ctr_stream_free(s);
            free(o.r);
            if (fail_at > 20000) {
                CHECK(!"allocation walk does not end");
                break;
            }
        }
        walks++;
        free(clean.r);
        free(cut);
        script_free(&sc);
    }
    snprintf(d, sizeof d, "%ld walks, %ld injected failures", walks, injected);
    group_end(d);
}

/* Writes v at buf + at, re-seals the checksum, restores the result. */
static sz_status restore_doctored(unsigned char *buf, size_t len, size_t at,
                                  int64_t v, sz_ctr_stream **r)
{
    doctor_i64(buf, len, at, v);
    return sz_ctr_stream_restore(buf, len, r);
}

/* Regression (the class fuzz_snapshot found in sz_stream's counters): a
 * snapshot whose event counter is 2^64 - 1 (checksum made to match) was
 * accepted; the next event's ordinal wrapped, and without times an
 * event's time is its ordinal.  Counters past 2^62 are refused. */
static void test_snapshot_counter(void)
{
    sz_ctr_stream_config cfg;
    sz_ctr_stream *s = NULL, *r = NULL;
    uint64_t keys[3] = {1, 1, 2}, big = UINT64_MAX, was, sum;
    uint8_t kinds[3] = {SZ_SEARCH, SZ_CLICK, SZ_SEARCH};
    size_t nd, ep, len, at = 16 + 8 + 8 + 4 + 4 + 4 + 8 + 8 + 4 + 8;
    unsigned char *buf;
    group_begin("regression: a forged event counter");
    memset(&cfg, 0, sizeof cfg);
    CHECK(sz_ctr_stream_new(&cfg, &s) == SZ_OK);
    CHECK(sz_ctr_stream_push(s, keys, NULL, kinds, NULL, 3, 0, &nd, &ep) == SZ_OK);
    len = sz_ctr_stream_snapshot_size(s);
    buf = (unsigned char *)xmalloc(len);
    CHECK(sz_ctr_stream_snapshot(s, buf, len) == SZ_OK);
    memcpy(&was, buf + at, 8);
    CHECK(was == 3 && "the layout: the counter is where the test doctors it");
    memcpy(buf + at, &big, 8);
    sum = sz__hash_bytes(buf, len - 8);
    memcpy(buf + len - 8, &sum, 8);
    CHECK(sz_ctr_stream_restore(buf, len, &r) == SZ_ERR_SNAPSHOT && r == NULL);
    sz_ctr_stream_free(r);
    r = NULL;
    /* past SZ__COUNTER_MAX (2^62), as the other streams' counters */
    CHECK(restore_doctored(buf, len, at, (int64_t)SZ__COUNTER_MAX + 1, &r)
          == SZ_ERR_SNAPSHOT && r == NULL);
    free(buf);
    sz_ctr_stream_free(s);
    s = NULL;
    /* Regression (the class fuzz_snapshot found in sz_stream's session
     * counts): a search's clicks at INT64_MAX were accepted, and the next
     * CLICK overflowed them.  Each click is its own event: more clicks than
     * events are refused; as many are accepted, and count on. */
    {
        int64_t t[3] = {1000001, 1000002, 1000003}, t4 = 1000004;
        /* key 1's open search: ordinal 0 at 1000001, then its clicks */
        unsigned char row[16];
        uint64_t k1 = 1, zero = 0;
        uint8_t click = SZ_CLICK;
        size_t n, i, no, rows = 0, row_at;
        const sz_ctr_stream_out *o;
        memcpy(row, &zero, 8);
        memcpy(row + 8, t, 8);
        cfg.times = 1;
        CHECK(sz_ctr_stream_new(&cfg, &s) == SZ_OK);
        CHECK(sz_ctr_stream_push(s, keys, NULL, kinds, t, 3, 0, &nd, &ep) == SZ_OK);
        len = sz_ctr_stream_snapshot_size(s);
        buf = (unsigned char *)xmalloc(len);
        CHECK(sz_ctr_stream_snapshot(s, buf, len) == SZ_OK);
        row_at = find_bytes(buf, len, row, 16, &n) + 16;
        if (CHECK(n == 1 && "the layout: key 1's search row")) {
            memcpy(&was, buf + row_at, 8);
            CHECK(was == 1 && "the layout: its clicks are where the test doctors them");
            CHECK(restore_doctored(buf, len, row_at, INT64_MAX, &r) == SZ_ERR_SNAPSHOT
                  && r == NULL);
            CHECK(restore_doctored(buf, len, row_at, 4, &r) == SZ_ERR_SNAPSHOT && r == NULL);
            CHECK(restore_doctored(buf, len, row_at, 3, &r) == SZ_OK && r != NULL);
            if (r != NULL) {
                CHECK(sz_ctr_stream_push(r, &k1, NULL, &click, &t4, 1, 0, &nd, &ep) == SZ_OK);
                CHECK(sz_ctr_stream_flush(r) == SZ_OK);
                o = sz_ctr_stream_output(r, &no);
                for (i = 0; i < no; i++)
                    if (o[i].kind == SZ_CTR_OUT_ROW && o[i].key == 1) {
                        rows++;
                        CHECK(o[i].clicks == 4 && o[i].time == t[0]);
                    }
                CHECK(rows == 1);
            }
        }
        sz_ctr_stream_free(r);
        free(buf);
        sz_ctr_stream_free(s);
    }
    group_end("");
}

/* sz_ctr_stream_restore with each of its allocations failing in turn:
 * SZ_ERR_NOMEM, no stream, nothing leaked (valgrind); then a clean restore
 * that snapshots to the same bytes.  (push, advance and flush are walked in
 * test_alloc.) */
static void test_restore_alloc(void)
{
    sz_ctr_stream_config cfg;
    sz_ctr_stream *s = NULL;
    uint64_t keys[40];
    uint8_t kinds[40];
    int64_t t[40];
    size_t i, nd, ep, len;
    unsigned char *buf;
    long k, made, injected = 0;
    char d[64];
    group_begin("restore: allocation failures");
    for (i = 0; i < 40; i++) {
        keys[i] = i % 7;
        kinds[i] = (uint8_t)(i % 3 == 0 ? SZ_SEARCH : i % 3 == 1 ? SZ_CLICK : SZ_RESULTS);
        t[i] = (int64_t)(i * 3);
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.times = 1;
    cfg.gap = 50;
    cfg.delay = 30;  /* the last events wait in the keys' buffers */
    CHECK(sz_ctr_stream_new(&cfg, &s) == SZ_OK);
    CHECK(sz_ctr_stream_push(s, keys, NULL, kinds, t, 40, 0, &nd, &ep) == SZ_OK);
    len = sz_ctr_stream_snapshot_size(s);
    buf = (unsigned char *)xmalloc(len);
    CHECK(sz_ctr_stream_snapshot(s, buf, len) == SZ_OK);
    for (k = 1;; k++) {
        sz_ctr_stream *r = (sz_ctr_stream *)(void *)&r;
        sz_status st;
        sz_test_fail_after(k);
        st = sz_ctr_stream_restore(buf, len, &r);
        made = sz_test_fail_after(0);
        if (made < k) {
            unsigned char *b2;
            CHECK(st == SZ_OK && r != NULL);
            if (st == SZ_OK && CHECK(sz_ctr_stream_snapshot_size(r) == len)) {
                b2 = (unsigned char *)xmalloc(len);
                CHECK(sz_ctr_stream_snapshot(r, b2, len) == SZ_OK);
                CHECK(memcmp(buf, b2, len) == 0);
                free(b2);
                sz_ctr_stream_free(r);
            }
            break;
        }
        injected++;
        CHECK(st == SZ_ERR_NOMEM && r == NULL);
        if (k > 1000) {
            CHECK(!"allocation walk does not end");
            break;
        }
    }
    free(buf);
    sz_ctr_stream_free(s);
    snprintf(d, sizeof d, "%ld injected failures", injected);
    group_end(d);
}

/* fuzz_ctr_stream's find: a push whose watermark step closed a key's
 * session and then failed for memory left that key holding nothing but
 * still in the table; the stream's own snapshot was then refused by the
 * restore.  Every allocation of that push is made to fail in turn: the
 * retried stream must snapshot and restore, and end with the clean run's
 * rows.  (The fuzzer's input: fuzz/corpus/ctr_stream/empty-key-after-retry) */
static const struct { uint64_t key; uint8_t ns, kind; int64_t t; } ek_events[] = {
    {15, 1, SZ_SEARCH, -868082074056920077LL}, {3, 1, SZ_CLICK, -868082074056920077LL},
    {3, 1, SZ_CLICK, 2302452063611909107LL},   {15, 1, SZ_SEARCH, 2302452063611909126LL},
    {15, 1, SZ_TIMEOUT, 2302452063611909145LL}, {15, 1, SZ_SEARCH, 2302452063611909164LL},
    {0, 0, SZ_SEARCH, 2302452063611909183LL},  {15, 1, SZ_SEARCH, 2302452063611909202LL},
    {15, 1, SZ_SEARCH, 2302452063611909221LL}, {15, 1, SZ_SEARCH, 2302452063611909240LL},
    {15, 1, SZ_SEARCH, 2302452063611909228LL}, {0, 0, SZ_APP_OPEN, 2302452063611909216LL},
    {0, 0, SZ_APP_OPEN, 2302452063611909204LL}, {15, 1, SZ_SEARCH, 2302452063611909223LL}};

/* Adds up the output's rows as (key, search ordinal, clicks). */
static void ek_take(const sz_ctr_stream *s, int64_t *sum, size_t *rows)
{
    size_t n, i;
    const sz_ctr_stream_out *o = sz_ctr_stream_output(s, &n);
    for (i = 0; i < n; i++)
        if (o[i].kind == SZ_CTR_OUT_ROW) {
            *sum += (int64_t)(o[i].key * 2 + o[i].key_ns) * 1000003
                    + (int64_t)o[i].search * 1009 + o[i].clicks;
            ++*rows;
        }
}

static void ek_run(long fail_at, int64_t *sum, size_t *rows, long *made)
{
    sz_ctr_stream_config cfg;
    sz_ctr_stream *s = NULL, *r = NULL;
    uint64_t keys[14], k0 = 15;
    uint8_t ns[14], kinds[14], ns0 = 1, kind0 = SZ_SEARCH;
    int64_t t[14], t0 = 19;
    size_t i, nd = 0, ep, done, len;
    unsigned char *buf;
    sz_status st;
    memset(&cfg, 0, sizeof cfg);
    cfg.times = 1;
    cfg.inclusive = 1;
    cfg.gap = 7;
    cfg.delay = 7;
    *sum = 0;
    *rows = 0;
    if (!CHECK(sz_ctr_stream_new(&cfg, &s) == SZ_OK)) return;
    for (i = 0; i < 14; i++) {
        keys[i] = ek_events[i].key;
        ns[i] = ek_events[i].ns;
        kinds[i] = ek_events[i].kind;
        t[i] = ek_events[i].t;
    }
    CHECK(sz_ctr_stream_push(s, &k0, &ns0, &kind0, &t0, 1, 0, &nd, &ep) == SZ_OK);
    ek_take(s, sum, rows);
    sz_test_fail_after(fail_at);
    st = sz_ctr_stream_push(s, keys, ns, kinds, t, 14, 0, &nd, &ep);
    *made = sz_test_fail_after(0);
    CHECK(st == SZ_OK || (st == SZ_ERR_NOMEM && fail_at > 0));
    ek_take(s, sum, rows);
    for (done = nd; st != SZ_OK && done < 14; done += nd) {  /* retried */
        st = sz_ctr_stream_push(s, keys + done, ns + done, kinds + done, t + done, 14 - done,
                                0, &nd, &ep);
        CHECK(st == SZ_OK);
        ek_take(s, sum, rows);
    }
    if (st != SZ_OK) {  /* all consumed, the watermark's work unfinished */
        CHECK(sz_ctr_stream_advance(s, INT64_MIN) == SZ_OK);
        ek_take(s, sum, rows);
    }
    len = sz_ctr_stream_snapshot_size(s);
    buf = (unsigned char *)xmalloc(len);
    CHECK(sz_ctr_stream_snapshot(s, buf, len) == SZ_OK);
    CHECK(sz_ctr_stream_restore(buf, len, &r) == SZ_OK && r != NULL);
    free(buf);
    if (r) {
        sz_ctr_stream_free(s);
        s = r;
    }
    CHECK(sz_ctr_stream_flush(s) == SZ_OK);
    ek_take(s, sum, rows);
    sz_ctr_stream_free(s);
}

static void test_empty_key_after_retry(void)
{
    int64_t sum0, sum;
    size_t rows0, rows;
    long made = 0, k, points = 0;
    char detail[64];
    group_begin("a failed watermark step frees the keys it emptied (fuzz_ctr_stream's find)");
    snprintf(ctx, sizeof ctx, "clean run");
    ek_run(0, &sum0, &rows0, &made);
    CHECK(rows0 > 0);
    for (k = 1; k <= made; k++) {
        long m;
        snprintf(ctx, sizeof ctx, "allocation %ld of the 14-event push fails", k);
        ek_run(k, &sum, &rows, &m);
        CHECK(sum == sum0 && rows == rows0);
        points++;
    }
    snprintf(detail, sizeof detail, "%ld failure points", points);
    group_end(detail);
}

/* fuzz_ctr_stream's find: without a gap rule, an advance to INT64_MAX (or
 * an event there, with no delay) leaves sessions open at a watermark of
 * +infinity, and the restore took that watermark for a flush and refused
 * the keys.  The snapshot must restore and the flush give the same rows.
 * (The fuzzer's input: fuzz/corpus/ctr_stream/open-at-infinity) */
static void test_open_at_infinity(void)
{
    int route;
    group_begin("sessions open at a watermark of +infinity (fuzz_ctr_stream's find)");
    for (route = 0; route < 2; route++) {
        sz_ctr_stream_config cfg;
        sz_ctr_stream *s = NULL, *r = NULL;
        uint64_t keys[3] = {1, 1, 2};
        uint8_t kinds[3] = {SZ_SEARCH, SZ_CLICK, SZ_APP_OPEN};
        int64_t t[3] = {5, 6, INT64_MAX};
        size_t nd, ep, len, n_a, n_b, rows_a = 0, rows_b = 0, i;
        const sz_ctr_stream_out *o;
        unsigned char *buf;
        sz_ctr_stream_stats st;
        snprintf(ctx, sizeof ctx, "%s", route ? "an event at INT64_MAX" : "advance(INT64_MAX)");
        memset(&cfg, 0, sizeof cfg);
        cfg.times = 1;
        if (!CHECK(sz_ctr_stream_new(&cfg, &s) == SZ_OK)) return;
        CHECK(sz_ctr_stream_push(s, keys, NULL, kinds, t, route ? 3 : 2, 0, &nd, &ep) == SZ_OK);
        if (!route) CHECK(sz_ctr_stream_advance(s, INT64_MAX) == SZ_OK);
        sz_ctr_stream_stats_get(s, &st);
        CHECK(st.watermark == INT64_MAX && st.open_sessions == 1);
        len = sz_ctr_stream_snapshot_size(s);
        buf = (unsigned char *)xmalloc(len);
        CHECK(sz_ctr_stream_snapshot(s, buf, len) == SZ_OK);
        CHECK(sz_ctr_stream_restore(buf, len, &r) == SZ_OK && r != NULL);
        free(buf);
        if (r == NULL) {
            sz_ctr_stream_free(s);
            continue;
        }
        CHECK(sz_ctr_stream_flush(s) == SZ_OK);
        o = sz_ctr_stream_output(s, &n_a);
        for (i = 0; i < n_a; i++) rows_a += o[i].kind == SZ_CTR_OUT_ROW && o[i].clicks == 1;
        CHECK(sz_ctr_stream_flush(r) == SZ_OK);
        o = sz_ctr_stream_output(r, &n_b);
        for (i = 0; i < n_b; i++) rows_b += o[i].kind == SZ_CTR_OUT_ROW && o[i].clicks == 1;
        CHECK(rows_a == 1 && rows_b == 1 && n_a == n_b);
        sz_ctr_stream_free(s);
        sz_ctr_stream_free(r);
    }
    group_end("");
}

/* fuzz_ctr_stream's find: a flush that failed for memory after raising the
 * watermark to the largest time, INT64_MAX, left events buffered that its
 * retry did not drain (it took that watermark for a finished flush).  Every
 * allocation of the flush fails in turn; the retried flush must leave
 * nothing and give the clean run's rows.  (The fuzzer's input:
 * fuzz/corpus/ctr_stream/flush-retry-at-infinity) */
static void fi_run(long fail_at, size_t *rows, int64_t *sum, long *made, size_t *held)
{
    sz_ctr_stream_config cfg;
    sz_ctr_stream *s = NULL;
    uint64_t keys[5] = {1, 1, 2, 3, 2};
    uint8_t kinds[5] = {SZ_SEARCH, SZ_CLICK, SZ_SEARCH, SZ_SEARCH, SZ_CLICK};
    int64_t t[5] = {5, 6, INT64_MAX - 3, INT64_MAX - 1, INT64_MAX};
    size_t nd, ep, n, i;
    const sz_ctr_stream_out *o;
    sz_ctr_stream_stats st;
    sz_status r;
    memset(&cfg, 0, sizeof cfg);
    cfg.times = 1;
    cfg.delay = 12;
    *rows = 0;
    *sum = 0;
    if (!CHECK(sz_ctr_stream_new(&cfg, &s) == SZ_OK)) return;
    CHECK(sz_ctr_stream_push(s, keys, NULL, kinds, t, 5, 0, &nd, &ep) == SZ_OK);
    sz_test_fail_after(fail_at);
    r = sz_ctr_stream_flush(s);
    *made = sz_test_fail_after(0);
    for (;;) {
        CHECK(r == SZ_OK || (r == SZ_ERR_NOMEM && fail_at > 0));
        o = sz_ctr_stream_output(s, &n);
        for (i = 0; i < n; i++)
            if (o[i].kind == SZ_CTR_OUT_ROW) {
                ++*rows;
                *sum += (int64_t)o[i].key * 1009 + (int64_t)o[i].search * 31 + o[i].clicks;
            }
        if (r == SZ_OK) break;
        r = sz_ctr_stream_flush(s);  /* retried */
    }
    sz_ctr_stream_stats_get(s, &st);
    *held = st.keys + st.buffered + st.open_sessions;
    sz_ctr_stream_free(s);
}

static void test_flush_retry_at_infinity(void)
{
    size_t rows0, rows, held;
    int64_t sum0, sum;
    long made = 0, k, m;
    char detail[64];
    group_begin("a retried flush drains at a watermark of +infinity (fuzz_ctr_stream's find)");
    snprintf(ctx, sizeof ctx, "clean run");
    fi_run(0, &rows0, &sum0, &made, &held);
    CHECK(rows0 == 3 && held == 0);
    for (k = 1; k <= made; k++) {
        snprintf(ctx, sizeof ctx, "allocation %ld of the flush fails", k);
        fi_run(k, &rows, &sum, &m, &held);
        CHECK(rows == rows0 && sum == sum0 && held == 0);
    }
    snprintf(detail, sizeof detail, "%ld failure points", made);
    group_end(detail);
}

/* ---- a big flush and a big advance: the closes' sort is O(k log k) --------
 * A call's closes are sorted by (flushed?, moment, rank, ordinal) with
 * sz_sort.h's index sort, as the incremental stream's records are.  A flush
 * and an advance that close a million sessions: the rows in the order a
 * reference qsort gives, numbered in that order, within 2 k floor(log2 k)
 * comparisons (counted, not timed; k closes).  --quick (valgrind): small. */

typedef struct cbig {
    int64_t moment;
    uint64_t ord;
    int64_t t;
} cbig;

static int cmp_cbig(const void *pa, const void *pb)
{
    const cbig *a = (const cbig *)pa, *b = (const cbig *)pb;
    if (a->moment != b->moment) return a->moment < b->moment ? -1 : 1;
    return (a->ord > b->ord) - (a->ord < b->ord);
}

static unsigned floor_log2(size_t k)
{
    unsigned r = 0;
    while (k >>= 1) r++;
    return r;
}

static int quick;

/* The rows of the last call against ref (k sessions of one search each,
 * sorted here), numbered from `first`; the comparisons against the bound. */
static void cbig_compare(const sz_ctr_stream *s, cbig *ref, size_t k, uint64_t first,
                         size_t n_keys, unsigned long long cmps, const char *what,
                         char *detail, size_t len)
{
    size_t n, i, bad = SIZE_MAX;
    const sz_ctr_stream_out *x = sz_ctr_stream_output(s, &n);
    double bound = 2.0 * (double)k * (double)floor_log2(k);
    qsort(ref, k, sizeof *ref, cmp_cbig);
    CHECK(n == k);
    for (i = 0; i < n && i < k && bad == SIZE_MAX; i++)
        if (x[i].kind != SZ_CTR_OUT_ROW || x[i].session != first + i
            || x[i].search != ref[i].ord || x[i].time != ref[i].t
            || x[i].key != (uint64_t)(ref[i].ord % n_keys))
            bad = i;
    snprintf(ctx, sizeof ctx, "%s record %zu", what, bad);
    CHECK(bad == SIZE_MAX && "rows in the reference's order");
    snprintf(ctx, sizeof ctx, "%s %llu comparisons for %zu closes", what, cmps, k);
    CHECK((double)cmps <= bound);
    snprintf(detail, len, "%s %zu closes, %llu comparisons (%.2f k floor(log2 k))", what, k,
             cmps, (double)cmps / ((double)k * (double)floor_log2(k)));
}

static void test_big(void)
{
    size_t N = quick ? 20000 : 1000000, K = N / 4, i, j, nd, ep, n;
    const int64_t gap = 10;
    sz_ctr_stream_config cfg;
    sz_ctr_stream *s = NULL;
    uint64_t *kv = (uint64_t *)xmalloc(N * sizeof *kv);
    uint8_t *kd = (uint8_t *)xmalloc(N);
    int64_t *t = (int64_t *)xmalloc(N * sizeof *t);
    cbig *ref = (cbig *)xmalloc(N * sizeof *ref);
    unsigned long long cmps;
    char d1[120], d2[120], detail[260];
    group_begin("big flush and advance");
    memset(&cfg, 0, sizeof cfg);
    cfg.gap = gap;
    cfg.inclusive = 1;
    cfg.times = 1;
    cfg.delay = (int64_t)1 << 40;  /* nothing applied before the call measured */
    memset(kd, SZ_SEARCH, N);

    /* flush: N keys with a search open each, closed by first search's time
     * and ordinal (event i is key i's, ordinal i) */
    for (i = 0; i < N; i++) {
        kv[i] = i;
        t[i] = (int64_t)rndn(1000);
        ref[i].moment = t[i];
        ref[i].ord = i;
        ref[i].t = t[i];
    }
    CHECK(sz_ctr_stream_new(&cfg, &s) == SZ_OK);
    CHECK(sz_ctr_stream_push(s, kv, NULL, kd, t, N, 0, &nd, &ep) == SZ_OK && nd == N);
    (void)sz_ctr_stream_output(s, &n);
    CHECK(n == 0);
    (void)sz_test_sort_cmps();
    CHECK(sz_ctr_stream_flush(s) == SZ_OK);
    cmps = sz_test_sort_cmps();
    cbig_compare(s, ref, N, 0, N, cmps, "flush:", d1, sizeof d1);
    sz_ctr_stream_free(s);

    /* advance: K keys, 4 searches each over 300 time units (pushed round by
     * round: ordinal j K + i), each its own session by the gap: the advance
     * applies them all and closes all 4 K sessions, each at its search's
     * time + gap */
    n = 0;
    for (i = 0; i < K; i++) ref[i].t = (int64_t)rndn(1000);
    for (j = 0; j < 4; j++)
        for (i = 0; i < K; i++) {
            kv[n] = i;
            t[n] = ref[i].t + 100 * (int64_t)j;
            n++;
        }
    for (i = 0; i < n; i++) {
        ref[i].t = t[i];
        ref[i].moment = t[i] + gap;
        ref[i].ord = i;
    }
    s = NULL;
    CHECK(sz_ctr_stream_new(&cfg, &s) == SZ_OK);
    CHECK(sz_ctr_stream_push(s, kv, NULL, kd, t, n, 0, &nd, &ep) == SZ_OK && nd == n);
    (void)sz_ctr_stream_output(s, &nd);
    CHECK(nd == 0);
    (void)sz_test_sort_cmps();
    CHECK(sz_ctr_stream_advance(s, 2000) == SZ_OK);
    cmps = sz_test_sort_cmps();
    cbig_compare(s, ref, n, 0, K, cmps, "advance:", d2, sizeof d2);
    sz_ctr_stream_free(s);

    snprintf(detail, sizeof detail, "%s; %s", d1, d2);
    group_end(detail);
    free(kv);
    free(kd);
    free(t);
    free(ref);
}

int main(int argc, char **argv)
{
    const char *q = getenv("SZ_TEST_QUICK");
    int i;
    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
    if (q && *q && strcmp(q, "0") != 0) quick = 1;
    rng_state = RNG_SEED;
    sz_test_fail_after(0);
    test_api();
    test_seed();
    test_random();
    test_exact();
    test_chunkings();
    test_snapshot_continue();
    test_snapshot_damage();
    test_alloc();
    test_snapshot_counter();
    test_restore_alloc();
    test_empty_key_after_retry();
    test_open_at_infinity();
    test_flush_retry_at_infinity();
    test_big();
    printf("%ld passed, %ld failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
