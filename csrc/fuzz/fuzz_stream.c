/*
 * fuzz_stream.c -- libFuzzer target: a sequence of sz_stream operations
 * (push, advance, snapshot and restore, flush), some with an allocation
 * made to fail, each followed by the stream's invariant check
 * (sz__stream_check, csrc/stream_check.c), on streams of one gap
 * (sz_stream_push) and of a gap per event (per_event_gaps,
 * sz_stream_push_gaps).
 *
 * Input layout (fuzz_input.h readers):
 *   u8 flags   bits 0-1 cap mode (3: none), bit 2 inclusive, bit 3
 *              min_is_nat, bit 4 update mode, bit 5 keep_values, bit 6 keys
 *              in two namespaces, bit 7 stop_at_late
 *   u8 g       below 0x80, or from 0xF8 on: the gap of a scalar stream, read
 *              as fz_duration reads it (g % 24; from 0xF8 a u64 follows).
 *              0x80 to 0xF7: a stream with per-event gaps, whose bound
 *              session.gap follows as a duration; with bit 0 of g set, every
 *              gap in range is the bound (then a scalar stream runs beside
 *              it to the end).  Scalar inputs (the corpus's) keep the
 *              meaning they had before per-event streams, whose gap bytes
 *              were all below 0x80.
 *   duration max, delay, allowed_lateness
 *   then operations until the input ends, u8 op each:
 *     op & 7 in 0..3  push 1 + (op >> 3 & 15) events: u8 key, time each, and
 *                     on a per-event stream a gap selector (gap_of), except
 *                     when op & 7 == 3 with bit 7 set: then gaps is NULL
 *     op & 7 == 4     advance to a time; with bit 3 set, advance only key
 *                     op >> 4 (namespace 0) to it (sz_stream_advance_key)
 *     op & 7 == 5     snapshot, restore, continue on the restored stream
 *     op & 7 == 6     flush
 *     op & 7 == 7     the next op runs with allocation 1 + (op >> 3) failing
 *
 * Checked, on both kinds of stream: every call returns SZ_OK, SZ_ERR_NOMEM
 * (only with a failure injected; the call is then retried as sessionize.h
 * says) or the element error its input has, at the first bad element, with
 * nothing applied (no record, the same snapshot bytes); after each call,
 * the invariants; a restored stream snapshots to the same bytes, of
 * version 1 (scalar) or 2 (per-event), with the same configuration; with
 * keep_values, a final session's handles are its events, in time order; at
 * the end (a flush) every consumed event is in exactly one final session
 * or was reported late (by count, and with keep_values in final mode by
 * handle); a twin stream given the same events without failures or
 * restores ends with the same final sessions and late events; and when
 * every event came at or after the watermark (its key's, after
 * sz_stream_advance_key; beyond the reach of all its earlier events, after
 * one that released the key), nothing was late and the final sessions are
 * sz_gapped_assign's over the same events (with late events they need not
 * be: test_stream.c's deviation B).
 * On a per-event stream, besides: a shadow of the twin, restored from its
 * own snapshot at every snapshot op, emits the twin's records exactly
 * (every field, ids, handles); and while every gap is the bound, so does a
 * scalar stream given the same calls.
 * The stream under test reports freed keys by sz_stream_freed_keys() alone
 * (no KEY_FREED record), as the binding runs it; the twin writes the
 * records, and its list names their keys in their order.
 */
#include "../sessionize.h"
#include "../sz_stream_internal.h"
#include "fuzz_input.h"

#define MAX_CHUNK 16
#define FIN_W 5  /* key, start, end, window_end, count */
#define N_KEYS 32  /* key % 16, two namespaces: key * 2 + ns */

typedef struct ev {  /* an event pushed, by handle */
    int64_t key, t, g;
    unsigned char used;  /* consumed */
    unsigned char seen;  /* times reported: late, or in a final session */
} ev;

typedef struct evlog {
    ev *e;
    size_t n, cap;
} evlog;

typedef struct tally {
    uint64_t consumed, late, in_finals;
    int64_t *fin;  /* FIN_W values per final session */
    size_t n_fin, cap_fin;
} tally;

static ev *log_add(evlog *g)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 256;
        g->e = (ev *)realloc(g->e, g->cap * sizeof *g->e);
        FZ_CHECK(g->e != NULL);
    }
    memset(&g->e[g->n], 0, sizeof *g->e);
    return &g->e[g->n++];
}

/* Tallies the last call's records.  With `log` (the stream under test):
 * each final session's handles must be events of its key within it, in
 * time order, and are marked seen; a late record marks hbase[pos], the
 * handle of the event at its position in the call. */
static void take(tally *y, const sz_stream *s, evlog *log, const uint64_t *hbase)
{
    size_t n, i, v, nf, f = 0;
    const uint64_t *hs;
    const sz_stream_out *o = sz_stream_output(s, &n, NULL, &hs);
    const sz_stream_key *fk = sz_stream_freed_keys(s, &nf);
    /* the stream under test (log) reports freed keys by list alone, the
     * twin as records too: the list names them, in their order */
    for (i = 0; i < n; i++)
        if (o[i].kind == SZ_OUT_KEY_FREED) {
            FZ_CHECK(log == NULL && f < nf);
            FZ_CHECK(fk[f].key == o[i].key && fk[f].ns == o[i].key_ns);
            f++;
        }
    FZ_CHECK(f == (log ? 0 : nf));
    for (i = 0; i < n; i++) {
        int64_t key = (int64_t)(o[i].key * 2 + o[i].key_ns), *p;
        if (o[i].kind == SZ_OUT_LATE) {
            y->late++;
            if (log && hbase) log->e[hbase[o[i].pos]].seen++;
        }
        if (!((o[i].kind == SZ_OUT_SESSION && o[i].final) || o[i].kind == SZ_OUT_RETIRED))
            continue;
        if (log && o[i].kind == SZ_OUT_SESSION && o[i].n_values) {
            FZ_CHECK(o[i].n_values == (size_t)o[i].count);
            for (v = 0; v < o[i].n_values; v++) {
                uint64_t h = hs[o[i].values_off + v];
                FZ_CHECK(h < log->n && log->e[h].key == key);  /* consumed: at the end */
                FZ_CHECK(log->e[h].t >= o[i].start && log->e[h].t <= o[i].end);
                FZ_CHECK(v == 0 || log->e[hs[o[i].values_off + v - 1]].t <= log->e[h].t);
                log->e[h].seen++;
            }
        }
        y->in_finals += (uint64_t)o[i].count;
        if (y->n_fin == y->cap_fin) {
            y->cap_fin = y->cap_fin ? 2 * y->cap_fin : 64;
            y->fin = (int64_t *)realloc(y->fin, y->cap_fin * FIN_W * sizeof *y->fin);
            FZ_CHECK(y->fin != NULL);
        }
        p = y->fin + FIN_W * y->n_fin++;
        p[0] = key;
        p[1] = o[i].start;
        p[2] = o[i].end;
        p[3] = o[i].window_end;
        p[4] = o[i].count;
    }
}

static int fin_cmp(const void *a, const void *b)
{
    const int64_t *x = (const int64_t *)a, *y = (const int64_t *)b;
    int i;
    for (i = 0; i < FIN_W; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

static void check(const sz_stream *s, sz_status st)
{
    const char *broken = sz__stream_check(s, st == SZ_OK);
    if (broken) FZ_FAIL("invariant after status %d: %s", (int)st, broken);
}

/* The last call's records of x and y are the same, field for field, with
 * the same replaced ids and handles. */
static void same_records(const sz_stream *x, const sz_stream *y, const char *what)
{
    size_t nx, ny, i;
    const uint64_t *ix, *iy, *hx, *hy;
    const sz_stream_out *a = sz_stream_output(x, &nx, &ix, &hx);
    const sz_stream_out *b = sz_stream_output(y, &ny, &iy, &hy);
    if (nx != ny) FZ_FAIL("%s: %zu records, not %zu", what, ny, nx);
    for (i = 0; i < nx; i++) {
        const sz_stream_out *p = &a[i], *q = &b[i];
        if (p->kind != q->kind || p->final != q->final || p->key_ns != q->key_ns
            || p->key != q->key || p->start != q->start || p->end != q->end
            || p->window_end != q->window_end || p->count != q->count
            || p->index != q->index || p->revision != q->revision || p->id != q->id
            || (p->kind == SZ_OUT_LATE && p->pos != q->pos)
            || p->n_replaces != q->n_replaces || p->n_values != q->n_values
            || (p->n_replaces
                && memcmp(ix + p->replaces_off, iy + q->replaces_off,
                          p->n_replaces * sizeof *ix) != 0)
            || (p->n_values
                && memcmp(hx + p->values_off, hy + q->values_off,
                          p->n_values * sizeof *hx) != 0))
            FZ_FAIL("%s: record %zu of %zu differs (kind %d/%d, key %llu, start %lld/%lld, "
                    "count %lld/%lld)", what, i, nx, p->kind, q->kind,
                    (unsigned long long)p->key, (long long)p->start, (long long)q->start,
                    (long long)p->count, (long long)q->count);
    }
}

static unsigned char *snap(const sz_stream *s, size_t *len)
{
    unsigned char *buf;
    *len = sz_stream_snapshot_size(s);
    buf = (unsigned char *)malloc(*len);
    FZ_CHECK(buf != NULL && sz_stream_snapshot(s, buf, *len) == SZ_OK);
    return buf;
}

/* Snapshot, restore; the restored stream's snapshot is the same bytes, of
 * the stream's version, and it has the same configuration. */
static sz_stream *snap_restore(sz_stream *s, long fail_at)
{
    size_t len, len2;
    unsigned char *buf = snap(s, &len), *buf2;
    sz_stream *r = NULL;
    sz_stream_config c1, c2;
    uint32_t version;
    sz_status st;
    sz_stream_config_get(s, &c1);
    FZ_CHECK(len >= 12);
    memcpy(&version, buf + 8, 4);  /* after the magic, in native order */
    FZ_CHECK(version == (c1.per_event_gaps ? 2u : 1u));
    sz_test_fail_after(fail_at);
    st = sz_stream_restore(buf, len, &r);
    sz_test_fail_after(0);
    if (st == SZ_ERR_NOMEM && fail_at > 0) {
        FZ_CHECK(r == NULL);
        st = sz_stream_restore(buf, len, &r);
    }
    FZ_CHECK(st == SZ_OK && r != NULL);
    check(r, SZ_OK);
    sz_stream_config_get(r, &c2);
    FZ_CHECK(c1.session.gap == c2.session.gap
             && c1.session.max_duration == c2.session.max_duration
             && c1.session.cap_mode == c2.session.cap_mode
             && c1.session.inclusive == c2.session.inclusive
             && c1.session.min_is_nat == c2.session.min_is_nat && c1.delay == c2.delay
             && c1.allowed_lateness == c2.allowed_lateness && c1.emit == c2.emit
             && c1.keep_values == c2.keep_values && c1.per_event_gaps == c2.per_event_gaps);
    buf2 = snap(r, &len2);
    FZ_CHECK(len2 == len);
    FZ_CHECK(memcmp(buf, buf2, len) == 0);
    free(buf);
    free(buf2);
    sz_stream_free(s);
    return r;
}

/* A per-event gap from its selector: mostly in [1, G] (small ones, ones
 * near G, and G itself, whose windows are the coarse rule's), now and
 * then out of range (0, G + 1, any u64) for SZ_ERR_GAP.  `constant`:
 * every gap in range is G. */
static int64_t gap_of(fz *f, int64_t G, int constant)
{
    uint8_t b = fz_u8(f);
    if (b == 0xFF) return (int64_t)fz_u64(f);
    if (b == 0xFE) return 0;
    if (b == 0xFD) return G == INT64_MAX ? -1 : G + 1;
    if (constant || b >= 0xC0) return G;
    if (b >= 0x80) return G - (b & 63) >= 1 ? G - (b & 63) : 1;
    return 1 + (int64_t)((uint64_t)b % (uint64_t)G);
}

/* One call, as the stream under test, its twin and its mirrors make it. */
typedef struct call {
    enum { PUSH, ADVANCE, ADVANCE_KEY, FLUSH } what;
    const uint64_t *keys, *h;
    const uint8_t *ns;
    const int64_t *t, *g;
    size_t n;
    int stop;
    int64_t w;
    uint64_t key;
} call;

/* `scalar`: a push through sz_stream_push (a scalar stream's API). */
static sz_status apply(sz_stream *x, const call *c, int scalar, size_t *nd, size_t *ep)
{
    *nd = *ep = 0;
    switch (c->what) {
    case PUSH:
        if (scalar)
            return sz_stream_push(x, c->keys, c->ns, c->t, c->h, c->n, c->stop, nd, ep);
        return sz_stream_push_gaps(x, c->keys, c->ns, c->t, c->g, c->h, c->n, c->stop, nd,
                                   ep);
    case ADVANCE:
        return sz_stream_advance(x, c->w);
    case ADVANCE_KEY:
        return sz_stream_advance_key(x, c->key, 0, c->w);
    default:
        return sz_stream_flush(x);
    }
}

/* The batch sessions (sz_gapped_assign) of the consumed events: a's final
 * sessions, when every event came at or after the watermark. */
static void batch_check(const evlog *log, const sz_params *p, tally *a)
{
    size_t m = 0, i, S = 0, pos = 0;
    int64_t *k = (int64_t *)malloc((log->n + 1) * 3 * sizeof *k), *t = k + log->n + 1,
            *g = t + log->n + 1;
    int64_t *ids, *c, *fin;
    sz_gapped *gp = NULL;
    sz_keys keys;
    sz_session_columns cc;
    FZ_CHECK(k != NULL);
    for (i = 0; i < log->n; i++)
        if (log->e[i].used) {
            k[m] = log->e[i].key;
            t[m] = log->e[i].t;
            g[m++] = log->e[i].g;
        }
    if (m == 0) {
        FZ_CHECK(a->n_fin == 0);
        free(k);
        return;
    }
    ids = (int64_t *)malloc(m * 7 * sizeof *ids);
    FZ_CHECK(ids != NULL);
    c = ids + m;
    keys.kind = SZ_KEYS_INT64;
    keys.data = k;
    keys.width = 0;
    keys.n_codes = 0;
    if (sz_gapped_assign(&gp, &keys, t, g, m, p, ids, &S, &pos) != SZ_OK)
        FZ_FAIL("sz_gapped_assign refused the events a stream took (at %zu)", pos);
    FZ_CHECK(S <= m);
    cc.start = c;
    cc.end = c + S;
    cc.window_end = c + 2 * S;
    cc.count = c + 3 * S;
    cc.index = c + 4 * S;
    cc.first_event = c + 5 * S;
    FZ_CHECK(sz_gapped_fill(gp, &cc) == SZ_OK);
    sz_gapped_free(gp);
    fin = (int64_t *)malloc(S * FIN_W * sizeof *fin);
    FZ_CHECK(fin != NULL);
    for (i = 0; i < S; i++) {
        fin[FIN_W * i] = k[cc.first_event[i]];
        fin[FIN_W * i + 1] = cc.start[i];
        fin[FIN_W * i + 2] = cc.end[i];
        fin[FIN_W * i + 3] = cc.window_end[i];
        fin[FIN_W * i + 4] = cc.count[i];
    }
    qsort(fin, S, FIN_W * sizeof *fin, fin_cmp);
    if (S != a->n_fin || memcmp(fin, a->fin, S * FIN_W * sizeof *fin) != 0) {
        for (i = 0; i < S || i < a->n_fin; i++) {
            const int64_t *x = i < a->n_fin ? a->fin + FIN_W * i : NULL;
            const int64_t *y = i < S ? fin + FIN_W * i : NULL;
            fprintf(stderr, "  stream %lld [%lld, %lld] we %lld n %lld | batch %lld [%lld, "
                    "%lld] we %lld n %lld\n",
                    x ? (long long)x[0] : -1, x ? (long long)x[1] : 0,
                    x ? (long long)x[2] : 0, x ? (long long)x[3] : 0,
                    x ? (long long)x[4] : 0, y ? (long long)y[0] : -1,
                    y ? (long long)y[1] : 0, y ? (long long)y[2] : 0,
                    y ? (long long)y[3] : 0, y ? (long long)y[4] : 0);
        }
        FZ_FAIL("nothing late, yet %zu final sessions where the batch has %zu", a->n_fin, S);
    }
    free(fin);
    free(ids);
    free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f;
    sz_stream_config cfg, scfg;
    sz_stream *s = NULL, *twin = NULL, *shadow = NULL, *sc = NULL;
    tally a, b;
    evlog log;
    uint8_t flags, gb;
    int stop_at_late, two_ns, pe = 0, constant = 0, on_time = 1, held;
    long fail_at = 0;
    int64_t prev = 0, wm = INT64_MIN, key_wm[N_KEYS];
    sz_status st;
    size_t i;

    fz_init(&f, data, size);
    flags = fz_u8(&f);
    memset(&cfg, 0, sizeof cfg);
    cfg.session.cap_mode = (flags & 3) == 3 ? SZ_CAP_NONE : (flags & 3);
    cfg.session.inclusive = (flags >> 2) & 1;
    cfg.session.min_is_nat = (flags >> 3) & 1;
    cfg.emit = (flags >> 4) & 1 ? SZ_EMIT_UPDATE : SZ_EMIT_FINAL;
    cfg.keep_values = (flags >> 5) & 1;
    two_ns = (flags >> 6) & 1;
    stop_at_late = (flags >> 7) & 1;
    gb = fz_u8(&f);
    if (gb >= 0x80 && gb < 0xF8) {
        pe = cfg.per_event_gaps = 1;
        constant = gb & 1;
        cfg.session.gap = fz_duration(&f);
    } else {
        cfg.session.gap = gb >= 0xF8 ? (int64_t)fz_u64(&f) : gb % 24;  /* fz_duration */
    }
    cfg.session.max_duration = fz_duration(&f);
    cfg.delay = fz_duration(&f);
    cfg.allowed_lateness = fz_duration(&f);
    st = sz_stream_new(&cfg, &s);
    if (st != SZ_OK) {
        FZ_CHECK(st == SZ_ERR_PARAM && s == NULL);
        return 0;
    }
    sz_stream_set_key_freed_records(s, 0);  /* as the binding runs it */
    FZ_CHECK(sz_stream_new(&cfg, &twin) == SZ_OK);
    if (pe) {
        FZ_CHECK(sz_stream_new(&cfg, &shadow) == SZ_OK);
        scfg = cfg;
        scfg.per_event_gaps = 0;
        FZ_CHECK(sz_stream_new(&scfg, &sc) == SZ_OK);
    }
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&log, 0, sizeof log);
    for (i = 0; i < N_KEYS; i++) key_wm[i] = INT64_MIN;
    check(s, SZ_OK);

    while (fz_more(&f)) {
        uint8_t op = fz_u8(&f);
        long inject = fail_at;
        uint64_t keys[MAX_CHUNK], h[MAX_CHUNK];
        uint8_t ns[MAX_CHUNK];
        int64_t t[MAX_CHUNK], g[MAX_CHUNK];
        size_t n = 0, done = 0, nd = 0, ep = 0, ndb = 0, epb = 0;
        sz_status bad = SZ_OK;
        size_t bad_pos = SZ_NO_POSITION;
        call c;
        fail_at = 0;
        memset(&c, 0, sizeof c);
        switch (op & 7) {
        case 7:
            fail_at = 1 + (op >> 3);
            continue;
        case 5:
            s = snap_restore(s, inject);
            sz_stream_set_key_freed_records(s, 0);  /* a setting, not state */
            if (shadow) shadow = snap_restore(shadow, 0);
            continue;
        case 4:
            c.w = fz_time(&f, prev);
            c.what = (op >> 3) & 1 ? ADVANCE_KEY : ADVANCE;
            c.key = (uint64_t)(op >> 4);
            break;
        case 6:
            c.what = FLUSH;
            break;
        default: {
            int no_gaps = (op & 7) == 3 && (op & 0x80);
            n = 1 + ((op >> 3) & 15);
            for (i = 0; i < n; i++) {
                uint8_t k = fz_u8(&f);
                ev *e;
                keys[i] = k % 16;
                ns[i] = two_ns ? (k >> 4) & 1 : 0;
                t[i] = prev = fz_time(&f, prev);
                g[i] = pe && !no_gaps ? gap_of(&f, cfg.session.gap, constant) : cfg.session.gap;
                h[i] = log.n;
                e = log_add(&log);
                e->key = (int64_t)(keys[i] * 2 + ns[i]);
                e->t = t[i];
                e->g = g[i];
                if (bad == SZ_OK && cfg.session.min_is_nat && t[i] == INT64_MIN)
                    bad = SZ_ERR_TIME_NAT;
                if (bad == SZ_OK && (__int128)t[i] + cfg.session.gap > INT64_MAX)
                    bad = SZ_ERR_TIME_OVERFLOW;
                if (bad == SZ_OK && (g[i] < 1 || g[i] > cfg.session.gap))
                    bad = SZ_ERR_GAP;
                if (bad != SZ_OK && bad_pos == SZ_NO_POSITION) bad_pos = i;
            }
            c.what = PUSH;
            c.keys = keys;
            c.ns = ns;
            c.t = t;
            c.g = pe && !no_gaps ? g : NULL;
            c.h = h;
            c.n = n;
            c.stop = stop_at_late;
            break;
        }
        }

        if (c.what == PUSH && bad != SZ_OK) {
            /* checked before anything is applied: the whole call fails, at
             * the first bad element, leaving the stream as it was */
            size_t l0, l1, no;
            unsigned char *b0 = snap(s, &l0), *b1;
            sz_test_fail_after(inject);
            st = apply(s, &c, !pe, &nd, &ep);
            sz_test_fail_after(0);
            check(s, st);
            FZ_CHECK(st == bad && nd == 0 && ep == bad_pos);
            sz_stream_output(s, &no, NULL, NULL);
            FZ_CHECK(no == 0);
            b1 = snap(s, &l1);
            FZ_CHECK(l0 == l1 && memcmp(b0, b1, l0) == 0);
            free(b0);
            free(b1);
            FZ_CHECK(apply(twin, &c, !pe, &ndb, &epb) == bad && epb == bad_pos);
            if (shadow) FZ_CHECK(apply(shadow, &c, 0, &ndb, &epb) == bad && epb == bad_pos);
            continue;
        }

        /* the stream under test: a failure injected, then retries */
        sz_test_fail_after(inject);
        st = apply(s, &c, !pe, &nd, &ep);
        sz_test_fail_after(0);
        take(&a, s, &log, c.what == PUSH ? h : NULL);
        check(s, st);
        done = nd;
        while (st == SZ_ERR_NOMEM && inject > 0) {
            call r = c;
            if (c.what == PUSH) {
                FZ_CHECK(done <= n);
                r.keys += done;
                r.ns += done;
                r.t += done;
                if (r.g) r.g += done;
                r.h += done;
                r.n -= done;
            }
            st = apply(s, &r, !pe, &nd, &ep);
            take(&a, s, &log, c.what == PUSH ? h + done : NULL);
            check(s, st);
            done += nd;
        }
        FZ_CHECK(st == SZ_OK);
        if (c.what == PUSH) {
            FZ_CHECK(done <= n && (done == n || stop_at_late));
            a.consumed += done;
            c.n = done;  /* the twin: the events the stream consumed, at once */
            for (i = 0; i < done; i++) {
                ev *e = &log.e[h[i]];
                size_t kk = (size_t)e->key;
                int64_t kw = key_wm[kk] > wm ? key_wm[kk] : wm;
                e->used = 1;
                if (t[i] < kw) on_time = 0;
                kw = t[i] < INT64_MIN + cfg.delay ? INT64_MIN : t[i] - cfg.delay;
                if (kw > wm) wm = kw;
            }
        } else if (c.what == ADVANCE) {
            if (c.w > wm) wm = c.w;
        } else if (c.what == FLUSH) {
            wm = INT64_MAX;
        }
        held = c.what == ADVANCE_KEY && sz_stream_has_key(twin, c.key, 0);
        FZ_CHECK(apply(twin, &c, !pe, &ndb, &epb) == SZ_OK);
        if (c.what == ADVANCE_KEY) {
            int64_t *kw = &key_wm[c.key * 2], at = c.w > wm ? c.w : wm;
            if (at < *kw) at = *kw;
            if (held && !sz_stream_has_key(twin, c.key, 0)) {
                /* released: it no longer knows its events (all at or before
                 * `at`) nor a fixed cap's block origin, so the batch rule
                 * holds only for later events beyond their every reach */
                at = (__int128)at + cfg.session.gap + 1 > INT64_MAX
                         ? INT64_MAX : at + cfg.session.gap + 1;
            }
            *kw = at;
        }
        take(&b, twin, NULL, NULL);
        if (c.what == PUSH) b.consumed += ndb;
        {
            sz_stream_stats ts;
            sz_stream_stats_get(twin, &ts);
            if (ts.watermark != wm)
                FZ_FAIL("watermark %lld, not largest time - delay or the last advance %lld",
                        (long long)ts.watermark, (long long)wm);
        }
        if (shadow) {  /* restored at every snapshot op: the twin's records */
            size_t nds, eps;
            FZ_CHECK(apply(shadow, &c, 0, &nds, &eps) == SZ_OK && nds == ndb);
            check(shadow, SZ_OK);
            same_records(twin, shadow, "a restored stream");
        }
        if (sc && c.g) {  /* a gap not the bound ends the scalar comparison */
            for (i = 0; i < c.n && c.g[i] == cfg.session.gap; i++) continue;
            if (i < c.n) {
                sz_stream_free(sc);
                sc = NULL;
            }
        }
        if (sc) {  /* every gap the bound so far: the scalar stream's records */
            size_t nds, eps;
            FZ_CHECK(apply(sc, &c, 1, &nds, &eps) == SZ_OK && nds == ndb);
            check(sc, SZ_OK);
            same_records(twin, sc, "a scalar stream");
        }
    }
    FZ_CHECK(sz_stream_flush(s) == SZ_OK);
    take(&a, s, &log, NULL);
    check(s, SZ_OK);
    FZ_CHECK(sz_stream_flush(twin) == SZ_OK);
    take(&b, twin, NULL, NULL);
    if (shadow) {
        FZ_CHECK(sz_stream_flush(shadow) == SZ_OK);
        same_records(twin, shadow, "a restored stream");
    }
    if (sc) {
        FZ_CHECK(sz_stream_flush(sc) == SZ_OK);
        same_records(twin, sc, "a scalar stream");
    }
    {
        sz_stream_stats stats;
        sz_stream_stats_get(s, &stats);
        FZ_CHECK(stats.keys == 0 && stats.open_sessions == 0 && stats.open_events == 0);
        FZ_CHECK(stats.late_count == a.late);
    }
    if (a.in_finals + a.late != a.consumed)
        FZ_FAIL("%llu events consumed, %llu in final sessions, %llu late",
                (unsigned long long)a.consumed, (unsigned long long)a.in_finals,
                (unsigned long long)a.late);
    for (i = 0; i < log.n; i++) {
        /* by handle: each consumed event reported once, late or in the
         * values of a final session (update mode's retired records carry
         * none: only final mode shows them all) */
        unsigned char want = log.e[i].used;
        if (log.e[i].seen != want && (cfg.keep_values && cfg.emit == SZ_EMIT_FINAL))
            FZ_FAIL("event %zu (t %lld) reported %d times", i, (long long)log.e[i].t,
                    log.e[i].seen);
        FZ_CHECK(log.e[i].seen <= want);
    }
    if (a.n_fin) qsort(a.fin, a.n_fin, FIN_W * sizeof *a.fin, fin_cmp);
    if (b.n_fin) qsort(b.fin, b.n_fin, FIN_W * sizeof *b.fin, fin_cmp);
    if (a.n_fin != b.n_fin || a.late != b.late || a.consumed != b.consumed
        || (a.n_fin && memcmp(a.fin, b.fin, a.n_fin * FIN_W * sizeof *a.fin) != 0))
        FZ_FAIL("twin differs: %zu vs %zu finals, %llu vs %llu late", a.n_fin, b.n_fin,
                (unsigned long long)a.late, (unsigned long long)b.late);
    if (on_time) {  /* every event at or after the watermark */
        if (a.late) FZ_FAIL("%llu events late, none behind the watermark",
                            (unsigned long long)a.late);
        batch_check(&log, &cfg.session, &a);
    }
    free(a.fin);
    free(b.fin);
    free(log.e);
    sz_stream_free(s);
    sz_stream_free(twin);
    sz_stream_free(shadow);
    sz_stream_free(sc);
    return 0;
}
