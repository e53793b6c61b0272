/*
 * ctr_stream_snapshot.c -- a search-CTR stream's state as bytes, and back.
 *
 * Layout (native byte order, which the header records; version 1):
 *
 *   "SZCTRSTR"  u32 version  u32 byte-order mark 0x01020304
 *   config      i64 gap, delay; i32 inclusive, times, min_is_nat
 *   state       i64 watermark, max_seen; i32 seen_any;
 *               u64 late_count, n_events, next_session, n_keys
 *   n_keys x    u64 key; u32 ns; i64 last; u64 last_ord; u32 n_rows, n_buf
 *     n_rows x  u64 ord; i64 t, clicks          (the open session's searches)
 *     n_buf x   i64 t; u64 ord; u32 kind        (events after the watermark)
 *   u64 checksum of every byte before it
 *
 * A key's search is open exactly when it has rows (the open one is the
 * last); without one, last and last_ord are 0.  Restoring checks the checksum, then every invariant
 * ctr_stream.c relies on (searches in order and in the prefix, no open
 * session the watermark has closed by the gap, buffered events after the
 * watermark and sorted, ordinals already issued, no key twice, no empty
 * key), so a foreign or doctored snapshot is an SZ_ERR_SNAPSHOT, never a
 * stream that misbehaves.  Nothing is returned unless all of it is valid.
 */
#include "sz_ctr_stream_internal.h"
#include "sz_snapshot.h"

static const char sz__cmagic[8] = {'S', 'Z', 'C', 'T', 'R', 'S', 'T', 'R'};
#define SZ_CSNAP_VERSION 1u

#define HEAD_BYTES (8 + 4 + 4 + (8 + 8 + 4 * 3) + (8 + 8 + 4 + 8 * 4))
#define KEY_BYTES (8 + 4 + 8 + 8 + 4 + 4)
#define ROW_BYTES (8 * 3)
#define BUF_BYTES (8 + 8 + 4)

/* ---- writing ------------------------------------------------------------ */

size_t sz_ctr_stream_snapshot_size(const sz_ctr_stream *s)
{
    size_t n = HEAD_BYTES + 8;
    uint32_t k;
    for (k = 0; k < s->n_keys_cap; k++) {
        const sz__ckey *key = &s->keys[k];
        if (!key->live) continue;
        n += KEY_BYTES + (size_t)key->n_rows * ROW_BYTES
             + (size_t)key->n_buf * BUF_BYTES;
    }
    return n;
}

sz_status sz_ctr_stream_snapshot(const sz_ctr_stream *s, unsigned char *buf,
                                 size_t len)
{
    sz__w w;
    uint32_t k, j;
    if (s == NULL || buf == NULL || len < sz_ctr_stream_snapshot_size(s))
        return SZ_ERR_PARAM;
    w.p = buf;
    w_head(&w, sz__cmagic, SZ_CSNAP_VERSION);
    w_i64(&w, s->cfg.gap);
    w_i64(&w, s->cfg.delay);
    w_i32(&w, s->cfg.inclusive);
    w_i32(&w, s->cfg.times);
    w_i32(&w, s->cfg.min_is_nat);
    w_i64(&w, s->wm);
    w_i64(&w, s->max_seen);
    w_i32(&w, s->seen_any);
    w_u64(&w, s->late_count);
    w_u64(&w, s->n_events);
    w_u64(&w, s->next_session);
    w_u64(&w, s->live_keys);
    for (k = 0; k < s->n_keys_cap; k++) {
        const sz__ckey *key = &s->keys[k];
        if (!key->live) continue;
        w_u64(&w, key->key);
        w_u32(&w, key->ns);
        /* without a search open the rule's state is meaningless: zeros, so
         * one state has one snapshot */
        w_i64(&w, key->n_rows ? key->st.last : 0);
        w_u64(&w, key->n_rows ? key->last_ord : 0);
        w_u32(&w, key->n_rows);
        w_u32(&w, key->n_buf);
        for (j = 0; j < key->n_rows; j++) {
            w_u64(&w, key->rows[j].ord);
            w_i64(&w, key->rows[j].t);
            w_i64(&w, key->rows[j].clicks);
        }
        for (j = 0; j < key->n_buf; j++) {
            const sz__cev *e = &key->buf[key->off + j];
            w_i64(&w, e->t);
            w_u64(&w, e->ord);
            w_u32(&w, e->kind);
        }
    }
    w_sum(&w, buf);
    return SZ_OK;
}

/* ---- reading ------------------------------------------------------------ */

/* A time the stream could hold: valid for the rule, and an ordinal's when
 * there are no times. */
static int sz__ok_time(const sz_ctr_stream *s, int64_t t)
{
    return sz__time_check(&s->rule, t) == SZ_OK && (s->cfg.times || t >= 0);
}

static sz_status sz__read_key(sz__r *r, sz_ctr_stream *s)
{
    uint64_t key = r_u64(r);
    uint32_t ns = r_u32(r);
    int64_t last = r_i64(r);
    uint64_t last_ord = r_u64(r);
    uint32_t n_rows = r_u32(r), n_buf = r_u32(r), ki, j;
    sz__ckey *k;
    sz_status st;
    /* A watermark of +infinity does not mean the stream was flushed: an
     * advance to INT64_MAX, or an event there without a gap and a delay,
     * leaves sessions open that only a flush closes (fuzz_ctr_stream). */
    if (r->bad || (n_rows == 0 && n_buf == 0)
        || (uint64_t)n_rows * ROW_BYTES + (uint64_t)n_buf * BUF_BYTES
               > (uint64_t)(r->end - r->p)
        || sz__keytab_find(&s->tab, key, ns) != NIL
        || (!s->cfg.times && n_buf != 0)
        || (n_rows == 0 && (last != 0 || last_ord != 0)))
        return SZ_ERR_SNAPSHOT;
    if (n_rows > 0
        && (last_ord >= s->n_events || !sz__ok_time(s, last) || last > s->wm
            || (!s->cfg.times && last != (int64_t)last_ord)
            || (s->have_gap && sz__ctr_gap_passed(&s->rule, last, s->wm))))
        return SZ_ERR_SNAPSHOT;
    st = sz__cstream_key_new(s, key, ns, &ki);
    if (st != SZ_OK) return st;
    k = &s->keys[ki];
    /* sized first, so freeing the stream frees what was read */
    if ((n_rows && sz__grow32((void **)&k->rows, &k->cap_rows, n_rows,
                              sizeof *k->rows) != SZ_OK)
        || (n_buf && sz__grow32((void **)&k->buf, &k->cap_buf, n_buf,
                                sizeof *k->buf) != SZ_OK))
        return SZ_ERR_NOMEM;
    for (j = 0; j < n_rows; j++) {
        sz__csearch x;
        x.ord = r_u64(r);
        x.t = r_i64(r);
        x.clicks = r_i64(r);
        /* in (time, ordinal) order, at or before the key's last event; its
         * clicks, each its own event, at most n_events, so they stay far
         * from wrapping as they count on (found by fuzz_snapshot) */
        if (x.ord >= s->n_events || x.t > last || !sz__ok_time(s, x.t) || x.clicks < 0
            || (uint64_t)x.clicks > s->n_events
            || (x.t == last && x.ord > last_ord)
            || (j > 0 && (x.t < k->rows[j - 1].t
                          || (x.t == k->rows[j - 1].t && x.ord <= k->rows[j - 1].ord))))
            return SZ_ERR_SNAPSHOT;
        k->rows[j] = x;
        k->n_rows = j + 1;
        s->open_rows++;
    }
    for (j = 0; j < n_buf; j++) {
        sz__cev e;
        e.t = r_i64(r);
        e.ord = r_u64(r);
        e.kind = r_u32(r);
        if (e.ord >= s->n_events || e.kind >= SZ_N_KINDS || e.t <= s->wm
            || e.t > s->max_seen || !sz__ok_time(s, e.t)
            || (j > 0 && (e.t < k->buf[j - 1].t
                          || (e.t == k->buf[j - 1].t && e.ord <= k->buf[j - 1].ord))))
            return SZ_ERR_SNAPSHOT;
        k->buf[j] = e;
        k->n_buf = j + 1;
        s->buffered++;
    }
    if (r->bad) return SZ_ERR_SNAPSHOT;
    if (n_rows > 0) {
        k->st.search = n_rows - 1;
        k->st.last = last;
        k->last_ord = last_ord;
        s->open_keys++;
    }
    return sz__cstream_settle(s, ki);
}

sz_status sz_ctr_stream_restore(const unsigned char *buf, size_t len,
                                sz_ctr_stream **out)
{
    sz__r r;
    sz_ctr_stream_config c;
    sz_ctr_stream *s = NULL;
    uint64_t n_keys, i;
    sz_status st;
    if (out) *out = NULL;
    if (out == NULL || (buf == NULL && len > 0)) return SZ_ERR_PARAM;
    if (r_open(&r, buf, len, HEAD_BYTES + 8, sz__cmagic, SZ_CSNAP_VERSION) < 0)
        return SZ_ERR_SNAPSHOT;
    memset(&c, 0, sizeof c);
    c.gap = r_i64(&r);
    c.delay = r_i64(&r);
    c.inclusive = r_i32(&r);
    c.times = r_i32(&r);
    c.min_is_nat = r_i32(&r);
    if (r.bad || c.inclusive < 0 || c.inclusive > 1 || c.times < 0 || c.times > 1
        || c.min_is_nat < 0 || c.min_is_nat > 1)
        return SZ_ERR_SNAPSHOT;
    st = sz_ctr_stream_new(&c, &s);
    if (st == SZ_ERR_PARAM) return SZ_ERR_SNAPSHOT;
    if (st != SZ_OK) return st;
    s->wm = r_i64(&r);
    s->max_seen = r_i64(&r);
    s->seen_any = r_i32(&r);
    s->late_count = r_u64(&r);
    s->n_events = r_u64(&r);
    s->next_session = r_u64(&r);
    n_keys = r_u64(&r);
    st = SZ_ERR_SNAPSHOT;
    if (r.bad || s->seen_any < 0 || s->seen_any > 1
        || s->late_count > s->n_events || s->next_session > s->n_events
        /* the next ordinal must not wrap (nor, as a time, turn negative) */
        || s->n_events > SZ__COUNTER_MAX
        || (s->seen_any == 0 && (s->n_events != 0 || s->max_seen != 0))
        || (s->seen_any && s->n_events == 0)
        || (!c.times && s->wm != INT64_MAX && s->wm != INT64_MIN
            && s->wm != s->max_seen)
        || n_keys > (uint64_t)(r.end - r.p) / KEY_BYTES)
        goto fail;
    for (i = 0; i < n_keys; i++) {
        st = sz__read_key(&r, s);
        if (st != SZ_OK) goto fail;
    }
    st = SZ_ERR_SNAPSHOT;
    if (r.bad || r.p != r.end) goto fail;
    *out = s;
    return SZ_OK;
fail:
    sz_ctr_stream_free(s);
    return st;
}
