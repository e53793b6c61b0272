/*
 * ctr_stream.c -- the streaming form of search CTR (tier 3 of sessionize.h).
 *
 * The rule is sz_ctr.h's, applied per key to the key's "prefix": its events
 * at or before the watermark, in (time, ordinal) order.  Once in the
 * prefix an event is never revisited, so a key needs only
 *   - the rule's state (sz_ctr_state: the open search and the last event)
 *     and its open session's searches (ordinal, time, clicks);
 *   - the events after the watermark, in a small buffer sorted by
 *     (time, ordinal), which enter the prefix as the watermark reaches them.
 * The rule's state matters only while a search is open (sz__ctr_rule reads
 * st.last only then; without a search only a SEARCH does anything and it
 * resets st.last), so a key with no search open and an empty buffer is
 * freed: it holds no memory.  Without a gap or a delay (the first Bytewax
 * seed) the table holds exactly the keys with a search open.
 *
 * Keys are found through sz_keytab.h's table.  A key is in sz_keytab.h's
 * heap when something will happen to it as the watermark moves: a buffered
 * event enters (at its time), or, with a gap, its open session ends (at its
 * last time + gap_thr).  The heap entry is a lower bound, lowered when an
 * event brings the due forward and left alone when an event pushes it back
 * (an open session's every event would otherwise cost a sift); a key
 * popped before its time is put back at its true due.
 *
 * Every event is applied all or nothing: what it may need (a row, an output
 * slot, a heap slot) is reserved before anything changes, so an allocation
 * failure leaves a stream that has consumed exactly the events it reports.
 *
 * Output order does not depend on the heap's layout (a restored stream
 * continues identically): the sessions a call closes are collected with
 * their close key (flushed?, moment, rank, ordinal), which no two share,
 * and sorted when the call ends; only then are their numbers given.
 */
#include "sz_ctr_stream_internal.h"
#include "sz_sort.h"

#include <stdlib.h>

#define SZ_KEYS_POS(s) SZ_HEAP_POS((s)->keys, heap_pos)

/* ---- output --------------------------------------------------------------- */

/* Room for one more close holding `rows` rows, `misc` more late/freed
 * records, the output they end up in, and one more heap entry. */
static sz_status sz__reserve(sz_ctr_stream *s, size_t rows, size_t misc)
{
    if (sz__grow((void **)&s->closes, &s->cap_closes, s->n_closes + 1,
                 sizeof *s->closes) != SZ_OK
        || sz__grow((void **)&s->order, &s->cap_order, 2 * (s->n_closes + 1),
                    sizeof *s->order) != SZ_OK
        || sz__grow((void **)&s->pend, &s->cap_pend, s->n_pend + rows,
                    sizeof *s->pend) != SZ_OK
        || sz__grow((void **)&s->misc, &s->cap_misc, s->n_misc + misc,
                    sizeof *s->misc) != SZ_OK
        || sz__grow((void **)&s->out, &s->cap_out,
                    s->n_pend + rows + s->n_misc + misc, sizeof *s->out) != SZ_OK
        || sz__heap_reserve(&s->heap, (size_t)s->heap.n + 1) != SZ_OK)
        return SZ_ERR_NOMEM;
    return SZ_OK;
}

/* The key's open session closes: its searches go to the pending rows. */
static void sz__close(sz_ctr_stream *s, sz__ckey *k, uint32_t cls, uint32_t rank,
                      int64_t moment, uint64_t ord)
{
    sz__cclose *c = &s->closes[s->n_closes++];
    c->cls = cls;
    c->rank = rank;
    c->moment = moment;
    c->ord = ord;
    c->key = k->key;
    c->ns = k->ns;
    c->row = s->n_pend;
    c->n = k->n_rows;
    memcpy(s->pend + s->n_pend, k->rows, k->n_rows * sizeof *k->rows);
    s->n_pend += k->n_rows;
    s->open_rows -= k->n_rows;
    s->open_keys--;
    k->n_rows = 0;
    k->st.search = SZ_CTR_NONE;
}

static int sz__close_cmp(const void *ctx, size_t ia, size_t ib)
{
    const sz__cclose *a = (const sz__cclose *)ctx + ia;
    const sz__cclose *b = (const sz__cclose *)ctx + ib;
    if (a->cls != b->cls) return a->cls < b->cls ? -1 : 1;
    if (a->moment != b->moment) return a->moment < b->moment ? -1 : 1;
    if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
    if (a->ord != b->ord) return a->ord < b->ord ? -1 : 1;
    return 0;
}

/* Ends a call: the closes in order, numbered, their rows, then the rest.
 * Allocates nothing (sz__reserve made room, the sort's too), so it runs on
 * every exit.  The sort is sz_sort.h's, as the incremental stream's: a
 * flush closes every open session at once, in key-slot order. */
static void sz__finish(sz_ctr_stream *s)
{
    size_t i, j, o = 0;
    if (s->n_closes > 0) {  /* order is NULL until a close reserved it */
        for (i = 0; i < s->n_closes; i++) s->order[i] = i;
        sz__sort_idx(s->order, s->n_closes, s->order + s->n_closes, sz__close_cmp,
                     s->closes);
    }
    for (i = 0; i < s->n_closes; i++) {
        const sz__cclose *c = &s->closes[s->order[i]];
        uint64_t session = s->next_session++;
        for (j = 0; j < c->n; j++) {
            const sz__csearch *r = &s->pend[c->row + j];
            sz_ctr_stream_out *x = &s->out[o++];
            x->kind = SZ_CTR_OUT_ROW;
            x->key_ns = c->ns;
            x->key = c->key;
            x->session = session;
            x->search = r->ord;
            x->time = r->t;
            x->clicks = r->clicks;
            x->pos = 0;
        }
    }
    if (s->n_misc) memcpy(s->out + o, s->misc, s->n_misc * sizeof *s->misc);
    s->n_out = o + s->n_misc;
    s->n_closes = s->n_pend = s->n_misc = 0;
}

/* ---- keys ------------------------------------------------------------------ */

sz_status sz__cstream_key_new(sz_ctr_stream *s, uint64_t key, uint32_t ns,
                              uint32_t *out)
{
    uint32_t ki;
    sz__ckey *k;
    if (sz__keytab_reserve(&s->tab, (size_t)s->live_keys + 1) != SZ_OK)
        return SZ_ERR_NOMEM;
    if (s->free_key == NIL) {
        uint32_t old = s->n_keys_cap, i;
        if (sz__grow32((void **)&s->keys, &s->n_keys_cap, (size_t)old + 1,
                       sizeof *s->keys) != SZ_OK)
            return SZ_ERR_NOMEM;
        for (i = s->n_keys_cap; i-- > old;) {
            memset(&s->keys[i], 0, sizeof s->keys[i]);
            s->keys[i].heap_pos = NIL;
            s->keys[i].next_free = s->free_key;
            s->free_key = i;
        }
    }
    ki = s->free_key;
    k = &s->keys[ki];
    s->free_key = k->next_free;
    /* rows and buf stay from the record's last use: a pool */
    k->key = key;
    k->ns = ns;
    k->heap_pos = NIL;
    k->live = 1;
    k->n_rows = k->n_buf = k->off = 0;
    k->st.search = SZ_CTR_NONE;
    k->st.last = 0;
    k->st.last_pos = 0;
    k->last_ord = 0;
    sz__keytab_put(&s->tab, key, ns, ki);
    s->live_keys++;
    *out = ki;
    return SZ_OK;
}

/* The key holds nothing: out of the table and the heap, back to the pool
 * (its buffers kept unless large).  `report`: say so to the binding. */
static void sz__key_release(sz_ctr_stream *s, uint32_t ki, int report)
{
    sz__ckey *k = &s->keys[ki];
    if (k->heap_pos != NIL) {
        sz__heap_remove(&s->heap, SZ_KEYS_POS(s), k->heap_pos);
        k->heap_pos = NIL;
    }
    sz__keytab_del(&s->tab, k->key, k->ns);
    if (report && k->ns != 0) {  /* room: every caller reserved one record */
        sz_ctr_stream_out *x = &s->misc[s->n_misc++];
        memset(x, 0, sizeof *x);
        x->kind = SZ_CTR_OUT_KEY_FREED;
        x->key = k->key;
        x->key_ns = k->ns;
    }
    if (k->cap_rows > 16) {
        SZ_FREE(k->rows);
        k->rows = NULL;
        k->cap_rows = 0;
    }
    if (k->cap_buf > 16) {
        SZ_FREE(k->buf);
        k->buf = NULL;
        k->cap_buf = 0;
    }
    k->live = 0;
    k->next_free = s->free_key;
    s->free_key = ki;
    s->live_keys--;
}

/* The watermark value at which something happens to the key. */
static int64_t sz__ckey_due(const sz_ctr_stream *s, const sz__ckey *k)
{
    int64_t due = INT64_MAX;
    if (k->n_buf > 0) due = k->buf[k->off].t;
    if (s->have_gap && k->st.search != SZ_CTR_NONE) {
        /* the first watermark sz__ctr_gap_passed() says yes to */
        uint64_t room = (uint64_t)INT64_MAX - (uint64_t)k->st.last;
        int64_t g = room < s->rule.gap_thr
                        ? INT64_MAX
                        : (int64_t)((uint64_t)k->st.last + s->rule.gap_thr);
        if (g < due) due = g;
    }
    return due;
}

/*
 * After a change to key ki: frees it if it holds nothing, else brings its
 * heap entry in line: `exact` sets it to the key's due, otherwise it is
 * only lowered (a lower bound is enough; see the header comment).  Cannot
 * fail when sz__reserve() made room for a heap entry and a record.
 */
static sz_status sz__settle(sz_ctr_stream *s, uint32_t ki, int exact)
{
    sz__ckey *k = &s->keys[ki];
    int open = k->st.search != SZ_CTR_NONE;
    int64_t due;
    if (!open && k->n_buf == 0) {
        sz__key_release(s, ki, 1);
        return SZ_OK;
    }
    if (k->n_buf == 0 && !s->have_gap) {  /* nothing the watermark can do */
        if (k->heap_pos != NIL) {
            sz__heap_remove(&s->heap, SZ_KEYS_POS(s), k->heap_pos);
            k->heap_pos = NIL;
        }
        return SZ_OK;
    }
    due = sz__ckey_due(s, k);
    if (k->heap_pos == NIL) return sz__heap_push(&s->heap, SZ_KEYS_POS(s), ki, due);
    if (due < s->heap.a[k->heap_pos].due || !exact) {
        sz__heap_lower(&s->heap, SZ_KEYS_POS(s), ki, due);
    } else {
        s->heap.a[k->heap_pos].due = due;
        sz__heap_down(&s->heap, SZ_KEYS_POS(s), k->heap_pos);
    }
    return SZ_OK;
}

sz_status sz__cstream_settle(sz_ctr_stream *s, uint32_t ki)
{
    return sz__settle(s, ki, 1);
}

/* ---- the rule ------------------------------------------------------------- */

/* One event enters key ki's prefix (t >= its last).  All or nothing. */
static sz_status sz__apply(sz_ctr_stream *s, uint32_t ki, unsigned kind, int64_t t,
                           uint64_t ord)
{
    sz__ckey *k = &s->keys[ki];
    unsigned what = sz__ctr_rule(&k->st, &s->rule, s->have_gap, kind, t);
    if (what != 0) {
        size_t closing = (what & (SZ_CTR_GAP | SZ_CTR_CLOSE)) ? k->n_rows : 0;
        if (sz__reserve(s, closing, 1) != SZ_OK) return SZ_ERR_NOMEM;
        if ((what & (SZ_CTR_FIRST | SZ_CTR_NEXT))
            && sz__grow32((void **)&k->rows, &k->cap_rows, (size_t)k->n_rows + 1,
                          sizeof *k->rows) != SZ_OK)
            return SZ_ERR_NOMEM;
        if (what & SZ_CTR_GAP)  /* times are checked for last + gap */
            sz__close(s, k, 0, s->rank_gap, k->st.last + s->rule.gap, k->last_ord);
        if (what & (SZ_CTR_FIRST | SZ_CTR_NEXT)) {
            sz__csearch *r = &k->rows[k->n_rows++];
            r->ord = ord;
            r->t = t;
            r->clicks = 0;
            if (what & SZ_CTR_FIRST) s->open_keys++;
            s->open_rows++;
            k->st.search = k->n_rows - 1;
        } else if (what & SZ_CTR_CLICK) {
            k->rows[k->st.search].clicks++;
        } else if (what & SZ_CTR_CLOSE) {
            sz__close(s, k, 0, s->rank_event, t, ord);
        }
    } else if (sz__reserve(s, 0, 1) != SZ_OK) {  /* settle's record */
        return SZ_ERR_NOMEM;
    }
    sz__ctr_seen(&k->st, t, 0);
    k->last_ord = ord;
    return SZ_OK;
}

/* Applies what the watermark has reached: buffered events at or before it,
 * in order, and the gap closes it has passed. */
static sz_status sz__drain(sz_ctr_stream *s)
{
    while (s->heap.n > 0 && s->heap.a[0].due <= s->wm) {
        uint32_t ki = s->heap.a[0].k;
        sz__ckey *k = &s->keys[ki];
        int64_t due = sz__ckey_due(s, k);
        sz_status st;
        if (due > s->wm) {  /* a stale lower bound */
            s->heap.a[0].due = due;
            sz__heap_down(&s->heap, SZ_KEYS_POS(s), 0);
            continue;
        }
        /* The settle's room (a key-freed record), before anything changes:
         * failing after the key's last event or close, this would leave a
         * key holding nothing unsettled, never freed, and refused by the
         * restore of the stream's own snapshot (found by fuzz_ctr_stream).
         * Every apply and close below reserves at least as much again. */
        if (sz__reserve(s, 0, 1) != SZ_OK) return SZ_ERR_NOMEM;
        while (k->n_buf > 0 && k->buf[k->off].t <= s->wm) {
            sz__cev e = k->buf[k->off];
            st = sz__apply(s, ki, e.kind, e.t, e.ord);
            if (st != SZ_OK) return st;
            k = &s->keys[ki];
            k->off++;
            k->n_buf--;
            s->buffered--;
            if (k->n_buf == 0) k->off = 0;
        }
        if (s->have_gap && k->st.search != SZ_CTR_NONE
            && sz__ctr_gap_passed(&s->rule, k->st.last, s->wm)) {
            if (sz__reserve(s, k->n_rows, 1) != SZ_OK) return SZ_ERR_NOMEM;
            sz__close(s, k, 0, s->rank_gap, k->st.last + s->rule.gap, k->last_ord);
        }
        (void)sz__settle(s, ki, 1);  /* room reserved: cannot fail */
    }
    return SZ_OK;
}

/* Moves the watermark to wm if that is later, and drains. */
static sz_status sz__raise(sz_ctr_stream *s, int64_t wm)
{
    if (wm > s->wm) s->wm = wm;
    if (s->heap.n > 0 && s->heap.a[0].due <= s->wm) return sz__drain(s);
    return SZ_OK;
}

/* An event behind the watermark. */
static sz_status sz__late(sz_ctr_stream *s, uint64_t key, uint32_t ns,
                          unsigned kind, int64_t t, uint64_t ord, size_t pos)
{
    sz_ctr_stream_out *x;
    if (sz__grow((void **)&s->misc, &s->cap_misc, s->n_misc + 1, sizeof *s->misc)
            != SZ_OK
        || sz__grow((void **)&s->out, &s->cap_out, s->n_pend + s->n_misc + 1,
                    sizeof *s->out) != SZ_OK)
        return SZ_ERR_NOMEM;
    x = &s->misc[s->n_misc++];
    memset(x, 0, sizeof *x);
    x->kind = SZ_CTR_OUT_LATE;
    x->key = key;
    x->key_ns = ns;
    x->search = ord;
    x->time = t;
    x->clicks = (int64_t)kind;
    x->pos = pos;
    s->late_count++;
    return SZ_OK;
}

/* One event that is not late, after the watermark moved for it. */
static sz_status sz__push_one(sz_ctr_stream *s, uint64_t key, uint32_t ns,
                              unsigned kind, int64_t t, uint64_t ord)
{
    uint32_t ki = sz__keytab_find(&s->tab, key, ns);
    int created = 0;
    sz_status st;
    if (t <= s->wm) {
        /* into the prefix at once: nothing of the key's is due (drained) */
        if (ki == NIL) {
            if (kind != SZ_SEARCH) return SZ_OK;  /* no search open: no effect */
            st = sz__cstream_key_new(s, key, ns, &ki);
            if (st != SZ_OK) return st;
            sz__ctr_init(&s->keys[ki].st, t);
            created = 1;
        }
        st = sz__apply(s, ki, kind, t, ord);
    } else {
        sz__ckey *k;
        uint32_t j;
        if (ki == NIL) {
            st = sz__cstream_key_new(s, key, ns, &ki);
            if (st != SZ_OK) return st;
            created = 1;
        }
        k = &s->keys[ki];
        st = sz__reserve(s, 0, 1);
        if (st == SZ_OK && k->off + k->n_buf == k->cap_buf && k->off > 0) {
            memmove(k->buf, k->buf + k->off, k->n_buf * sizeof *k->buf);
            k->off = 0;
        }
        if (st == SZ_OK)
            st = sz__grow32((void **)&k->buf, &k->cap_buf,
                            (size_t)k->off + k->n_buf + 1, sizeof *k->buf);
        if (st == SZ_OK) {
            /* after every buffered event at or before t: (t, ord) order */
            sz__cev *b = k->buf + k->off;
            for (j = k->n_buf; j > 0 && b[j - 1].t > t; j--) b[j] = b[j - 1];
            b[j].t = t;
            b[j].ord = ord;
            b[j].kind = kind;
            k->n_buf++;
            s->buffered++;
        }
    }
    if (st != SZ_OK) {
        if (created) sz__key_release(s, ki, 0);
        return st;
    }
    return sz__settle(s, ki, 0);  /* room reserved: cannot fail */
}

/* ---- the public functions ------------------------------------------------- */

sz_status sz_ctr_stream_new(const sz_ctr_stream_config *cfg, sz_ctr_stream **out)
{
    sz_ctr_stream *s;
    sz_params rp;
    if (out) *out = NULL;
    if (cfg == NULL || out == NULL || cfg->gap < 0 || cfg->delay < 0
        || (!cfg->times && (cfg->gap > 0 || cfg->delay > 0)))
        return SZ_ERR_PARAM;
    s = (sz_ctr_stream *)SZ_CALLOC(1, sizeof *s);
    if (s == NULL) return SZ_ERR_NOMEM;
    s->cfg = *cfg;
    s->cfg.inclusive = cfg->inclusive ? 1 : 0;
    s->cfg.times = cfg->times ? 1 : 0;
    s->cfg.min_is_nat = cfg->min_is_nat ? 1 : 0;
    rp.gap = cfg->gap;
    rp.max_duration = 0;
    rp.cap_mode = SZ_CAP_NONE;
    rp.inclusive = s->cfg.inclusive;
    rp.min_is_nat = s->cfg.min_is_nat;
    sz__rule_init(&s->rule, &rp);  /* without a gap: only the NaT check */
    s->have_gap = cfg->gap > 0;
    /* as sz_ctr_run(): with inclusive, an event close at a gap close's
     * moment (last + gap, which an event may still join) comes first */
    s->rank_event = s->cfg.inclusive ? 0u : 1u;
    s->rank_gap = s->cfg.inclusive ? 1u : 0u;
    s->wm = INT64_MIN;
    s->free_key = NIL;
    if (sz__keytab_init(&s->tab, 64) != SZ_OK) {
        SZ_FREE(s);
        return SZ_ERR_NOMEM;
    }
    *out = s;
    return SZ_OK;
}

void sz_ctr_stream_free(sz_ctr_stream *s)
{
    uint32_t i;
    if (s == NULL) return;
    for (i = 0; i < s->n_keys_cap; i++) {
        SZ_FREE(s->keys[i].rows);
        SZ_FREE(s->keys[i].buf);
    }
    SZ_FREE(s->keys);
    sz__keytab_free(&s->tab);
    sz__heap_free(&s->heap);
    SZ_FREE(s->closes);
    SZ_FREE(s->order);
    SZ_FREE(s->pend);
    SZ_FREE(s->misc);
    SZ_FREE(s->out);
    SZ_FREE(s);
}

void sz_ctr_stream_config_get(const sz_ctr_stream *s, sz_ctr_stream_config *cfg)
{
    *cfg = s->cfg;
}

sz_status sz_ctr_stream_push(sz_ctr_stream *s, const uint64_t *keys,
                             const uint8_t *ns, const uint8_t *kinds,
                             const int64_t *times, size_t n, int stop_at_late,
                             size_t *n_done, size_t *err_pos)
{
    size_t i, done_unused, pos_unused;
    sz_status st = SZ_OK;
    if (n_done == NULL) n_done = &done_unused;
    if (err_pos == NULL) err_pos = &pos_unused;
    *n_done = 0;
    *err_pos = SZ_NO_POSITION;
    if (s == NULL) return SZ_ERR_PARAM;
    s->n_out = 0;
    if (n == 0) return SZ_OK;
    if (keys == NULL || kinds == NULL || (times != NULL) != s->cfg.times)
        return SZ_ERR_PARAM;
    for (i = 0; i < n; i++) {  /* all checked before any applies */
        if (kinds[i] >= SZ_N_KINDS) st = SZ_ERR_KIND;
        else if (times) st = sz__time_check(&s->rule, times[i]);
        if (st != SZ_OK) {
            *err_pos = i;
            return st;
        }
    }
    for (i = 0; i < n; i++) {
        uint64_t ord = s->n_events;
        uint32_t nsv = ns ? ns[i] : 0;
        int64_t t = times ? times[i] : (int64_t)ord;
        if (i + 8 < n)  /* the table is probed at random: fetch ahead */
            SZ_PREFETCH_R(&s->tab.slots[sz__keytab_home(&s->tab, keys[i + 8],
                                                        ns ? ns[i + 8] : 0)]);
        if (!s->seen_any || t > s->max_seen) {
            s->max_seen = t;
            s->seen_any = 1;
            /* t - delay, saturating at INT64_MIN */
            if (s->wm != INT64_MAX)
                st = sz__raise(s, t < INT64_MIN + s->cfg.delay ? INT64_MIN
                                                               : t - s->cfg.delay);
        } else if (s->heap.n > 0 && s->heap.a[0].due <= s->wm) {
            st = sz__drain(s);  /* what an earlier failure left due */
        }
        if (st != SZ_OK) break;
        if (t < s->wm || s->wm == INT64_MAX) {
            st = sz__late(s, keys[i], nsv, kinds[i], t, ord, i);
            if (st != SZ_OK) break;
            s->n_events++;
            *n_done = i + 1;
            if (stop_at_late) break;
            continue;
        }
        st = sz__push_one(s, keys[i], nsv, kinds[i], t, ord);
        if (st != SZ_OK) break;
        s->n_events++;
        *n_done = i + 1;
    }
    sz__finish(s);
    return st;
}

int sz_ctr_stream_has_key(const sz_ctr_stream *s, uint64_t key, uint32_t ns)
{
    return sz__keytab_find(&s->tab, key, ns) != NIL;
}

size_t sz_ctr_stream_keys_in(const sz_ctr_stream *s, uint32_t ns)
{
    size_t n = 0;
    uint32_t i;
    for (i = 0; i < s->n_keys_cap; i++) n += s->keys[i].live && s->keys[i].ns == ns;
    return n;
}

sz_status sz_ctr_stream_advance(sz_ctr_stream *s, int64_t wm)
{
    sz_status st;
    if (s == NULL) return SZ_ERR_PARAM;
    s->n_out = 0;
    if (!s->cfg.times) return SZ_ERR_PARAM;
    st = sz__raise(s, wm);
    sz__finish(s);
    return st;
}

sz_status sz_ctr_stream_flush(sz_ctr_stream *s)
{
    sz_status st = SZ_OK;
    uint32_t ki;
    if (s == NULL) return SZ_ERR_PARAM;
    s->n_out = 0;
    /* what an advance to the largest time would do: every buffered event
     * is at or before it.  Also when the watermark is +infinity already: a
     * flush or advance that failed for memory may have raised it there
     * (the largest time can be INT64_MAX) and left events buffered, which
     * the retry must still drain (found by fuzz_ctr_stream). */
    if (s->seen_any) st = sz__raise(s, s->max_seen);
    for (ki = 0; st == SZ_OK && ki < s->n_keys_cap; ki++) {
        sz__ckey *k = &s->keys[ki];
        if (!k->live) continue;
        st = sz__reserve(s, k->n_rows, 1);
        if (st != SZ_OK) break;
        if (k->st.search != SZ_CTR_NONE)  /* after the rest, by first search */
            sz__close(s, k, 1, 0, k->rows[0].t, k->rows[0].ord);
        (void)sz__settle(s, ki, 1);  /* frees it: room reserved */
    }
    if (st == SZ_OK) s->wm = INT64_MAX;
    sz__finish(s);
    return st;
}

const sz_ctr_stream_out *sz_ctr_stream_output(const sz_ctr_stream *s, size_t *n)
{
    *n = s->n_out;
    return s->out;
}

void sz_ctr_stream_stats_get(const sz_ctr_stream *s, sz_ctr_stream_stats *st)
{
    size_t bytes = sizeof *s;
    uint32_t i;
    st->watermark = s->wm;
    st->late_count = s->late_count;
    st->events = s->n_events;
    st->sessions = s->next_session;
    st->keys = s->live_keys;
    st->open_sessions = s->open_keys;
    st->open_searches = s->open_rows;
    st->buffered = s->buffered;
    bytes += (size_t)s->n_keys_cap * sizeof *s->keys;
    for (i = 0; i < s->n_keys_cap; i++)
        bytes += (size_t)s->keys[i].cap_rows * sizeof(sz__csearch)
                 + (size_t)s->keys[i].cap_buf * sizeof(sz__cev);
    bytes += s->tab.n_slots * sizeof *s->tab.slots;
    bytes += (size_t)s->heap.cap * sizeof *s->heap.a;
    bytes += s->cap_closes * sizeof *s->closes + s->cap_order * sizeof *s->order
             + s->cap_pend * sizeof *s->pend
             + s->cap_misc * sizeof *s->misc + s->cap_out * sizeof *s->out;
    st->bytes = bytes;
}
