/*
 * fuzz_stream.c -- libFuzzer target: a sequence of sz_stream operations
 * (push, advance, snapshot and restore, flush), some with an allocation
 * made to fail, each followed by the stream's invariant check
 * (sz__stream_check, csrc/stream_check.c).
 *
 * Input layout (fuzz_input.h readers):
 *   u8 flags   bits 0-1 cap mode (3: none), bit 2 inclusive, bit 3
 *              min_is_nat, bit 4 update mode, bit 5 keep_values, bit 6 keys
 *              in two namespaces, bit 7 stop_at_late
 *   duration gap, max, delay, allowed_lateness
 *   then operations until the input ends, u8 op each:
 *     op & 7 in 0..3  push 1 + (op >> 3 & 15) events: u8 key, time each
 *     op & 7 == 4     advance to a time; with bit 3 set, advance only key
 *                     op >> 4 (namespace 0) to it (sz_stream_advance_key)
 *     op & 7 == 5     snapshot, restore, continue on the restored stream
 *     op & 7 == 6     flush
 *     op & 7 == 7     the next op runs with allocation 1 + (op >> 3) failing
 *
 * Checked: every call returns SZ_OK, SZ_ERR_NOMEM (only with a failure
 * injected; the call is then retried as sessionize.h says) or the element
 * error its input has; after each, the invariants; a restored stream
 * snapshots to the same bytes; at the end (a flush) every consumed event is
 * in exactly one final session or was reported late; and a twin stream
 * given the same events without failures or restores ends with the same
 * final sessions and late events.
 */
#include "../sessionize.h"
#include "../sz_stream_internal.h"
#include "fuzz_input.h"

#define MAX_CHUNK 16

typedef struct tally {
    uint64_t consumed, late, in_finals;
    int64_t *fin;  /* key, start, end, count per final session */
    size_t n_fin, cap_fin;
} tally;

static void take(tally *y, const sz_stream *s)
{
    size_t n, i;
    const sz_stream_out *o = sz_stream_output(s, &n, NULL, NULL);
    for (i = 0; i < n; i++) {
        if (o[i].kind == SZ_OUT_LATE) y->late++;
        if (!((o[i].kind == SZ_OUT_SESSION && o[i].final) || o[i].kind == SZ_OUT_RETIRED))
            continue;
        y->in_finals += (uint64_t)o[i].count;
        if (y->n_fin == y->cap_fin) {
            y->cap_fin = y->cap_fin ? 2 * y->cap_fin : 64;
            y->fin = (int64_t *)realloc(y->fin, y->cap_fin * 4 * sizeof *y->fin);
        }
        y->fin[4 * y->n_fin] = (int64_t)(o[i].key * 2 + o[i].key_ns);
        y->fin[4 * y->n_fin + 1] = o[i].start;
        y->fin[4 * y->n_fin + 2] = o[i].end;
        y->fin[4 * y->n_fin + 3] = o[i].count;
        y->n_fin++;
    }
}

static int fin_cmp(const void *a, const void *b)
{
    const int64_t *x = (const int64_t *)a, *y = (const int64_t *)b;
    int i;
    for (i = 0; i < 4; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

static void check(const sz_stream *s, sz_status st)
{
    const char *broken = sz__stream_check(s, st == SZ_OK);
    if (broken) FZ_FAIL("invariant after status %d: %s", (int)st, broken);
}

/* Snapshot, restore; the restored stream's snapshot is the same bytes. */
static sz_stream *snap_restore(sz_stream *s, long fail_at)
{
    size_t len = sz_stream_snapshot_size(s), len2;
    unsigned char *buf = (unsigned char *)malloc(len), *buf2;
    sz_stream *r = NULL;
    sz_status st;
    FZ_CHECK(sz_stream_snapshot(s, buf, len) == SZ_OK);
    sz_test_fail_after(fail_at);
    st = sz_stream_restore(buf, len, &r);
    sz_test_fail_after(0);
    if (st == SZ_ERR_NOMEM && fail_at > 0) {
        FZ_CHECK(r == NULL);
        st = sz_stream_restore(buf, len, &r);
    }
    FZ_CHECK(st == SZ_OK && r != NULL);
    check(r, SZ_OK);
    len2 = sz_stream_snapshot_size(r);
    FZ_CHECK(len2 == len);
    buf2 = (unsigned char *)malloc(len2);
    FZ_CHECK(sz_stream_snapshot(r, buf2, len2) == SZ_OK);
    FZ_CHECK(memcmp(buf, buf2, len) == 0);
    free(buf);
    free(buf2);
    sz_stream_free(s);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f;
    sz_stream_config cfg;
    sz_stream *s = NULL, *twin = NULL;
    tally a, b;
    uint8_t flags;
    int stop_at_late, two_ns;
    long fail_at = 0;
    int64_t prev = 0;
    uint64_t next_handle = 0;
    sz_status st;

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
    cfg.session.gap = fz_duration(&f);
    cfg.session.max_duration = fz_duration(&f);
    cfg.delay = fz_duration(&f);
    cfg.allowed_lateness = fz_duration(&f);
    st = sz_stream_new(&cfg, &s);
    if (st != SZ_OK) {
        FZ_CHECK(st == SZ_ERR_PARAM && s == NULL);
        return 0;
    }
    FZ_CHECK(sz_stream_new(&cfg, &twin) == SZ_OK);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    check(s, SZ_OK);

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
            int one_key = (op >> 3) & 1;
            uint64_t key = (uint64_t)(op >> 4);
#define FZ_ADVANCE(x) (one_key ? sz_stream_advance_key((x), key, 0, w) : sz_stream_advance((x), w))
            sz_test_fail_after(inject);
            st = FZ_ADVANCE(s);
            sz_test_fail_after(0);
            take(&a, s);
            check(s, st);
            while (st == SZ_ERR_NOMEM && inject > 0) {
                st = FZ_ADVANCE(s);
                take(&a, s);
                check(s, st);
            }
            FZ_CHECK(st == SZ_OK);
            FZ_CHECK(FZ_ADVANCE(twin) == SZ_OK);
            take(&b, twin);
#undef FZ_ADVANCE
            break;
        }
        case 5:
            s = snap_restore(s, inject);
            break;
        case 6:
            sz_test_fail_after(inject);
            st = sz_stream_flush(s);
            sz_test_fail_after(0);
            take(&a, s);
            check(s, st);
            while (st == SZ_ERR_NOMEM && inject > 0) {
                st = sz_stream_flush(s);
                take(&a, s);
                check(s, st);
            }
            FZ_CHECK(st == SZ_OK);
            FZ_CHECK(sz_stream_flush(twin) == SZ_OK);
            take(&b, twin);
            break;
        default: {
            uint64_t keys[MAX_CHUNK], h[MAX_CHUNK];
            uint8_t ns[MAX_CHUNK];
            int64_t t[MAX_CHUNK];
            size_t n = 1 + ((op >> 3) & 15), i, done = 0, nd = 0, ep = 0, ndb = 0, epb = 0;
            sz_status bad = SZ_OK, stb;
            for (i = 0; i < n; i++) {
                uint8_t k = fz_u8(&f);
                keys[i] = k % 16;
                ns[i] = two_ns ? (k >> 4) & 1 : 0;
                t[i] = prev = fz_time(&f, prev);
                h[i] = next_handle++;
                if (bad == SZ_OK && cfg.session.min_is_nat && t[i] == INT64_MIN)
                    bad = SZ_ERR_TIME_NAT;
                if (bad == SZ_OK && (__int128)t[i] + cfg.session.gap > INT64_MAX)
                    bad = SZ_ERR_TIME_OVERFLOW;
            }
            sz_test_fail_after(inject);
            st = sz_stream_push(s, keys, ns, t, h, n, stop_at_late, &nd, &ep);
            sz_test_fail_after(0);
            take(&a, s);
            check(s, st);
            if (bad != SZ_OK) {
                /* checked before anything is applied: the whole call fails */
                FZ_CHECK(st == bad && nd == 0 && ep < n);
                stb = sz_stream_push(twin, keys, ns, t, h, n, stop_at_late, &ndb, &epb);
                FZ_CHECK(stb == bad && ep == epb);
                break;
            }
            done = nd;
            while (st == SZ_ERR_NOMEM && inject > 0) {
                FZ_CHECK(done <= n);
                st = sz_stream_push(s, keys + done, ns + done, t + done, h + done, n - done,
                                    stop_at_late, &nd, &ep);
                take(&a, s);
                check(s, st);
                done += nd;
            }
            FZ_CHECK(st == SZ_OK && done <= n && (done == n || stop_at_late));
            a.consumed += done;
            /* the twin: the events the stream consumed, at once */
            FZ_CHECK(sz_stream_push(twin, keys, ns, t, h, done, stop_at_late, &ndb, &epb)
                     == SZ_OK);
            take(&b, twin);
            b.consumed += ndb;
            break;
        }
        }
    }
    FZ_CHECK(sz_stream_flush(s) == SZ_OK);
    take(&a, s);
    check(s, SZ_OK);
    FZ_CHECK(sz_stream_flush(twin) == SZ_OK);
    take(&b, twin);
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
    if (a.n_fin) qsort(a.fin, a.n_fin, 4 * sizeof *a.fin, fin_cmp);
    if (b.n_fin) qsort(b.fin, b.n_fin, 4 * sizeof *b.fin, fin_cmp);
    if (a.n_fin != b.n_fin || a.late != b.late || a.consumed != b.consumed
        || (a.n_fin && memcmp(a.fin, b.fin, a.n_fin * 4 * sizeof *a.fin) != 0))
        FZ_FAIL("twin differs: %zu vs %zu finals, %llu vs %llu late", a.n_fin, b.n_fin,
                (unsigned long long)a.late, (unsigned long long)b.late);
    free(a.fin);
    free(b.fin);
    sz_stream_free(s);
    sz_stream_free(twin);
    return 0;
}
