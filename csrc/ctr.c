/*
 * ctr.c -- search sessions and click-through rate over arrays (tier 3).
 *
 * The per-key rule is sz_ctr.h's step function; this file decides which
 * events reach it, in what order, and where rows and sessions go:
 *
 *   kinds    one pass: every kind valid, and how many SEARCHes (rows and
 *            sessions are bounded by it, so they are allocated once).
 *   ORDERED  one hashed pass in input order with each key's state inline in
 *            its hash slot, as batch.c's.  APP_OPEN and RESULTS change
 *            nothing unless the gap rule needs their times, so without a gap
 *            they are not even looked up.  A row is pushed when its search
 *            ends, tagged with its session's record; a record notes how and
 *            when its session closed.
 *   SORTING  keys with an event out of time order ("dirty") are redone as
 *            batch.c redoes them: gathered by sz__group_starts/scatter,
 *            time-sorted by sz__sort_pairs, scanned.  Their rows from the
 *            hashed pass are dropped.
 *   order    the closed sessions are sorted by (moment, tie-break) and
 *            numbered; the rows follow their sessions by a counting sort
 *            (skipped when they already come in order).
 */
#include "sz_ctr.h"
#include "sz_sort.h"

#include <stdlib.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

struct sz_ctr {
    size_t n_rows;
    size_t n_sessions;
    int path;
    uint32_t *search;  /* n_rows: search positions, in row order */
    uint32_t *clicks;  /* n_rows */
    uint32_t *first;   /* n_sessions + 1: each session's first row */
};

#define SZ_PREFETCH_DIST 32  /* events looked ahead; a power of two */

/* A slot is in use when its state's sess has this bit; the low 31 bits are
 * then the open session's record (once it has a search). */
#define SZ_OCC 0x80000000u
#define SZ_REC_MASK 0x7fffffffu
/* st.search of a key found out of time order: the hashed pass ignores it
 * from then on (never a position: those are below INT32_MAX). */
#define SZ_DIRTY_SEARCH 0xfffffffeu

/* Kinds that can change a row when there is no gap rule. */
#define SZ_NEED_NO_GAP                                                       \
    ((1u << SZ_SEARCH) | (1u << SZ_CLICK) | (1u << SZ_APP_CLOSE)             \
     | (1u << SZ_TIMEOUT))
#define SZ_NEED_ALL ((1u << SZ_N_KINDS) - 1u)

/* A session record's state, written only at the end of input (flushed)
 * and for the keys redone by sorting (dead); its close goes to a list. */
enum { REC_OPEN = 0, REC_FLUSHED = 1, REC_DEAD = 2 };

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

    /* rows, in the order their searches ended */
    uint32_t *row_search, *row_clicks, *row_rec;
    size_t n_row, cap_row;

    /* one record per session with a search, made at its first search: that
     * search's time and position (what orders the flushed sessions) */
    int64_t *rec_t;
    uint32_t *rec_pos;
    uint8_t *rec_state;
    size_t n_rec, cap_rec;

    /* the sessions closed by an event or the gap rule, in the order found
     * (appended, so a close costs no random access): record, moment and
     * tie-break; as many as records at most */
    uint32_t *cl_rec;
    int64_t *cl_moment;
    uint32_t *cl_sec;
    size_t n_cl;
} sz_cwork;

/* ---- the hash table of keys --------------------------------------------- */

typedef struct sz_cslot {
    uint64_t key;      /* INT64: the key; BYTES: hash tag << 32 | a position */
    sz_ctr_state st;   /* 24 bytes: a slot is 32, two to a cache line */
} sz_cslot;

typedef struct sz_ctab {
    sz_cslot *slots;
    void *raw;
    size_t mask;  /* capacity - 1; DENSE: unused */
    size_t cap;   /* number of slots */
    size_t used;
} sz_ctab;

static sz_status sz__ctab_alloc(sz_ctab *tab, size_t cap)
{
    size_t bytes = sz__mul_size(cap, sizeof(sz_cslot));
    if (bytes > SIZE_MAX - 64) return SZ_ERR_NOMEM;
    /* zeroed memory is an empty table: no slot has SZ_OCC */
    tab->raw = SZ_CALLOC(1, bytes + 64);
    if (tab->raw == NULL) return SZ_ERR_NOMEM;
    tab->slots = (sz_cslot *)(((uintptr_t)tab->raw + 63) & ~(uintptr_t)63);
    tab->mask = cap - 1;
    tab->cap = cap;
    tab->used = 0;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    /* probed at random, as batch.c's table: huge pages spare TLB misses */
    if (bytes >= ((size_t)4 << 20)) {
        uintptr_t huge = (uintptr_t)1 << 21;
        uintptr_t lo = ((uintptr_t)tab->slots + huge - 1) & ~(huge - 1);
        uintptr_t hi = ((uintptr_t)tab->slots + bytes) & ~(huge - 1);
        if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
#endif
    return SZ_OK;
}

SZ_INLINE uint64_t sz__ctr_hash(const sz_keys *keys, int kk, size_t i)
{
    if (kk == SZ_KEYS_BYTES)
        return sz__hash_bytes((const unsigned char *)keys->data + i * keys->width,
                              keys->width);
    return sz__hash_u64((uint64_t)((const int64_t *)keys->data)[i]);
}

static sz_status sz__ctab_grow(sz_ctab *tab, const sz_keys *keys, int kk)
{
    sz_ctab bigger;
    size_t i;
    sz_status st = sz__ctab_alloc(&bigger, tab->cap * 2);
    if (st != SZ_OK) return st;
    for (i = 0; i < tab->cap; i++) {
        const sz_cslot *s = &tab->slots[i];
        uint64_t h;
        size_t j;
        if (!(s->st.sess & SZ_OCC)) continue;
        h = kk == SZ_KEYS_BYTES ? sz__ctr_hash(keys, kk, (uint32_t)s->key)
                                : sz__hash_u64(s->key);
        for (j = h & bigger.mask; bigger.slots[j].st.sess & SZ_OCC;
             j = (j + 1) & bigger.mask) {
        }
        bigger.slots[j] = *s;
    }
    bigger.used = tab->used;
    SZ_FREE(tab->raw);
    *tab = bigger;
    return SZ_OK;
}

/* Event i's slot; inserts its key when new (*fresh set) unless `insert` is
 * 0 (then the key must be present).  DENSE: the slot of its code. */
SZ_INLINE sz_cslot *sz__ctab_find(sz_ctab *tab, const sz_keys *keys, int kk,
                                  size_t i, uint64_t h, int *fresh)
{
    sz_cslot *s;
    size_t j;
    if (kk == SZ_KEYS_DENSE) {
        s = &tab->slots[((const int64_t *)keys->data)[i]];
        *fresh = !(s->st.sess & SZ_OCC);
        return s;
    }
    for (j = h & tab->mask;; j = (j + 1) & tab->mask) {
        s = &tab->slots[j];
        if (!(s->st.sess & SZ_OCC)) break;
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
    *fresh = 1;
    s->key = kk == SZ_KEYS_INT64 ? (uint64_t)((const int64_t *)keys->data)[i]
                                 : ((h >> 32) << 32) | (uint64_t)(uint32_t)i;
    return s;
}

/* ---- rows and session records ------------------------------------------ */

SZ_INLINE void sz__push_row(sz_cwork *w, uint32_t search, uint32_t clicks,
                            uint32_t rec)
{
    size_t r = w->n_row++;
    SZ_ASSERT(r < w->cap_row);
    w->row_search[r] = search;
    w->row_clicks[r] = clicks;
    w->row_rec[r] = rec;
}

SZ_INLINE uint32_t sz__new_rec(sz_cwork *w, int64_t t, uint32_t pos)
{
    size_t k = w->n_rec++;
    SZ_ASSERT(k < w->cap_rec);
    w->rec_t[k] = t;
    w->rec_pos[k] = pos;
    w->rec_state[k] = REC_OPEN;
    return (uint32_t)k;
}

SZ_INLINE void sz__push_close(sz_cwork *w, uint32_t rec, int64_t moment,
                              uint32_t sec)
{
    size_t j = w->n_cl++;
    SZ_ASSERT(j < w->cap_rec);
    w->cl_rec[j] = rec;
    w->cl_moment[j] = moment;
    w->cl_sec[j] = sec;
}

/* A gap close is ordered at its window end, last + gap: with inclusive, an
 * event may still join there, so a close by an event at that very time
 * comes first (rank_event < rank_gap); without, the session has already
 * ended when such an event comes (rank_gap < rank_event). */
SZ_INLINE void sz__close_gap(sz_cwork *w, uint32_t rec, int64_t last,
                             uint32_t last_pos)
{
    /* times are checked for last + gap */
    sz__push_close(w, rec, last + w->rule.gap, w->rank_gap | last_pos);
}

SZ_INLINE void sz__close_event(sz_cwork *w, uint32_t rec, int64_t t, uint32_t pos)
{
    sz__push_close(w, rec, t, w->rank_event | pos);
}

/* One event through the rule, its outcome recorded. */
SZ_INLINE void sz__ctr_apply(sz_cwork *w, int have_gap, sz_ctr_state *st,
                             unsigned kind, int64_t t, uint32_t pos)
{
    sz_ctr_ended e;
    uint32_t rec;
    unsigned what = sz__ctr_step(st, &w->rule, have_gap, kind, t, pos, &e);
    if (SZ_LIKELY(what == 0)) return;
    rec = st->sess & SZ_REC_MASK;
    if (what & SZ_CTR_ROW) sz__push_row(w, e.search, e.clicks, rec);
    if (have_gap && (what & SZ_CTR_GAP)) sz__close_gap(w, rec, e.last, e.last_pos);
    if (what & SZ_CTR_CLOSE) sz__close_event(w, rec, t, pos);
    if (what & SZ_CTR_FIRST) st->sess = (st->sess & SZ_OCC) | sz__new_rec(w, t, pos);
}

/* The end of the input for one key: its open search's row ends, and its
 * session closes by the gap rule if the watermark passed it, else by the
 * flush, else it is dropped. */
SZ_INLINE void sz__ctr_finish(sz_cwork *w, int have_gap, sz_ctr_state *st)
{
    uint32_t rec;
    if (st->search == SZ_CTR_NONE || st->search == SZ_DIRTY_SEARCH) return;
    rec = st->sess & SZ_REC_MASK;
    sz__push_row(w, st->search, st->clicks, rec);
    if (have_gap && sz__ctr_gap_passed(&w->rule, st->last, w->max_t))
        sz__close_gap(w, rec, st->last, st->last_pos);
    else if (w->flush)
        w->rec_state[rec] = REC_FLUSHED;
    /* else dropped: neither closed nor flushed, the record gets no number */
}

/* ---- ORDERED: the hashed pass ------------------------------------------ */

/* Time modes: no times; times without the gap rule; times with it. */
enum { TM_NONE = 0, TM_TIMES = 1, TM_GAP = 2 };

SZ_INLINE sz_status sz__ctr_pass(sz_cwork *w, sz_ctab *tab, int kk, int tm,
                                 size_t *n_dirty, size_t *err_pos)
{
    const int have_times = tm != TM_NONE, have_gap = tm == TM_GAP;
    const unsigned need = have_gap ? SZ_NEED_ALL : SZ_NEED_NO_GAP;
    const sz_keys *keys = w->keys;
    const int64_t *codes = (const int64_t *)keys->data;
    const uint8_t *kinds = w->kinds;
    const int64_t *times = w->times;
    const size_t n = w->n;
    uint64_t ring[SZ_PREFETCH_DIST];
    int64_t max_t = INT64_MIN;
    size_t i, dirty = 0;

    memset(ring, 0, sizeof ring);
    if (kk != SZ_KEYS_DENSE) {
        for (i = 0; i < SZ_PREFETCH_DIST && i < n; i++)
            if ((need >> kinds[i]) & 1u) ring[i] = sz__ctr_hash(keys, kk, i);
    }
    for (i = 0; i < n; i++) {
        unsigned k = kinds[i];
        int64_t t;
        uint64_t h = 0;
        sz_cslot *s;
        int fresh;
        if (have_times) {
            sz_status st;
            t = times[i];
            st = sz__time_check(&w->rule, t);
            if (SZ_UNLIKELY(st != SZ_OK)) {
                *err_pos = i;
                return st;
            }
            if (have_gap && t > max_t) max_t = t;
        } else {
            t = (int64_t)i;
        }
        if (kk == SZ_KEYS_DENSE) {
            size_t a = i + SZ_PREFETCH_DIST;
            if (SZ_UNLIKELY((uint64_t)codes[i] >= (uint64_t)keys->n_codes)) {
                *err_pos = i;
                return SZ_ERR_KEY_RANGE;
            }
            if (a < n && ((need >> kinds[a]) & 1u)
                && (uint64_t)codes[a] < keys->n_codes)
                SZ_PREFETCH_W(&tab->slots[codes[a]]);
        } else {
            size_t a = i + SZ_PREFETCH_DIST;
            h = ring[i & (SZ_PREFETCH_DIST - 1)];
            if (a < n && ((need >> kinds[a]) & 1u)) {
                uint64_t ha = sz__ctr_hash(keys, kk, a);
                ring[a & (SZ_PREFETCH_DIST - 1)] = ha;
                SZ_PREFETCH_W(&tab->slots[ha & tab->mask]);
            }
        }
        if (!((need >> k) & 1u)) continue;
        s = sz__ctab_find(tab, keys, kk, i, h, &fresh);
        if (fresh) {
            sz__ctr_init(&s->st, t);
            s->st.sess = SZ_OCC;
            sz__ctr_apply(w, have_gap, &s->st, k, t, (uint32_t)i);
            tab->used++;
            if (kk != SZ_KEYS_DENSE && tab->used * 2 > tab->cap) {
                sz_status gs = sz__ctab_grow(tab, keys, kk);
                if (gs != SZ_OK) return gs;
            }
            continue;
        }
        if (SZ_UNLIKELY(s->st.search == SZ_DIRTY_SEARCH)) continue;
        if (have_times && SZ_UNLIKELY(t < s->st.last)) {
            /* out of time order: the key is redone by sorting */
            s->st.search = SZ_DIRTY_SEARCH;
            dirty++;
            continue;
        }
        sz__ctr_apply(w, have_gap, &s->st, k, t, (uint32_t)i);
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

/* The end of input for every key the hashed pass kept. */
static void sz__ctr_finish_table(sz_cwork *w, sz_ctab *tab, int have_gap)
{
    size_t j;
    for (j = 0; j < tab->cap; j++) {
        sz_cslot *s = &tab->slots[j];
        if (!(s->st.sess & SZ_OCC)) continue;
        if (have_gap)
            sz__ctr_finish(w, 1, &s->st);
        else
            sz__ctr_finish(w, 0, &s->st);
    }
}

/* ---- SORTING: redo the dirty keys -------------------------------------- */

/*
 * Finds every looked-up event's slot again (the table no longer changes):
 * packed[i] is its slot index, or, for an event the pass skipped, the index
 * of a slot that is never dirty (an empty one; DENSE: one past the last, for
 * which member and rank have room).  Dirty slots get their bit in `member`
 * and a rank.  Rows the hashed pass made for dirty keys are dropped, and
 * room is made for the rows their redo will make.
 */
static sz_status sz__ctr_regroup(sz_cwork *w, sz_ctab *tab, int kk, int have_gap,
                                 int64_t *packed, uint64_t *member,
                                 uint32_t *rank, size_t *n_groups)
{
    const unsigned need = have_gap ? SZ_NEED_ALL : SZ_NEED_NO_GAP;
    const sz_keys *keys = w->keys;
    size_t i, j, d = 0, searches = 0, none = tab->cap;
    memset(member, 0, ((tab->cap + 1 + 63) / 64) * sizeof *member);
    for (j = 0; j < tab->cap; j++) {
        if (!(tab->slots[j].st.sess & SZ_OCC)) {
            if (none == tab->cap && kk != SZ_KEYS_DENSE) none = j;
        } else if (tab->slots[j].st.search == SZ_DIRTY_SEARCH) {
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
        slot = (size_t)(sz__ctab_find(tab, keys, kk, i,
                                      kk == SZ_KEYS_DENSE ? 0 : sz__ctr_hash(keys, kk, i),
                                      &fresh) - tab->slots);
        SZ_ASSERT(!fresh);
        packed[i] = (int64_t)slot;
        if (k == SZ_SEARCH && ((member[slot >> 6] >> (slot & 63)) & 1u)) searches++;
    }
    for (j = 0; j < w->n_row; j++) {
        size_t slot = (size_t)packed[w->row_search[j]];
        if ((member[slot >> 6] >> (slot & 63)) & 1u)
            w->rec_state[w->row_rec[j]] = REC_DEAD;
    }
    *n_groups = d;
    /* Record numbers share 31 bits with a flag in the table's slots; only
     * more than 2^30 searches in one call, redone, could reach them. */
    if (w->n_rec + searches > SZ_REC_MASK) return SZ_ERR_TOO_LARGE;
    /* room for the redo's rows and records */
    if (searches > 0) {
        size_t cap = w->n_row + searches, cr = w->n_rec + searches;
        uint32_t *a, *b, *c, *e;
        int64_t *m;
        uint8_t *f;
        a = (uint32_t *)SZ_REALLOC(w->row_search, sz__mul_size(cap, sizeof *a));
        if (a == NULL) return SZ_ERR_NOMEM;
        w->row_search = a;
        b = (uint32_t *)SZ_REALLOC(w->row_clicks, sz__mul_size(cap, sizeof *b));
        if (b == NULL) return SZ_ERR_NOMEM;
        w->row_clicks = b;
        c = (uint32_t *)SZ_REALLOC(w->row_rec, sz__mul_size(cap, sizeof *c));
        if (c == NULL) return SZ_ERR_NOMEM;
        w->row_rec = c;
        w->cap_row = cap;
        m = (int64_t *)SZ_REALLOC(w->rec_t, sz__mul_size(cr, sizeof *m));
        if (m == NULL) return SZ_ERR_NOMEM;
        w->rec_t = m;
        e = (uint32_t *)SZ_REALLOC(w->rec_pos, sz__mul_size(cr, sizeof *e));
        if (e == NULL) return SZ_ERR_NOMEM;
        w->rec_pos = e;
        f = (uint8_t *)SZ_REALLOC(w->rec_state, sz__mul_size(cr, sizeof *f));
        if (f == NULL) return SZ_ERR_NOMEM;
        w->rec_state = f;
        e = (uint32_t *)SZ_REALLOC(w->cl_rec, sz__mul_size(cr, sizeof *e));
        if (e == NULL) return SZ_ERR_NOMEM;
        w->cl_rec = e;
        m = (int64_t *)SZ_REALLOC(w->cl_moment, sz__mul_size(cr, sizeof *m));
        if (m == NULL) return SZ_ERR_NOMEM;
        w->cl_moment = m;
        e = (uint32_t *)SZ_REALLOC(w->cl_sec, sz__mul_size(cr, sizeof *e));
        if (e == NULL) return SZ_ERR_NOMEM;
        w->cl_sec = e;
        w->cap_rec = cr;
    }
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
        sz_ctr_state s;
        for (j = lo + 1; j < hi && tt[j] >= tt[j - 1]; j++) {
        }
        if (j < hi) {
            if (tmp_t == NULL) {
                tmp_t = (int64_t *)SZ_MALLOC(sz__mul_size(longest, sizeof *tmp_t));
                tmp_p = (uint32_t *)SZ_MALLOC(sz__mul_size(longest, sizeof *tmp_p));
                if (!tmp_t || !tmp_p) goto fail;
            }
            sz__sort_pairs(tt + lo, perm + lo, hi - lo, tmp_t, tmp_p);
        }
        sz__ctr_init(&s, tt[lo]);
        s.sess = SZ_OCC;
        for (j = lo; j < hi; j++)
            sz__ctr_apply(w, have_gap, &s, w->kinds[perm[j]], tt[j], perm[j]);
        sz__ctr_finish(w, have_gap, &s);
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

/* ---- close order and rows ---------------------------------------------- */

/* Whether (t[j], s[j]) never decreases. */
static int sz__pairs_sorted(const int64_t *t, const uint32_t *s, size_t m)
{
    size_t j;
    for (j = 1; j < m; j++)
        if (t[j] < t[j - 1] || (t[j] == t[j - 1] && s[j] < s[j - 1])) return 0;
    return 1;
}

/*
 * Numbers m sessions, from *next on, in order of (t, s): rank[rec[j]].
 * Usually they come in order already (a log closes sessions in time order);
 * otherwise two stable sorts of sz_sort.h, by s then by t, order them.
 * tt, p, tmp_t, tmp_p: scratch of m elements, used only then.
 */
static void sz__ctr_number(const uint32_t *rec, const int64_t *t, const uint32_t *s,
                           size_t m, uint32_t *rank, uint32_t *next, int64_t *tt,
                           uint32_t *p, int64_t *tmp_t, uint32_t *tmp_p)
{
    size_t j;
    if (sz__pairs_sorted(t, s, m)) {
        for (j = 0; j < m; j++) rank[rec[j]] = (*next)++;
        return;
    }
    for (j = 0; j < m; j++) {
        tt[j] = (int64_t)s[j];
        p[j] = (uint32_t)j;
    }
    sz__sort_pairs(tt, p, m, tmp_t, tmp_p);
    for (j = 0; j < m; j++) tt[j] = t[p[j]];
    sz__sort_pairs(tt, p, m, tmp_t, tmp_p);
    for (j = 0; j < m; j++) rank[rec[p[j]]] = (*next)++;
}

/* Numbers the closed sessions, then the flushed ones: rank[rec], or
 * SZ_CTR_NONE for a record without a number (dropped, or of a key redone
 * by sorting, whose redo made new records).  *n_sessions gets the count. */
static sz_status sz__ctr_rank(sz_cwork *w, uint32_t *rank, uint32_t *n_sessions)
{
    int64_t *tt = NULL, *tmp_t = NULL;
    uint32_t *p = NULL, *tmp_p = NULL, next = 0;
    size_t j, m = 0, f = 0;
    sz_status st = SZ_ERR_NOMEM;

    for (j = 0; j < w->n_rec; j++) rank[j] = SZ_CTR_NONE;
    /* the closed ones, in the order found */
    for (j = 0; j < w->n_cl; j++) {
        uint32_t rec = w->cl_rec[j];
        if (w->rec_state[rec] == REC_DEAD) continue;
        w->cl_rec[m] = rec;
        w->cl_moment[m] = w->cl_moment[j];
        w->cl_sec[m++] = w->cl_sec[j];
    }
    /* after them the flushed ones, in record order (a record is closed or
     * flushed at most once: there is room) */
    for (j = 0; j < w->n_rec; j++) {
        if (w->rec_state[j] != REC_FLUSHED) continue;
        w->cl_rec[m + f] = (uint32_t)j;
        w->cl_moment[m + f] = w->rec_t[j];
        w->cl_sec[m + f++] = w->rec_pos[j];
    }
    if (!sz__pairs_sorted(w->cl_moment, w->cl_sec, m)
        || !sz__pairs_sorted(w->cl_moment + m, w->cl_sec + m, f)) {
        size_t most = m > f ? m : f;
        tt = (int64_t *)SZ_MALLOC(sz__mul_size(most, sizeof *tt));
        p = (uint32_t *)SZ_MALLOC(sz__mul_size(most, sizeof *p));
        tmp_t = (int64_t *)SZ_MALLOC(sz__mul_size(most, sizeof *tmp_t));
        tmp_p = (uint32_t *)SZ_MALLOC(sz__mul_size(most, sizeof *tmp_p));
        if (!tt || !p || !tmp_t || !tmp_p) goto fail;
    }
    sz__ctr_number(w->cl_rec, w->cl_moment, w->cl_sec, m, rank, &next, tt, p, tmp_t,
                   tmp_p);
    sz__ctr_number(w->cl_rec + m, w->cl_moment + m, w->cl_sec + m, f, rank, &next, tt,
                   p, tmp_t, tmp_p);
    st = SZ_OK;
fail:
    SZ_FREE(tt);
    SZ_FREE(p);
    SZ_FREE(tmp_t);
    SZ_FREE(tmp_p);
    *n_sessions = next;
    return st;
}

/* Puts the rows of the numbered sessions in session order into c. */
static sz_status sz__ctr_order(sz_cwork *w, sz_ctr *c)
{
    uint32_t *rank = NULL, *first = NULL;
    uint32_t S = 0, prev = 0;
    size_t r, k, R = 0;
    int in_order = 1;
    sz_status st = SZ_ERR_NOMEM;

    rank = (uint32_t *)SZ_MALLOC(sz__mul_size(w->n_rec, sizeof *rank));
    if (rank == NULL) goto fail;
    if ((st = sz__ctr_rank(w, rank, &S)) != SZ_OK) goto fail;
    st = SZ_ERR_NOMEM;

    /* rows per session, into first[] */
    first = (uint32_t *)SZ_CALLOC((size_t)S + 1, sizeof *first);
    if (first == NULL) goto fail;
    for (r = 0; r < w->n_row; r++) {
        uint32_t s = rank[w->row_rec[r]];
        if (s == SZ_CTR_NONE) continue;
        if (s < prev) in_order = 0;
        prev = s;
        first[s + 1]++;
        R++;
    }
    for (k = 0; k < S; k++) first[k + 1] += first[k];

    c->search = (uint32_t *)SZ_MALLOC(sz__mul_size(R, sizeof *c->search));
    c->clicks = (uint32_t *)SZ_MALLOC(sz__mul_size(R, sizeof *c->clicks));
    if (!c->search || !c->clicks) goto fail;
    if (in_order) {
        size_t o = 0;
        for (r = 0; r < w->n_row; r++) {
            if (rank[w->row_rec[r]] == SZ_CTR_NONE) continue;
            c->search[o] = w->row_search[r];
            c->clicks[o++] = w->row_clicks[r];
        }
    } else {
        /* stable counting sort: each session's rows keep the order in which
         * its searches ended, their time order.  first[] walks forward and
         * is shifted back after. */
        for (r = 0; r < w->n_row; r++) {
            uint32_t s = rank[w->row_rec[r]], o;
            if (s == SZ_CTR_NONE) continue;
            o = first[s]++;
            c->search[o] = w->row_search[r];
            c->clicks[o] = w->row_clicks[r];
        }
        for (k = S; k > 0; k--) first[k] = first[k - 1];
        first[0] = 0;
    }
    c->first = first;
    first = NULL;
    c->n_rows = R;
    c->n_sessions = S;
    st = SZ_OK;
fail:
    SZ_FREE(rank);
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
    SZ_FREE(w->row_search);
    SZ_FREE(w->row_clicks);
    SZ_FREE(w->row_rec);
    SZ_FREE(w->rec_t);
    SZ_FREE(w->rec_pos);
    SZ_FREE(w->rec_state);
    SZ_FREE(w->cl_rec);
    SZ_FREE(w->cl_moment);
    SZ_FREE(w->cl_sec);
}

sz_status sz_ctr_run(sz_ctr **out, const sz_keys *keys, const uint8_t *kinds,
                     const int64_t *times, size_t n, const sz_ctr_params *params,
                     size_t *n_rows, size_t *err_pos)
{
    sz_ctr *c = NULL;
    sz_cwork w;
    sz_ctab tab = {NULL, NULL, 0, 0, 0};
    sz_params rp;
    int64_t *packed = NULL;
    uint64_t *member = NULL;
    uint32_t *rank = NULL;
    size_t pos_unused, bad_kind, searches, n_dirty = 0;
    int kk, tm;
    sz_status st;

    memset(&w, 0, sizeof w);
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

    st = SZ_ERR_NOMEM;
    w.cap_row = w.cap_rec = searches;
    w.row_search = (uint32_t *)SZ_MALLOC(sz__mul_size(searches, sizeof *w.row_search));
    w.row_clicks = (uint32_t *)SZ_MALLOC(sz__mul_size(searches, sizeof *w.row_clicks));
    w.row_rec = (uint32_t *)SZ_MALLOC(sz__mul_size(searches, sizeof *w.row_rec));
    w.rec_t = (int64_t *)SZ_MALLOC(sz__mul_size(searches, sizeof *w.rec_t));
    w.rec_pos = (uint32_t *)SZ_MALLOC(sz__mul_size(searches, sizeof *w.rec_pos));
    w.rec_state = (uint8_t *)SZ_MALLOC(sz__mul_size(searches, sizeof *w.rec_state));
    w.cl_rec = (uint32_t *)SZ_MALLOC(sz__mul_size(searches, sizeof *w.cl_rec));
    w.cl_moment = (int64_t *)SZ_MALLOC(sz__mul_size(searches, sizeof *w.cl_moment));
    w.cl_sec = (uint32_t *)SZ_MALLOC(sz__mul_size(searches, sizeof *w.cl_sec));
    if (!w.row_search || !w.row_clicks || !w.row_rec || !w.rec_t || !w.rec_pos
        || !w.rec_state || !w.cl_rec || !w.cl_moment || !w.cl_sec)
        goto fail;
    if (kk == SZ_KEYS_DENSE) {
        st = sz__ctab_alloc(&tab, keys->n_codes);
    } else {
        size_t cap = 1024;
        /* start near the final size for small inputs, grow for large */
        while (cap < 2 * n && cap < ((size_t)1 << 16)) cap *= 2;
        st = sz__ctab_alloc(&tab, cap);
    }
    if (st != SZ_OK) goto fail;

    st = sz__ctr_pass_any(&w, &tab, kk, tm, &n_dirty, err_pos);
    if (st != SZ_OK) goto fail;
    if (bad_kind != SZ_NO_POSITION) {
        *err_pos = bad_kind;
        st = SZ_ERR_KIND;
        goto fail;
    }
    sz__ctr_finish_table(&w, &tab, tm == TM_GAP);

    if (n_dirty > 0) {
        size_t D = 0;
        st = SZ_ERR_NOMEM;
        packed = (int64_t *)SZ_MALLOC(sz__mul_size(n, sizeof *packed));
        member = (uint64_t *)SZ_MALLOC(sz__mul_size((tab.cap + 1 + 63) / 64, sizeof *member));
        rank = (uint32_t *)SZ_MALLOC(sz__mul_size(tab.cap + 1, sizeof *rank));
        if (!packed || !member || !rank) goto fail;
        st = sz__ctr_regroup(&w, &tab, kk, tm == TM_GAP, packed, member, rank, &D);
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

    st = SZ_ERR_NOMEM;
    c = (sz_ctr *)SZ_CALLOC(1, sizeof *c);
    if (c == NULL) goto fail;
    c->path = n_dirty > 0 ? SZ_PATH_SORTING : SZ_PATH_ORDERED;
    st = sz__ctr_order(&w, c);
    if (st != SZ_OK) goto fail;
    sz__cwork_free(&w);
    if (n_rows) *n_rows = c->n_rows;
    *out = c;
    return SZ_OK;

fail:
    sz__cwork_free(&w);
    SZ_FREE(tab.raw);
    SZ_FREE(packed);
    SZ_FREE(member);
    SZ_FREE(rank);
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
