/*
 * fuzz_ctr_stream.c -- libFuzzer target: a sequence of sz_ctr_stream
 * operations (push, advance, snapshot and restore, flush), some with an
 * allocation made to fail.
 *
 * Input layout (fuzz_input.h readers):
 *   u8 flags   bit 0 times, bit 1 inclusive, bit 2 keys in two namespaces,
 *              bit 3 stop_at_late, bit 4 min_is_nat
 *   duration gap, delay (both ignored, 0, without times)
 *   then operations until the input ends, u8 op each:
 *     op & 7 in 0..3  push 1 + (op >> 3 & 15) events: u8 key, u8 kind (a
 *                     byte >= 250 is taken as is: a bad kind), time each
 *                     (with times)
 *     op & 7 == 4     advance to a time (SZ_ERR_PARAM without times)
 *     op & 7 == 5     snapshot, restore, continue on the restored stream
 *     op & 7 == 6     flush
 *     op & 7 == 7     the next op runs with allocation 1 + (op >> 3) failing
 *
 * Checked: every call returns SZ_OK, SZ_ERR_NOMEM (only with a failure
 * injected; the call is then retried as sessionize.h says) or the element
 * error its input has, and a bad call changes nothing; a restored stream
 * snapshots to the same bytes; at the end (a flush) the stream holds
 * nothing, its late count is the late events reported; a twin stream given
 * the same events without failures or restores reports the same rows and
 * late events; and the rows are those of the batch reduction, sz_ctr_run()
 * with flush, over the events that were not late.
 */
#include "../sessionize.h"
#include "../sz_internal.h"  /* sz_test_fail_after */
#include "fuzz_input.h"

#define MAX_CHUNK 16

/* A row, in a form both the stream and the batch give: the search's
 * ordinal, its session's first search's ordinal, its clicks and key. */
typedef struct row {
    uint64_t search, first, key;
    int64_t clicks;
} row;

typedef struct tally {
    row *rows;
    size_t n_rows, cap_rows;
    uint64_t *late;  /* ordinals of the late events */
    size_t n_late, cap_late;
    /* the open session's first search, per emitted session number (the
     * stream emits a session's rows together, its searches in time order) */
    uint64_t last_session, last_first;
    int any;
} tally;

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return p;
    *cap = *cap ? 2 * *cap : 64;
    p = realloc(p, *cap * size);
    FZ_CHECK(p != NULL);
    return p;
}

/* Takes the last call's output; `base` is the ordinal of the call's first event. */
static void take(tally *y, const sz_ctr_stream *s, uint64_t base)
{
    size_t n, i;
    const sz_ctr_stream_out *o = sz_ctr_stream_output(s, &n);
    for (i = 0; i < n; i++) {
        if (o[i].kind == SZ_CTR_OUT_LATE) {
            y->late = (uint64_t *)grow(y->late, &y->cap_late, y->n_late, sizeof *y->late);
            FZ_CHECK(o[i].search == base + o[i].pos);
            y->late[y->n_late++] = o[i].search;
        } else if (o[i].kind == SZ_CTR_OUT_ROW) {
            row *r;
            y->rows = (row *)grow(y->rows, &y->cap_rows, y->n_rows, sizeof *y->rows);
            r = &y->rows[y->n_rows++];
            if (!y->any || o[i].session != y->last_session) {
                FZ_CHECK(!y->any || o[i].session == y->last_session + 1);
                y->any = 1;
                y->last_session = o[i].session;
                y->last_first = o[i].search;
            }
            r->search = o[i].search;
            r->first = y->last_first;
            r->key = o[i].key * 2 + o[i].key_ns;
            r->clicks = o[i].clicks;
        } else {
            FZ_CHECK(o[i].kind == SZ_CTR_OUT_KEY_FREED && o[i].key_ns != 0);
        }
    }
}

static int row_cmp(const void *a, const void *b)
{
    const row *x = (const row *)a, *y = (const row *)b;
    if (x->search != y->search) return x->search < y->search ? -1 : 1;
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->clicks < y->clicks ? -1 : x->clicks > y->clicks;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void same(tally *a, tally *b, const char *what)
{
    if (a->n_rows) qsort(a->rows, a->n_rows, sizeof *a->rows, row_cmp);
    if (b->n_rows) qsort(b->rows, b->n_rows, sizeof *b->rows, row_cmp);
    if (a->n_late) qsort(a->late, a->n_late, sizeof *a->late, u64_cmp);
    if (b->n_late) qsort(b->late, b->n_late, sizeof *b->late, u64_cmp);
    if (a->n_rows != b->n_rows || a->n_late != b->n_late
        || (a->n_rows && memcmp(a->rows, b->rows, a->n_rows * sizeof *a->rows) != 0)
        || (a->n_late && memcmp(a->late, b->late, a->n_late * sizeof *a->late) != 0))
        FZ_FAIL("%s differs: %zu vs %zu rows, %zu vs %zu late", what, a->n_rows, b->n_rows,
                a->n_late, b->n_late);
}

/* The events consumed, in order: what the batch reduction is given. */
typedef struct events {
    int64_t *key, *t;
    uint8_t *kind;
    size_t n, cap;
} events;

static void events_add(events *e, uint64_t key, uint8_t kind, int64_t t)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 256;
        e->key = (int64_t *)realloc(e->key, e->cap * sizeof *e->key);
        e->t = (int64_t *)realloc(e->t, e->cap * sizeof *e->t);
        e->kind = (uint8_t *)realloc(e->kind, e->cap);
        FZ_CHECK(e->key && e->t && e->kind);
    }
    e->key[e->n] = (int64_t)key;
    e->t[e->n] = t;
    e->kind[e->n] = kind;
    e->n++;
}

/* sz_ctr_run() with flush over the consumed events that were not late. */
static void batch(const events *e, const tally *late, const sz_ctr_stream_config *cfg,
                  tally *out)
{
    size_t n = 0, i, j = 0, rows = 0;
    int64_t *k = (int64_t *)malloc((e->n + 1) * sizeof *k);
    int64_t *t = (int64_t *)malloc((e->n + 1) * sizeof *t);
    uint64_t *ord = (uint64_t *)malloc((e->n + 1) * sizeof *ord);
    uint8_t *kd = (uint8_t *)malloc(e->n + 1);
    sz_keys keys;
    sz_ctr_params p;
    sz_ctr *res = NULL;
    FZ_CHECK(k && t && ord && kd);
    for (i = 0; i < e->n; i++) {  /* late->late is sorted */
        if (j < late->n_late && late->late[j] == i) {
            j++;
            continue;
        }
        k[n] = e->key[i];
        t[n] = e->t[i];
        kd[n] = e->kind[i];
        ord[n] = i;
        n++;
    }
    memset(&keys, 0, sizeof keys);
    keys.kind = SZ_KEYS_INT64;
    keys.data = k;
    memset(&p, 0, sizeof p);
    p.gap = cfg->gap;
    p.inclusive = cfg->inclusive;
    p.flush = 1;
    p.min_is_nat = cfg->min_is_nat;
    FZ_CHECK(sz_ctr_run(&res, &keys, kd, cfg->times ? t : NULL, n, &p, &rows, NULL) == SZ_OK);
    if (rows) {
        int64_t *se = (int64_t *)malloc(rows * sizeof *se);
        int64_t *sr = (int64_t *)malloc(rows * sizeof *sr);
        int64_t *cl = (int64_t *)malloc(rows * sizeof *cl);
        sz_ctr_columns cols;
        FZ_CHECK(se && sr && cl);
        memset(&cols, 0, sizeof cols);
        cols.session = se;
        cols.search = sr;
        cols.clicks = cl;
        FZ_CHECK(sz_ctr_fill(res, &cols) == SZ_OK);
        out->rows = (row *)malloc(rows * sizeof *out->rows);
        FZ_CHECK(out->rows != NULL);
        for (i = 0; i < rows; i++) {
            row *r = &out->rows[i];
            r->search = ord[sr[i]];
            r->first = (i > 0 && se[i] == se[i - 1]) ? out->rows[i - 1].first : r->search;
            r->key = (uint64_t)k[sr[i]];
            r->clicks = cl[i];
        }
        out->n_rows = rows;
        free(se);
        free(sr);
        free(cl);
    }
    sz_ctr_free(res);
    free(k);
    free(t);
    free(ord);
    free(kd);
}

/* Snapshot, restore; the restored stream's snapshot is the same bytes. */
static sz_ctr_stream *snap_restore(sz_ctr_stream *s, long fail_at)
{
    size_t len = sz_ctr_stream_snapshot_size(s), len2;
    unsigned char *buf = (unsigned char *)malloc(len), *buf2;
    sz_ctr_stream *r = NULL;
    sz_status st;
    FZ_CHECK(buf != NULL && sz_ctr_stream_snapshot(s, buf, len) == SZ_OK);
    sz_test_fail_after(fail_at);
    st = sz_ctr_stream_restore(buf, len, &r);
    sz_test_fail_after(0);
    if (st == SZ_ERR_NOMEM && fail_at > 0) {
        FZ_CHECK(r == NULL);
        st = sz_ctr_stream_restore(buf, len, &r);
    }
    FZ_CHECK(st == SZ_OK && r != NULL);
    len2 = sz_ctr_stream_snapshot_size(r);
    FZ_CHECK(len2 == len);
    buf2 = (unsigned char *)malloc(len2);
    FZ_CHECK(buf2 != NULL && sz_ctr_stream_snapshot(r, buf2, len2) == SZ_OK);
    FZ_CHECK(memcmp(buf, buf2, len) == 0);
    free(buf);
    free(buf2);
    sz_ctr_stream_free(s);
    return r;
}

static void tally_free(tally *y)
{
    free(y->rows);
    free(y->late);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f;
    sz_ctr_stream_config cfg;
    sz_ctr_stream *s = NULL, *twin = NULL;
    sz_ctr_stream_stats stats;
    tally a, b, c;
    events ev;
    uint8_t flags;
    int stop_at_late, two_ns;
    long fail_at = 0;
    int64_t prev = 0;
    uint64_t consumed = 0;
    sz_status st;

    fz_init(&f, data, size);
    flags = fz_u8(&f);
    memset(&cfg, 0, sizeof cfg);
    cfg.times = flags & 1;
    cfg.inclusive = (flags >> 1) & 1;
    two_ns = (flags >> 2) & 1;
    stop_at_late = (flags >> 3) & 1;
    cfg.min_is_nat = (flags >> 4) & 1;
    cfg.gap = fz_duration(&f);
    cfg.delay = fz_duration(&f);
    if (!cfg.times) cfg.gap = cfg.delay = 0;
    st = sz_ctr_stream_new(&cfg, &s);
    if (st != SZ_OK) {
        FZ_CHECK(st == SZ_ERR_PARAM && s == NULL);
        return 0;
    }
    FZ_CHECK(sz_ctr_stream_new(&cfg, &twin) == SZ_OK);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    memset(&ev, 0, sizeof ev);

    while (fz_more(&f)) {
        uint8_t op = fz_u8(&f);
        long inject = fail_at;
        fail_at = 0;
        switch (op & 7) {
        case 7:
            fail_at = 1 + (op >> 3);
            break;
        case 4: {
            int64_t w = fz_time(&f, prev);
            sz_test_fail_after(inject);
            st = sz_ctr_stream_advance(s, w);
            sz_test_fail_after(0);
            if (!cfg.times) {
                FZ_CHECK(st == SZ_ERR_PARAM);
                FZ_CHECK(sz_ctr_stream_advance(twin, w) == SZ_ERR_PARAM);
                break;
            }
            take(&a, s, consumed);
            while (st == SZ_ERR_NOMEM && inject > 0) {
                st = sz_ctr_stream_advance(s, w);
                take(&a, s, consumed);
            }
            FZ_CHECK(st == SZ_OK);
            FZ_CHECK(sz_ctr_stream_advance(twin, w) == SZ_OK);
            take(&b, twin, consumed);
            break;
        }
        case 5:
            s = snap_restore(s, inject);
            break;
        case 6:
            sz_test_fail_after(inject);
            st = sz_ctr_stream_flush(s);
            sz_test_fail_after(0);
            take(&a, s, consumed);
            while (st == SZ_ERR_NOMEM && inject > 0) {
                st = sz_ctr_stream_flush(s);
                take(&a, s, consumed);
            }
            FZ_CHECK(st == SZ_OK);
            FZ_CHECK(sz_ctr_stream_flush(twin) == SZ_OK);
            take(&b, twin, consumed);
            break;
        default: {
            uint64_t keys[MAX_CHUNK];
            uint8_t ns[MAX_CHUNK], kinds[MAX_CHUNK];
            int64_t t[MAX_CHUNK];
            size_t n = 1 + ((op >> 3) & 15), i, done = 0, nd = 0, ep = 0, ndb = 0, epb = 0;
            sz_status bad = SZ_OK, stb;
            sz_ctr_stream_stats before;
            for (i = 0; i < n; i++) {
                uint8_t k = fz_u8(&f), kd = fz_u8(&f);
                keys[i] = k % 16;
                ns[i] = two_ns ? (k >> 4) & 1 : 0;
                kinds[i] = kd >= 250 ? kd : kd % SZ_N_KINDS;
                t[i] = prev = cfg.times ? fz_time(&f, prev) : 0;
                /* sessionize.h: a bad kind is reported before a bad time
                 * that comes later; both before anything is applied */
                if (bad != SZ_OK) continue;
                if (kinds[i] >= SZ_N_KINDS) bad = SZ_ERR_KIND;
                else if (cfg.times && cfg.min_is_nat && t[i] == INT64_MIN) bad = SZ_ERR_TIME_NAT;
                else if (cfg.times && (__int128)t[i] + cfg.gap > INT64_MAX)
                    bad = SZ_ERR_TIME_OVERFLOW;
            }
            sz_ctr_stream_stats_get(s, &before);
            sz_test_fail_after(inject);
            st = sz_ctr_stream_push(s, keys, ns, kinds, cfg.times ? t : NULL, n, stop_at_late,
                                    &nd, &ep);
            sz_test_fail_after(0);
            if (bad != SZ_OK) {
                sz_ctr_stream_stats after;
                sz_ctr_stream_stats_get(s, &after);
                FZ_CHECK(st == bad && nd == 0 && ep < n);
                FZ_CHECK(after.events == before.events && after.keys == before.keys
                         && after.buffered == before.buffered
                         && after.watermark == before.watermark);
                stb = sz_ctr_stream_push(twin, keys, ns, kinds, cfg.times ? t : NULL, n,
                                         stop_at_late, &ndb, &epb);
                FZ_CHECK(stb == bad && ep == epb);
                break;
            }
            take(&a, s, consumed);
            done = nd;
            while (st == SZ_ERR_NOMEM && inject > 0) {
                FZ_CHECK(done <= n);
                st = sz_ctr_stream_push(s, keys + done, ns + done, kinds + done,
                                        cfg.times ? t + done : NULL, n - done, stop_at_late,
                                        &nd, &ep);
                take(&a, s, consumed + done);
                done += nd;
            }
            FZ_CHECK(st == SZ_OK && done <= n && (done == n || stop_at_late));
            /* the twin: the events the stream consumed, at once */
            FZ_CHECK(sz_ctr_stream_push(twin, keys, ns, kinds, cfg.times ? t : NULL, done,
                                        stop_at_late, &ndb, &epb) == SZ_OK);
            FZ_CHECK(ndb == done);
            take(&b, twin, consumed);
            for (i = 0; i < done; i++) events_add(&ev, keys[i] * 2 + ns[i], kinds[i], t[i]);
            consumed += done;
            break;
        }
        }
    }
    FZ_CHECK(sz_ctr_stream_flush(s) == SZ_OK);
    take(&a, s, consumed);
    FZ_CHECK(sz_ctr_stream_flush(twin) == SZ_OK);
    take(&b, twin, consumed);
    sz_ctr_stream_stats_get(s, &stats);
    FZ_CHECK(stats.keys == 0 && stats.open_sessions == 0 && stats.buffered == 0);
    FZ_CHECK(stats.late_count == a.n_late && stats.events == consumed);
    same(&a, &b, "the twin");
    batch(&ev, &a, &cfg, &c);
    c.late = (uint64_t *)malloc(sizeof *c.late * (a.n_late + 1));
    FZ_CHECK(c.late != NULL);
    if (a.n_late) memcpy(c.late, a.late, sizeof *c.late * a.n_late);
    c.n_late = a.n_late;
    same(&a, &c, "the batch reduction");
    tally_free(&a);
    tally_free(&b);
    tally_free(&c);
    free(ev.key);
    free(ev.t);
    free(ev.kind);
    sz_ctr_stream_free(s);
    sz_ctr_stream_free(twin);
    return 0;
}
