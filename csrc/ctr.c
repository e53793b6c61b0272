/*
 * ctr.c -- search sessions and click-through rate over arrays (tier 3).
 *
 * The per-key rule is sz_ctr.h's; this file decides which events reach it,
 * in what order, and where rows and sessions go:
 *
 *   kinds    one pass: every kind valid, and how many SEARCHes (rows and
 *            sessions are bounded by it, so everything is allocated once).
 *   ORDERED  one hashed pass in input order, each key's state inline in its
 *            hash slot as in batch.c, a chunk of events at a time: the
 *            chunk is checked, then only its events that can change a row
 *            are looked up (without a gap, APP_OPEN and RESULTS cannot).
 *            Without times the table holds only the keys with a search
 *            open (a close deletes its key); with times, every key.  A
 *            SEARCH appends a row, linked to the previous row of its
 *            session; a CLICK counts into the open row; when a session ends
 *            its rows are copied, contiguous, to the output, and its close
 *            (moment, tie-break) appended to a list.  Rows of a session are
 *            young when it ends, so the walk stays in cache.
 *   SORTING  keys with an event out of time order ("dirty") are redone as
 *            batch.c redoes them: gathered by sz__group_starts/scatter,
 *            time-sorted by sz__sort_pairs, scanned.  The sessions the
 *            hashed pass ended for them are dropped.
 *   end      sessions the input's largest time has passed end by the gap
 *            rule; the others are flushed (after all the rest) or dropped.
 *   order    a log ends its sessions in time order, so the output usually
 *            is final as written; otherwise the sessions are sorted by
 *            (moment, tie-break) and their row blocks gathered in order.
 */
#include "sz_ctr.h"
#include "sz_sort.h"

#include <stdlib.h>

struct sz_ctr {
    size_t n_rows;
    size_t n_sessions;
    int path;
    uint32_t *search;  /* n_rows: search positions, in row order */
    uint32_t *clicks;  /* n_rows */
    uint32_t *first;   /* n_sessions + 1: each session's first row */
};

#define SZ_PREFETCH_DIST 32  /* lookups ahead; a power of two */
#define SZ_CHUNK 4096        /* events checked, then looked up, at a time */

/* A slot is in use when its `first` has this bit; the low 31 bits are the
 * open session's first row (when a search is open). */
#define SZ_OCC 0x80000000u
#define SZ_ROW_MASK 0x7fffffffu
/* `search` of a key found out of time order: the hashed pass ignores it from
 * then on.  Never a row: rows are below 2^31. */
#define SZ_DIRTY_SEARCH 0xfffffffeu

/* Kinds that can change a row when there is no gap rule. */
#define SZ_NEED_NO_GAP                                                       \
    ((1u << SZ_SEARCH) | (1u << SZ_CLICK) | (1u << SZ_APP_CLOSE)             \
     | (1u << SZ_TIMEOUT))
#define SZ_NEED_ALL ((1u << SZ_N_KINDS) - 1u)

/* Time modes: no times; times without the gap rule; times with it. */
enum { TM_NONE = 0, TM_TIMES = 1, TM_GAP = 2 };

/* A key's slot: 16 bytes without times (four to a cache line) ... */
typedef struct sz_cslot {
    uint64_t key;      /* INT64: the key; BYTES: hash tag << 32 | a position */
    uint32_t search;   /* row of the open search, SZ_CTR_NONE or SZ_DIRTY_SEARCH */
    uint32_t first;    /* SZ_OCC | the open session's first row */
} sz_cslot;

/* ... and 32 with times, for the rule's last event. */
typedef struct sz_cslot_t {
    sz_cslot s;
    int64_t last;
    uint32_t last_pos;
    uint32_t unused;
} sz_cslot_t;

#define SZ_STRIDE(tm) ((tm) == TM_NONE ? sizeof(sz_cslot) : sizeof(sz_cslot_t))

/* One search: its position, its clicks, and the next row of its session.
 * One struct: touching a row touches one cache line (two at worst). */
typedef struct sz_crow {
    uint32_t search;
    uint32_t clicks;
    uint32_t next;
} sz_crow;

/* The work of one sz_ctr_run(). */
typedef struct sz_cwork {
    const sz_keys *keys;
    const uint8_t *kinds;
    const int64_t *times;
    size_t n;
    sz_rule rule;
    int flush;
    uint32_t rank_event;  /* tie-break rank of an event's close ... */
    uint32_t rank_gap;    /* ... and of a gap close at the same moment */
    int64_t max_t;        /* the largest time: the watermark at the end */

    /* rows, in the order their searches came */
    sz_crow *rows;
    size_t n_row, cap_row;

    /* the rows of every ended session, each session's contiguous, sessions
     * in the order they were found ended (cap_row rows) */
    uint32_t *out_search, *out_clicks;
    size_t n_out;

    /* one entry per ended session, in the same order: its close moment and
     * tie-break, and its first output row (cap_row + 1 entries: one more for
     * the end of the last block) */
    int64_t *cl_moment;
    uint32_t *cl_sec, *cl_start;
    size_t n_cl;

    /* the first rows of the sessions to flush, a bit per row */
    uint64_t *flush_bits;
} sz_cwork;

/* ---- the hash table of keys --------------------------------------------- */

typedef struct sz_ctab {
    unsigned char *slots;
    void *raw;
    size_t mask;   /* capacity - 1; DENSE: unused */
    size_t cap;    /* number of slots */
    size_t used;
    size_t stride; /* bytes per slot */
} sz_ctab;

#define SZ_SLOT(tab, j, stride) ((sz_cslot *)(void *)((tab)->slots + (j) * (stride)))


static sz_status sz__ctab_alloc(sz_ctab *tab, size_t cap, size_t stride)
{
    size_t bytes = sz__mul_size(cap, stride);
    if (bytes > SIZE_MAX - 64) return SZ_ERR_NOMEM;
    /* zeroed memory is an empty table: no slot has SZ_OCC */
    tab->raw = SZ_CALLOC(1, bytes + 64);
    if (tab->raw == NULL) return SZ_ERR_NOMEM;
    tab->slots = (unsigned char *)(((uintptr_t)tab->raw + 63) & ~(uintptr_t)63);
    tab->mask = cap - 1;
    tab->cap = cap;
    tab->used = 0;
    tab->stride = stride;
    return SZ_OK;
}

SZ_INLINE uint64_t sz__slot_hash(const sz_keys *keys, int kk, const sz_cslot *s)
{
    return kk == SZ_KEYS_BYTES ? sz__key_hash(keys, kk, (uint32_t)s->key)
                               : sz__hash_u64(s->key);
}

/* Doubles the table; the destination of the slot 8 ahead is prefetched, as
 * a rehash writes at random into memory it has never touched. */
static sz_status sz__ctab_grow(sz_ctab *tab, const sz_keys *keys, int kk)
{
    sz_ctab bigger;
    const size_t stride = tab->stride;
    size_t i;
    sz_status st = sz__ctab_alloc(&bigger, tab->cap * 2, stride);
    if (st != SZ_OK) return st;
    for (i = 0; i < tab->cap; i++) {
        const sz_cslot *s = SZ_SLOT(tab, i, stride);
        size_t j;
        if (i + 8 < tab->cap) {
            const sz_cslot *a = SZ_SLOT(tab, i + 8, stride);
            if (a->first & SZ_OCC)
                SZ_PREFETCH_W(SZ_SLOT(&bigger, sz__slot_hash(keys, kk, a) & bigger.mask,
                                      stride));
        }
        if (!(s->first & SZ_OCC)) continue;
        for (j = sz__slot_hash(keys, kk, s) & bigger.mask;
             SZ_SLOT(&bigger, j, stride)->first & SZ_OCC; j = (j + 1) & bigger.mask) {
        }
        memcpy(SZ_SLOT(&bigger, j, stride), s, stride);
    }
    bigger.used = tab->used;
    SZ_FREE(tab->raw);
    *tab = bigger;
    return SZ_OK;
}

/* Event i's slot (hash h); inserts its key when new (*fresh set), or, when
 * `insert` is 0, returns NULL for a key not there.  DENSE: the slot of its
 * code. */
SZ_INLINE sz_cslot *sz__ctab_find(sz_ctab *tab, size_t stride, const sz_keys *keys,
                                  int kk, size_t i, uint64_t h, int insert, int *fresh)
{
    sz_cslot *s;
    size_t j;
    if (kk == SZ_KEYS_DENSE) {
        s = SZ_SLOT(tab, (size_t)((const int64_t *)keys->data)[i], stride);
        *fresh = !(s->first & SZ_OCC);
        return s;
    }
    for (j = h & tab->mask;; j = (j + 1) & tab->mask) {
        s = SZ_SLOT(tab, j, stride);
        if (!(s->first & SZ_OCC)) break;
        if (kk == SZ_KEYS_INT64) {
            if (s->key == (uint64_t)((const int64_t *)keys->data)[i]) {
                *fresh = 0;
                return s;
            }
        } else if ((s->key >> 32) == (h >> 32)) {
            const unsigned char *d = (const unsigned char *)keys->data;
            size_t w = keys->width;
            if (memcmp(d + (size_t)(uint32_t)s->key * w, d + i * w, w) == 0) {
                *fresh = 0;
                return s;
            }
        }
    }
    if (!insert) return NULL;
    *fresh = 1;
    s->key = kk == SZ_KEYS_INT64 ? (uint64_t)((const int64_t *)keys->data)[i]
                                 : ((h >> 32) << 32) | (uint64_t)(uint32_t)i;
    return s;
}

/* Empties slot j (linear probing's backward-shift deletion: the keys after
 * it in its probe run move back when their home is not between). */
static void sz__ctab_delete(sz_ctab *tab, const sz_keys *keys, int kk, size_t j)
{
    const size_t stride = tab->stride, mask = tab->mask;
    size_t i = j;
    for (;;) {
        sz_cslot *s;
        size_t home;
        i = (i + 1) & mask;
        s = SZ_SLOT(tab, i, stride);
        if (!(s->first & SZ_OCC)) break;
        home = sz__slot_hash(keys, kk, s) & mask;
        /* it stays when its home lies cyclically in (j, i] */
        if (j < i ? (j < home && home <= i) : (j < home || home <= i)) continue;
        memcpy(SZ_SLOT(tab, j, stride), s, stride);
        j = i;
    }
    SZ_SLOT(tab, j, stride)->first = 0;
    tab->used--;
}

/* ---- rows and ended sessions ------------------------------------------- */

/* A session ended: its rows, from `first` along the links, go to the output
 * as one block, and its close to the list. */
SZ_INLINE void sz__emit(sz_cwork *w, uint32_t first, int64_t moment, uint32_t sec)
{
    size_t j = w->n_cl++, o = w->n_out;
    uint32_t r;
    SZ_ASSERT(j < w->cap_row);
    w->cl_moment[j] = moment;
    w->cl_sec[j] = sec;
    w->cl_start[j] = (uint32_t)o;
    for (r = first; r != SZ_CTR_NONE; r = w->rows[r].next) {
        SZ_ASSERT(o < w->cap_row);
        w->out_search[o] = w->rows[r].search;
        w->out_clicks[o++] = w->rows[r].clicks;
    }
    w->n_out = o;
}

/*
 * One event of a key through the rule.  `s` is the key's row state; with
 * times, *last and *last_pos its last event (NULL without).  A gap close is
 * ordered at its window end, last + gap: with inclusive, an event may still
 * join there, so a close by an event at that very time comes first
 * (rank_event < rank_gap); without, the session has already ended when
 * such an event comes (rank_gap < rank_event).
 */
SZ_INLINE void sz__ctr_event(sz_cwork *w, int have_times, int have_gap, sz_cslot *s,
                             int64_t *last, uint32_t *last_pos, unsigned kind,
                             int64_t t, uint32_t pos)
{
    sz_ctr_state st;
    unsigned what;
    st.last = have_times ? *last : 0;
    st.last_pos = have_gap ? *last_pos : 0;
    st.search = s->search;
    what = sz__ctr_rule(&st, &w->rule, have_gap, kind, t);
    if (have_times) {
        *last = t;
        if (have_gap) *last_pos = pos;
    }
    if (SZ_LIKELY(what == 0)) return;
    if (have_gap && (what & SZ_CTR_GAP)) {
        /* times are checked for last + gap */
        sz__emit(w, s->first & SZ_ROW_MASK, st.last + w->rule.gap,
                 w->rank_gap | st.last_pos);
        s->search = SZ_CTR_NONE;
    }
    if (what & (SZ_CTR_FIRST | SZ_CTR_NEXT)) {
        uint32_t r = (uint32_t)w->n_row++;
        SZ_ASSERT(r < w->cap_row);
        w->rows[r].search = pos;
        w->rows[r].clicks = 0;
        w->rows[r].next = SZ_CTR_NONE;
        if (what & SZ_CTR_NEXT)
            w->rows[s->search].next = r;
        else
            s->first = (s->first & SZ_OCC) | r;
        s->search = r;
    } else if (what & SZ_CTR_CLICK) {
        w->rows[s->search].clicks++;
    } else if (what & SZ_CTR_CLOSE) {
        sz__emit(w, s->first & SZ_ROW_MASK, t, w->rank_event | pos);
        s->search = SZ_CTR_NONE;
    }
}

/* The end of the input for one key: a session still open has ended by the
 * gap rule if the largest time passed it; else it is flushed (marked, and
 * written after every other) or dropped. */
SZ_INLINE void sz__ctr_end(sz_cwork *w, int have_gap, const sz_cslot *s,
                           int64_t last, uint32_t last_pos)
{
    uint32_t first;
    if (s->search == SZ_CTR_NONE || s->search == SZ_DIRTY_SEARCH) return;
    first = s->first & SZ_ROW_MASK;
    if (have_gap && sz__ctr_gap_passed(&w->rule, last, w->max_t))
        sz__emit(w, first, last + w->rule.gap, w->rank_gap | last_pos);
    else if (w->flush)
        w->flush_bits[first >> 6] |= (uint64_t)1 << (first & 63);
}

/* ---- ORDERED: the hashed pass ------------------------------------------ */

SZ_INLINE sz_status sz__ctr_pass(sz_cwork *w, sz_ctab *tab, int kk, int tm,
                                 size_t *n_dirty, size_t *err_pos)
{
    const int have_times = tm != TM_NONE, have_gap = tm == TM_GAP;
    const unsigned need = have_gap ? SZ_NEED_ALL : SZ_NEED_NO_GAP;
    const size_t stride = SZ_STRIDE(tm);
    const sz_keys *keys = w->keys;
    const int64_t *codes = (const int64_t *)keys->data;
    const uint8_t *kinds = w->kinds;
    const int64_t *times = w->times;
    const size_t n = w->n;
    uint32_t list[SZ_CHUNK];
    uint64_t ring[SZ_PREFETCH_DIST];
    int64_t max_t = INT64_MIN;
    size_t lo, dirty = 0;

    for (lo = 0; lo < n; lo += SZ_CHUNK) {
        size_t hi = n - lo < SZ_CHUNK ? n : lo + SZ_CHUNK, i, j, m = 0;
        /* checks, in input order, and the positions to look up, gathered
         * without a branch so the lookups below do not mispredict on the
         * kinds they skip */
        for (i = lo; i < hi; i++) {
            if (have_times) {
                sz_status st = sz__time_check(&w->rule, times[i]);
                if (SZ_UNLIKELY(st != SZ_OK)) {
                    *err_pos = i;
                    return st;
                }
                if (have_gap && times[i] > max_t) max_t = times[i];
            }
            if (kk == SZ_KEYS_DENSE
                && SZ_UNLIKELY((uint64_t)codes[i] >= (uint64_t)keys->n_codes)) {
                *err_pos = i;
                return SZ_ERR_KEY_RANGE;
            }
            list[m] = (uint32_t)i;
            m += (need >> kinds[i]) & 1u;
        }
        if (kk != SZ_KEYS_DENSE)
            for (j = 0; j < SZ_PREFETCH_DIST && j < m; j++)
                ring[j] = sz__key_hash(keys, kk, list[j]);
        for (j = 0; j < m; j++) {
            size_t a = j + SZ_PREFETCH_DIST;
            uint32_t pos = list[j];
            unsigned k = kinds[pos];
            int64_t t = have_times ? times[pos] : (int64_t)pos;
            uint64_t h = 0;
            sz_cslot *s;
            sz_cslot_t *x;
            int fresh;
            if (kk == SZ_KEYS_DENSE) {
                if (a < m) SZ_PREFETCH_W(SZ_SLOT(tab, (size_t)codes[list[a]], stride));
            } else {
                h = ring[j & (SZ_PREFETCH_DIST - 1)];
                if (a < m) {
                    uint64_t ha = sz__key_hash(keys, kk, list[a]);
                    ring[a & (SZ_PREFETCH_DIST - 1)] = ha;
                    SZ_PREFETCH_W(SZ_SLOT(tab, ha & tab->mask, stride));
                }
            }
            if (tm == TM_NONE && kk != SZ_KEYS_DENSE) {
                /* Without times the table holds only the keys with a search
                 * open: a SEARCH inserts, a CLICK or a close of a key not
                 * there does nothing, and a close deletes.  A log's table
                 * then stays small and in cache, where one with every key
                 * would miss on each session's first event. */
                s = sz__ctab_find(tab, stride, keys, kk, pos, h, k == SZ_SEARCH, &fresh);
                if (s == NULL) continue;
                if (fresh) {
                    s->search = SZ_CTR_NONE;
                    s->first = SZ_OCC;
                }
                sz__ctr_event(w, 0, 0, s, NULL, NULL, k, t, pos);
                if (fresh) {
                    tab->used++;
                    if (tab->used * 2 > tab->cap) {
                        sz_status gs = sz__ctab_grow(tab, keys, kk);
                        if (gs != SZ_OK) return gs;
                    }
                } else if (s->search == SZ_CTR_NONE) {
                    sz__ctab_delete(tab, keys, kk,
                                    (size_t)((unsigned char *)s - tab->slots) / stride);
                }
                continue;
            }
            s = sz__ctab_find(tab, stride, keys, kk, pos, h, 1, &fresh);
            x = (sz_cslot_t *)(void *)s;  /* with times only */
            if (fresh) {
                s->search = SZ_CTR_NONE;
                s->first = SZ_OCC;
                if (have_times) {
                    x->last = t;
                    x->last_pos = pos;
                }
                sz__ctr_event(w, have_times, have_gap, s, have_times ? &x->last : NULL,
                              have_gap ? &x->last_pos : NULL, k, t, pos);
                tab->used++;
                if (kk != SZ_KEYS_DENSE && tab->used * 2 > tab->cap) {
                    sz_status gs = sz__ctab_grow(tab, keys, kk);
                    if (gs != SZ_OK) return gs;
                }
                continue;
            }
            if (have_times) {
                if (SZ_UNLIKELY(s->search == SZ_DIRTY_SEARCH)) continue;
                if (SZ_UNLIKELY(t < x->last)) {
                    /* out of time order: the key is redone by sorting */
                    s->search = SZ_DIRTY_SEARCH;
                    dirty++;
                    continue;
                }
            }
            sz__ctr_event(w, have_times, have_gap, s, have_times ? &x->last : NULL,
                          have_gap ? &x->last_pos : NULL, k, t, pos);
        }
    }
    w->max_t = max_t;
    *n_dirty = dirty;
    return SZ_OK;
}

static sz_status sz__ctr_pass_any(sz_cwork *w, sz_ctab *tab, int kk, int tm,
                                  size_t *n_dirty, size_t *err_pos)
{
#define SZ_PASS(K)                                                          \
    (tm == TM_GAP     ? sz__ctr_pass(w, tab, K, TM_GAP, n_dirty, err_pos)   \
     : tm == TM_TIMES ? sz__ctr_pass(w, tab, K, TM_TIMES, n_dirty, err_pos) \
                      : sz__ctr_pass(w, tab, K, TM_NONE, n_dirty, err_pos))
    switch (kk) {
    case SZ_KEYS_INT64: return SZ_PASS(SZ_KEYS_INT64);
    case SZ_KEYS_BYTES: return SZ_PASS(SZ_KEYS_BYTES);
    default: return SZ_PASS(SZ_KEYS_DENSE);
    }
#undef SZ_PASS
}

/* The end of input for every key the hashed pass kept.  With the gap rule
 * most open sessions end now, their rows long written: the first row of
 * each is prefetched 16 sessions ahead. */
#define SZ_END_AHEAD 16
static void sz__ctr_end_table(sz_cwork *w, const sz_ctab *tab, int tm)
{
    const sz_cslot_t *ring[SZ_END_AHEAD];
    size_t j, q = 0;
    for (j = 0; j < tab->cap; j++) {
        const sz_cslot *s = SZ_SLOT(tab, j, tab->stride);
        const sz_cslot_t *x = (const sz_cslot_t *)(const void *)s;
        if (!(s->first & SZ_OCC) || s->search == SZ_CTR_NONE
            || s->search == SZ_DIRTY_SEARCH)
            continue;
        if (tm != TM_GAP) {
            sz__ctr_end(w, 0, s, 0, 0);
            continue;
        }
        SZ_PREFETCH_R(&w->rows[s->first & SZ_ROW_MASK]);
        if (q >= SZ_END_AHEAD) {
            const sz_cslot_t *y = ring[q % SZ_END_AHEAD];
            sz__ctr_end(w, 1, &y->s, y->last, y->last_pos);
        }
        ring[q++ % SZ_END_AHEAD] = x;
    }
    for (j = q > SZ_END_AHEAD ? q - SZ_END_AHEAD : 0; j < q; j++) {
        const sz_cslot_t *y = ring[j % SZ_END_AHEAD];
        sz__ctr_end(w, 1, &y->s, y->last, y->last_pos);
    }
}

/* ---- SORTING: redo the dirty keys -------------------------------------- */

/* Grows the row, output and close arrays (and the flush bits) to `cap`. */
static sz_status sz__ctr_reserve(sz_cwork *w, size_t cap)
{
    uint32_t **u32[4];
    sz_crow *rows;
    size_t k, old_words = w->flush_bits ? (w->cap_row + 64) / 64 : 0;
    size_t words = (cap + 64) / 64;
    int64_t *m;
    uint64_t *f;
    u32[0] = &w->out_search;
    u32[1] = &w->out_clicks;
    u32[2] = &w->cl_sec;
    u32[3] = &w->cl_start;
    rows = (sz_crow *)SZ_REALLOC(w->rows, sz__mul_size(cap + 1, sizeof *rows));
    if (rows == NULL) return SZ_ERR_NOMEM;
    w->rows = rows;
    for (k = 0; k < 4; k++) {
        uint32_t *p = (uint32_t *)SZ_REALLOC(*u32[k], sz__mul_size(cap + 1, sizeof *p));
        if (p == NULL) return SZ_ERR_NOMEM;
        *u32[k] = p;
    }
    m = (int64_t *)SZ_REALLOC(w->cl_moment, sz__mul_size(cap + 1, sizeof *m));
    if (m == NULL) return SZ_ERR_NOMEM;
    w->cl_moment = m;
    f = (uint64_t *)SZ_REALLOC(w->flush_bits, sz__mul_size(words, sizeof *f));
    if (f == NULL) return SZ_ERR_NOMEM;
    memset(f + old_words, 0, (words - old_words) * sizeof *f);
    w->flush_bits = f;
    w->cap_row = cap;
    return SZ_OK;
}

/*
 * Finds every looked-up event's slot again (the table no longer changes):
 * packed[i] is its slot index, or, for an event the pass skipped, the index
 * of a slot that is never dirty (an empty one; DENSE: one past the last, for
 * which member and rank have room).  Dirty slots get their bit in `member`
 * and a rank.  The sessions the hashed pass ended for dirty keys are marked
 * in dead[] (n_cl entries), and room is made for the redo's rows.
 */
static sz_status sz__ctr_regroup(sz_cwork *w, const sz_ctab *tab, int kk, int tm,
                                 int64_t *packed, uint64_t *member, uint32_t *rank,
                                 uint8_t *dead, size_t *n_groups)
{
    const unsigned need = tm == TM_GAP ? SZ_NEED_ALL : SZ_NEED_NO_GAP;
    const size_t stride = tab->stride;
    const sz_keys *keys = w->keys;
    size_t i, j, d = 0, searches = 0, none = tab->cap;
    memset(member, 0, ((tab->cap + 1 + 63) / 64) * sizeof *member);
    for (j = 0; j < tab->cap; j++) {
        const sz_cslot *s = SZ_SLOT(tab, j, stride);
        if (!(s->first & SZ_OCC)) {
            if (none == tab->cap && kk != SZ_KEYS_DENSE) none = j;
        } else if (s->search == SZ_DIRTY_SEARCH) {
            member[j >> 6] |= (uint64_t)1 << (j & 63);
            rank[j] = (uint32_t)d++;
        }
    }
    for (i = 0; i < w->n; i++) {
        unsigned k = w->kinds[i];
        size_t slot;
        int fresh;
        if (!((need >> k) & 1u)) {
            packed[i] = (int64_t)none;
            continue;
        }
        slot = (size_t)((const unsigned char *)sz__ctab_find(
                            (sz_ctab *)tab, stride, keys, kk, i,
                            kk == SZ_KEYS_DENSE ? 0 : sz__key_hash(keys, kk, i), 1, &fresh)
                        - tab->slots) / stride;
        SZ_ASSERT(!fresh);
        packed[i] = (int64_t)slot;
        if (k == SZ_SEARCH && ((member[slot >> 6] >> (slot & 63)) & 1u)) searches++;
    }
    for (j = 0; j < w->n_cl; j++) {
        size_t slot = (size_t)packed[w->out_search[w->cl_start[j]]];
        dead[j] = (uint8_t)((member[slot >> 6] >> (slot & 63)) & 1u);
    }
    *n_groups = d;
    /* Rows share 31 bits with a flag in the table's slots; only more than
     * 2^30 searches in one call, redone, could reach that. */
    if (w->n_row + searches > SZ_ROW_MASK) return SZ_ERR_TOO_LARGE;
    if (w->n_row + searches > w->cap_row) return sz__ctr_reserve(w, w->n_row + searches);
    return SZ_OK;
}

/* Each dirty key's events, time-sorted, through the rule from a fresh state. */
SZ_INLINE sz_status sz__ctr_redo(sz_cwork *w, int have_gap, const int64_t *packed,
                                 const uint64_t *member, const uint32_t *rank,
                                 size_t D)
{
    uint32_t *starts = NULL, *perm = NULL, *tmp_p = NULL;
    int64_t *tt = NULL, *tmp_t = NULL;
    size_t j, d, m, longest = 0;
    sz_status st = SZ_ERR_NOMEM;

    starts = (uint32_t *)SZ_MALLOC(sz__mul_size(D + 1, sizeof *starts));
    if (starts == NULL) goto fail;
    m = sz__group_starts(packed, w->n, member, rank, D, starts);
    perm = (uint32_t *)SZ_MALLOC(sz__mul_size(m, sizeof *perm));
    tt = (int64_t *)SZ_MALLOC(sz__mul_size(m, sizeof *tt));
    if (!perm || !tt) goto fail;
    sz__group_scatter(packed, w->n, member, rank, D, starts, perm);
    for (d = 0; d < D; d++)
        if (starts[d + 1] - starts[d] > longest) longest = starts[d + 1] - starts[d];
    for (j = 0; j < m; j++) tt[j] = w->times[perm[j]];

    for (d = 0; d < D; d++) {
        size_t lo = starts[d], hi = starts[d + 1];
        sz_cslot s;
        int64_t last = tt[lo];
        uint32_t last_pos = perm[lo];
        for (j = lo + 1; j < hi && tt[j] >= tt[j - 1]; j++) {
        }
        if (j < hi) {
            if (tmp_t == NULL) {
                tmp_t = (int64_t *)SZ_MALLOC(sz__mul_size(longest, sizeof *tmp_t));
                tmp_p = (uint32_t *)SZ_MALLOC(sz__mul_size(longest, sizeof *tmp_p));
                if (!tmp_t || !tmp_p) goto fail;
            }
            sz__sort_pairs(tt + lo, perm + lo, hi - lo, tmp_t, tmp_p);
            last = tt[lo];
        }
        s.key = 0;
        s.search = SZ_CTR_NONE;
        s.first = 0;
        for (j = lo; j < hi; j++)
            sz__ctr_event(w, 1, have_gap, &s, &last, &last_pos, w->kinds[perm[j]], tt[j],
                          perm[j]);
        sz__ctr_end(w, have_gap, &s, last, last_pos);
    }
    st = SZ_OK;
fail:
    SZ_FREE(starts);
    SZ_FREE(perm);
    SZ_FREE(tt);
    SZ_FREE(tmp_t);
    SZ_FREE(tmp_p);
    return st;
}

/* ---- close order -------------------------------------------------------- */

/* Whether (t[j], s[j]) never decreases. */
static int sz__pairs_sorted(const int64_t *t, const uint32_t *s, size_t m)
{
    size_t j;
    for (j = 1; j < m; j++)
        if (t[j] < t[j - 1] || (t[j] == t[j - 1] && s[j] < s[j - 1])) return 0;
    return 1;
}

/* The lowest set bit of b != 0. */
static unsigned sz__ctz64(uint64_t b)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll(b);
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_ARM64))
    unsigned long k;
    (void)_BitScanForward64(&k, b);
    return (unsigned)k;
#else
    unsigned k = 0;
    while (!(b & 1u)) {
        b >>= 1;
        k++;
    }
    return k;
#endif
}

/* A flushed session's block: its time and position are its first search's. */
SZ_INLINE void sz__emit_flushed(sz_cwork *w, uint32_t r)
{
    uint32_t pos = w->rows[r].search;
    sz__emit(w, r, w->times ? w->times[pos] : (int64_t)pos, pos);
}

/* The flushed sessions, after every other, in order of their first search:
 * first-row order is first-search order in a log (checked after).  Their
 * rows are old by now, so each session's first row is prefetched 16
 * sessions ahead, and its second 8 ahead. */
#define SZ_FLUSH_AHEAD 16
static void sz__ctr_flush(sz_cwork *w)
{
    uint32_t ring[SZ_FLUSH_AHEAD];
    size_t words = (w->n_row + 63) / 64, k, q = 0;
    for (k = 0; k < words; k++) {
        uint64_t b = w->flush_bits[k];
        while (b) {
            uint32_t r = (uint32_t)(k * 64 + sz__ctz64(b)), half;
            b &= b - 1;
            SZ_PREFETCH_R(&w->rows[r]);
            if (q >= SZ_FLUSH_AHEAD / 2) {
                half = ring[(q - SZ_FLUSH_AHEAD / 2) % SZ_FLUSH_AHEAD];
                if (w->rows[half].next != SZ_CTR_NONE)
                    SZ_PREFETCH_R(&w->rows[w->rows[half].next]);
            }
            if (q >= SZ_FLUSH_AHEAD) sz__emit_flushed(w, ring[q % SZ_FLUSH_AHEAD]);
            ring[q++ % SZ_FLUSH_AHEAD] = r;
        }
    }
    for (k = q > SZ_FLUSH_AHEAD ? q - SZ_FLUSH_AHEAD : 0; k < q; k++)
        sz__emit_flushed(w, ring[k % SZ_FLUSH_AHEAD]);
}

/* Whether close entry a comes before entry b: by (moment, sec), which no
 * two entries share. */
SZ_INLINE int sz__cl_before(const sz_cwork *w, uint32_t a, uint32_t b)
{
    return w->cl_moment[a] < w->cl_moment[b]
           || (w->cl_moment[a] == w->cl_moment[b] && w->cl_sec[a] < w->cl_sec[b]);
}

/*
 * Entries [lo, hi) not dead, sorted by (moment, sec) into order[] (from *m
 * on).  In a log most sessions end at an event and are found in order; the
 * gap closes are found late, when their key's next event comes.  So the
 * entries are split into a greedy ascending run, kept as it is, and the
 * rest (b[], scratch), which alone is sorted, by sz_sort.h's stable sort
 * twice (by sec, then by moment), and merged in.  tt, tmp_t, tmp_p: scratch.
 */
static void sz__ctr_sort_part(const sz_cwork *w, size_t lo, size_t hi,
                              const uint8_t *dead, size_t n_dead, uint32_t *order,
                              size_t *m, uint32_t *b, int64_t *tt, int64_t *tmp_t,
                              uint32_t *tmp_p)
{
    uint32_t *a = order + *m;
    size_t j, na = 0, nb = 0, dst;
    for (j = lo; j < hi; j++) {
        if (dead && j < n_dead && dead[j]) continue;
        if (na == 0 || sz__cl_before(w, a[na - 1], (uint32_t)j))
            a[na++] = (uint32_t)j;
        else
            b[nb++] = (uint32_t)j;
    }
    for (j = 0; j < nb; j++) tt[j] = (int64_t)w->cl_sec[b[j]];
    sz__sort_pairs(tt, b, nb, tmp_t, tmp_p);
    for (j = 0; j < nb; j++) tt[j] = w->cl_moment[b[j]];
    sz__sort_pairs(tt, b, nb, tmp_t, tmp_p);
    /* merge from the back, in place: a[] has room for both */
    *m += na + nb;
    dst = na + nb;
    while (nb > 0) {
        if (na > 0 && sz__cl_before(w, b[nb - 1], a[na - 1]))
            a[--dst] = a[--na];
        else
            a[--dst] = b[--nb];
    }
}

/*
 * The result: closes [0, n0) ended during the input, [n0, n_cl) flushed.
 * When none is dead and both parts are in order, the output is final as
 * written; otherwise the sessions are ordered and their blocks gathered.
 */
static sz_status sz__ctr_finalize(sz_cwork *w, size_t n0, const uint8_t *dead,
                                  size_t n_dead, sz_ctr *c)
{
    uint32_t *order = NULL, *b = NULL, *tmp_p = NULL, *first = NULL;
    int64_t *tt = NULL, *tmp_t = NULL;
    size_t j, m = 0, o = 0;
    sz_status st = SZ_ERR_NOMEM;

    w->cl_start[w->n_cl] = (uint32_t)w->n_out;  /* the end of the last block */
    if (dead == NULL && sz__pairs_sorted(w->cl_moment, w->cl_sec, n0)
        && sz__pairs_sorted(w->cl_moment + n0, w->cl_sec + n0, w->n_cl - n0)) {
        c->search = w->out_search;
        c->clicks = w->out_clicks;
        c->first = w->cl_start;
        w->out_search = w->out_clicks = w->cl_start = NULL;
        c->n_rows = w->n_out;
        c->n_sessions = w->n_cl;
        return SZ_OK;
    }
    order = (uint32_t *)SZ_MALLOC(sz__mul_size(w->n_cl, sizeof *order));
    b = (uint32_t *)SZ_MALLOC(sz__mul_size(w->n_cl, sizeof *b));
    tt = (int64_t *)SZ_MALLOC(sz__mul_size(w->n_cl, sizeof *tt));
    tmp_t = (int64_t *)SZ_MALLOC(sz__mul_size(w->n_cl, sizeof *tmp_t));
    tmp_p = (uint32_t *)SZ_MALLOC(sz__mul_size(w->n_cl, sizeof *tmp_p));
    if (!order || !b || !tt || !tmp_t || !tmp_p) goto fail;
    sz__ctr_sort_part(w, 0, n0, dead, n_dead, order, &m, b, tt, tmp_t, tmp_p);
    sz__ctr_sort_part(w, n0, w->n_cl, dead, n_dead, order, &m, b, tt, tmp_t, tmp_p);
    SZ_FREE(b);
    SZ_FREE(tt);
    SZ_FREE(tmp_t);
    SZ_FREE(tmp_p);
    b = NULL;
    tt = tmp_t = NULL;
    tmp_p = NULL;

    first = (uint32_t *)SZ_MALLOC(sz__mul_size(m + 1, sizeof *first));
    if (first == NULL) goto fail;
    for (j = 0; j < m; j++) o += w->cl_start[order[j] + 1] - w->cl_start[order[j]];
    c->search = (uint32_t *)SZ_MALLOC(sz__mul_size(o, sizeof *c->search));
    c->clicks = (uint32_t *)SZ_MALLOC(sz__mul_size(o, sizeof *c->clicks));
    if (!c->search || !c->clicks) goto fail;
    o = 0;
    for (j = 0; j < m; j++) {
        size_t a = w->cl_start[order[j]], b = w->cl_start[order[j] + 1];
        first[j] = (uint32_t)o;
        memcpy(c->search + o, w->out_search + a, (b - a) * sizeof *c->search);
        memcpy(c->clicks + o, w->out_clicks + a, (b - a) * sizeof *c->clicks);
        o += b - a;
    }
    first[m] = (uint32_t)o;
    c->first = first;
    first = NULL;
    c->n_rows = o;
    c->n_sessions = m;
    st = SZ_OK;
fail:
    SZ_FREE(order);
    SZ_FREE(b);
    SZ_FREE(tt);
    SZ_FREE(tmp_t);
    SZ_FREE(tmp_p);
    SZ_FREE(first);
    return st;
}

/* ---- driver ------------------------------------------------------------ */

/* The kinds pass: the first bad kind, and the number of SEARCHes. */
static size_t sz__ctr_scan_kinds(const uint8_t *kinds, size_t n, size_t *searches)
{
    size_t i, s = 0;
    unsigned bad = 0;
    /* branch-free, so the compiler vectorizes it; the rare bad input is
     * located afterwards */
    for (i = 0; i < n; i++) {
        s += kinds[i] == SZ_SEARCH;
        bad |= kinds[i] >= SZ_N_KINDS;
    }
    *searches = s;
    if (!bad) return SZ_NO_POSITION;
    for (i = 0; kinds[i] < SZ_N_KINDS; i++) {
    }
    return i;
}

static void sz__cwork_free(sz_cwork *w)
{
    SZ_FREE(w->rows);
    SZ_FREE(w->out_search);
    SZ_FREE(w->out_clicks);
    SZ_FREE(w->cl_moment);
    SZ_FREE(w->cl_sec);
    SZ_FREE(w->cl_start);
    SZ_FREE(w->flush_bits);
}

sz_status sz_ctr_run(sz_ctr **out, const sz_keys *keys, const uint8_t *kinds,
                     const int64_t *times, size_t n, const sz_ctr_params *params,
                     size_t *n_rows, size_t *err_pos)
{
    sz_ctr *c = NULL;
    sz_cwork w;
    sz_ctab tab;
    sz_params rp;
    int64_t *packed = NULL;
    uint64_t *member = NULL;
    uint32_t *rank = NULL;
    uint8_t *dead = NULL;
    size_t pos_unused, bad_kind, searches, n_dirty = 0, n_dead = 0, n0;
    int kk, tm;
    sz_status st;

    memset(&w, 0, sizeof w);
    memset(&tab, 0, sizeof tab);
    if (err_pos == NULL) err_pos = &pos_unused;
    *err_pos = SZ_NO_POSITION;
    if (n_rows) *n_rows = 0;
    if (out == NULL) return SZ_ERR_PARAM;
    *out = NULL;
    if (params == NULL || keys == NULL || params->gap < 0
        || (params->gap > 0 && times == NULL)
        || (n > 0 && (keys->data == NULL || kinds == NULL)))
        return SZ_ERR_PARAM;
    kk = keys->kind;
    if (kk != SZ_KEYS_INT64 && kk != SZ_KEYS_BYTES && kk != SZ_KEYS_DENSE)
        return SZ_ERR_PARAM;
    if (kk == SZ_KEYS_BYTES && keys->width == 0) return SZ_ERR_PARAM;
    if (n > SZ_MAX_EVENTS) return SZ_ERR_TOO_LARGE;
    if (kk == SZ_KEYS_DENSE && keys->n_codes > SZ_MAX_EVENTS) return SZ_ERR_TOO_LARGE;
    tm = times == NULL ? TM_NONE : params->gap > 0 ? TM_GAP : TM_TIMES;

    w.keys = keys;
    w.kinds = kinds;
    w.times = times;
    w.n = n;
    w.flush = params->flush != 0;
    rp.gap = params->gap;
    rp.max_duration = 0;
    rp.cap_mode = SZ_CAP_NONE;
    rp.inclusive = params->inclusive;
    rp.min_is_nat = params->min_is_nat;
    sz__rule_init(&w.rule, &rp);  /* without a gap: only the NaT check */
    w.rank_event = params->inclusive ? 0u : 0x80000000u;
    w.rank_gap = params->inclusive ? 0x80000000u : 0u;

    bad_kind = sz__ctr_scan_kinds(kinds, n, &searches);
    if (bad_kind != SZ_NO_POSITION) {
        /* an earlier bad time or key code is the first error */
        n = bad_kind;
        w.n = n;
    }

    st = sz__ctr_reserve(&w, searches);
    if (st != SZ_OK) goto fail;
    if (kk == SZ_KEYS_DENSE) {
        st = sz__ctab_alloc(&tab, keys->n_codes, SZ_STRIDE(tm));
    } else {
        size_t cap = 1024;
        /* start at the final size: small inputs' 2n, or twice the keys
         * estimated (the load stays at most one half) */
        while (cap < 2 * n && cap < ((size_t)1 << 16)) cap *= 2;
        if (cap < 2 * n && tm != TM_NONE) {
            double e = sz__estimate_keys(keys, n, kinds,
                                         tm == TM_GAP ? SZ_NEED_ALL : SZ_NEED_NO_GAP);
            while ((double)cap < 2 * e && cap < 2 * n) cap *= 2;
        }
        st = sz__ctab_alloc(&tab, cap, SZ_STRIDE(tm));
    }
    if (st != SZ_OK) goto fail;

    st = sz__ctr_pass_any(&w, &tab, kk, tm, &n_dirty, err_pos);
    if (st != SZ_OK) goto fail;
    if (bad_kind != SZ_NO_POSITION) {
        *err_pos = bad_kind;
        st = SZ_ERR_KIND;
        goto fail;
    }
    sz__ctr_end_table(&w, &tab, tm);

    if (n_dirty > 0) {
        size_t D = 0;
        st = SZ_ERR_NOMEM;
        n_dead = w.n_cl;
        packed = (int64_t *)SZ_MALLOC(sz__mul_size(n, sizeof *packed));
        member = (uint64_t *)SZ_MALLOC(sz__mul_size((tab.cap + 1 + 63) / 64, sizeof *member));
        rank = (uint32_t *)SZ_MALLOC(sz__mul_size(tab.cap + 1, sizeof *rank));
        dead = (uint8_t *)SZ_MALLOC(sz__mul_size(n_dead, sizeof *dead));
        if (!packed || !member || !rank || !dead) goto fail;
        st = sz__ctr_regroup(&w, &tab, kk, tm, packed, member, rank, dead, &D);
        if (st != SZ_OK) goto fail;
        SZ_FREE(tab.raw);  /* before the sort's buffers */
        tab.raw = NULL;
        if (tm == TM_GAP)
            st = sz__ctr_redo(&w, 1, packed, member, rank, D);
        else
            st = sz__ctr_redo(&w, 0, packed, member, rank, D);
        if (st != SZ_OK) goto fail;
        SZ_FREE(packed);
        SZ_FREE(member);
        SZ_FREE(rank);
        packed = NULL;
        member = NULL;
        rank = NULL;
    }
    SZ_FREE(tab.raw);
    tab.raw = NULL;
    n0 = w.n_cl;
    sz__ctr_flush(&w);

    st = SZ_ERR_NOMEM;
    c = (sz_ctr *)SZ_CALLOC(1, sizeof *c);
    if (c == NULL) goto fail;
    c->path = n_dirty > 0 ? SZ_PATH_SORTING : SZ_PATH_ORDERED;
    st = sz__ctr_finalize(&w, n0, dead, n_dead, c);
    if (st != SZ_OK) goto fail;
    sz__cwork_free(&w);
    SZ_FREE(dead);
    if (n_rows) *n_rows = c->n_rows;
    *out = c;
    return SZ_OK;

fail:
    sz__cwork_free(&w);
    SZ_FREE(tab.raw);
    SZ_FREE(packed);
    SZ_FREE(member);
    SZ_FREE(rank);
    SZ_FREE(dead);
    sz_ctr_free(c);
    if (st == SZ_ERR_NOMEM) *err_pos = SZ_NO_POSITION;
    return st;
}

size_t sz_ctr_rows(const sz_ctr *c) { return c ? c->n_rows : 0; }
size_t sz_ctr_sessions(const sz_ctr *c) { return c ? c->n_sessions : 0; }
int sz_ctr_path_taken(const sz_ctr *c) { return c ? c->path : -1; }

sz_status sz_ctr_fill(const sz_ctr *c, const sz_ctr_columns *cols)
{
    size_t r, s;
    if (c == NULL || cols == NULL) return SZ_ERR_PARAM;
    if (cols->session) {
        for (s = 0; s < c->n_sessions; s++)
            for (r = c->first[s]; r < c->first[s + 1]; r++)
                cols->session[r] = (int64_t)s;
    }
    if (cols->search)
        for (r = 0; r < c->n_rows; r++) cols->search[r] = (int64_t)c->search[r];
    if (cols->clicks)
        for (r = 0; r < c->n_rows; r++) cols->clicks[r] = (int64_t)c->clicks[r];
    if (cols->clicked)
        for (r = 0; r < c->n_rows; r++) cols->clicked[r] = c->clicks[r] != 0;
    return SZ_OK;
}

void sz_ctr_free(sz_ctr *c)
{
    if (c == NULL) return;
    SZ_FREE(c->search);
    SZ_FREE(c->clicks);
    SZ_FREE(c->first);
    SZ_FREE(c);
}
