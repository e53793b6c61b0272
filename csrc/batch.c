/*
 * batch.c -- one-shot sessionization of arrays (tier 1 of sessionize.h).
 *
 * Three paths, tried in this order, each falling through to the next when
 * its premise fails:
 *
 *   SORTED   keys grouped in runs that increase (any strict order implies
 *            each key is contiguous) and times non-decreasing in each run:
 *            a single scan writes final session ids.
 *   ORDERED  each key's events in time order, keys interleaved (a log): one
 *            hashed pass keeps per-key state inline in the hash slot and
 *            writes (session-within-key << 32 | key id) per event; a second
 *            pass turns that into global ids once each key's first session
 *            id is known.  No sort at all.  An event that arrives late but
 *            within its key's open session (a log's jitter) joins it there.
 *   SORTING  the ORDERED pass, where some keys had events out of order that
 *            could not simply join: only those keys ("dirty") are redone,
 *            by a stable counting sort of their events by key, a sort of
 *            each one's times, and a scan.  Fully shuffled input is the case
 *            where every key is dirty.
 *
 * Session ids come out ordered by key (first appearance) then start, so the
 * numbering is the same whichever path ran.
 */
#include "sz_internal.h"
#include "sz_sort.h"

#include <stdlib.h>

struct sz_batch {
    size_t n_events;
    size_t n_keys;
    size_t n_sessions;
    int64_t *key_first;  /* n_keys + 1: each key's first session id */
    sz_rule rule;
    int path;
    int spanned;  /* the hashed pass indexed its table by key span */
};

/* The hashed pass's table for SZ_KEYS_INT64 keys in a narrow range: an
 * array indexed by key - smallest, like DENSE codes', but with key ids in
 * first-appearance order like INT64's.  Internal, never a caller's kind. */
#define SZ__KEYS_SPAN 3

/* High bit of a slot's nsess: the key had an event out of order that could
 * not join its open session; its sessions are computed by sorting. */
#define SZ_DIRTY 0x80000000u
#define SZ_PREFETCH_DIST 32  /* events looked ahead; a power of two */

/* ---- growable key_first for the SORTED path ---------------------------- */

typedef struct sz_i64vec {
    int64_t *v;
    size_t len, cap;
} sz_i64vec;

/* Appends x[0, m) to a, doubling its capacity (from 1024) as needed. */
static sz_status sz__vec_append(sz_i64vec *a, const int64_t *x, size_t m)
{
    if (a->cap - a->len < m) {
        size_t cap = a->cap ? a->cap : 1024;
        int64_t *v;
        while (cap - a->len < m) cap *= 2;
        v = (int64_t *)SZ_REALLOC(a->v, sz__mul_size(cap, sizeof *v));
        if (v == NULL) return SZ_ERR_NOMEM;
        a->v = v;
        a->cap = cap;
    }
    memcpy(a->v + a->len, x, m * sizeof *x);
    a->len += m;
    return SZ_OK;
}

static sz_status sz__vec_push(sz_i64vec *a, int64_t x) { return sz__vec_append(a, &x, 1); }

/* ---- SORTED: a single scan, in one or two parts ------------------------ */

/*
 * A part scans events [lo, hi) as if they were the whole input: session
 * ids from 0, each key's first session id pushed on kf (SZ_KEYS_DENSE:
 * written into the shared dense array from code kf_to on, codes without
 * events included).  The second part starts at a key's first event, so
 * the parts share no key and no cache line of ids but the one at the cut;
 * its ids and key_first entries are moved up by the first part's sessions
 * afterwards.
 */
typedef struct sz_sorted_part {
    size_t lo, hi;
    sz_i64vec kf;       /* INT64, BYTES: each key's first session id */
    size_t kf_to;       /* DENSE: codes filled so far (the next to fill) */
    int64_t sessions;
    sz_status st;
    size_t err_pos;
    int bailed;         /* the part is not sorted by (key, time) */
} sz_sorted_part;

typedef struct sz_sorted_job {
    const sz_rule *rule;
    const sz_keys *keys;
    const int64_t *times;
    int64_t *ids;
    int64_t *kf_dense;  /* DENSE: n_codes + 1 entries */
    int kind, mode;
    sz_sorted_part part[2];
    int64_t shift;      /* sz__shift_part: what is added to ids[lo, hi) */
    size_t shift_lo, shift_hi;
    int shift_parts;
} sz_sorted_job;

SZ_INLINE void sz__scan_sorted(sz_sorted_job *job, int kind, int mode,
                               sz_sorted_part *p)
{
    const sz_rule *r = job->rule;
    const sz_keys *keys = job->keys;
    const int64_t *codes = (const int64_t *)keys->data;
    const int64_t *times = job->times;
    int64_t *ids = job->ids;
    int64_t last = 0, anchor = 0, g = -1;
    size_t i;

    for (i = p->lo; i < p->hi; i++) {
        int64_t t = times[i];
        int fresh;
        sz_status st = sz__time_check(r, t);
        if (SZ_UNLIKELY(st != SZ_OK)) {
            p->st = st;
            p->err_pos = i;
            return;
        }
        if (kind == SZ_KEYS_DENSE
            && SZ_UNLIKELY((uint64_t)codes[i] >= (uint64_t)keys->n_codes)) {
            p->st = SZ_ERR_KEY_RANGE;
            p->err_pos = i;
            return;
        }
        if (i == p->lo) {
            fresh = 1;
        } else {
            int c = sz__key_cmp(keys, kind, i, i - 1);
            if (SZ_UNLIKELY(c < 0)) {
                p->bailed = 1;
                return;
            }
            fresh = c > 0;
        }
        if (fresh) {
            g++;
            if (kind == SZ_KEYS_DENSE) {
                /* codes without events own no sessions */
                while (p->kf_to <= (size_t)codes[i]) job->kf_dense[p->kf_to++] = g;
            } else if ((p->st = sz__vec_push(&p->kf, g)) != SZ_OK) {
                return;
            }
            sz__rule_begin(r, mode, &last, &anchor, t);
        } else {
            if (SZ_UNLIKELY(t < last)) {
                p->bailed = 1;
                return;
            }
            g += sz__rule_step(r, mode, &last, &anchor, t);
        }
        ids[i] = g;
    }
    p->sessions = g + 1;
}

#define SZ_SCAN_CHUNK 2048

/*
 * sz__scan_sorted for int64 keys without a cap, branch-free: a new key or
 * a gap adds one to the session id, and a key's first session id is stored
 * at the next free place whether or not it is one (the place then only
 * advances for a new key).  Whether an event is out of order or its time
 * out of range is or-ed into one flag per chunk; a flagged chunk is
 * scanned again by sz__scan_sorted's rules, event by event, from the state
 * before it, which finds what and where.  Sorted input has a new session
 * at about one event in five here: as branches, those mispredict.
 */
static void sz__scan_sorted_int64(sz_sorted_job *job, sz_sorted_part *p)
{
    const sz_rule *r = job->rule;
    const int64_t *keys = (const int64_t *)job->keys->data;
    const int64_t *times = job->times;
    int64_t *ids = job->ids;
    int64_t firsts[SZ_SCAN_CHUNK];
    const uint64_t thr = r->gap_thr, t_lo = (uint64_t)r->t_lo;
    const uint64_t t_span = (uint64_t)r->t_hi - (uint64_t)r->t_lo;
    int64_t g = -1, prev = 0, last = 0;
    size_t c0, i;

    for (c0 = p->lo; c0 < p->hi; c0 += SZ_SCAN_CHUNK) {
        size_t c1 = p->hi - c0 < SZ_SCAN_CHUNK ? p->hi : c0 + SZ_SCAN_CHUNK, nk = 0;
        int64_t prev0 = prev, last0 = last;
        uint64_t bad = 0;
        i = c0;
        if (c0 == p->lo) {  /* the part's first event opens a key */
            int64_t t = times[i];
            bad |= (uint64_t)t - t_lo > t_span;
            firsts[nk++] = ++g;
            ids[i] = g;
            prev = keys[i];
            last = t;
            i++;
        }
        for (; i < c1; i++) {
            int64_t k = keys[i], t = times[i];
            uint64_t fresh = k != prev;
            bad |= ((uint64_t)t - t_lo > t_span) | (uint64_t)(k < prev)
                   | ((uint64_t)(t < last) & (fresh ^ 1));
            g += (int64_t)(fresh | ((uint64_t)t - (uint64_t)last >= thr));
            ids[i] = g;
            firsts[nk] = g;
            nk += fresh;
            prev = k;
            last = t;
        }
        if (SZ_UNLIKELY(bad)) {
            /* the rules again, in order: the first event at fault decides */
            int64_t rprev = prev0, rlast = last0;
            for (i = c0; i < c1; i++) {
                int64_t t = times[i];
                sz_status st = sz__time_check(r, t);
                if (st != SZ_OK) {
                    p->st = st;
                    p->err_pos = i;
                    return;
                }
                if (i != p->lo && (keys[i] < rprev || (keys[i] == rprev && t < rlast))) {
                    p->bailed = 1;
                    return;
                }
                rprev = keys[i];
                rlast = t;
            }
            SZ_ASSERT(!"a flagged chunk has an event at fault");
        }
        if ((p->st = sz__vec_append(&p->kf, firsts, nk)) != SZ_OK) return;
    }
    p->sessions = g + 1;
}

static void sz__scan_part(void *arg, int part)
{
    sz_sorted_job *job = (sz_sorted_job *)arg;
    sz_sorted_part *p = &job->part[part];
    if (job->kind == SZ_KEYS_INT64 && job->mode == SZ_CAP_NONE) {
        sz__scan_sorted_int64(job, p);
        return;
    }
#define SZ_SCAN(K)                                                               \
    (job->mode == SZ_CAP_RESTART ? sz__scan_sorted(job, K, SZ_CAP_RESTART, p)    \
     : job->mode == SZ_CAP_FIXED ? sz__scan_sorted(job, K, SZ_CAP_FIXED, p)      \
                                 : sz__scan_sorted(job, K, SZ_CAP_NONE, p))
    switch (job->kind) {
    case SZ_KEYS_INT64: SZ_SCAN(SZ_KEYS_INT64); break;
    case SZ_KEYS_BYTES: SZ_SCAN(SZ_KEYS_BYTES); break;
    default: SZ_SCAN(SZ_KEYS_DENSE); break;
    }
#undef SZ_SCAN
}

/* Adds job->shift to ids[shift_lo, shift_hi), in shift_parts parts. */
static void sz__shift_part(void *arg, int part)
{
    sz_sorted_job *job = (sz_sorted_job *)arg;
    int64_t *ids = job->ids + job->shift_lo;
    size_t i, lo, hi;
    sz__part_range(job->shift_hi - job->shift_lo, job->shift_parts, part, &lo, &hi);
    for (i = lo; i < hi; i++) ids[i] += job->shift;
}

/* Where the second part starts: the first event of a key near the middle;
 * n (no second part) when the middle's key runs on past three quarters. */
static size_t sz__sorted_cut(const sz_keys *keys, int kind, size_t n)
{
    size_t m = n / 2;
    while (m < n - n / 4 && sz__key_cmp(keys, kind, m, m - 1) == 0) m++;
    if (m >= n - n / 4) return n;
    if (kind == SZ_KEYS_DENSE) {
        /* the second part fills codes from the first part's last on: that
         * code must be one (if not, the first part reports it) */
        const int64_t *codes = (const int64_t *)keys->data;
        if ((uint64_t)codes[m - 1] >= (uint64_t)keys->n_codes) return n;
    }
    return m;
}

/* Returns SZ_OK with *bailed set when the input is not sorted by (key,
 * time); nothing but ids (scratch then) has been written in that case. */
static sz_status sz__assign_sorted(sz_batch *b, const sz_keys *keys, int kind,
                                   int mode, const int64_t *times, size_t n,
                                   int64_t *ids, int *bailed, size_t *err_pos)
{
    sz_sorted_job job;
    sz_sorted_part *p0 = &job.part[0], *p1 = &job.part[1];
    int parts = sz__threads_for(n);
    size_t m = parts == 2 ? sz__sorted_cut(keys, kind, n) : n;
    sz_status st = SZ_OK;

    *bailed = 0;
    if (m == n) parts = 1;
    memset(&job, 0, sizeof job);
    job.rule = &b->rule;
    job.keys = keys;
    job.times = times;
    job.ids = ids;
    job.kind = kind;
    job.mode = mode;
    p0->hi = p1->lo = m;
    p1->hi = n;
    p0->err_pos = p1->err_pos = SZ_NO_POSITION;
    if (kind == SZ_KEYS_DENSE) {
        job.kf_dense =
            (int64_t *)SZ_MALLOC(sz__mul_size(keys->n_codes + 1, sizeof *job.kf_dense));
        if (job.kf_dense == NULL) return SZ_ERR_NOMEM;
        if (parts == 2) p1->kf_to = (size_t)((const int64_t *)keys->data)[m - 1] + 1;
    }
    sz__run_parts(sz__scan_part, &job, parts);

    /* The first of: part 0's error, part 0 unsorted, part 1's error, part 1
     * unsorted or the cut out of order.  An error is the input's first: a
     * part stops at its first error or disorder, whichever comes first. */
    if ((st = p0->st) != SZ_OK) {
        *err_pos = p0->err_pos;
        goto done;
    }
    if (p0->bailed) goto bail;
    if (parts == 2) {
        if ((st = p1->st) != SZ_OK) {
            *err_pos = p1->err_pos;
            goto done;
        }
        if (p1->bailed || sz__key_cmp(keys, kind, m, m - 1) < 0) goto bail;
    }

    b->n_sessions = (size_t)(p0->sessions + p1->sessions);
    if (parts == 2 && p0->sessions > 0) {
        size_t k;
        job.shift = p0->sessions;
        job.shift_lo = m;
        job.shift_hi = n;
        job.shift_parts = sz__threads_for(n - m);
        sz__run_parts(sz__shift_part, &job, job.shift_parts);
        if (kind == SZ_KEYS_DENSE) {
            for (k = p0->kf_to; k < p1->kf_to; k++) job.kf_dense[k] += p0->sessions;
        } else {
            for (k = 0; k < p1->kf.len; k++) p1->kf.v[k] += p0->sessions;
        }
    }
    if (kind == SZ_KEYS_DENSE) {
        size_t k = parts == 2 ? p1->kf_to : p0->kf_to;
        /* codes after the last key's own no sessions; one more entry:
         * key_first[n_keys] = n_sessions */
        for (; k <= keys->n_codes; k++) job.kf_dense[k] = (int64_t)b->n_sessions;
        b->key_first = job.kf_dense;
        job.kf_dense = NULL;
        b->n_keys = keys->n_codes;
    } else {
        size_t k, n0 = p0->kf.len;
        for (k = 0; k < p1->kf.len; k++) {
            if ((st = sz__vec_push(&p0->kf, p1->kf.v[k])) != SZ_OK) goto done;
        }
        if ((st = sz__vec_push(&p0->kf, (int64_t)b->n_sessions)) != SZ_OK) goto done;
        b->n_keys = n0 + p1->kf.len;
        b->key_first = p0->kf.v;
        p0->kf.v = NULL;
    }
    b->path = SZ_PATH_SORTED;
    goto done;

bail:
    *bailed = 1;
    st = SZ_OK;
done:
    SZ_FREE(job.kf_dense);
    SZ_FREE(p0->kf.v);
    SZ_FREE(p1->kf.v);
    return st;
}

/* ---- ORDERED: one hashed pass ------------------------------------------ */

/* A key's slot: the key and its open session's state, 32 bytes, so one
 * cache line holds two and an event costs one line. */
typedef struct sz_slot {
    uint64_t key;    /* INT64: the key; BYTES: hash tag << 32 | first position;
                        DENSE and SPAN: unused */
    int64_t last;    /* time of the key's last event */
    int64_t anchor;  /* see sz__rule_begin */
    uint32_t kid;    /* dense key id in first-appearance order */
    uint32_t nsess;  /* sessions of this key so far; 0 marks an empty slot */
} sz_slot;

typedef struct sz_table {
    sz_slot *slots;
    void *raw;     /* what was allocated: slots aligned to a cache line */
    size_t mask;   /* capacity - 1 (DENSE: unused; SPAN: span - 1) */
    size_t used;
    uint64_t base; /* SPAN: the smallest key, as uint64 */
} sz_table;

static sz_status sz__table_alloc(sz_table *tab, size_t cap)
{
    size_t bytes = sz__mul_size(cap, sizeof(sz_slot));
    if (bytes > SIZE_MAX - 64) return SZ_ERR_NOMEM;
    /* Zeroed memory is an empty table (nsess == 0): a fresh large
     * allocation comes zeroed from the kernel, with no fill pass. */
    tab->raw = SZ_CALLOC(1, bytes + 64);
    if (tab->raw == NULL) return SZ_ERR_NOMEM;
    tab->slots = (sz_slot *)(((uintptr_t)tab->raw + 63) & ~(uintptr_t)63);
    tab->mask = cap - 1;
    tab->used = 0;
    tab->base = 0;
    /* A large table is probed at random: the allocator's huge-page hint
     * spares most TLB misses (measured: pass 1 about 15% faster at 1 M keys). */
    return SZ_OK;
}

/* Doubles the table; slot contents move, key ids stay. */
static sz_status sz__table_grow(sz_table *tab, const sz_keys *keys, int kind)
{
    sz_table bigger;
    size_t i, cap = tab->mask + 1;
    sz_status st = sz__table_alloc(&bigger, cap * 2);
    if (st != SZ_OK) return st;
    for (i = 0; i < cap; i++) {
        const sz_slot *s = &tab->slots[i];
        uint64_t h;
        size_t j;
        if (s->nsess == 0) continue;
        h = kind == SZ_KEYS_BYTES ? sz__key_hash(keys, kind, (uint32_t)s->key)
                                  : sz__hash_u64(s->key);
        for (j = h & bigger.mask; bigger.slots[j].nsess != 0;
             j = (j + 1) & bigger.mask) {
        }
        bigger.slots[j] = *s;
    }
    bigger.used = tab->used;
    SZ_FREE(tab->raw);
    *tab = bigger;
    return SZ_OK;
}

/* Finds event i's slot, inserting its key if new (*fresh set).  For DENSE
 * keys the table is an array indexed by code; for SPAN, by key - base
 * (checked to be in the table by the caller). */
SZ_INLINE sz_slot *sz__table_find(sz_table *tab, const sz_keys *keys,
                                  int kind, size_t i, uint64_t h, int *fresh)
{
    sz_slot *s;
    size_t j;
    if (kind == SZ_KEYS_DENSE) {
        s = &tab->slots[((const int64_t *)keys->data)[i]];
        *fresh = s->nsess == 0;
        return s;
    }
    if (kind == SZ__KEYS_SPAN) {
        s = &tab->slots[(uint64_t)((const int64_t *)keys->data)[i] - tab->base];
        *fresh = s->nsess == 0;
        return s;
    }
    for (j = h & tab->mask;; j = (j + 1) & tab->mask) {
        s = &tab->slots[j];
        if (s->nsess == 0) break;
        if (kind == SZ_KEYS_INT64) {
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
    s->key = kind == SZ_KEYS_INT64 ? (uint64_t)((const int64_t *)keys->data)[i]
                                   : ((h >> 32) << 32) | (uint64_t)(uint32_t)i;
    return s;
}

/*
 * The hashed pass.  For a key whose events come in time order, ids[i] =
 * local << 32 | kid.  A key with an event out of order that cannot join its
 * open session is marked SZ_DIRTY; from then on its events get ids[i] = kid
 * and *n_dirty counts such keys, which sz__resolve_dirty() redoes.
 */
SZ_INLINE sz_status sz__pass_ordered(sz_batch *b, sz_table *tab,
                                     const sz_keys *keys, int kind, int mode,
                                     const int64_t *times, size_t n,
                                     int64_t *ids, size_t *n_dirty,
                                     size_t *err_pos)
{
    const sz_rule *r = &b->rule;
    const int64_t *codes = (const int64_t *)keys->data;
    uint64_t ring[SZ_PREFETCH_DIST];
    uint32_t next_kid = 0;
    size_t i, dirty = 0;

    if (kind != SZ_KEYS_DENSE && kind != SZ__KEYS_SPAN) {
        for (i = 0; i < SZ_PREFETCH_DIST && i < n; i++)
            ring[i] = sz__key_hash(keys, kind, i);
    }
    for (i = 0; i < n; i++) {
        int64_t t = times[i];
        uint64_t h = 0;
        sz_slot *s;
        int fresh;
        sz_status st = sz__time_check(r, t);
        if (SZ_UNLIKELY(st != SZ_OK)) {
            *err_pos = i;
            return st;
        }
        if (kind == SZ_KEYS_DENSE) {
            if (SZ_UNLIKELY((uint64_t)codes[i] >= (uint64_t)keys->n_codes)) {
                *err_pos = i;
                return SZ_ERR_KEY_RANGE;
            }
            if (i + SZ_PREFETCH_DIST < n
                && (uint64_t)codes[i + SZ_PREFETCH_DIST] < keys->n_codes)
                SZ_PREFETCH_W(&tab->slots[codes[i + SZ_PREFETCH_DIST]]);
        } else if (kind == SZ__KEYS_SPAN) {
            /* sz__key_span() saw every key in the table; this check only
             * keeps memory safe should the caller change keys meanwhile */
            if (SZ_UNLIKELY((uint64_t)codes[i] - tab->base > tab->mask)) {
                *err_pos = i;
                return SZ_ERR_PARAM;
            }
            if (i + SZ_PREFETCH_DIST < n) {
                uint64_t ka = (uint64_t)codes[i + SZ_PREFETCH_DIST] - tab->base;
                if (ka <= tab->mask) SZ_PREFETCH_W(&tab->slots[ka]);
            }
        } else {
            h = ring[i & (SZ_PREFETCH_DIST - 1)];
            if (i + SZ_PREFETCH_DIST < n) {
                uint64_t ha = sz__key_hash(keys, kind, i + SZ_PREFETCH_DIST);
                ring[i & (SZ_PREFETCH_DIST - 1)] = ha;
                SZ_PREFETCH_W(&tab->slots[ha & tab->mask]);
            }
        }
        s = sz__table_find(tab, keys, kind, i, h, &fresh);
        if (fresh) {
            s->kid = kind == SZ_KEYS_DENSE ? (uint32_t)codes[i] : next_kid++;
            s->nsess = 1;
            sz__rule_begin(r, mode, &s->last, &s->anchor, t);
            ids[i] = (int64_t)s->kid;
            tab->used++;
            if (kind != SZ_KEYS_DENSE && kind != SZ__KEYS_SPAN
                && tab->used * 2 > tab->mask + 1) {
                sz_status gs = sz__table_grow(tab, keys, kind);
                if (gs != SZ_OK) return gs;
            }
            continue;
        }
        if (SZ_LIKELY(!(s->nsess & SZ_DIRTY))) {
            if (SZ_LIKELY(t >= s->last)) {
                s->nsess += sz__rule_step(r, mode, &s->last, &s->anchor, t);
                ids[i] = (int64_t)(((uint64_t)(s->nsess - 1) << 32) | s->kid);
                continue;
            }
            /* A log's jitter: late within the open session, it just joins. */
            if (sz__rule_joins(r, mode, s->last, s->anchor, t)) {
                ids[i] = (int64_t)(((uint64_t)(s->nsess - 1) << 32) | s->kid);
                continue;
            }
            s->nsess |= SZ_DIRTY;
            dirty++;
        }
        ids[i] = (int64_t)s->kid;
    }
    *n_dirty = dirty;
    b->n_keys = kind == SZ_KEYS_DENSE ? keys->n_codes : tab->used;
    return SZ_OK;
}

/* A pass over [0, n) in `parts` parts: what each part needs. */
typedef struct sz_range_job {
    const sz_batch *b;
    const sz_table *tab;
    int64_t *kf;
    int64_t *ids;
    size_t n;
    int parts;
} sz_range_job;

/* Table slots [lo, hi) into kf: each key's session count, -1 if dirty.
 * Two parts write different keys' entries. */
static void sz__counts_part(void *arg, int part)
{
    const sz_range_job *job = (const sz_range_job *)arg;
    const sz_slot *slots = job->tab->slots;
    int64_t *kf = job->kf;
    size_t k, lo, hi;
    sz__part_range(job->n, job->parts, part, &lo, &hi);
    for (k = lo; k < hi; k++) {
        const sz_slot *s = &slots[k];
        if (s->nsess == 0) continue;
        kf[s->kid] = (s->nsess & SZ_DIRTY) ? -1 : (int64_t)s->nsess;
    }
}

/* Per-key session counts from the table into kf (n_keys + 1 entries, the
 * future key_first).  Dirty keys get 0, their bit in `dirty` (if given),
 * and their rank among dirty keys, in key id order, in dirty_rank. */
static void sz__counts_from_table(const sz_batch *b, const sz_table *tab,
                                  int kind, int64_t *kf, uint64_t *dirty,
                                  uint32_t *dirty_rank, uint32_t *dirty_kids)
{
    sz_range_job job;
    size_t k;
    uint32_t d = 0;
    memset(kf, 0, (b->n_keys + 1) * sizeof *kf);
    memset(&job, 0, sizeof job);
    job.tab = tab;
    job.kf = kf;
    job.n = kind == SZ_KEYS_DENSE ? b->n_keys : tab->mask + 1;
    job.parts = sz__threads_for(job.n);
    sz__run_parts(sz__counts_part, &job, job.parts);
    if (dirty == NULL) return;
    memset(dirty, 0, ((b->n_keys + 63) / 64) * sizeof *dirty);
    for (k = 0; k < b->n_keys; k++) {
        if (kf[k] != -1) continue;
        kf[k] = 0;
        dirty[k >> 6] |= (uint64_t)1 << (k & 63);
        dirty_rank[k] = d;
        dirty_kids[d++] = (uint32_t)k;
    }
}

/* Turns per-key session counts into each key's first session id. */
static void sz__prefix_key_first(sz_batch *b, int64_t *kf)
{
    size_t k;
    int64_t run = 0;
    for (k = 0; k <= b->n_keys; k++) {
        int64_t c = kf[k];
        kf[k] = run;
        run += c;
    }
    b->key_first = kf;
    b->n_sessions = (size_t)kf[b->n_keys];
}

/* Second pass of ORDERED over ids[lo, hi): local << 32 | kid becomes
 * key_first[kid] + local. */
static void sz__globalize_part(void *arg, int part)
{
    const sz_range_job *job = (const sz_range_job *)arg;
    const int64_t *kf = job->b->key_first;
    int64_t *ids = job->ids;
    size_t i, lo, hi;
    sz__part_range(job->n, job->parts, part, &lo, &hi);
    for (i = lo; i < hi; i++) {
        uint64_t v = (uint64_t)ids[i];
        if (i + SZ_PREFETCH_DIST < hi)
            SZ_PREFETCH_R(&kf[(uint32_t)ids[i + SZ_PREFETCH_DIST]]);
        ids[i] = kf[(uint32_t)v] + (int64_t)(v >> 32);
    }
}

static void sz__globalize(const sz_batch *b, int64_t *ids, size_t n)
{
    sz_range_job job;
    memset(&job, 0, sizeof job);
    job.b = b;
    job.ids = ids;
    job.n = n;
    job.parts = sz__threads_for(n);
    sz__run_parts(sz__globalize_part, &job, job.parts);
}

/* ---- SORTING: redo the dirty keys -------------------------------------- */

/*
 * The dirty keys' events (ids[i] low 32 bits = kid, its bit set in dirty)
 * are gathered in input order, grouped by key with a stable counting sort,
 * time-sorted per key where needed, and scanned: each gets ids[i] = local
 * << 32 | kid, and kf[kid] its key's session count.
 */
/* The stable counting sort of the dirty keys' events in two parts: part p
 * counts, then places, the events of its half of the input (part 1's
 * positions in each group after part 0's, so the sort stays stable). */
typedef struct sz_group_job {
    const int64_t *ids;
    const uint64_t *dirty;
    const uint32_t *rank;
    uint32_t *counts[2];  /* per part; then each part's next slot */
    uint32_t *perm;
    size_t cut, n;
} sz_group_job;

static void sz__group_count_part(void *arg, int part)
{
    sz_group_job *g = (sz_group_job *)arg;
    sz__group_count(g->ids, part ? g->cut : 0, part ? g->n : g->cut, g->dirty, g->rank,
                    g->counts[part]);
}

static void sz__group_place_part(void *arg, int part)
{
    sz_group_job *g = (sz_group_job *)arg;
    sz__group_place(g->ids, part ? g->cut : 0, part ? g->n : g->cut, g->dirty, g->rank,
                    g->counts[part], g->perm);
}

/* sz__group_starts and sz__group_scatter at once, in two parts: starts
 * (D + 1) gets each group's first slot, perm the positions; returns the
 * number of events grouped, or SIZE_MAX when memory runs out. */
static size_t sz__group_two_parts(const int64_t *ids, size_t n, const uint64_t *dirty,
                                  const uint32_t *rank, size_t D, uint32_t *starts,
                                  uint32_t **perm_out)
{
    sz_group_job g;
    size_t d, hi_unused, m = SIZE_MAX;
    uint32_t run = 0;
    memset(&g, 0, sizeof g);
    g.ids = ids;
    g.dirty = dirty;
    g.rank = rank;
    g.n = n;
    sz__part_range(n, 2, 1, &g.cut, &hi_unused);
    g.counts[0] = (uint32_t *)SZ_CALLOC(D + 1, sizeof(uint32_t));
    g.counts[1] = (uint32_t *)SZ_CALLOC(D + 1, sizeof(uint32_t));
    if (!g.counts[0] || !g.counts[1]) goto done;
    sz__run_parts(sz__group_count_part, &g, 2);
    for (d = 0; d < D; d++) {
        uint32_t a = g.counts[0][d], b = g.counts[1][d];
        starts[d] = run;
        g.counts[0][d] = run;
        g.counts[1][d] = run + a;
        run += a + b;
    }
    starts[D] = run;
    g.perm = (uint32_t *)SZ_MALLOC(sz__mul_size(run, sizeof *g.perm));
    if (g.perm == NULL) goto done;
    sz__run_parts(sz__group_place_part, &g, 2);
    *perm_out = g.perm;
    m = run;
done:
    SZ_FREE(g.counts[0]);
    SZ_FREE(g.counts[1]);
    return m;
}

/* What the parts of the per-key redo share; each part takes a range of
 * groups (dirty keys), cut where the events are halved. */
typedef struct sz_redo_job {
    const sz_batch *b;
    int mode;
    const int64_t *times;
    int64_t *ids, *kf, *tt;
    uint32_t *perm;
    const uint32_t *starts, *dirty_kids;
    size_t D, d_cut, longest;
    sz_status st[2];
} sz_redo_job;

/* Groups [d_lo, d_hi): gathers their times, sorts each key's (time,
 * position) pairs where they are out of order, and scans them.  Parts
 * write different events' ids and different keys' kf entries. */
SZ_INLINE sz_status sz__redo_groups(sz_redo_job *job, int mode, size_t d_lo, size_t d_hi)
{
    const sz_rule *r = &job->b->rule;
    const uint32_t *starts = job->starts;
    uint32_t *perm = job->perm, *tmp_p = NULL;
    int64_t *tt = job->tt, *ids = job->ids, *tmp_t = NULL;
    size_t j, d;
    sz_status st = SZ_ERR_NOMEM;

    for (j = starts[d_lo]; j < starts[d_hi]; j++) tt[j] = job->times[perm[j]];
    for (d = d_lo; d < d_hi; d++) {
        size_t lo = starts[d], hi = starts[d + 1];
        uint64_t kid = job->dirty_kids[d];
        int64_t last, anchor = 0, local = 0;
        for (j = lo + 1; j < hi && tt[j] >= tt[j - 1]; j++) {
        }
        if (j < hi) {
            if (tmp_t == NULL) {
                tmp_t = (int64_t *)SZ_MALLOC(sz__mul_size(job->longest, sizeof *tmp_t));
                tmp_p = (uint32_t *)SZ_MALLOC(sz__mul_size(job->longest, sizeof *tmp_p));
                if (!tmp_t || !tmp_p) goto fail;
            }
            sz__sort_pairs(tt + lo, perm + lo, hi - lo, tmp_t, tmp_p);
        }
        sz__rule_begin(r, mode, &last, &anchor, tt[lo]);
        ids[perm[lo]] = (int64_t)kid;
        for (j = lo + 1; j < hi; j++) {
            local += sz__rule_step(r, mode, &last, &anchor, tt[j]);
            ids[perm[j]] = (int64_t)(((uint64_t)local << 32) | kid);
        }
        job->kf[kid] = local + 1;
    }
    st = SZ_OK;
fail:
    SZ_FREE(tmp_t);
    SZ_FREE(tmp_p);
    return st;
}

static void sz__redo_part(void *arg, int part)
{
    sz_redo_job *job = (sz_redo_job *)arg;
    size_t lo = part ? job->d_cut : 0, hi = part ? job->D : job->d_cut;
    switch (job->mode) {
    case SZ_CAP_RESTART: job->st[part] = sz__redo_groups(job, SZ_CAP_RESTART, lo, hi); break;
    case SZ_CAP_FIXED: job->st[part] = sz__redo_groups(job, SZ_CAP_FIXED, lo, hi); break;
    default: job->st[part] = sz__redo_groups(job, SZ_CAP_NONE, lo, hi); break;
    }
}

static sz_status sz__resolve_dirty(const sz_batch *b, int mode,
                                   const int64_t *times, size_t n,
                                   int64_t *ids, int64_t *kf,
                                   const uint64_t *dirty,
                                   const uint32_t *dirty_rank,
                                   const uint32_t *dirty_kids, size_t D)
{
    sz_redo_job job;
    uint32_t *starts = NULL, *perm = NULL;
    int64_t *tt = NULL;
    size_t d, m = 0, longest = 0, d_cut;
    int parts;
    sz_status st = SZ_ERR_NOMEM;

    starts = (uint32_t *)SZ_MALLOC(sz__mul_size(D + 1, sizeof *starts));
    if (starts == NULL) goto fail;
    if (sz__threads_for(n) == 2) {
        m = sz__group_two_parts(ids, n, dirty, dirty_rank, D, starts, &perm);
        if (m == SIZE_MAX) goto fail;
    } else {
        m = sz__group_starts(ids, n, dirty, dirty_rank, D, starts);
        perm = (uint32_t *)SZ_MALLOC(sz__mul_size(m, sizeof *perm));
        if (perm == NULL) goto fail;
        sz__group_scatter(ids, n, dirty, dirty_rank, D, starts, perm);
    }
    tt = (int64_t *)SZ_MALLOC(sz__mul_size(m, sizeof *tt));
    if (tt == NULL) goto fail;
    for (d = 0; d < D; d++) {
        if (starts[d + 1] - starts[d] > longest) longest = starts[d + 1] - starts[d];
    }
    /* two parts when there are many events and more than one key; the cut
     * halves the events */
    parts = D > 1 ? sz__threads_for(m) : 1;
    d_cut = D;
    if (parts == 2) {
        for (d_cut = 1; d_cut < D - 1 && starts[d_cut] < m / 2; d_cut++) {
        }
    }
    memset(&job, 0, sizeof job);
    job.b = b;
    job.mode = mode;
    job.times = times;
    job.ids = ids;
    job.kf = kf;
    job.tt = tt;
    job.perm = perm;
    job.starts = starts;
    job.dirty_kids = dirty_kids;
    job.D = D;
    job.d_cut = d_cut;
    job.longest = longest;
    sz__run_parts(sz__redo_part, &job, parts);
    st = job.st[0] != SZ_OK ? job.st[0] : job.st[1];
fail:
    SZ_FREE(starts);
    SZ_FREE(perm);
    SZ_FREE(tt);
    return st;
}

/* ---- driver ------------------------------------------------------------ */

static sz_status sz__assign_hashed(sz_batch *b, const sz_keys *keys, int kind,
                                   int mode, const int64_t *times, size_t n,
                                   int64_t *ids, size_t *err_pos)
{
    sz_table tab = {NULL, NULL, 0, 0, 0};
    int64_t *kf = NULL;
    uint32_t *dirty_rank = NULL, *dirty_kids = NULL;
    uint64_t *dirty = NULL;
    size_t n_dirty = 0;
    sz_status st;
    if (kind == SZ_KEYS_DENSE) {
        st = sz__table_alloc(&tab, keys->n_codes);
    } else {
        size_t cap = 1024, span = 0;
        int64_t smallest = 0;
        /* int64 keys spanning no more than n values (seen in a scan that
         * stops at the first chunk of wider keys) */
        if (kind == SZ_KEYS_INT64)
            span = sz__key_span((const int64_t *)keys->data, n, n, &smallest);
        /* start at the final size: small inputs' 2n, or twice the keys
         * estimated (the load stays at most one half); grow if it was low.
         * A span of at most n/4 is taken without an estimate: its table
         * costs at most 8 bytes per event however few keys it holds. */
        while (cap < 2 * n && cap < ((size_t)1 << 16)) cap *= 2;
        if (cap < 2 * n && !(span > 0 && span <= n / 4)) {
            double e = sz__estimate_keys(keys, n, NULL, 0);
            while ((double)cap < 2 * e && cap < 2 * n) cap *= 2;
        }
        /* Indexed by key - smallest when that table is no larger than the
         * hashed one: no hashing, no probing, no key stored (measured at
         * C level, 10 M log events of 1 M keys: about twice as fast). */
        if (span > 0 && (span <= cap || span <= n / 4)) {
            kind = SZ__KEYS_SPAN;
            b->spanned = 1;
            st = sz__table_alloc(&tab, span);
            tab.base = (uint64_t)smallest;
        } else {
            st = sz__table_alloc(&tab, cap);
        }
    }
    if (st != SZ_OK) goto done;

#define SZ_ORDERED(M)                                                       \
    (kind == SZ_KEYS_INT64                                                  \
         ? sz__pass_ordered(b, &tab, keys, SZ_KEYS_INT64, M, times, n, ids, \
                            &n_dirty, err_pos)                              \
     : kind == SZ_KEYS_BYTES                                                \
         ? sz__pass_ordered(b, &tab, keys, SZ_KEYS_BYTES, M, times, n, ids, \
                            &n_dirty, err_pos)                              \
     : kind == SZ__KEYS_SPAN                                                \
         ? sz__pass_ordered(b, &tab, keys, SZ__KEYS_SPAN, M, times, n, ids, \
                            &n_dirty, err_pos)                              \
         : sz__pass_ordered(b, &tab, keys, SZ_KEYS_DENSE, M, times, n, ids, \
                            &n_dirty, err_pos))
    switch (mode) {
    case SZ_CAP_RESTART: st = SZ_ORDERED(SZ_CAP_RESTART); break;
    case SZ_CAP_FIXED: st = SZ_ORDERED(SZ_CAP_FIXED); break;
    default: st = SZ_ORDERED(SZ_CAP_NONE); break;
    }
#undef SZ_ORDERED
    if (st != SZ_OK) goto done;

    st = SZ_ERR_NOMEM;
    kf = (int64_t *)SZ_MALLOC(sz__mul_size(b->n_keys + 1, sizeof *kf));
    if (kf == NULL) goto done;
    if (n_dirty > 0) {
        dirty = (uint64_t *)SZ_MALLOC(sz__mul_size((b->n_keys + 63) / 64, sizeof *dirty));
        dirty_rank = (uint32_t *)SZ_MALLOC(sz__mul_size(b->n_keys, sizeof *dirty_rank));
        dirty_kids = (uint32_t *)SZ_MALLOC(sz__mul_size(n_dirty, sizeof *dirty_kids));
        if (!dirty || !dirty_rank || !dirty_kids) goto done;
    }
    sz__counts_from_table(b, &tab, kind, kf, dirty, dirty_rank, dirty_kids);
    /* The table is no longer needed: free it before the sort's buffers. */
    SZ_FREE(tab.raw);
    tab.raw = NULL;
    if (n_dirty > 0) {
        st = sz__resolve_dirty(b, mode, times, n, ids, kf, dirty, dirty_rank,
                               dirty_kids, n_dirty);
        if (st != SZ_OK) goto done;
    }
    sz__prefix_key_first(b, kf);
    kf = NULL;
    sz__globalize(b, ids, n);
    b->path = n_dirty > 0 ? SZ_PATH_SORTING : SZ_PATH_ORDERED;
    st = SZ_OK;
done:
    SZ_FREE(tab.raw);
    SZ_FREE(kf);
    SZ_FREE(dirty);
    SZ_FREE(dirty_rank);
    SZ_FREE(dirty_kids);
    return st;
}

sz_status sz_batch_assign(sz_batch **out, const sz_keys *keys,
                          const int64_t *times, size_t n,
                          const sz_params *params, int64_t *ids,
                          size_t *n_sessions, size_t *err_pos)
{
    sz_batch *b = NULL;
    size_t pos_unused;
    sz_status st;
    int kind, bailed = 0;

    if (err_pos == NULL) err_pos = &pos_unused;
    *err_pos = SZ_NO_POSITION;
    if (out) *out = NULL;
    if (n_sessions) *n_sessions = 0;
    if ((st = sz_params_check(params)) != SZ_OK) return st;
    if (keys == NULL || (n > 0 && (keys->data == NULL || times == NULL || ids == NULL)))
        return SZ_ERR_PARAM;
    kind = keys->kind;
    if (kind != SZ_KEYS_INT64 && kind != SZ_KEYS_BYTES && kind != SZ_KEYS_DENSE)
        return SZ_ERR_PARAM;
    if (kind == SZ_KEYS_BYTES && keys->width == 0) return SZ_ERR_PARAM;
    if (n > SZ_MAX_EVENTS) return SZ_ERR_TOO_LARGE;
    if (kind == SZ_KEYS_DENSE && keys->n_codes > SZ_MAX_EVENTS)
        return SZ_ERR_TOO_LARGE;

    /* The caller's output is usually fresh (numpy's), written once: */
    sz__huge_hint(ids, n * sizeof *ids);
    b = (sz_batch *)SZ_CALLOC(1, sizeof *b);
    if (b == NULL) return SZ_ERR_NOMEM;
    b->n_events = n;
    sz__rule_init(&b->rule, params);

    st = sz__assign_sorted(b, keys, kind, params->cap_mode, times, n, ids,
                           &bailed, err_pos);
    if (st == SZ_OK && bailed)
        st = sz__assign_hashed(b, keys, kind, params->cap_mode, times, n, ids,
                               err_pos);
    if (st != SZ_OK) goto fail;

    if (n_sessions) *n_sessions = b->n_sessions;
    if (out)
        *out = b;
    else
        sz_batch_free(b);
    return SZ_OK;
fail:
    sz_batch_free(b);
    return st;
}

size_t sz_batch_sessions(const sz_batch *b) { return b ? b->n_sessions : 0; }
size_t sz_batch_keys(const sz_batch *b) { return b ? b->n_keys : 0; }
int sz_batch_path_taken(const sz_batch *b) { return b ? b->path : -1; }
#ifdef SZ_TESTING
int sz_test_batch_spanned(const sz_batch *b) { return b ? b->spanned : -1; }
#endif

void sz_batch_free(sz_batch *b)
{
    if (b == NULL) return;
    SZ_FREE(b->key_first);
    SZ_FREE(b);
}

/* ---- describing the sessions ------------------------------------------- */

sz_status sz_batch_fill(const sz_batch *b, const int64_t *times,
                        const int64_t *ids, size_t n,
                        const sz_session_columns *c)
{
    const sz_rule *r;
    size_t S, i, k;
    if (b == NULL || c == NULL || n != b->n_events) return SZ_ERR_PARAM;
    S = b->n_sessions;
    if (S > 0 && (!c->start || !c->end || !c->window_end || !c->count
                  || !c->index || !c->first_event || !times || !ids))
        return SZ_ERR_PARAM;
    r = &b->rule;
    if (S > 0) memset(c->count, 0, S * sizeof *c->count);

    /* Start, end, count and first event by scatter: events of a session
     * are not contiguous in the input, and the input can be in any order. */
    for (i = 0; i < n; i++) {
        int64_t g = ids[i], t = times[i];
        if ((uint64_t)g >= (uint64_t)S) return SZ_ERR_PARAM;
        if (c->count[g]++ == 0) {
            c->start[g] = c->end[g] = t;
            c->first_event[g] = (int64_t)i;
        } else if (t < c->start[g]) {
            c->start[g] = t;
            c->first_event[g] = (int64_t)i;
        } else if (t > c->end[g]) {
            c->end[g] = t;
        }
    }

    /* index and window_end walk each key's sessions in order. */
    for (k = 0; k < b->n_keys; k++) {
        int64_t g, lo = b->key_first[k], hi = b->key_first[k + 1];
        int64_t s = 0;  /* SZ_CAP_FIXED: start of the inactivity session */
        for (g = lo; g < hi; g++) {
            int64_t we = c->end[g] + r->gap;  /* checked not to overflow */
            c->index[g] = g - lo;
            if (r->mode == SZ_CAP_RESTART) {
                int64_t limit = sz__sat_add(c->start[g], r->max);
                if (limit < we) we = limit;
            } else if (r->mode == SZ_CAP_FIXED) {
                int64_t be;
                if (g == lo
                    || (uint64_t)c->start[g] - (uint64_t)c->end[g - 1] >= r->gap_thr)
                    s = c->start[g];
                be = sz__sat_add(s, r->max);
                if (c->start[g] >= be) be = sz__next_block_end(be, c->start[g], r->max);
                if (be < we) we = be;
            }
            c->window_end[g] = we;
        }
    }
    return SZ_OK;
}
