/*
 * test_stream_gaps.c -- the incremental sessionizer with a gap per event
 * (sz_stream_push_gaps) against the batch one (sz_gapped_assign, which
 * test_gaps.c checks against a brute-force window-merging model):
 *   - SPEC section 3's invariant: for any arrival order within the delay
 *     and any chunking, nothing is late and the sessions emitted as final
 *     (start, end, window_end, count, key, and with keep_values their
 *     events) are the batch sessions of the same events; in any order,
 *     every event is late or in exactly one final session;
 *   - with every gap equal to the bound, the records (order, ids, every
 *     field) are exactly those of a stream without per-event gaps;
 *   - the element errors, and the stream's invariants after every call;
 * on random inputs dense in touching windows (t_j == t_i + gap_i), ties,
 * every cap mode, both inclusive settings, both emit modes and lateness.
 */
#include "../sessionize.h"
#include "../sz_internal.h"
#include "../sz_stream_internal.h"  /* sz__stream_check */
#include "../sz_snapshot.h"         /* sz__hash_bytes, for doctor_i64 */
#define SZ_TEST_SIMPLE_CHECK
#include "harness.h"

#define RNG_SEED 0x2545F4914F6CDD1DULL
#define MAXN 80

typedef struct fin {  /* a session emitted as final */
    int64_t key, start, end, window_end, count;
} fin;

static int fin_cmp(const void *a, const void *b)
{
    const int64_t *x = (const int64_t *)a, *y = (const int64_t *)b;
    int i;
    for (i = 0; i < 5; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

typedef struct cfg_r {
    sz_stream_config c;
    size_t n;
    uint64_t keys[MAXN];
    int64_t t[MAXN], g[MAXN];
} cfg_r;

/* A random configuration and events dense in touching windows and ties. */
static void make_case(cfg_r *r)
{
    size_t i, K = 1 + rndn(4);
    int64_t G = 2 + rndi(11);
    memset(r, 0, sizeof *r);
    r->c.session.gap = G;
    r->c.session.inclusive = coin(50);
    r->c.session.cap_mode = (int)rndn(3);
    r->c.session.max_duration = r->c.session.cap_mode ? 1 + rndi(15) : 0;
    r->c.delay = coin(30) ? 0 : rndi(20);
    r->c.allowed_lateness = coin(60) ? 0 : rndi(6);
    r->c.emit = coin(70) ? SZ_EMIT_FINAL : SZ_EMIT_UPDATE;
    r->c.keep_values = coin(50);
    r->c.per_event_gaps = 1;
    r->n = 1 + rndn(MAXN);
    for (i = 0; i < r->n; i++) {
        r->keys[i] = rnd() % K;
        r->g[i] = coin(30) ? G : 1 + rndi(G);
        if (i > 0 && coin(45)) {  /* touch an earlier event's window, or tie */
            size_t j = rndn(i);
            r->keys[i] = r->keys[j];
            r->t[i] = coin(70) ? r->t[j] + r->g[j] : r->t[j];
        } else {
            r->t[i] = rndi(90);
        }
    }
}

/* Runs the events in arrival order arr[] through a stream in random
 * chunks, then flushes; fills fins (sorted) and late[] (whether each
 * arrival position was late).  Checks the stream after every call and
 * each final session's values when kept.  Returns the number of finals. */
static size_t run_stream(const cfg_r *r, const size_t *arr, int with_gaps, fin *fins,
                         unsigned char *late, sz_stream_out *recs, size_t *n_recs,
                         uint64_t *rec_h, size_t *n_h)
{
    uint64_t k[MAXN], h[MAXN];
    int64_t t[MAXN], g[MAXN];
    sz_stream *s = NULL;
    size_t i, at = 0, nf = 0;
    CHECK(sz_stream_new(&r->c, &s) == SZ_OK);
    if (s == NULL) return 0;
    for (i = 0; i < r->n; i++) {
        k[i] = r->keys[arr[i]];
        t[i] = r->t[arr[i]];
        g[i] = r->g[arr[i]];
        h[i] = arr[i];
        late[i] = 0;
    }
    *n_recs = *n_h = 0;
    for (;;) {
        size_t len = at < r->n ? 1 + rndn(r->n - at) : 0, done = 0, ep = 0, no, j;
        const uint64_t *ids, *hs;
        const sz_stream_out *o;
        const char *broken;
        sz_status st;
        if (len == 0)
            st = sz_stream_flush(s);
        else
            st = sz_stream_push_gaps(s, k + at, NULL, t + at, with_gaps ? g + at : NULL,
                                     r->c.keep_values ? h + at : NULL, len, 0, &done, &ep);
        CHECK(st == SZ_OK);
        CHECK(len == 0 || done == len);
        broken = sz__stream_check(s, 1);
        CHECK(broken == NULL);
        if (broken) printf("    broken: %s\n", broken);
        o = sz_stream_output(s, &no, &ids, &hs);
        for (j = 0; j < no; j++) {
            if (recs) {
                recs[*n_recs] = o[j];
                recs[*n_recs].values_off = *n_h;
                if (o[j].n_values) memcpy(rec_h + *n_h, hs + o[j].values_off,
                                          o[j].n_values * sizeof *rec_h);
                *n_h += o[j].n_values;
                ++*n_recs;
            }
            if (o[j].kind == SZ_OUT_LATE) {
                late[at + o[j].pos] = 1;
            } else if ((o[j].kind == SZ_OUT_SESSION && o[j].final)
                       || o[j].kind == SZ_OUT_RETIRED) {
                fin *f = &fins[nf++];
                f->key = (int64_t)o[j].key;
                f->start = o[j].start;
                f->end = o[j].end;
                f->window_end = o[j].window_end;
                f->count = o[j].count;
                if (r->c.keep_values && o[j].kind == SZ_OUT_SESSION) {
                    /* its events, in time order, are the session's */
                    size_t v;
                    int ok = o[j].n_values == (size_t)o[j].count;
                    for (v = 0; ok && v < o[j].n_values; v++) {
                        uint64_t e = hs[o[j].values_off + v];
                        ok = e < r->n && r->keys[e] == o[j].key && r->t[e] >= o[j].start
                             && r->t[e] <= o[j].end
                             && (v == 0 || r->t[hs[o[j].values_off + v - 1]] <= r->t[e]);
                    }
                    CHECK(ok);
                }
            }
        }
        if (len == 0) break;
        at += len;
        if (coin(25)) {  /* a snapshot restored goes on as the original would */
            size_t sl = sz_stream_snapshot_size(s);
            unsigned char *buf = (unsigned char *)xmalloc(sl);
            sz_stream *back = NULL;
            sz_stream_config cb;
            CHECK(sz_stream_snapshot(s, buf, sl) == SZ_OK);
            CHECK(sz_stream_restore(buf, sl, &back) == SZ_OK);
            if (back != NULL) {
                sz_stream_config_get(back, &cb);
                CHECK(cb.per_event_gaps == (r->c.per_event_gaps != 0));
                CHECK(sz_stream_snapshot_size(back) == sl);
                sz_stream_free(s);
                s = back;
            }
            free(buf);
        }
    }
    sz_stream_free(s);
    qsort(fins, nf, sizeof *fins, fin_cmp);
    return nf;
}

/* The batch sessions of the events arr[i] not late, sorted. */
static size_t batch_fins(const cfg_r *r, const size_t *arr, const unsigned char *late,
                         fin *fins)
{
    int64_t k[MAXN], t[MAXN], g[MAXN], ids[MAXN], c[6][MAXN];
    sz_keys keys;
    sz_gapped *gp = NULL;
    sz_session_columns cc;
    size_t i, m = 0, S = 0, pos;
    for (i = 0; i < r->n; i++)
        if (!late[i]) {
            k[m] = (int64_t)r->keys[arr[i]];
            t[m] = r->t[arr[i]];
            g[m++] = r->g[arr[i]];
        }
    keys.kind = SZ_KEYS_INT64;
    keys.data = k;
    keys.width = 0;
    keys.n_codes = 0;
    if (!CHECK(sz_gapped_assign(&gp, &keys, t, g, m, &r->c.session, ids, &S, &pos)
               == SZ_OK))
        return 0;
    cc.start = c[0];
    cc.end = c[1];
    cc.window_end = c[2];
    cc.count = c[3];
    cc.index = c[4];
    cc.first_event = c[5];
    CHECK(sz_gapped_fill(gp, &cc) == SZ_OK);
    sz_gapped_free(gp);
    for (i = 0; i < S; i++) {
        fins[i].key = k[c[5][i]];
        fins[i].start = c[0][i];
        fins[i].end = c[1][i];
        fins[i].window_end = c[2][i];
        fins[i].count = c[3][i];
    }
    qsort(fins, S, sizeof *fins, fin_cmp);
    return S;
}

/* Arrival orders: by t + a jitter within the delay (nothing can be late),
 * or any order. */
static void arrival(const cfg_r *r, size_t *arr, int within_delay)
{
    int64_t key[MAXN];
    size_t i, j;
    for (i = 0; i < r->n; i++) {
        arr[i] = i;
        key[i] = within_delay ? r->t[i] + rndi(r->c.delay + 1) : rndi(1000);
    }
    for (i = 1; i < r->n; i++)  /* insertion sort: stable, n <= MAXN */
        for (j = i; j > 0 && key[arr[j - 1]] > key[arr[j]]; j--) {
            size_t x = arr[j];
            arr[j] = arr[j - 1];
            arr[j - 1] = x;
        }
}

static void test_against_batch(void)
{
    static fin a[MAXN], b[MAXN];
    unsigned char late[MAXN];
    size_t arr[MAXN], round, n_late_rounds = 0;
    group_begin("final sessions are the batch ones");
    for (round = 0; round < 4000; round++) {
        cfg_r r;
        size_t na, nb, i, lates = 0, nrec, nh;
        int within = coin(60);
        make_case(&r);
        arrival(&r, arr, within);
        snprintf(ctx, sizeof ctx,
                 "round %zu n %zu gap %lld incl %d cap %d/%lld delay %lld L %lld emit %d vals %d "
                 "within %d",
                 round, r.n, (long long)r.c.session.gap, r.c.session.inclusive,
                 r.c.session.cap_mode, (long long)r.c.session.max_duration,
                 (long long)r.c.delay, (long long)r.c.allowed_lateness, r.c.emit,
                 r.c.keep_values, within);
        na = run_stream(&r, arr, r.c.per_event_gaps, a, late, NULL, &nrec, NULL, &nh);
        for (i = 0; i < r.n; i++) lates += late[i];
        if (within) CHECK(lates == 0);
        n_late_rounds += lates > 0;
        if (within) {
            nb = batch_fins(&r, arr, late, b);
            CHECK(na == nb);
            if (na == nb) CHECK(memcmp(a, b, na * sizeof *a) == 0);
        } else {
            /* any order: every event is late or in one final session.  (Not
             * the batch sessions of the events not late: after a key is
             * forgotten, an old event can chain into an open unit through
             * events that came after, and join a session emitted as final
             * before, as in Flink; test_stream.c's "deviation B".) */
            int64_t total = (int64_t)lates;
            for (i = 0; i < na; i++) total += a[i].count;
            CHECK(total == (int64_t)r.n);
        }
    }
    CHECK(n_late_rounds > 200);  /* the any-order rounds do make events late */
    snprintf(ctx, sizeof ctx, "%zu rounds with late events", n_late_rounds);
    group_end(ctx);
}

/* Every gap the bound: a per-event stream is the scalar one, record for
 * record (with gaps given, and with gaps NULL). */
static void test_constant_is_scalar(void)
{
    static fin a[MAXN * 4], b[MAXN * 4];
    static sz_stream_out ra[MAXN * 4], rb[MAXN * 4];
    static uint64_t ha[MAXN * 8], hb[MAXN * 8];
    unsigned char la[MAXN], lb[MAXN];
    size_t arr[MAXN], round;
    group_begin("constant gaps are the scalar stream");
    for (round = 0; round < 1500; round++) {
        cfg_r r;
        size_t i, nra, nrb, nha, nhb, j;
        uint64_t seed;
        make_case(&r);
        for (i = 0; i < r.n; i++) r.g[i] = r.c.session.gap;
        arrival(&r, arr, coin(50));
        snprintf(ctx, sizeof ctx, "round %zu", round);
        seed = rng_state;  /* the same chunking for both */
        run_stream(&r, arr, (int)(round & 1), a, la, ra, &nra, ha, &nha);
        rng_state = seed;
        r.c.per_event_gaps = 0;
        run_stream(&r, arr, 0, b, lb, rb, &nrb, hb, &nhb);
        CHECK(nra == nrb && nha == nhb);
        if (nra != nrb) continue;
        for (j = 0; j < nra; j++) {
            const sz_stream_out *x = &ra[j], *y = &rb[j];
            CHECK(x->kind == y->kind && x->final == y->final && x->key == y->key
                  && x->start == y->start && x->end == y->end
                  && x->window_end == y->window_end && x->count == y->count
                  && x->index == y->index && x->revision == y->revision
                  && x->id == y->id && x->n_values == y->n_values
                  && x->n_replaces == y->n_replaces
                  && (x->kind != SZ_OUT_LATE || x->pos == y->pos));
        }
        if (nha == nhb) CHECK(memcmp(ha, hb, nha * sizeof *ha) == 0);
    }
    group_end("");
}

static void test_errors(void)
{
    sz_stream_config c;
    sz_stream *s = NULL;
    uint64_t k[3] = {1, 1, 2};
    int64_t t[3] = {0, 5, 9}, g[3] = {3, 0, 2}, big[3] = {3, 4, 11};
    size_t done = 99, ep = 99, n;
    group_begin("errors");
    memset(&c, 0, sizeof c);
    c.session.gap = 10;
    c.session.inclusive = 1;
    CHECK(sz_stream_new(&c, &s) == SZ_OK);
    /* gaps on a stream made without per_event_gaps */
    CHECK(sz_stream_push_gaps(s, k, NULL, t, g, NULL, 3, 0, &done, &ep) == SZ_ERR_PARAM);
    sz_stream_free(s);
    c.per_event_gaps = 1;
    CHECK(sz_stream_new(&c, &s) == SZ_OK);
    CHECK(sz_stream_push_gaps(s, k, NULL, t, g, NULL, 3, 0, &done, &ep) == SZ_ERR_GAP);
    CHECK(ep == 1 && done == 0);
    CHECK(sz_stream_push_gaps(s, k, NULL, t, big, NULL, 3, 0, &done, &ep) == SZ_ERR_GAP);
    CHECK(ep == 2 && done == 0);
    /* nothing was applied */
    sz_stream_output(s, &n, NULL, NULL);
    CHECK(n == 0 && !sz_stream_has_key(s, 1, 0));
    g[1] = 1;
    CHECK(sz_stream_push_gaps(s, k, NULL, t, g, NULL, 3, 0, &done, &ep) == SZ_OK);
    CHECK(done == 3);
    CHECK(sz__stream_check(s, 1) == NULL);
    sz_stream_free(s);
    group_end("");
}

/* A per-event stream's snapshot: version 2, its reach validated. */
static void test_snapshot_checked(void)
{
    sz_stream_config c;
    sz_stream *s = NULL, *back = NULL;
    uint64_t k[3] = {7, 7, 7};
    int64_t t[3] = {100, 103, 104}, g[3] = {4, 9, 2};
    size_t done, ep, len, at, copies;
    unsigned char *buf;
    int64_t reach = 112;  /* 103 + 9: the running reach of the last two */
    group_begin("per-event snapshots");
    memset(&c, 0, sizeof c);
    c.session.gap = 10;
    c.session.inclusive = 1;
    c.delay = 1000;
    c.per_event_gaps = 1;
    CHECK(sz_stream_new(&c, &s) == SZ_OK);
    CHECK(sz_stream_push_gaps(s, k, NULL, t, g, NULL, 3, 0, &done, &ep) == SZ_OK);
    len = sz_stream_snapshot_size(s);
    buf = (unsigned char *)xmalloc(len);
    CHECK(sz_stream_snapshot(s, buf, len) == SZ_OK);
    CHECK(buf[8] == 2);  /* the version, little-endian on the test machines */
    CHECK(sz_stream_restore(buf, len, &back) == SZ_OK);
    sz_stream_free(back);
    back = NULL;
    at = find_bytes(buf, len, &reach, 8, &copies);
    CHECK(copies == 2);  /* the reach of events 103 and 104 */
    doctor_i64(buf, len, at, 104 + 11);  /* past the bound */
    CHECK(sz_stream_restore(buf, len, &back) == SZ_ERR_SNAPSHOT && back == NULL);
    doctor_i64(buf, len, at, 111);  /* below the one before it */
    CHECK(sz_stream_restore(buf, len, &back) == SZ_ERR_SNAPSHOT && back == NULL);
    doctor_i64(buf, len, at, 112);
    CHECK(sz_stream_restore(buf, len, &back) == SZ_OK);
    CHECK(sz_stream_flush(back) == SZ_OK);
    {
        size_t n;
        const sz_stream_out *o = sz_stream_output(back, &n, NULL, NULL);
        CHECK(n == 2 && o[0].kind == SZ_OUT_SESSION && o[0].start == 100 && o[0].end == 104
              && o[0].count == 3 && o[0].window_end == 112);
    }
    sz_stream_free(back);
    sz_stream_free(s);
    free(buf);
    group_end("");
}

int main(void)
{
    rng_state = RNG_SEED;
    test_errors();
    test_snapshot_checked();
    test_constant_is_scalar();
    test_against_batch();
    printf("test_stream_gaps: %ld passed, %ld failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
