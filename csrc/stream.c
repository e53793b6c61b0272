/*
 * stream.c -- the incremental sessionizer (tier 2 of sessionize.h).
 *
 * State, per key that holds anything:
 *   - its open "units": inactivity sessions (the gap rule alone) not yet
 *     final, in time order, disjoint.  Without a cap and without values a
 *     unit is a session and three numbers describe it; with a cap (or
 *     values) a unit keeps its events' times (and handles) sorted, and its
 *     capped sessions are cut from them on demand, because an out-of-order
 *     event can move every cut after it;
 *   - what the late rule needs once sessions are gone: `frozen`, the last
 *     time at which an event could still have joined the key's last final
 *     session (an event at or before it is late: it would change or precede
 *     a final session), and that session's end and block origin.  A key
 *     with no open unit keeps only these, and only until no event could
 *     still be judged by them (last end + 2 gaps + allowed lateness); then
 *     it is freed.
 *
 * Ordering by closing time: a min-heap of keys by `due`, the
 * watermark value past which something happens to the key (a session
 * becomes final, or in update mode fires).  A key's entry is a lower bound
 * of its due: set to it when an event lands in the key's only unit (a sift
 * down from where the entry sits, usually at the bottom), only lowered when
 * the key has several units; a key popped before its time is recomputed and
 * pushed back.  Advancing the watermark thus costs only the keys it
 * reaches.  A key left with no open unit waits for its expiry in the forget
 * queue instead (in order of expiry, see sz__forget_fits) when it can: its
 * forgetting costs no pop from the heap's top.
 *
 * Lateness: an event with t >= watermark is never late (the session it
 * lands in can still be joined at t).  An older event is late when
 * t <= frozen, or when the session it would land in, after merging, is
 * already final; that is decided on a scratch copy before anything changes.
 *
 * Emission order is deterministic whatever the heap's layout (so a stream
 * restored from a snapshot continues identically): the records one
 * watermark step produces are sorted by (last joining time, key's creation
 * order, start).
 */
#include "sz_stream_internal.h"
#include "sz_sort.h"

#include <stdlib.h>

/* ---- small helpers ------------------------------------------------------ */

/* The last time an event can have and still join a session ending at
 * `end`: end + gap (inclusive) or end + gap - 1. */
SZ_INLINE int64_t sz__gap_reach(const sz_stream *s, int64_t end)
{
    return sz__sat_add(end, s->join_span);
}

SZ_INLINE int sz__within_gap(const sz_stream *s, int64_t a, int64_t b)
{
    /* a <= b: b - a < gap_thr, exact in uint64 */
    return (uint64_t)b - (uint64_t)a < s->rule.gap_thr;
}

/* per_event: whether an event at t joins a session reaching to `reach`
 * (the largest t + gap of its events): at it too when inclusive, as the
 * windows [t, t + gap] then touch (Flink's TimeWindow.intersects). */
SZ_INLINE int sz__within_reach(const sz_stream *s, int64_t t, int64_t reach)
{
    return s->cfg.session.inclusive ? t <= reach : t < reach;
}

/* per_event: the inactivity session holding held event `first` of u
 * starts where no earlier held event reaches it, or before held event 0,
 * where u->origin says where (the fixed mode's blocks count from there).
 * A walk back over the session's earlier pieces: cost O(first). */
static SZ_NOINLINE int64_t sz__piece_origin(const sz_stream *s, const sz__unit *u,
                                            uint32_t first)
{
    const sz__ev *ev = u->ev + u->off;
    const int64_t *reach = sz__held_reach(u);
    uint32_t j = first;
    while (j > 0 && sz__within_reach(s, ev[j].t, reach[j - 1])) j--;
    return j == 0 ? u->origin : ev[j].t;
}

/* per_event: the capped session of u starting at held event `first`.  It
 * runs while each event is within the running reach and the cap; its
 * window ends at the reach as of its last event, no later than the cap's
 * limit (sz_gapped_assign's rule).  Not inlined: sz__cut stays as small
 * as the scalar streams had it. */
static SZ_NOINLINE void sz__cut_reach(const sz_stream *s, const sz__unit *u,
                                      uint32_t first, sz__cs *cs)
{
    const sz_rule *r = &s->rule;
    const sz__ev *ev = u->ev + u->off;
    const int64_t *reach = sz__held_reach(u);
    uint32_t j = first + 1, n = u->n_ev;
    int64_t st = ev[first].t, cap_last = INT64_MAX, we_cap = INT64_MAX, R;
    if (r->mode == SZ_CAP_RESTART) {
        while (j < n && sz__within_reach(s, ev[j].t, reach[j - 1])
               && (uint64_t)ev[j].t - (uint64_t)st < r->cap_thr)
            j++;
        cap_last = sz__sat_add(st, (int64_t)(r->cap_thr - 1));
        we_cap = sz__sat_add(st, r->max);
    } else if (r->mode == SZ_CAP_FIXED) {
        int64_t be = sz__next_block_end(sz__piece_origin(s, u, first), st, r->max);
        while (j < n && sz__within_reach(s, ev[j].t, reach[j - 1]) && ev[j].t < be) j++;
        cap_last = be - 1;
        we_cap = be;
    } else {
        while (j < n && sz__within_reach(s, ev[j].t, reach[j - 1])) j++;
    }
    R = reach[j - 1];
    cs->first = first;
    cs->start = st;
    cs->end = ev[j - 1].t;
    cs->count = (int64_t)(j - first);
    cs->window_end = R < we_cap ? R : we_cap;
    cs->lastjoin = s->cfg.session.inclusive ? R : R - 1;
    if (cs->lastjoin > cap_last) cs->lastjoin = cap_last;
}

/* ---- cutting a unit into capped sessions -------------------------------- */

/* Fills *cs with the capped session of u starting at event `first` (an
 * index relative to u->off); returns 0 when there is none. */
static int sz__cut(const sz_stream *s, const sz__unit *u, uint32_t first,
                   sz__cs *cs)
{
    const sz_rule *r = &s->rule;
    int64_t cap_last, we_cap;
    if (first >= (s->keep_events ? u->n_ev : 1u)) return 0;
    if (SZ_UNLIKELY(s->per_event)) {
        sz__cut_reach(s, u, first, cs);
        return 1;
    }
    cs->first = first;
    if (r->mode == SZ_CAP_NONE) {
        if (s->keep_events) {
            cs->start = u->ev[u->off + first].t;
            cs->count = (int64_t)(u->n_ev - first);
        } else {
            cs->start = u->start;
            cs->count = u->count;
        }
        cs->end = u->end;
        cs->window_end = sz__sat_add(cs->end, r->gap);
        cs->lastjoin = sz__gap_reach(s, cs->end);
        return 1;
    }
    {
        const sz__ev *ev = u->ev + u->off;
        uint32_t j = first + 1, n = u->n_ev;
        int64_t st = ev[first].t;
        if (r->mode == SZ_CAP_RESTART) {
            while (j < n && (uint64_t)ev[j].t - (uint64_t)st < r->cap_thr) j++;
            /* cap_thr - 1 <= max: the sum saturates, never wraps */
            cap_last = sz__sat_add(st, (int64_t)(r->cap_thr - 1));
            we_cap = sz__sat_add(st, r->max);
        } else {
            /* the block of st, counted from the unit's origin */
            int64_t be = sz__next_block_end(u->origin, st, r->max);
            while (j < n && ev[j].t < be) j++;
            cap_last = be - 1;
            we_cap = be;
        }
        cs->start = st;
        cs->end = ev[j - 1].t;
        cs->count = (int64_t)(j - first);
        cs->window_end = sz__sat_add(cs->end, r->gap);
        if (cs->window_end > we_cap) cs->window_end = we_cap;
        cs->lastjoin = sz__gap_reach(s, cs->end);
        if (cs->lastjoin > cap_last) cs->lastjoin = cap_last;
        return 1;
    }
}

/* ---- output ------------------------------------------------------------- */

/* Room for `n` more records (at least one), `n_ids` ids and `n_h`
 * handles.  A call emits fewer than UINT32_MAX records (the emission sort
 * indexes them with uint32_t; they would take 480 GB). */
static sz_status sz__out_reserve_n(sz_stream *s, size_t n, size_t n_ids, size_t n_h)
{
    size_t cap = s->out_cap;
    sz_status st;
    if (n < 1) n = 1;
    if (n >= UINT32_MAX - s->out_n) return SZ_ERR_NOMEM;
    st = sz__grow((void **)&s->out, &cap, s->out_n + n, sizeof *s->out);
    if (st == SZ_OK && cap != s->out_cap) {
        /* out_key and out_perm grow when out does, so a call can fail
         * for memory only where it could before they existed */
        size_t kc = s->out_cap;
        st = sz__grow((void **)&s->out_key, &kc, cap, sizeof *s->out_key);
        if (st == SZ_OK)
            st = sz__grow((void **)&s->out_perm, &s->perm_cap, 3 * cap,
                          sizeof *s->out_perm);
        if (st == SZ_OK) s->out_cap = cap;
    }
    if (st == SZ_OK)
        st = sz__grow((void **)&s->out_ids, &s->ids_cap, s->ids_n + n_ids,
                      sizeof *s->out_ids);
    if (st == SZ_OK)
        st = sz__grow((void **)&s->out_h, &s->h_cap, s->h_n + n_h,
                      sizeof *s->out_h);
    return st;
}

static sz_status sz__out_reserve(sz_stream *s, size_t n_ids, size_t n_h)
{
    return sz__out_reserve_n(s, 1, n_ids, n_h);
}

/* Appends a record (space reserved by the caller) and returns it. */
static sz_stream_out *sz__out_add(sz_stream *s, int kind, const sz__key *k,
                                  int64_t lastjoin, int64_t start)
{
    sz_stream_out *o = &s->out[s->out_n];
    sz__emit_key *ek = &s->out_key[s->out_n];
    s->out_n++;
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->key = k->key;
    o->key_ns = k->ns;
    o->start = start;
    o->replaces_off = s->ids_n;
    o->values_off = s->h_n;
    ek->lastjoin = lastjoin;
    ek->seq = k->seq;
    ek->start = start;
    return o;
}

/* Room in the list for n more freed keys. */
static sz_status sz__freed_room(sz_stream *s, size_t n)
{
    return sz__grow((void **)&s->freed, &s->freed_cap, s->freed_n + n, sizeof *s->freed);
}

/* Room to report n more freed keys: in the list, and as records when
 * they are on. */
static sz_status sz__freed_reserve(sz_stream *s, size_t n)
{
    sz_status st = sz__freed_room(s, n);
    if (st == SZ_OK && s->freed_records) st = sz__out_reserve_n(s, n, 0, 0);
    return st;
}

/* Reports key k freed (room reserved by the caller).  Its record sorts
 * after every session of the step (lastjoin INT64_MAX); the list is made
 * in the order those records sort in, the keys' creation order, since a
 * step processes its keys in that order. */
static void sz__freed_add(sz_stream *s, const sz__key *k)
{
    s->freed[s->freed_n].key = k->key;
    s->freed[s->freed_n].ns = k->ns;
    s->freed_n++;
    if (s->freed_records) sz__out_add(s, SZ_OUT_KEY_FREED, k, INT64_MAX, INT64_MAX);
}

static void sz__out_values(sz_stream *s, sz_stream_out *o, const sz__unit *u,
                           const sz__cs *cs)
{
    if (s->cfg.keep_values) {
        const sz__ev *ev = u->ev + u->off + cs->first;
        int64_t i;
        for (i = 0; i < cs->count; i++) s->out_h[s->h_n++] = ev[i].h;
        o->n_values = (size_t)cs->count;
    }
}

static void sz__out_session(sz_stream_out *o, const sz__cs *cs)
{
    o->start = cs->start;
    o->end = cs->end;
    o->window_end = cs->window_end;
    o->count = cs->count;
}

static int sz__emit_cmp(const sz__emit_key *ka, const sz__emit_key *kb)
{
    if (ka->lastjoin != kb->lastjoin) return ka->lastjoin < kb->lastjoin ? -1 : 1;
    if (ka->seq != kb->seq) return ka->seq < kb->seq ? -1 : 1;
    if (ka->start != kb->start) return ka->start < kb->start ? -1 : 1;
    return 0;
}

static int sz__emit_order(const void *ctx, size_t a, size_t b)
{
    const sz__emit_key *k = (const sz__emit_key *)ctx;
    return sz__emit_cmp(&k[a], &k[b]);
}

/* Whether key[0 .. n) is in emission order: one sequential pass. */
static int sz__emit_sorted(const sz__emit_key *key, size_t n)
{
    size_t i;
    for (i = 1; i < n && sz__emit_cmp(&key[i - 1], &key[i]) <= 0; i++) continue;
#ifdef SZ_TESTING
    sz_test_sort_count(i - 1);
#endif
    return i >= n;
}

/* Slot j takes record perm[j]: each cycle of the permutation is walked
 * once, in place (a copy of the records would double the largest buffer
 * a flush makes), marking its slots done with perm[j] = j. */
static void sz__out_permute(sz_stream_out *out, sz__emit_key *key, uint32_t *perm,
                            size_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        uint32_t j = i;
        sz_stream_out o;
        sz__emit_key k;
        if (perm[i] == i) continue;
        o = out[i];
        k = key[i];
        while (perm[j] != i) {
            uint32_t f = perm[j];
            out[j] = out[f];
            key[j] = key[f];
            perm[j] = j;
            j = f;
        }
        out[j] = o;
        key[j] = k;
        perm[j] = j;
    }
}

/*
 * Sorts records [from, out_n) by their emission key, stably (records with
 * equal keys keep the order they were made in).  A step usually makes
 * them in order already, but a flush or a big advance does not: each key's
 * KEY_FREED (when they are written) sorts after every session.
 *
 * By value, not through a comparator (which read two records scattered
 * over the buffer per comparison): a stable radix sort by lastjoin alone,
 * then a check of the whole key.  The check holds whenever records with
 * equal lastjoin are made in (seq, start) order, which is how a step makes
 * them: keys in seq order, a key's records of one lastjoin all sessions of
 * one phase (fired or final: finality is a function of lastjoin) in time
 * order, or its one KEY_FREED.  Should it fail, a stable comparator sort of
 * the result gives the same order as one of the original (ties of the
 * whole key have equal lastjoin, so they are still in creation order).
 * Cannot fail: sz__out_reserve grew out_perm with out.
 */
static void sz__out_sort(sz_stream *s, size_t from)
{
    size_t n = s->out_n - from, i;
    sz_stream_out *out;
    sz__emit_key *key;
    uint64_t *rk, top;
    uint32_t *ri;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    if (n < 2) return;  /* before the offsets: out is NULL until it grows */
    out = s->out + from;
    key = s->out_key + from;
    if (sz__emit_sorted(key, n)) return;
    rk = s->out_perm;
    ri = (uint32_t *)(void *)(s->out_perm + 2 * n);
    /* lastjoin as an offset from the smallest; INT64_MAX (a KEY_FREED)
     * just past the largest other one, so it costs no radix digits */
    for (i = 0; i < n; i++) {
        int64_t v = key[i].lastjoin;
        if (v < lo) lo = v;
        if (v > hi && v != INT64_MAX) hi = v;
    }
    top = hi >= lo ? (uint64_t)hi - (uint64_t)lo + 1 : 0;
    for (i = 0; i < n; i++) {
        int64_t v = key[i].lastjoin;
        rk[i] = v == INT64_MAX ? top : (uint64_t)v - (uint64_t)lo;
        ri[i] = (uint32_t)i;
    }
    sz__radix_sort(rk, ri, n, rk + n, ri + n);
    sz__out_permute(out, key, ri, n);
    if (!sz__emit_sorted(key, n)) {
        size_t *perm = (size_t *)(void *)s->out_perm;  /* 2 n: fits in 3 n */
        for (i = 0; i < n; i++) perm[i] = i;
        sz__sort_idx(perm, n, perm + n, sz__emit_order, key);
        for (i = 0; i < n; i++) ri[i] = (uint32_t)perm[i];  /* ri lies past 2 n */
        sz__out_permute(out, key, ri, n);
    }
}

/* ---- pools ------------------------------------------------------------- */

static uint32_t sz__unit_alloc(sz_stream *s)
{
    uint32_t u;
    if (s->free_unit == NIL) {
        uint32_t old = s->n_units_cap, i;
        if (sz__grow32((void **)&s->units, &s->n_units_cap, (size_t)old + 1,
                       sizeof *s->units) != SZ_OK)
            return NIL;
        for (i = s->n_units_cap; i-- > old;) {
            memset(&s->units[i], 0, sizeof s->units[i]);
            s->units[i].next = s->free_unit;
            s->free_unit = i;
        }
    }
    u = s->free_unit;
    s->free_unit = s->units[u].next;
    s->units[u].next = NIL;
    s->units[u].n_ev = s->units[u].off = 0;
    s->units[u].n_fired = 0;
    s->live_units++;
    return u;
}

/* Returns a unit to the pool; its buffers stay allocated for reuse unless
 * they are large. */
static void sz__unit_release(sz_stream *s, uint32_t u)
{
    sz__unit *x = &s->units[u];
    s->open_events -= x->n_ev;
    if (x->cap_ev > 64) {
        SZ_FREE(x->ev);
        x->ev = NULL;
        x->cap_ev = 0;
    }
    if (x->cap_fired > 16) {
        SZ_FREE(x->fired);
        x->fired = NULL;
        x->cap_fired = 0;
    }
    x->n_ev = x->off = x->n_fired = 0;
    x->next = s->free_unit;
    s->free_unit = u;
    s->live_units--;
}

/* Moves u's held events (and their reach, the carry's slot first) to the
 * front of their buffer. */
static void sz__unit_compact(const sz_stream *s, sz__unit *u)
{
    if (SZ_UNLIKELY(s->per_event)) {
        int64_t *slots = (int64_t *)(void *)(u->ev + u->cap_ev);
        memmove(slots, slots + u->off, ((size_t)u->n_ev + 1) * sizeof *slots);
    }
    memmove(u->ev, u->ev + u->off, u->n_ev * sizeof *u->ev);
    u->off = 0;
}

/* Room for `need` events in u's buffer; per_event, the reach slots move
 * to their place past the larger room.  SZ_ERR_NOMEM leaves u as it was. */
static sz_status sz__unit_grow(const sz_stream *s, sz__unit *u, size_t need)
{
    size_t c = u->cap_ev ? u->cap_ev : 4, old = u->cap_ev;
    sz__ev *p;
    if (!s->per_event) return sz__grow32((void **)&u->ev, &u->cap_ev, need, sizeof *u->ev);
    if (need <= u->cap_ev) return SZ_OK;
    if (need > UINT32_MAX / 2) return SZ_ERR_NOMEM;
    while (c < need) c *= 2;
    p = (sz__ev *)SZ_REALLOC(u->ev, sz__mul_size(c, sizeof *p)
                                        + sz__mul_size(c + 1, sizeof(int64_t)));
    if (p == NULL) return SZ_ERR_NOMEM;
    if (old > 0)
        memmove(p + c, p + old, ((size_t)u->off + u->n_ev + 1) * sizeof(int64_t));
    u->ev = p;
    u->cap_ev = (uint32_t)c;
    return SZ_OK;
}

/* Inserts event (t, h) at held position `at`.  per_event: its reach t + g
 * raises the running reach of every held event from there on; `carry` is
 * what precedes a new unit's first event (ignored when u holds any). */
static sz_status sz__unit_push_ev(sz_stream *s, sz__unit *u, uint32_t at,
                                  int64_t t, uint64_t h, int64_t g, int64_t carry)
{
    /* at: index relative to off */
    if (u->off + u->n_ev == u->cap_ev) {
        if (u->off > 0 && u->off >= u->n_ev)
            sz__unit_compact(s, u);
        else if (sz__unit_grow(s, u, (size_t)u->cap_ev + 1) != SZ_OK)
            return SZ_ERR_NOMEM;
    }
    {
        sz__ev *ev = u->ev + u->off;
        if (at < u->n_ev) memmove(ev + at + 1, ev + at, (u->n_ev - at) * sizeof *ev);
        ev[at].t = t;
        ev[at].h = h;
        if (SZ_UNLIKELY(s->per_event)) {
            int64_t *reach = sz__held_reach(u), mine = t + g;
            uint32_t j;
            if (u->n_ev == 0) reach[-1] = carry;
            if (at < u->n_ev)
                memmove(reach + at + 1, reach + at, (u->n_ev - at) * sizeof *reach);
            reach[at] = reach[(int64_t)at - 1] > mine ? reach[(int64_t)at - 1] : mine;
            for (j = at + 1; j <= u->n_ev && reach[j] < mine; j++) reach[j] = mine;
        }
        u->n_ev++;
        s->open_events++;
    }
    return SZ_OK;
}

/* ---- the heap of keys by due (sz_keytab.h) ----------------------------- */

#define SZ_KEYS_POS(s) SZ_HEAP_POS((s)->keys, heap_pos)

static sz_status sz__heap_push_key(sz_stream *s, uint32_t k, int64_t due)
{
    return sz__heap_push(&s->heap, SZ_KEYS_POS(s), k, due);
}

/* ---- a key's due --------------------------------------------------------- */

/* When a key with no open unit is forgotten: once the watermark is past
 * last_end + 2 gaps + allowed lateness, every event that `frozen` or
 * `origin` could still judge is late by its own session's finality. */
static int64_t sz__key_expiry(const sz_stream *s, const sz__key *k)
{
    return sz__sat_add(sz__sat_add(sz__sat_add(k->last_end, s->rule.gap), s->rule.gap),
                       s->cfg.allowed_lateness);
}

/* Of the emitted records [a, b), the one emitted first (smallest id). */
static uint32_t sz__earliest(const sz__unit *u, uint32_t a, uint32_t b)
{
    uint32_t i, best = a;
    for (i = a + 1; i < b; i++)
        if (u->fired[i].id < u->fired[best].id) best = i;
    return best;
}

/* Whether emitted record f describes capped session cs exactly. */
SZ_INLINE int sz__same(const sz__fired *f, const sz__cs *cs)
{
    /* window_end too: a fixed-mode block can move with no other change */
    return f->start == cs->start && f->end == cs->end && f->count == cs->count
           && f->window_end == cs->window_end;
}

/* The watermark past which unit u needs work: its first session becomes
 * final, or (update mode) its first session not yet emitted as it now is
 * fires. */
static SZ_NOINLINE int64_t sz__unit_due_cut(const sz_stream *s, const sz__unit *u);

/* The fast case inline, the rest a call: a caller with the unit's due on
 * its hot path (every event pushed, every key's due) then needs no call,
 * and does not spill around one into the cutting code. */
SZ_INLINE int64_t sz__unit_due(const sz_stream *s, const sz__unit *u)
{
    if (s->rule.mode == SZ_CAP_NONE && !s->per_event && s->cfg.emit == SZ_EMIT_FINAL)
        /* the unit is one session, final once its last joining time is
         * past: sz__cut's answer without filling a record (whether the
         * unit keeps its events, for their values, or not) */
        return sz__sat_add(sz__gap_reach(s, u->end), s->cfg.allowed_lateness);
    return sz__unit_due_cut(s, u);
}

static SZ_NOINLINE int64_t sz__unit_due_cut(const sz_stream *s, const sz__unit *u)
{
    sz__cs cs;
    int64_t due;
    uint32_t first = 0, r = 0;
    if (!sz__cut(s, u, 0, &cs)) return INT64_MAX;  /* never: open units hold events */
    due = sz__sat_add(cs.lastjoin, s->cfg.allowed_lateness);
    if (s->cfg.emit == SZ_EMIT_UPDATE) {
        for (;;) {
            while (r < u->n_fired && u->fired[r].end < cs.start) r++;
            if (!(r < u->n_fired && sz__same(&u->fired[r], &cs))) {
                if (cs.lastjoin < due) due = cs.lastjoin;
                break;
            }
            first += (uint32_t)cs.count;
            if (!s->keep_events || !sz__cut(s, u, first, &cs)) break;
        }
    }
    return due;
}

static int64_t sz__key_due(const sz_stream *s, const sz__key *k)
{
    int64_t due = INT64_MAX;
    uint32_t u;
    if (k->head == NIL) return sz__key_expiry(s, k);
    for (u = k->head; u != NIL; u = s->units[u].next) {
        int64_t d = sz__unit_due(s, &s->units[u]);
        if (d < due) due = d;
    }
    return due;
}

/* ---- update mode: reconciling fired sessions with what was emitted ----- */

/* The ordinal within its key of the capped session of unit `uid` that
 * starts at event `first`. */
static int64_t sz__index_of(const sz_stream *s, const sz__key *k, uint32_t uid,
                            uint32_t first)
{
    int64_t idx = k->next_index;
    uint32_t u;
    for (u = k->head; u != NIL; u = s->units[u].next) {
        uint32_t f = 0;
        sz__cs cs;
        while (sz__cut(s, &s->units[u], f, &cs)) {
            if (u == uid && f == first) return idx;
            idx++;
            f += (uint32_t)cs.count;
            if (!s->keep_events) break;
        }
    }
    return idx;
}

/*
 * Emits each fired session of unit `uid` (last joining time before the
 * watermark) that differs from what was last emitted for it.  A fired
 * session takes the id of the first emitted session it overlaps (revision
 * + 1) and lists the other overlapped ones as replaced; with none, it is
 * new.  Emitted sessions it does not overlap are left for later.
 */
static sz_status sz__reconcile(sz_stream *s, uint32_t ki, uint32_t uid)
{
    sz__key *k = &s->keys[ki];
    sz__unit *u = &s->units[uid];
    uint32_t first = 0, r = 0;
    sz__cs cs;
    while (sz__cut(s, u, first, &cs) && cs.lastjoin < s->wm) {
        uint32_t a, b;
        sz_stream_out *o;
        /* records are disjoint and sorted; skip those wholly before cs */
        while (r < u->n_fired && u->fired[r].end < cs.start) r++;
        a = r;
        b = a;
        while (b < u->n_fired && u->fired[b].start <= cs.end) b++;
        if (sz__sat_add(cs.lastjoin, s->cfg.allowed_lateness) < s->wm) {
            /* final already: sz__process_key emits it once (new, revised or
             * retired); firing it here as well would emit it twice */
            r = b;
            first += (uint32_t)cs.count;
            if (!s->keep_events) break;
            continue;
        }
        if (!(b == a + 1 && sz__same(&u->fired[a], &cs))) {
            uint32_t i;
            sz__fired rec;
            if (sz__out_reserve(s, b > a ? b - a - 1 : 0,
                                s->cfg.keep_values ? (size_t)cs.count : 0)
                != SZ_OK)
                return SZ_ERR_NOMEM;
            if (b == a) {
                /* a new record: make room at a */
                if (sz__grow32((void **)&u->fired, &u->cap_fired,
                               (size_t)u->n_fired + 1, sizeof *u->fired)
                    != SZ_OK)
                    return SZ_ERR_NOMEM;
                memmove(u->fired + a + 1, u->fired + a,
                        (u->n_fired - a) * sizeof *u->fired);
                u->n_fired++;
                rec.id = s->next_id++;
                rec.revision = 0;
            } else {  /* the earliest emitted keeps its id */
                uint32_t keep = sz__earliest(u, a, b);
                rec.id = u->fired[keep].id;
                rec.revision = u->fired[keep].revision + 1;
                u->fired[keep] = u->fired[a];  /* a takes rec below */
            }
            o = sz__out_add(s, SZ_OUT_SESSION, k, cs.lastjoin, cs.start);
            sz__out_session(o, &cs);
            o->final = sz__sat_add(cs.lastjoin, s->cfg.allowed_lateness) < s->wm;
            o->id = rec.id;
            o->revision = rec.revision;
            o->index = sz__index_of(s, k, uid, first);
            for (i = a + 1; i < b; i++) s->out_ids[s->ids_n++] = u->fired[i].id;
            o->n_replaces = b > a ? b - a - 1 : 0;
            sz__out_values(s, o, u, &cs);
            rec.start = cs.start;
            rec.end = cs.end;
            rec.count = cs.count;
            rec.window_end = cs.window_end;
            u->fired[a] = rec;
            if (b > a + 1) {
                memmove(u->fired + a + 1, u->fired + b,
                        (u->n_fired - b) * sizeof *u->fired);
                u->n_fired -= b - a - 1;
            }
        }
        r = a + 1;
        first += (uint32_t)cs.count;
        if (!s->keep_events) break;
    }
    return SZ_OK;
}

/* ---- finishing sessions -------------------------------------------------- */

/* Returns key ki to the pool but leaves it in the key table: the caller
 * deletes it there (sz__finish_keys does so for many keys at once).  Its
 * key and ns stay readable until the record is reused. */
static void sz__key_unlink(sz_stream *s, uint32_t ki)
{
    sz__key *k = &s->keys[ki];
    k->heap_pos = NIL;  /* marks it free for the snapshot writer */
    k->head = s->free_key;  /* the free list threads through head */
    s->free_key = ki;
    s->live_keys--;
}

static void sz__key_release(sz_stream *s, uint32_t ki)
{
    sz__keytab_del(&s->tab, s->keys[ki].key, s->keys[ki].ns);
    sz__key_unlink(s, ki);
}

/* Emits the final sessions of key ki at the current watermark (all of them
 * when `all`), fires update-mode sessions, and frees what is done.  Returns
 * *freed = 1 when the key itself was released (its heap entry and its
 * slot in the key table are the caller's to remove). */
static sz_status sz__process_key(sz_stream *s, uint32_t ki, int all, int *freed)
{
    sz__key *k = &s->keys[ki];
    int update = s->cfg.emit == SZ_EMIT_UPDATE;
    uint32_t uid;
    *freed = 0;
    /* the list's room for this key, before anything is emitted: a key
     * that cannot be reported freed must not lose the sessions emitted
     * before it (with records on, the record's room is still taken last) */
    if (sz__freed_room(s, 1) != SZ_OK) return SZ_ERR_NOMEM;
    /* fire first: a later unit's session can fire while an earlier one is
     * not yet final */
    if (update && !all)
        for (uid = k->head; uid != NIL; uid = s->units[uid].next) {
            sz_status st = sz__reconcile(s, ki, uid);
            if (st != SZ_OK) return st;
        }
    while (k->head != NIL) {
        sz__unit *u;
        sz__cs cs;
        uid = k->head;
        u = &s->units[uid];
        sz__cut(s, u, 0, &cs);
        if (!all && !(sz__sat_add(cs.lastjoin, s->cfg.allowed_lateness) < s->wm))
            break;
        /* cs is final */
        {
            int was_emitted = update && u->n_fired > 0
                              && sz__same(&u->fired[0], &cs);
            size_t nh = s->cfg.keep_values ? (size_t)cs.count : 0;
            uint32_t n_old = 0, i;
            sz_stream_out *o;
            if (update) /* records overlapping cs: it replaces all of them */
                while (n_old < u->n_fired && u->fired[n_old].start <= cs.end) n_old++;
            if (sz__out_reserve(s, n_old, nh) != SZ_OK) return SZ_ERR_NOMEM;
            o = sz__out_add(s, was_emitted ? SZ_OUT_RETIRED : SZ_OUT_SESSION, k,
                            cs.lastjoin, cs.start);
            sz__out_session(o, &cs);
            o->final = 1;
            o->index = k->next_index;
            if (was_emitted) {
                o->id = u->fired[0].id;
                o->revision = u->fired[0].revision;
            } else if (n_old > 0) { /* flush of a changed, fired session */
                uint32_t keep = sz__earliest(u, 0, n_old);
                o->id = u->fired[keep].id;
                o->revision = u->fired[keep].revision + 1;
                for (i = 0; i < n_old; i++)
                    if (i != keep) s->out_ids[s->ids_n++] = u->fired[i].id;
                o->n_replaces = n_old - 1;
            } else {
                o->id = s->next_id++;
            }
            sz__out_values(s, o, u, &cs);
            if (n_old > 0) {
                memmove(u->fired, u->fired + n_old,
                        (u->n_fired - n_old) * sizeof *u->fired);
                u->n_fired -= n_old;
            }
        }
        k->has_final = 1;
        k->frozen = cs.lastjoin;
        k->last_end = cs.end;
        k->origin = u->origin;
        k->next_index++;
        if (SZ_UNLIKELY(s->per_event)) s->key_reach[ki] = sz__held_reach(u)[cs.count - 1];
        /* drop the session's events */
        if (s->keep_events && (uint32_t)cs.count < u->n_ev) {
            u->off += (uint32_t)cs.count;
            u->n_ev -= (uint32_t)cs.count;
            s->open_events -= (size_t)cs.count;
            u->count -= cs.count;
            u->start = u->ev[u->off].t;
            /* per_event: the dropped events' reach stays, as the carry; the
             * events left may start an inactivity session of their own */
            if (SZ_UNLIKELY(s->per_event) && !sz__within_reach(s, u->start, s->key_reach[ki]))
                u->origin = u->start;
        } else {
            k->head = u->next;
            sz__unit_release(s, uid);
            /* the new first unit's events lie past that reach, but an
             * event put before them can still be within it */
            if (SZ_UNLIKELY(s->per_event) && k->head != NIL)
                sz__held_reach(&s->units[k->head])[-1] = s->key_reach[ki];
        }
    }
    if (k->head == NIL && (all || sz__key_expiry(s, k) < s->wm)) {
        /* the list's room was taken above: only the record's is left */
        if (s->freed_records && sz__out_reserve(s, 0, 0) != SZ_OK) return SZ_ERR_NOMEM;
        sz__freed_add(s, k);
        sz__key_unlink(s, ki);
        *freed = 1;
    }
    return SZ_OK;
}

/* The keys a step freed leave the key table: one by one, or, when they
 * are at least as many as the keys left (a flush: all of them), by
 * clearing the table and putting the live keys back, a sequential pass
 * instead of a probe and a backward shift each.  Not for a few keys,
 * though: the table never shrinks, and a quiet stretch of a log, its last
 * key freed one at a time, would clear a table sized for its busiest hour
 * once per key.  freed[0 .. n_freed) are their records, unlinked but not
 * reused yet. */
static void sz__keytab_drop(sz_stream *s, const uint32_t *freed, size_t n_freed)
{
    size_t i;
    if (n_freed < s->live_keys || n_freed < s->tab.n_slots / 16) {
        for (i = 0; i < n_freed; i++)
            sz__keytab_del(&s->tab, s->keys[freed[i]].key, s->keys[freed[i]].ns);
        return;
    }
    sz__keytab_clear(&s->tab);
    if (s->live_keys == 0) return;
    for (i = 0; i < s->n_keys_cap; i++) {
        const sz__key *k = &s->keys[i];
        if (k->heap_pos != NIL) sz__keytab_put(&s->tab, k->key, k->ns, (uint32_t)i);
    }
}

/* ---- the forget queue --------------------------------------------------- */

/* A key left with no open unit waits until its expiry to be forgotten.
 * Emitted one at a time as the watermark passes their dues, such keys come
 * in order of expiry (a constant two gaps and the lateness after their
 * last session's end), so a queue holds them in order: its first entry is
 * the next to expire, reached in O(1) instead of a pop from the top of the
 * heap.  A key whose expiry would come before the queue's last (keys
 * emitted together, per-event gaps) goes to the heap as before. */

/* Whether key ki (no open unit, out of the heap or at its top) can join
 * the queue: its expiry in *due no earlier than the last entry's, and
 * room made.  0: the caller keeps it in the heap (also when the room
 * could not be had: the heap's room is the key's already). */
static int sz__forget_fits(sz_stream *s, uint32_t ki, int64_t *due)
{
    size_t end = s->forget_head + s->forget_n;
    if (s->keys[ki].head != NIL) return 0;
    *due = sz__key_expiry(s, &s->keys[ki]);
    if (s->forget_n > 0 && s->forget[end - 1].due > *due) return 0;
    if (end < s->forget_cap) return 1;
    if (s->forget_head > 0 && s->forget_head >= s->forget_n) {  /* half free: compact */
        memmove(s->forget, s->forget + s->forget_head, s->forget_n * sizeof *s->forget);
        s->forget_head = 0;
        return 1;
    }
    return sz__grow((void **)&s->forget, &s->forget_cap, end + 1, sizeof *s->forget)
           == SZ_OK;
}

static void sz__forget_add(sz_stream *s, uint32_t ki, int64_t due)
{
    sz__forget *e = &s->forget[s->forget_head + s->forget_n++];
    e->due = due;
    e->seq = s->keys[ki].seq;
    e->k = ki;
    s->keys[ki].heap_pos = SZ_FORGETTING;
}

/* Whether the queue's first entry is due (it may be stale). */
SZ_INLINE int sz__forget_due(const sz_stream *s)
{
    return s->forget_n > 0 && s->forget[s->forget_head].due < s->wm;
}

/* Takes the queue's first entry: its key if the entry is its own (the
 * key still waiting, for that expiry), else NIL. */
static uint32_t sz__forget_take(sz_stream *s)
{
    sz__forget e = s->forget[s->forget_head++];
    const sz__key *k = &s->keys[e.k];
    if (--s->forget_n == 0) s->forget_head = 0;
    if (k->heap_pos != SZ_FORGETTING || k->seq != e.seq || sz__key_expiry(s, k) != e.due)
        return NIL;
    return e.k;
}

/* After key ki was processed and kept (out of the heap): into the queue,
 * or back into the heap, which had room for it a moment ago. */
static void sz__requeue(sz_stream *s, uint32_t ki)
{
    int64_t due;
    if (sz__forget_fits(s, ki, &due))
        sz__forget_add(s, ki, due);
    else
        (void)sz__heap_push_key(s, ki, sz__key_due(s, &s->keys[ki]));
}

/* Above this many due keys, an advance stops popping the heap one key at
 * a time (a sift of log n scattered steps each) and takes the rest of the
 * due keys in one pass over the heap, rebuilding it from what is left. */
#define SZ_BULK_POPS 4096

/* Moves every heap entry whose key is due before the watermark to
 * idx[n ..) (and its seq to seq[n ..)), refreshing the stale lower bounds
 * of the others, then rebuilds the heap from those.  Returns the new n. */
static size_t sz__take_due(sz_stream *s, uint64_t *seq, uint32_t *idx, size_t n)
{
    uint32_t i, kept = 0;
    for (i = 0; i < s->heap.n; i++) {
        sz__heap_node nd = s->heap.a[i];
        sz__key *k = &s->keys[nd.k];
        if (nd.due < s->wm) nd.due = sz__key_due(s, k);
        if (nd.due < s->wm) {
            k->heap_pos = NIL - 1;  /* out of the heap, still live */
            seq[n] = k->seq;
            idx[n++] = nd.k;
        } else {
            s->heap.a[kept++] = nd;
        }
    }
    s->heap.n = kept;
    sz__heap_build(&s->heap, SZ_KEYS_POS(s));
    return n;
}

/* Whether no entry but the top's is due before the watermark: the top's
 * children are lower bounds of all the others. */
static int sz__top_alone(const sz_stream *s)
{
    uint32_t j;
    for (j = 1; j <= SZ_HEAP_ARITY && j < s->heap.n; j++)
        if (s->heap.a[j].due < s->wm) return 0;
    return 1;
}

/*
 * Finishes what the watermark has made due (every key when `all`).  The
 * due keys are taken out of the heap, then processed in creation order, so
 * new ids do not depend on the heap's layout (a restored stream's heap is
 * laid out differently and must continue identically).
 */
static sz_status sz__finish_keys(sz_stream *s, int all)
{
    size_t from = s->out_n, n = 0, m = (size_t)s->heap.n + s->forget_n + 1, n_freed = 0,
           i;
    uint64_t *seq, lo = UINT64_MAX;
    uint32_t *idx;
    sz_status st = SZ_OK;
    /* the due keys' seqs and indices, and as many again of scratch for
     * their sort */
    if (sz__grow((void **)&s->due_keys, &s->due_cap, 3 * m, sizeof *s->due_keys)
        != SZ_OK)
        return SZ_ERR_NOMEM;
    /* A flush emits at most a record per session (one per unit, or per
     * event when units are cut) and frees every key: room for them now,
     * rather than growing (and faulting in) the largest buffers step by
     * step. */
    if (all && s->live_keys > 0
        && (sz__out_reserve_n(s, s->keep_events ? s->open_events : s->live_units,
                              0, s->cfg.keep_values ? s->open_events : 0)
                != SZ_OK
            || sz__freed_reserve(s, s->live_keys) != SZ_OK))
        return SZ_ERR_NOMEM;
    seq = s->due_keys;
    idx = (uint32_t *)(void *)(s->due_keys + 2 * m);
    /* the forget queue's due keys (every key's when `all`), each once: a
     * key taken is out of the queue (heap_pos NIL - 1) for its later
     * entries.  Room in the heap first for any of them kept. */
    if ((all || sz__forget_due(s))
        && sz__heap_reserve(&s->heap, (size_t)s->heap.n + s->forget_n) != SZ_OK)
        return SZ_ERR_NOMEM;
    while (s->forget_n > 0 && (all || sz__forget_due(s))) {
        uint32_t ki = sz__forget_take(s);
        if (ki == NIL) continue;
        s->keys[ki].heap_pos = NIL - 1;  /* out of the queue, still live */
        seq[n] = s->keys[ki].seq;
        idx[n++] = ki;
    }
    if (all) {  /* every key: the heap's order is no use, empty it at once */
        for (i = 0; i < s->heap.n; i++) {
            uint32_t ki = s->heap.a[i].k;
            s->keys[ki].heap_pos = NIL - 1;  /* out of the heap, still live */
            seq[n] = s->keys[ki].seq;
            idx[n++] = ki;
        }
        s->heap.n = 0;
    }
    while (s->heap.n > 0 && s->heap.a[0].due < s->wm) {
        uint32_t ki = s->heap.a[0].k;
        int64_t due;
        if (n >= SZ_BULK_POPS) {
            n = sz__take_due(s, seq, idx, n);
            break;
        }
        due = sz__key_due(s, &s->keys[ki]);
        if (due >= s->wm) {  /* a stale lower bound */
            s->heap.a[0].due = due;
            sz__heap_down(&s->heap, SZ_KEYS_POS(s), 0);
            continue;
        }
        if (n == 0 && sz__top_alone(s)) {
            /* The step's only due key (the usual case: the watermark moves
             * an event at a time) needs no sort: it is processed where it
             * is, then sifted down once with its new due, instead of
             * popped (the last entry sifted from the root) and pushed back
             * (a sift up). */
            int freed = 0;
            int64_t expiry;
            st = sz__process_key(s, ki, 0, &freed);
            if (freed) {
                sz__heap_pop_top(&s->heap, SZ_KEYS_POS(s));
                sz__keytab_drop(s, &ki, 1);
            } else if (sz__forget_fits(s, ki, &expiry)) {
                sz__heap_pop_top(&s->heap, SZ_KEYS_POS(s));
                sz__forget_add(s, ki, expiry);
            } else {
                s->heap.a[0].due = sz__key_due(s, &s->keys[ki]);
                sz__heap_down(&s->heap, SZ_KEYS_POS(s), 0);
            }
            break;
        }
        sz__heap_pop_top(&s->heap, SZ_KEYS_POS(s));
        s->keys[ki].heap_pos = NIL - 1;  /* out of the heap, still live */
        seq[n] = s->keys[ki].seq;
        idx[n++] = ki;
    }
    /* by seq (unique), as offsets from the smallest: a radix sort of
     * values, unless the keys came in order */
    for (i = 0; i < n; i++)
        if (seq[i] < lo) lo = seq[i];
    for (i = 0; i < n; i++) seq[i] -= lo;
    for (i = 1; i < n && seq[i - 1] < seq[i]; i++) continue;
#ifdef SZ_TESTING
    sz_test_sort_count(n > 0 ? i - 1 : 0);
#endif
    if (i < n) sz__radix_sort(seq, idx, n, seq + n, idx + n);
    for (i = 0; i < n; i++) {
        uint32_t ki = idx[i];
        int freed = 0;
        if (st == SZ_OK) st = sz__process_key(s, ki, all, &freed);
        if (!freed)
            sz__requeue(s, ki);
        else
            idx[n_freed++] = ki;  /* n_freed <= i: over what was read */
    }
    if (n_freed > 0) sz__keytab_drop(s, idx, n_freed);
    sz__out_sort(s, from);
    return st;
}

/* Runs after every event: most find nothing due, and leave before
 * sz__finish_keys sizes its buffers and sorts an empty step. */
static sz_status sz__process_due(sz_stream *s)
{
    if ((s->heap.n == 0 || s->heap.a[0].due >= s->wm) && !sz__forget_due(s))
        return SZ_OK;
    return sz__finish_keys(s, 0);
}

/* ---- applying one event -------------------------------------------------- */

/* Whether t joins unit u by the gap rule. */
static int sz__joins(const sz_stream *s, const sz__unit *u, int64_t t)
{
    if (t < u->start) return sz__within_gap(s, t, u->start);
    if (t > u->end) return sz__within_gap(s, u->end, t);
    return 1;
}

/* Where event t of key k lands: *prev is the unit before it (NIL: none),
 * *a and *b the units it joins (NIL: none; b only when it bridges a and b). */
static void sz__locate(const sz_stream *s, const sz__key *k, int64_t t,
                       uint32_t *prev, uint32_t *a, uint32_t *b)
{
    uint32_t u, p = NIL;
    *a = *b = NIL;
    for (u = k->head; u != NIL; p = u, u = s->units[u].next) {
        const sz__unit *x = &s->units[u];
        if (sz__joins(s, x, t)) {
            *a = u;
            if (x->next != NIL && sz__joins(s, &s->units[x->next], t)) *b = x->next;
            break;
        }
        if (t < x->start) break;
    }
    *prev = p;
}

/* The origin a new inactivity session starting at t gets: a fixed-mode
 * chain continues across final sessions while the gap rule holds. */
static int64_t sz__new_origin(const sz_stream *s, const sz__key *k, int64_t t)
{
    if (!k->has_final || t <= k->last_end) return t;
    if (s->per_event)  /* within the reach of the final session's events */
        return sz__within_reach(s, t, s->key_reach[k - s->keys]) ? k->origin : t;
    return sz__within_gap(s, k->last_end, t) ? k->origin : t;
}

/* Whether event t would land in a final session (the slow path, for
 * t < watermark).  Builds the merged unit on the scratch buffer. */
static sz_status sz__would_be_final(sz_stream *s, const sz__key *k, int64_t t,
                                    int64_t g, uint32_t a, uint32_t b, int *final)
{
    sz__unit tmp;
    sz__cs cs;
    uint32_t first = 0, at = 0;
    int64_t L = s->cfg.allowed_lateness;
    memset(&tmp, 0, sizeof tmp);
    if (!s->keep_events) {
        tmp.start = t;
        tmp.end = t;
        tmp.count = 1;
        if (a != NIL) {
            const sz__unit *x = &s->units[b != NIL ? b : a];
            if (s->units[a].start < tmp.start) tmp.start = s->units[a].start;
            if (x->end > tmp.end) tmp.end = x->end;
        }
        sz__cut(s, &tmp, 0, &cs);
        *final = sz__sat_add(cs.lastjoin, L) < s->wm;
        return SZ_OK;
    }
    {
        size_t n = 1, i = 0;
        const sz__unit *ua = a != NIL ? &s->units[a] : NULL;
        const sz__unit *ub = b != NIL ? &s->units[b] : NULL;
        n += (ua ? ua->n_ev : 0) + (ub ? ub->n_ev : 0);
        /* per_event: a unit's buffer, its n + 1 reach slots after the events */
        if (sz__grow((void **)&s->scratch, &s->scratch_cap,
                     s->per_event ? n + (n + 2) / 2 : n, sizeof *s->scratch)
            != SZ_OK)
            return SZ_ERR_NOMEM;
        if (ua) {
            const sz__ev *ev = ua->ev + ua->off;
            uint32_t j;
            for (j = 0; j < ua->n_ev && ev[j].t <= t; j++) s->scratch[i++] = ev[j];
            at = (uint32_t)i;
            s->scratch[i].t = t;
            s->scratch[i++].h = 0;
            for (; j < ua->n_ev; j++) s->scratch[i++] = ev[j];
            tmp.origin = t < ua->start ? sz__new_origin(s, k, t) : ua->origin;
        } else {
            s->scratch[i].t = t;
            s->scratch[i++].h = 0;
            tmp.origin = sz__new_origin(s, k, t);
        }
        if (ub) {
            memcpy(s->scratch + i, ub->ev + ub->off, ub->n_ev * sizeof *s->scratch);
            i += ub->n_ev;
        }
        tmp.ev = s->scratch;
        tmp.cap_ev = (uint32_t)n;
        if (SZ_UNLIKELY(s->per_event)) {
            /* the merged reach: the event's t + g raises every held reach
             * from it on, and ub's continue ua's */
            int64_t *R = sz__held_reach(&tmp), run;
            const int64_t *ra = ua ? sz__held_reach(ua) : NULL;
            size_t m = 0, j;
            run = R[-1] = ua ? ra[-1]
                             : k->has_final ? s->key_reach[k - s->keys] : INT64_MIN;
            for (j = 0; j < at; j++) run = R[m++] = ra[j];
            run = R[m++] = run > t + g ? run : t + g;
            if (ua)
                for (j = at; j < ua->n_ev; j++) run = R[m++] = ra[j] > run ? ra[j] : run;
            if (ub) {
                const int64_t *rb = sz__held_reach(ub);
                for (j = 0; j < ub->n_ev; j++) run = R[m++] = rb[j] > run ? rb[j] : run;
            }
        }
        tmp.n_ev = (uint32_t)i;
        tmp.start = s->scratch[0].t;
        tmp.end = s->scratch[i - 1].t;
        tmp.count = (int64_t)i;
        while (sz__cut(s, &tmp, first, &cs)) {
            if (at < first + (uint32_t)cs.count) break;
            first += (uint32_t)cs.count;
        }
        *final = sz__sat_add(cs.lastjoin, L) < s->wm;
    }
    return SZ_OK;
}

/* Merges unit b (right after a) into a. */
static sz_status sz__unit_merge(sz_stream *s, uint32_t a, uint32_t b)
{
    sz__unit *x = &s->units[a], *y = &s->units[b];
    if (s->keep_events) {
        /* + 1: room for the bridging event, so nothing fails after the merge */
        if (x->off + x->n_ev + y->n_ev + 1 > x->cap_ev) {
            if (x->off > 0) sz__unit_compact(s, x);
            if (sz__unit_grow(s, x, (size_t)x->n_ev + y->n_ev + 1) != SZ_OK)
                return SZ_ERR_NOMEM;
        }
    }
    if (y->n_fired > 0
        && sz__grow32((void **)&x->fired, &x->cap_fired,
                      (size_t)x->n_fired + y->n_fired, sizeof *x->fired) != SZ_OK)
        return SZ_ERR_NOMEM;
    /* nothing can fail from here on */
    if (s->keep_events) {
        memcpy(x->ev + x->off + x->n_ev, y->ev + y->off, y->n_ev * sizeof *x->ev);
        if (s->per_event) {  /* y's events continue x's reach */
            int64_t *to = sz__held_reach(x) + x->n_ev, r = to[-1];
            const int64_t *from = sz__held_reach(y);
            uint32_t j;
            for (j = 0; j < y->n_ev; j++) to[j] = from[j] > r ? from[j] : r;
        }
        x->n_ev += y->n_ev;
        s->open_events += y->n_ev;  /* released again with y below */
    }
    if (y->n_fired > 0) {
        memcpy(x->fired + x->n_fired, y->fired, y->n_fired * sizeof *x->fired);
        x->n_fired += y->n_fired;
    }
    x->end = y->end;
    x->count += y->count;
    x->next = y->next;
    sz__unit_release(s, b);
    return SZ_OK;
}

/* Adds event (t, h) to key ki, which it does not make late.  *lands
 * receives the unit it landed in. */
SZ_INLINE sz_status sz__apply(sz_stream *s, uint32_t ki, int64_t t, uint64_t h,
                              int64_t g, uint32_t prev, uint32_t a, uint32_t b,
                              uint32_t *lands)
{
    sz__key *k = &s->keys[ki];
    sz__unit *x;
    if (a == NIL) {
        uint32_t nu = sz__unit_alloc(s);
        if (nu == NIL) return SZ_ERR_NOMEM;
        k = &s->keys[ki];
        x = &s->units[nu];
        x->start = x->end = t;
        x->count = 0;
        x->origin = sz__new_origin(s, k, t);
        /* the key's first open unit may continue its last final session's
         * inactivity session (a cap cut it); a later one cannot */
        if (s->keep_events
            && sz__unit_push_ev(s, x, 0, t, h, g,
                                s->per_event && prev == NIL && k->has_final
                                    ? s->key_reach[ki] : INT64_MIN)
                   != SZ_OK) {
            x->n_ev = 0;
            sz__unit_release(s, nu);
            return SZ_ERR_NOMEM;
        }
        x->count = 1;
        if (prev == NIL) {
            x->next = k->head;
            k->head = nu;
        } else {
            x->next = s->units[prev].next;
            s->units[prev].next = nu;
        }
        *lands = nu;
        return SZ_OK;
    }
    if (b != NIL) {
        sz_status st = sz__unit_merge(s, a, b);
        if (st != SZ_OK) return st;
    }
    x = &s->units[a];
    if (s->keep_events) {
        /* after the last event <= t: ties keep arrival order */
        uint32_t lo = 0, hi = x->n_ev;
        const sz__ev *ev = x->ev + x->off;
        if (hi > 0 && ev[hi - 1].t <= t) {
            lo = hi;
        } else {
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (ev[mid].t <= t) lo = mid + 1; else hi = mid;
            }
        }
        if (sz__unit_push_ev(s, x, lo, t, h, g, INT64_MIN) != SZ_OK) return SZ_ERR_NOMEM;
    }
    /* a new first event: the fixed-mode chain starts there, or continues
     * from the key's last final session */
    if (t < x->start) {
        x->start = t;
        x->origin = sz__new_origin(s, k, t);
    }
    if (t > x->end) x->end = t;
    x->count++;
    *lands = a;
    return SZ_OK;
}

static sz_status sz__key_get(sz_stream *s, uint64_t key, uint32_t ns,
                             uint32_t *out, int *created)
{
    uint32_t ki = sz__keytab_find(&s->tab, key, ns);
    *created = 0;
    if (ki == NIL) {
        sz__key *k;
        if (sz__keytab_reserve(&s->tab, (size_t)s->live_keys + 1) != SZ_OK)
            return SZ_ERR_NOMEM;
        if (s->free_key == NIL) {
            uint32_t old = s->n_keys_cap, i, cap = old;
            /* key_reach first: at least as large as keys whatever fails */
            if (s->per_event
                && sz__grow32((void **)&s->key_reach, &cap, (size_t)old + 1,
                              sizeof *s->key_reach) != SZ_OK)
                return SZ_ERR_NOMEM;
            if (sz__grow32((void **)&s->keys, &s->n_keys_cap, (size_t)old + 1,
                           sizeof *s->keys) != SZ_OK)
                return SZ_ERR_NOMEM;
            for (i = s->n_keys_cap; i-- > old;) {
                s->keys[i].heap_pos = NIL;
                s->keys[i].head = s->free_key;
                s->free_key = i;
            }
        }
        ki = s->free_key;
        k = &s->keys[ki];
        s->free_key = k->head;
        memset(k, 0, sizeof *k);
        k->key = key;
        k->ns = ns;
        k->head = NIL;
        k->heap_pos = NIL;
        k->seq = s->next_seq++;
        if (SZ_UNLIKELY(s->per_event)) s->key_reach[ki] = INT64_MIN;
        sz__keytab_put(&s->tab, key, ns, ki);
        s->live_keys++;
        *created = 1;
    }
    *out = ki;
    return SZ_OK;
}

/* Reports event t of `key` as late. */
static sz_status sz__late(sz_stream *s, uint64_t key, uint32_t ns, int64_t t)
{
    sz__key tk;
    sz_stream_out *o;
    if (sz__out_reserve(s, 0, 0) != SZ_OK) return SZ_ERR_NOMEM;
    memset(&tk, 0, sizeof tk);
    tk.key = key;
    tk.ns = ns;
    o = sz__out_add(s, SZ_OUT_LATE, &tk, INT64_MIN, t);
    o->end = t;
    o->count = 1;
    s->late_count++;
    return SZ_OK;
}

/* Whether event t of key ki (NIL: a key holding nothing) is late. */
static sz_status sz__is_late(sz_stream *s, uint32_t ki, int64_t t, int64_t g,
                             int *late)
{
    uint32_t prev, a = NIL, b = NIL;
    sz__key none;
    const sz__key *k = &none;
    memset(&none, 0, sizeof none);
    none.head = NIL;
    if (ki != NIL) {
        k = &s->keys[ki];
        if (k->has_final && t <= k->frozen) {
            *late = 1;
            return SZ_OK;
        }
        sz__locate(s, k, t, &prev, &a, &b);
    }
    return sz__would_be_final(s, k, t, g, a, b, late);
}

/* One event.  *late is set when it was late (and then nothing changed). */
SZ_INLINE sz_status sz__push_one_applied(sz_stream *s, uint64_t key, uint32_t ns,
                                         int64_t t, uint64_t h, int64_t g, int *late);

/* Consumes one event, or, failing (SZ_ERR_NOMEM), leaves the stream as it
 * was: the watermark this event would raise is put back too.  Otherwise a
 * retry of the call would run the watermark step before the event is in
 * (its first act is to finish what is due), and could forget a key that the
 * event keeps alive in a call that does not fail: the key's final session
 * would then no longer make a later event late (found by fuzz_stream). */
SZ_INLINE sz_status sz__push_one(sz_stream *s, uint64_t key, uint32_t ns,
                                 int64_t t, uint64_t h, int64_t g, int *late)
{
    int64_t wm = s->wm, max_seen = s->max_seen;
    int seen_any = s->seen_any;
    sz_status st = sz__push_one_applied(s, key, ns, t, h, g, late);
    if (st != SZ_OK) {
        s->wm = wm;
        s->max_seen = max_seen;
        s->seen_any = seen_any;
    }
    return st;
}

SZ_INLINE sz_status sz__push_one_applied(sz_stream *s, uint64_t key, uint32_t ns,
                                         int64_t t, uint64_t h, int64_t g, int *late)
{
    uint32_t ki, prev, a, b, lands;
    int created;
    sz_status st;
    *late = 0;
    if (!s->seen_any || t > s->max_seen) {
        int64_t w;
        s->max_seen = t;
        s->seen_any = 1;
        /* t - delay, saturating at INT64_MIN */
        w = t < INT64_MIN + s->cfg.delay ? INT64_MIN : t - s->cfg.delay;
        if (w > s->wm) s->wm = w;
    }
    if (t < s->wm) {  /* only an event behind the watermark can be late */
        if (s->wm == INT64_MAX)  /* +infinity (flush): every event is late */
            *late = 1;
        else if ((st = sz__is_late(s, sz__keytab_find(&s->tab, key, ns), t, g, late))
                 != SZ_OK)
            return st;
        if (*late) return sz__late(s, key, ns, t);
    }
    st = sz__key_get(s, key, ns, &ki, &created);
    if (st != SZ_OK) return st;
    /* a key waiting in the forget queue goes back to the heap: room first */
    if (SZ_UNLIKELY(s->keys[ki].heap_pos == SZ_FORGETTING)
        && sz__heap_reserve(&s->heap, (size_t)s->heap.n + 1) != SZ_OK)
        return SZ_ERR_NOMEM;
    /* A key's final session can lie at or past the stream's watermark when
     * sz_stream_advance_key() took the key further (or a snapshot says
     * so): an event that would reach into it is late all the same. */
    if (SZ_UNLIKELY(s->keys[ki].has_final && t <= s->keys[ki].frozen)) {
        *late = 1;
        return sz__late(s, key, ns, t);
    }
    sz__locate(s, &s->keys[ki], t, &prev, &a, &b);
    st = sz__apply(s, ki, t, h, g, prev, a, b, &lands);
    if (st != SZ_OK) {
        if (created) sz__key_release(s, ki);
        return st;
    }
    if (created) {
        st = sz__heap_push_key(s, ki, sz__key_due(s, &s->keys[ki]));
        if (st != SZ_OK) {  /* undo: the key holds only this event */
            sz__unit_release(s, s->keys[ki].head);
            sz__key_release(s, ki);
        }
        return st;
    }
    if (SZ_UNLIKELY(s->keys[ki].heap_pos == SZ_FORGETTING)) {
        /* its queue entry is left behind, skipped when it comes first */
        (void)sz__heap_push_key(s, ki, sz__key_due(s, &s->keys[ki]));  /* room made */
        return SZ_OK;
    }
    /* Only the unit the event landed in changed.  When it is the key's
     * only unit (the usual case), its due is the key's, and the entry moves
     * there now, usually later: sifted down from where it sits, most often
     * at or near the bottom, a step or two.  Left as a stale lower bound,
     * it would come to the top when the watermark passed it and be sifted
     * down the whole heap, once for every event that extended a session
     * (the heap was a quarter of bench-stream's time).  With several units
     * the key's due is the smaller of its old one and that unit's. */
    if (s->keys[ki].head == lands && s->units[lands].next == NIL)
        sz__heap_move(&s->heap, SZ_KEYS_POS(s), ki, sz__unit_due(s, &s->units[lands]));
    else
        sz__heap_lower(&s->heap, SZ_KEYS_POS(s), ki, sz__unit_due(s, &s->units[lands]));
    /* An update-mode session this event changed is re-fired by the
     * watermark step that follows (the unit is due before the watermark),
     * in that step's order. */
    return SZ_OK;
}

/* Pieces stream_snapshot.c rebuilds a stream with. */
sz_status sz__stream_key_new(sz_stream *s, uint64_t key, uint32_t ns,
                             uint32_t *out, int *created)
{
    return sz__key_get(s, key, ns, out, created);
}

uint32_t sz__stream_unit_new(sz_stream *s) { return sz__unit_alloc(s); }

sz_status sz__stream_unit_grow(sz_stream *s, sz__unit *u, size_t need)
{
    return sz__unit_grow(s, u, need);
}

sz_status sz__stream_heap_add(sz_stream *s, uint32_t k)
{
    return sz__heap_push_key(s, k, sz__key_due(s, &s->keys[k]));
}

int sz__stream_within_gap(const sz_stream *s, int64_t a, int64_t b)
{
    return sz__within_gap(s, a, b);
}

int64_t sz__stream_key_due(const sz_stream *s, const sz__key *k)
{
    return sz__key_due(s, k);
}

/* ---- the public functions ------------------------------------------------ */

static void sz__out_clear(sz_stream *s)
{
    s->out_n = s->ids_n = s->h_n = s->freed_n = 0;
}

sz_status sz_stream_new(const sz_stream_config *cfg, sz_stream **out)
{
    sz_stream *s;
    if (out) *out = NULL;
    if (cfg == NULL || out == NULL || sz_params_check(&cfg->session) != SZ_OK
        || cfg->delay < 0 || cfg->allowed_lateness < 0
        || (cfg->emit != SZ_EMIT_FINAL && cfg->emit != SZ_EMIT_UPDATE))
        return SZ_ERR_PARAM;
    s = (sz_stream *)SZ_CALLOC(1, sizeof *s);
    if (s == NULL) return SZ_ERR_NOMEM;
    s->cfg = *cfg;
    s->cfg.keep_values = cfg->keep_values ? 1 : 0;
    s->cfg.session.inclusive = cfg->session.inclusive ? 1 : 0;
    s->cfg.session.min_is_nat = cfg->session.min_is_nat ? 1 : 0;
    if (cfg->session.cap_mode == SZ_CAP_NONE) s->cfg.session.max_duration = 0;
    sz__rule_init(&s->rule, &cfg->session);
    s->cfg.per_event_gaps = cfg->per_event_gaps ? 1 : 0;
    s->per_event = s->cfg.per_event_gaps;
    /* per-event gaps: a unit (the gap rule with the largest gap) can hold
     * several sessions, cut from its events as a cap's are */
    s->keep_events = s->cfg.keep_values || s->rule.mode != SZ_CAP_NONE || s->per_event;
    s->join_span = (int64_t)(s->rule.gap_thr - 1);
    s->wm = INT64_MIN;
    s->freed_records = 1;
    s->free_key = s->free_unit = NIL;
    if (sz__keytab_init(&s->tab, 8) != SZ_OK) {
        SZ_FREE(s);
        return SZ_ERR_NOMEM;
    }
    *out = s;
    return SZ_OK;
}

void sz_stream_free(sz_stream *s)
{
    uint32_t i;
    if (s == NULL) return;
    for (i = 0; i < s->n_units_cap; i++) {
        SZ_FREE(s->units[i].ev);
        SZ_FREE(s->units[i].fired);
    }
    SZ_FREE(s->key_reach);
    SZ_FREE(s->units);
    SZ_FREE(s->keys);
    sz__keytab_free(&s->tab);
    sz__heap_free(&s->heap);
    SZ_FREE(s->forget);
    SZ_FREE(s->out);
    SZ_FREE(s->out_key);
    SZ_FREE(s->out_perm);
    SZ_FREE(s->out_ids);
    SZ_FREE(s->out_h);
    SZ_FREE(s->freed);
    SZ_FREE(s->scratch);
    SZ_FREE(s->due_keys);
    SZ_FREE(s);
}

void sz_stream_config_get(const sz_stream *s, sz_stream_config *cfg)
{
    *cfg = s->cfg;
}

/* Both push functions, inlined into each: with gaps NULL (a constant
 * there), the scalar streams' loop is what it was before per-event gaps. */
SZ_INLINE sz_status sz__push_events(sz_stream *s, const uint64_t *keys, const uint8_t *ns,
                                    const int64_t *times, const int64_t *gaps,
                                    const uint64_t *handles, size_t n, int stop_at_late,
                                    size_t *n_done, size_t *err_pos)
{
    size_t i;
    sz_status st = SZ_OK;
    if (n_done) *n_done = 0;
    if (err_pos) *err_pos = SZ_NO_POSITION;
    sz__out_clear(s);
    if (n > 0 && (keys == NULL || times == NULL
                  || (s->cfg.keep_values && handles == NULL)))
        return SZ_ERR_PARAM;
    if (gaps != NULL && !s->per_event) return SZ_ERR_PARAM;
    for (i = 0; i < n; i++) {
        st = sz__time_check(&s->rule, times[i]);
        if (st == SZ_OK && gaps != NULL && (gaps[i] < 1 || gaps[i] > s->rule.gap))
            st = SZ_ERR_GAP;  /* t + gaps[i] <= t + gap: cannot overflow */
        if (st != SZ_OK) {
            if (err_pos) *err_pos = i;
            return st;
        }
    }
    /* What a call that failed (SZ_ERR_NOMEM) left due is finished first, so
     * no event is judged against a session already final but not emitted;
     * after a call that succeeded, nothing is due */
    st = sz__process_due(s);
    if (st != SZ_OK) return st;
    for (i = 0; i < n; i++) {
        int late;
        size_t before = s->out_n;
        st = sz__push_one(s, keys[i], ns ? ns[i] : 0, times[i],
                          handles ? handles[i] : 0, gaps ? gaps[i] : s->rule.gap, &late);
        if (st != SZ_OK) break;
        if (late) s->out[before].pos = i;
        st = sz__process_due(s);
        if (st != SZ_OK) {
            i++;
            break;
        }
        if (late && stop_at_late) {
            i++;
            break;
        }
    }
    if (n_done) *n_done = i;
    return st;
}

sz_status sz_stream_push(sz_stream *s, const uint64_t *keys, const uint8_t *ns,
                         const int64_t *times, const uint64_t *handles, size_t n,
                         int stop_at_late, size_t *n_done, size_t *err_pos)
{
    return sz__push_events(s, keys, ns, times, NULL, handles, n, stop_at_late, n_done,
                           err_pos);
}

sz_status sz_stream_push_gaps(sz_stream *s, const uint64_t *keys, const uint8_t *ns,
                              const int64_t *times, const int64_t *gaps,
                              const uint64_t *handles, size_t n, int stop_at_late,
                              size_t *n_done, size_t *err_pos)
{
    if (gaps == NULL)
        return sz_stream_push(s, keys, ns, times, handles, n, stop_at_late, n_done,
                              err_pos);
    return sz__push_events(s, keys, ns, times, gaps, handles, n, stop_at_late, n_done,
                           err_pos);
}

int sz_stream_has_key(const sz_stream *s, uint64_t key, uint32_t ns)
{
    return sz__keytab_find(&s->tab, key, ns) != NIL;
}

size_t sz_stream_value_handles(const sz_stream *s, uint64_t *out)
{
    size_t n = 0;
    uint32_t i, u, e;
    if (!s->cfg.keep_values) return 0;
    for (i = 0; i < s->n_keys_cap; i++) {
        if (s->keys[i].heap_pos == NIL) continue;  /* a free slot */
        for (u = s->keys[i].head; u != NIL; u = s->units[u].next) {
            const sz__unit *x = &s->units[u];
            for (e = 0; e < x->n_ev; e++) out[n++] = x->ev[x->off + e].h;
        }
    }
    return n;
}

size_t sz_stream_keys_in(const sz_stream *s, uint32_t ns)
{
    size_t n = 0;
    uint32_t i;
    /* a free slot has heap_pos NIL (sz__key_release) */
    for (i = 0; i < s->n_keys_cap; i++)
        n += s->keys[i].heap_pos != NIL && s->keys[i].ns == ns;
    return n;
}

sz_status sz_stream_advance(sz_stream *s, int64_t wm)
{
    /* INT64_MAX is +infinity, as after a flush (every later event is late):
     * everything is final then, even sessions whose due saturates there */
    if (wm == INT64_MAX) return sz_stream_flush(s);
    sz__out_clear(s);
    if (wm > s->wm) s->wm = wm;
    return sz__process_due(s);
}

sz_status sz_stream_flush(sz_stream *s)
{
    sz_status st;
    sz__out_clear(s);
    s->wm = INT64_MAX;
    st = sz__finish_keys(s, 1);
    return st;
}

const sz_stream_out *sz_stream_output(const sz_stream *s, size_t *n,
                                      const uint64_t **ids,
                                      const uint64_t **handles)
{
    if (n) *n = s->out_n;
    if (ids) *ids = s->out_ids;
    if (handles) *handles = s->out_h;
    return s->out;
}

const sz_stream_key *sz_stream_freed_keys(const sz_stream *s, size_t *n)
{
    if (n) *n = s->freed_n;
    return s->freed;
}

void sz_stream_set_key_freed_records(sz_stream *s, int on)
{
    s->freed_records = on ? 1 : 0;
}

void sz_stream_stats_get(const sz_stream *s, sz_stream_stats *st)
{
    uint32_t i;
    size_t bytes = sizeof *s;
    st->watermark = s->wm;
    st->late_count = s->late_count;
    st->keys = s->live_keys;
    st->open_sessions = s->live_units;
    st->open_events = s->open_events;
    bytes += (size_t)s->n_keys_cap * sizeof *s->keys;
    bytes += (size_t)s->n_units_cap * sizeof *s->units;
    for (i = 0; i < s->n_units_cap; i++)
        bytes += (size_t)s->units[i].cap_ev * sizeof(sz__ev)
                 + (size_t)s->units[i].cap_fired * sizeof(sz__fired);
    bytes += s->tab.n_slots * sizeof *s->tab.slots;
    bytes += (size_t)s->heap.cap * sizeof *s->heap.a;
    bytes += s->forget_cap * sizeof *s->forget;
    bytes += s->out_cap * (sizeof *s->out + sizeof *s->out_key);
    bytes += s->perm_cap * sizeof *s->out_perm;
    bytes += s->ids_cap * sizeof *s->out_ids + s->h_cap * sizeof *s->out_h;
    bytes += s->freed_cap * sizeof *s->freed;
    bytes += s->scratch_cap * sizeof *s->scratch;
    st->bytes = bytes;
}

int64_t sz_stream_next_due(const sz_stream *s)
{
    int64_t due = INT64_MAX;
    uint32_t i;
    /* not the heap's top: its entries are lazy lower bounds */
    for (i = 0; i < s->n_keys_cap; i++) {
        const sz__key *k = &s->keys[i];
        int64_t d;
        if (k->heap_pos == NIL || k->head == NIL) continue;  /* free, or no open unit */
        d = sz__key_due(s, k);
        if (d < due) due = d;
    }
    return due;
}

int64_t sz_stream_key_due(const sz_stream *s, uint64_t key, uint32_t ns)
{
    uint32_t ki = sz__keytab_find(&s->tab, key, ns);
    if (ki == NIL || s->keys[ki].head == NIL) return INT64_MAX;
    return sz__key_due(s, &s->keys[ki]);
}

sz_status sz_stream_advance_key(sz_stream *s, uint64_t key, uint32_t ns, int64_t wm)
{
    uint32_t ki;
    int64_t saved = s->wm;
    int freed = 0;
    sz_status st;
    sz__out_clear(s);
    ki = sz__keytab_find(&s->tab, key, ns);
    if (ki == NIL) return SZ_OK;
    if (s->keys[ki].heap_pos == SZ_FORGETTING) {
        /* out of the forget queue (its entry is skipped when it comes
         * first), with room in the heap for its return below */
        if (sz__heap_reserve(&s->heap, (size_t)s->heap.n + 1) != SZ_OK)
            return SZ_ERR_NOMEM;
    } else {
        /* out of the heap first (lowered to the top, then popped), as
         * sz__finish_keys takes a due key out; back in below unless freed */
        sz__heap_lower(&s->heap, SZ_KEYS_POS(s), ki, INT64_MIN);
        sz__heap_pop_top(&s->heap, SZ_KEYS_POS(s));
    }
    s->keys[ki].heap_pos = NIL - 1;
    if (wm > s->wm) s->wm = wm;
    st = sz__process_key(s, ki, 0, &freed);
    if (freed) sz__keytab_del(&s->tab, key, ns);
    s->wm = saved;
    if (st == SZ_OK && !freed && s->keys[ki].head == NIL) {
        /* nothing open: the caller judges lateness, the key can go now */
        if (sz__freed_reserve(s, 1) != SZ_OK) {
            st = SZ_ERR_NOMEM;
        } else {
            sz__freed_add(s, &s->keys[ki]);
            sz__key_release(s, ki);
            freed = 1;
        }
    }
    /* the heap had room for it a moment ago */
    if (!freed) (void)sz__heap_push_key(s, ki, sz__key_due(s, &s->keys[ki]));
    sz__out_sort(s, 0);
    return st;
}
