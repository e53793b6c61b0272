/*
 * stream_snapshot.c -- a stream's state as bytes, and back.
 *
 * Layout (native byte order, which the header records; version 1):
 *
 *   "SZSTREAM"  u32 version  u32 byte-order mark 0x01020304
 *   config      i64 gap, max_duration; i32 cap_mode, inclusive, min_is_nat;
 *               i64 delay, allowed_lateness; i32 emit, keep_values
 *   state       i64 watermark, max_seen; i32 seen_any;
 *               u64 late_count, next_id, next_seq, n_keys
 *   n_keys x    u64 key, seq; u32 ns, has_final;
 *               i64 frozen, last_end, origin, next_index; u32 n_units
 *     n_units x i64 start, end, count, origin; u32 n_ev, n_fired;
 *               n_ev x (i64 t, u64 handle);
 *               n_fired x (u64 id; i64 start, end, count, window_end,
 *                          revision)
 *   u64 checksum of every byte before it
 *
 * Version 2, for a stream with per-event gaps (version 1's layout
 * otherwise, so the snapshots of other streams stay as they were): config
 * ends with i32 per_event_gaps (1); a key's next_index is followed by
 * i64 key_reach, a unit's n_fired by i64 carry, and each event's handle by
 * i64 reach (sz_stream_internal.h says what they are).
 *
 * Restoring checks the checksum first, then every invariant stream.c
 * relies on (units sorted and apart by more than the gap, events sorted
 * and gap-continuous, counts that match, ids and sequence numbers already
 * issued, ...), so a foreign or doctored snapshot is an SZ_ERR_SNAPSHOT and
 * never a stream that misbehaves.  Nothing is returned unless all of it is
 * valid.
 */
#include "sz_stream_internal.h"
#include "sz_snapshot.h"

static const char sz__magic[8] = {'S', 'Z', 'S', 'T', 'R', 'E', 'A', 'M'};
#define SZ_SNAPSHOT_VERSION 1u
#define SZ_SNAPSHOT_VERSION_GAPS 2u  /* per-event gaps */

#define KEY_BYTES (8 + 8 + 4 + 4 + 8 * 4 + 4)
#define UNIT_BYTES (8 * 4 + 4 + 4)
#define EV_BYTES 16
#define FIRED_BYTES (8 * 6)
#define HEAD_BYTES (8 + 4 + 4 + (8 + 8 + 4 * 3 + 8 + 8 + 4 * 2) \
                    + (8 + 8 + 4 + 8 * 4))

/* ---- writing ------------------------------------------------------------ */

size_t sz_stream_snapshot_size(const sz_stream *s)
{
    size_t pe = s->per_event ? 8 : 0;  /* version 2's reach per record */
    size_t n = HEAD_BYTES + 8 + (s->per_event ? 4 : 0), k;
    for (k = 0; k < s->n_keys_cap; k++) {
        uint32_t u;
        if (s->keys[k].heap_pos == NIL) continue;
        n += KEY_BYTES + pe;
        for (u = s->keys[k].head; u != NIL; u = s->units[u].next)
            n += UNIT_BYTES + pe + (size_t)s->units[u].n_ev * (EV_BYTES + pe)
                 + (size_t)s->units[u].n_fired * FIRED_BYTES;
    }
    return n;
}

sz_status sz_stream_snapshot(const sz_stream *s, unsigned char *buf, size_t len)
{
    sz__w w;
    uint32_t k;
    const sz_stream_config *c = &s->cfg;
    if (buf == NULL || len < sz_stream_snapshot_size(s)) return SZ_ERR_PARAM;
    w.p = buf;
    w_head(&w, sz__magic, s->per_event ? SZ_SNAPSHOT_VERSION_GAPS : SZ_SNAPSHOT_VERSION);
    w_i64(&w, c->session.gap);
    w_i64(&w, c->session.max_duration);
    w_i32(&w, c->session.cap_mode);
    w_i32(&w, c->session.inclusive ? 1 : 0);
    w_i32(&w, c->session.min_is_nat ? 1 : 0);
    w_i64(&w, c->delay);
    w_i64(&w, c->allowed_lateness);
    w_i32(&w, c->emit);
    w_i32(&w, c->keep_values);
    if (s->per_event) w_i32(&w, 1);
    w_i64(&w, s->wm);
    w_i64(&w, s->max_seen);
    w_i32(&w, s->seen_any);
    w_u64(&w, s->late_count);
    w_u64(&w, s->next_id);
    w_u64(&w, s->next_seq);
    w_u64(&w, s->live_keys);
    for (k = 0; k < s->n_keys_cap; k++) {
        const sz__key *key = &s->keys[k];
        uint32_t u, n_units = 0;
        /* live keys are exactly those in the heap or the forget queue */
        if (key->heap_pos == NIL) continue;
        for (u = key->head; u != NIL; u = s->units[u].next) n_units++;
        w_u64(&w, key->key);
        w_u64(&w, key->seq);
        w_u32(&w, key->ns);
        w_u32(&w, key->has_final);
        w_i64(&w, key->frozen);
        w_i64(&w, key->last_end);
        w_i64(&w, key->origin);
        w_i64(&w, key->next_index);
        if (s->per_event) w_i64(&w, s->key_reach[k]);
        w_u32(&w, n_units);
        for (u = key->head; u != NIL; u = s->units[u].next) {
            const sz__unit *x = &s->units[u];
            uint32_t i;
            w_i64(&w, x->start);
            w_i64(&w, x->end);
            w_i64(&w, x->count);
            w_i64(&w, x->origin);
            w_u32(&w, x->n_ev);
            w_u32(&w, x->n_fired);
            if (s->per_event) w_i64(&w, sz__held_reach(x)[-1]);
            for (i = 0; i < x->n_ev; i++) {
                w_i64(&w, x->ev[x->off + i].t);
                w_u64(&w, x->ev[x->off + i].h);
                if (s->per_event) w_i64(&w, sz__held_reach(x)[i]);
            }
            for (i = 0; i < x->n_fired; i++) {
                w_u64(&w, x->fired[i].id);
                w_i64(&w, x->fired[i].start);
                w_i64(&w, x->fired[i].end);
                w_i64(&w, x->fired[i].count);
                w_i64(&w, x->fired[i].window_end);
                w_i64(&w, x->fired[i].revision);
            }
        }
    }
    w_sum(&w, buf);
    return SZ_OK;
}

/* ---- reading ------------------------------------------------------------ */

SZ_INLINE int sz__valid_time(const sz_stream *s, int64_t t)
{
    return sz__time_check(&s->rule, t) == SZ_OK;
}

/* Reads one unit of key ki into a new unit linked after *tail. */
static sz_status sz__read_unit(sz__r *r, sz_stream *s, uint32_t ki,
                               uint32_t *tail, uint64_t *counted)
{
    sz__unit *x;
    sz__key *k;
    uint32_t u, i, n_ev, n_fired;
    int64_t start = r_i64(r), end = r_i64(r), count = r_i64(r), origin = r_i64(r);
    int64_t carry;
    n_ev = r_u32(r);
    n_fired = r_u32(r);
    carry = s->per_event ? r_i64(r) : INT64_MIN;
    if (r->bad) return SZ_ERR_SNAPSHOT;
    /* the sizes must fit in what is left before the allocations they cause */
    if ((uint64_t)n_ev * (EV_BYTES + (s->per_event ? 8u : 0u))
            + (uint64_t)n_fired * FIRED_BYTES
        > (uint64_t)(r->end - r->p))
        return SZ_ERR_SNAPSHOT;
    /* the open sessions' counts grow by one an event and add up as
     * sessions merge: their sum must stay far from wrapping, as a stream's
     * does (it reaches 2^62 events never, a forged snapshot at once; found
     * by fuzz_snapshot: INT64_MAX + 1 on the next push) */
    if (count >= 1 && (uint64_t)count <= SZ__COUNTER_MAX - *counted)
        *counted += (uint64_t)count;
    else
        return SZ_ERR_SNAPSHOT;
    if (start > end || !sz__valid_time(s, start)
        || !sz__valid_time(s, end)
        || (s->keep_events ? (uint64_t)n_ev != (uint64_t)count : n_ev != 0)
        || (n_fired > 0 && s->cfg.emit != SZ_EMIT_UPDATE)
        || (s->rule.mode == SZ_CAP_FIXED
            && (origin > start || !sz__valid_time(s, origin))))
        return SZ_ERR_SNAPSHOT;
    k = &s->keys[ki];
    if (k->has_final && start <= k->frozen) return SZ_ERR_SNAPSHOT;
    if (*tail != NIL) {
        const sz__unit *p = &s->units[*tail];
        if (p->end >= start || sz__stream_within_gap(s, p->end, start))
            return SZ_ERR_SNAPSHOT;
    }
    u = sz__stream_unit_new(s);
    if (u == NIL) return SZ_ERR_NOMEM;
    x = &s->units[u];
    x->start = start;
    x->end = end;
    x->count = count;
    x->origin = origin;
    /* link first, so freeing the stream frees the unit's buffers */
    if (*tail == NIL)
        s->keys[ki].head = u;
    else
        s->units[*tail].next = u;
    *tail = u;
    if (n_ev > 0) {
        if (sz__stream_unit_grow(s, x, n_ev) != SZ_OK) return SZ_ERR_NOMEM;
        if (s->per_event) sz__held_reach(x)[-1] = carry;
        for (i = 0; i < n_ev; i++) {
            int64_t t = r_i64(r);
            uint64_t h = r_u64(r);
            if (!sz__valid_time(s, t)
                || (i > 0 && (t < x->ev[i - 1].t
                              || !sz__stream_within_gap(s, x->ev[i - 1].t, t))))
                return SZ_ERR_SNAPSHOT;
            if (s->per_event) {
                /* a running maximum of t + gap, 1 <= gap <= the bound,
                 * from the carry on */
                int64_t reach = r_i64(r);
                if (reach <= t || (uint64_t)reach - (uint64_t)t > (uint64_t)s->rule.gap
                    || reach < sz__held_reach(x)[(int64_t)i - 1])
                    return SZ_ERR_SNAPSHOT;
                sz__held_reach(x)[i] = reach;
            }
            x->ev[i].t = t;
            x->ev[i].h = h;
            x->n_ev = i + 1;
            s->open_events++;
        }
        if (x->ev[0].t != start || x->ev[n_ev - 1].t != end)
            return SZ_ERR_SNAPSHOT;
    }
    if (n_fired > 0) {
        if (sz__grow32((void **)&x->fired, &x->cap_fired, n_fired,
                              sizeof *x->fired) != SZ_OK)
            return SZ_ERR_NOMEM;
        for (i = 0; i < n_fired; i++) {
            sz__fired f;
            f.id = r_u64(r);
            f.start = r_i64(r);
            f.end = r_i64(r);
            f.count = r_i64(r);
            f.window_end = r_i64(r);
            f.revision = r_i64(r);
            if (r->bad || f.id >= s->next_id || f.start > f.end || f.count < 1
                || f.window_end < f.end
                || f.revision < 0 || (uint64_t)f.revision > SZ__COUNTER_MAX
                || (i > 0 && f.start <= x->fired[i - 1].end))
                return SZ_ERR_SNAPSHOT;
            x->fired[i] = f;
            x->n_fired = i + 1;
        }
    }
    return r->bad ? SZ_ERR_SNAPSHOT : SZ_OK;
}

static sz_status sz__read_key(sz__r *r, sz_stream *s, uint64_t *counted)
{
    uint64_t key = r_u64(r), seq = r_u64(r);
    uint32_t ns = r_u32(r), has_final = r_u32(r);
    int64_t frozen = r_i64(r), last_end = r_i64(r), origin = r_i64(r);
    int64_t next_index = r_i64(r);
    int64_t key_reach = s->per_event ? r_i64(r) : INT64_MIN;
    uint32_t n_units = r_u32(r), ki, i, tail = NIL;
    int created;
    sz__key *k;
    sz_status st;
    if (r->bad || has_final > 1 || next_index < 0 || seq >= s->next_seq
        || (n_units == 0 && !has_final)
        /* each of the key's sessions had its own id: an index past the
         * ids handed out would overflow as it counts on (found by
         * fuzz_snapshot: INT64_MAX + 1) */
        || (uint64_t)next_index > s->next_id
        /* a final session's last joining time is not before its end.  It
         * may be at or past the watermark (sz_stream_advance_key took the
         * key further): push judges events into it late all the same */
        || (has_final && last_end > frozen)
        /* per-event gaps: the final session reaches past its end, by no
         * more than the bound (and past its last joining time); the
         * difference unsigned, as a forged reach far from the end would
         * overflow it (found by fuzz_snapshot) */
        || (s->per_event
            && (has_final ? key_reach <= last_end
                                || (uint64_t)key_reach - (uint64_t)last_end > (uint64_t)s->rule.gap
                                || frozen > key_reach
                          : key_reach != INT64_MIN))
        || (uint64_t)n_units * UNIT_BYTES > (uint64_t)(r->end - r->p))
        return SZ_ERR_SNAPSHOT;
    st = sz__stream_key_new(s, key, ns, &ki, &created);
    if (st != SZ_OK) return st;
    if (!created) return SZ_ERR_SNAPSHOT;  /* a key twice */
    s->next_seq--;  /* key_new issued a number; the key keeps its own, seq */
    k = &s->keys[ki];
    k->seq = seq;
    k->has_final = has_final;
    k->frozen = frozen;
    k->last_end = last_end;
    k->origin = origin;
    k->next_index = next_index;
    if (s->per_event) s->key_reach[ki] = key_reach;
    for (i = 0; i < n_units; i++) {
        st = sz__read_unit(r, s, ki, &tail, counted);
        if (st != SZ_OK) return st;  /* the stream is freed whole */
    }
    return sz__stream_heap_add(s, ki);
}

sz_status sz_stream_restore(const unsigned char *buf, size_t len,
                            sz_stream **out)
{
    sz__r r;
    sz_stream_config c;
    sz_stream *s = NULL;
    uint64_t n_keys, i;
    int64_t wm, max_seen;
    int32_t seen_any;
    uint64_t late_count, next_id, next_seq, counted = 0;
    sz_status st;
    if (out) *out = NULL;
    if (out == NULL || (buf == NULL && len > 0)) return SZ_ERR_PARAM;
    memset(&c, 0, sizeof c);
    if (r_open(&r, buf, len, HEAD_BYTES + 8, sz__magic, SZ_SNAPSHOT_VERSION) == 0)
        c.per_event_gaps = 0;
    else if (r_open(&r, buf, len, HEAD_BYTES + 8 + 4, sz__magic, SZ_SNAPSHOT_VERSION_GAPS)
             == 0)
        c.per_event_gaps = 1;
    else
        return SZ_ERR_SNAPSHOT;
    c.session.gap = r_i64(&r);
    c.session.max_duration = r_i64(&r);
    c.session.cap_mode = r_i32(&r);
    c.session.inclusive = r_i32(&r);
    c.session.min_is_nat = r_i32(&r);
    c.delay = r_i64(&r);
    c.allowed_lateness = r_i64(&r);
    c.emit = r_i32(&r);
    c.keep_values = r_i32(&r);
    if (c.per_event_gaps && r_i32(&r) != 1) return SZ_ERR_SNAPSHOT;
    wm = r_i64(&r);
    max_seen = r_i64(&r);
    seen_any = r_i32(&r);
    late_count = r_u64(&r);
    next_id = r_u64(&r);
    next_seq = r_u64(&r);
    n_keys = r_u64(&r);
    if (r.bad || c.session.inclusive > 1 || c.session.inclusive < 0
        || c.session.min_is_nat < 0 || c.session.min_is_nat > 1
        || c.keep_values < 0 || c.keep_values > 1 || seen_any < 0 || seen_any > 1
        || (c.session.cap_mode == SZ_CAP_NONE && c.session.max_duration != 0)
        || n_keys > next_seq
        /* the counters of keys and sessions must not wrap (keys would tie
         * in emission order, ids repeat), nor the key indexes they bound: a
         * stream reaches 2^62 of either never, a forged snapshot at once
         * (found by fuzz_snapshot) */
        || next_seq > SZ__COUNTER_MAX || next_id > SZ__COUNTER_MAX
        || late_count > SZ__COUNTER_MAX
        || n_keys > (uint64_t)(r.end - r.p) / KEY_BYTES)
        return SZ_ERR_SNAPSHOT;
    st = sz_stream_new(&c, &s);
    if (st == SZ_ERR_PARAM) return SZ_ERR_SNAPSHOT;
    if (st != SZ_OK) return st;
    s->wm = wm;
    s->max_seen = max_seen;
    s->seen_any = seen_any;
    s->late_count = late_count;
    s->next_id = next_id;
    s->next_seq = next_seq;
    for (i = 0; i < n_keys && st == SZ_OK; i++) st = sz__read_key(&r, s, &counted);
    if (st == SZ_OK && (r.bad || r.p != r.end)) st = SZ_ERR_SNAPSHOT;
    if (st != SZ_OK) {
        sz_stream_free(s);
        return st;
    }
    *out = s;
    return SZ_OK;
}
