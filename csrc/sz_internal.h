/*
 * sz_internal.h -- helpers shared by the core's .c files; not installed.
 *
 * Holds the one allocation macro family (so tests can inject failures), the
 * key hashes, and the session rule: the single definition of "does this
 * event open a new session" that every path (sorted scan, hashed pass,
 * sorting path, and later the streaming sessionizer) calls.
 */
#ifndef SZ_INTERNAL_H
#define SZ_INTERNAL_H

#include "sessionize.h"

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define SZ_LIKELY(x) __builtin_expect(!!(x), 1)
#define SZ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SZ_PREFETCH_W(p) __builtin_prefetch((p), 1, 1)
#define SZ_PREFETCH_R(p) __builtin_prefetch((p), 0, 1)
#define SZ_INLINE static inline __attribute__((always_inline))
#define SZ_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#include <intrin.h>  /* _BitScanForward64 and the like, for the .c files */
#define SZ_LIKELY(x) (x)
#define SZ_UNLIKELY(x) (x)
#define SZ_PREFETCH_W(p) ((void)(p))
#define SZ_PREFETCH_R(p) ((void)(p))
#define SZ_INLINE static __forceinline
#define SZ_NOINLINE __declspec(noinline)
#else
#define SZ_LIKELY(x) (x)
#define SZ_UNLIKELY(x) (x)
#define SZ_PREFETCH_W(p) ((void)(p))
#define SZ_PREFETCH_R(p) ((void)(p))
#define SZ_INLINE static inline
#define SZ_NOINLINE
#endif

#ifdef SZ_DEBUG
#include <assert.h>
#define SZ_ASSERT(x) assert(x)
#else
#define SZ_ASSERT(x) ((void)0)
#endif

/* ---- allocation: every byte the core takes goes through these ---------- */

void *sz__malloc(size_t size);
void *sz__calloc(size_t count, size_t size);
void *sz__realloc(void *ptr, size_t size);
void sz__free(void *ptr);

#define SZ_MALLOC(size) sz__malloc(size)
#define SZ_CALLOC(count, size) sz__calloc((count), (size))
#define SZ_REALLOC(ptr, size) sz__realloc((ptr), (size))
#define SZ_FREE(ptr) sz__free(ptr)

/* count * size, or SIZE_MAX when that overflows (so the allocation fails). */
static inline size_t sz__mul_size(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) return SIZE_MAX;
    return count * size;
}

#ifdef SZ_TESTING
/* Test builds only: make the n-th allocation from now fail (n >= 1), or
 * disable injection (n <= 0).  Returns how many allocations were made since
 * the last call, so a test can enumerate every failure point. */
long sz_test_fail_after(long n);
#endif

/* ---- hashing ----------------------------------------------------------- */

/* Murmur3's finalizer: a bijection on 64 bits, so distinct int keys never
 * collide in the full hash, and sequential ids spread over the table. */
SZ_INLINE uint64_t sz__hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

SZ_INLINE uint64_t sz__load_u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Hash of a fixed-width byte string, 8 bytes per step. */
SZ_INLINE uint64_t sz__hash_bytes(const unsigned char *p, size_t width)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)width;
    size_t i = 0;
    for (; i + 8 <= width; i += 8) {
        h = (h ^ sz__load_u64(p + i)) * 0xff51afd7ed558ccdULL;
        h ^= h >> 29;
    }
    if (i < width) {
        uint64_t tail = 0;
        memcpy(&tail, p + i, width - i);
        h = (h ^ tail) * 0xff51afd7ed558ccdULL;
    }
    return sz__hash_u64(h);
}

/* The hash of key i (SZ_KEYS_INT64 or SZ_KEYS_BYTES); `kind` is passed
 * apart from keys so callers can make it a compile-time constant. */
SZ_INLINE uint64_t sz__key_hash(const sz_keys *keys, int kind, size_t i)
{
    if (kind == SZ_KEYS_BYTES)
        return sz__hash_bytes((const unsigned char *)keys->data + i * keys->width,
                              keys->width);
    return sz__hash_u64((uint64_t)((const int64_t *)keys->data)[i]);
}

/* ---- sizing tables (estimate.c, alloc.c) ------------------------------- */

/* About how many distinct keys the n events have (within a few percent),
 * counting only events whose kind bit is set in `need` when kinds is not
 * NULL.  0 for SZ_KEYS_DENSE (whose table is sized by n_codes). */
double sz__estimate_keys(const sz_keys *keys, size_t n, const uint8_t *kinds,
                         unsigned need);

/* hi - lo + 1 for the smallest lo and largest hi of the n int64 keys, and
 * *smallest = lo; or 0 (*smallest untouched) when that would exceed
 * `limit`, found as soon as it does, or when n is 0. */
size_t sz__key_span(const int64_t *keys, size_t n, size_t limit, int64_t *smallest);

/* Asks the kernel for huge pages over [p, p + bytes) when it is large:
 * a table probed at random then costs far fewer TLB misses, and a fresh
 * array far fewer page faults.  Only a hint; nothing depends on it.
 * sz__malloc, sz__calloc and sz__realloc give it every allocation. */
void sz__huge_hint(void *p, size_t bytes);

#ifdef SZ_TESTING
/* Test builds only: nonzero (the default) lets sz__estimate_keys() answer;
 * zero makes it answer 0, so tables grow from small and tests reach the
 * growth paths. */
void sz_test_estimate(int on);
/* Test builds only: zero makes sz__key_span() answer 0, so int64 keys in a
 * narrow range take the hashed table too. */
void sz_test_span(int on);
/* 1 when the batch's hashed pass indexed its table by key span. */
int sz_test_batch_spanned(const sz_batch *b);
#endif

/* ---- two parts at once (parallel.c) ----------------------------------- */

/* One part of a pass: part is 0 (on the caller's thread) or 1. */
typedef void (*sz_part_fn)(void *arg, int part);

/* How many parts (1 or 2) a pass over n events should be cut in: 2 when n
 * is large, the machine has two cores and sz_set_threads() allows it. */
int sz__threads_for(size_t n);

/* Runs fn(arg, 0) and, if parts is 2, fn(arg, 1) at the same time on a
 * second thread (or after it, when no thread can be had); returns when
 * both are done. */
void sz__run_parts(sz_part_fn fn, void *arg, int parts);

/* The share [*lo, *hi) of [0, n) that part `part` of `parts` (1 or 2)
 * takes: all of it, or a half, cut at a multiple of 8 so two parts never
 * write the same cache line of an array of 8-byte items. */
SZ_INLINE void sz__part_range(size_t n, int parts, int part, size_t *lo, size_t *hi)
{
    size_t mid = parts == 2 ? (n / 2) & ~(size_t)7 : n;
    *lo = part ? mid : 0;
    *hi = part ? n : mid;
}

#ifdef SZ_TESTING
/* Test builds only: passes over at least n events (n > 0) run in two
 * parts; 0 restores the default, so small tests reach the parallel code. */
void sz_test_parallel_min(size_t n);
#endif

/* ---- key access -------------------------------------------------------- */

/* Compares the keys of events i and j: 0 when they are one key; for the
 * SORTED path (i > j), < 0 means the run order is broken.  SZ_KEYS_INT64
 * and SZ_KEYS_DENSE keys compare as int64 values. */
SZ_INLINE int sz__key_cmp(const sz_keys *keys, int kind, size_t i, size_t j)
{
    if (kind == SZ_KEYS_BYTES) {
        const unsigned char *d = (const unsigned char *)keys->data;
        return memcmp(d + i * keys->width, d + j * keys->width, keys->width);
    } else {
        const int64_t *d = (const int64_t *)keys->data;
        return (d[i] > d[j]) - (d[i] < d[j]);
    }
}

/* ---- the session rule -------------------------------------------------- */

/*
 * The rule in thresholds: "new session when t - last >= gap_thr", with
 * gap_thr = gap + 1 when inclusive (t - last > gap) and gap otherwise, so
 * both senses cost the same single unsigned comparison.  Differences are
 * taken in uint64: t >= last always holds where the rule is applied, so
 * t - last is exact even when the times span the whole int64 range.
 */
typedef struct sz_rule {
    uint64_t gap_thr;
    uint64_t cap_thr;  /* SZ_CAP_RESTART: new when t - start >= cap_thr */
    int64_t gap;
    int64_t max;       /* SZ_CAP_FIXED: block length */
    int mode;          /* an sz_cap_mode */
    int64_t t_lo;      /* smallest valid time (INT64_MIN + 1 when it is NaT) */
    int64_t t_hi;      /* largest valid time: INT64_MAX - gap */
} sz_rule;

/* Fills a rule from checked parameters. */
void sz__rule_init(sz_rule *rule, const sz_params *params);

/* Returns 0 if t is valid, else SZ_ERR_TIME_NAT or SZ_ERR_TIME_OVERFLOW. */
SZ_INLINE sz_status sz__time_check(const sz_rule *r, int64_t t)
{
    if (SZ_LIKELY((uint64_t)t - (uint64_t)r->t_lo
                  <= (uint64_t)r->t_hi - (uint64_t)r->t_lo))
        return SZ_OK;
    return t < r->t_lo ? SZ_ERR_TIME_NAT : SZ_ERR_TIME_OVERFLOW;
}

/* a + b for b >= 0, saturated at INT64_MAX.  A saturated block end or cap
 * limit is never reached: valid times are at most INT64_MAX - gap. */
SZ_INLINE int64_t sz__sat_add(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* The end of the fixed-mode block holding t, given the end `be` of an
 * earlier block of the same inactivity session (t >= be). */
static inline int64_t sz__next_block_end(int64_t be, int64_t t, int64_t max)
{
    uint64_t k = ((uint64_t)t - (uint64_t)be) / (uint64_t)max + 1u;
    uint64_t room = (uint64_t)INT64_MAX - (uint64_t)be;
    if (k > room / (uint64_t)max) return INT64_MAX;
    return (int64_t)((uint64_t)be + k * (uint64_t)max);
}

/* The open-session state of one key: the last event time, and the anchor:
 *   SZ_CAP_NONE     the floor: the earliest time a late event can have and
 *                   still not join the previous session (previous session's
 *                   last time + gap_thr; INT64_MIN for a key's first session)
 *   SZ_CAP_RESTART  the session's start, which the cap measures from
 *   SZ_CAP_FIXED    the end of the current block */
SZ_INLINE void sz__rule_begin(const sz_rule *r, int mode, int64_t *last,
                              int64_t *anchor, int64_t t)
{
    *last = t;
    if (mode == SZ_CAP_FIXED)
        *anchor = sz__sat_add(t, r->max);
    else if (mode == SZ_CAP_RESTART)
        *anchor = t;
    else
        *anchor = INT64_MIN;
}

/* Applies the event at t (t >= *last) to an open session; returns nonzero
 * when it opens a new session instead of joining.  `mode` is passed
 * separately so callers can make it a compile-time constant. */
SZ_INLINE int sz__rule_step(const sz_rule *r, int mode, int64_t *last,
                            int64_t *anchor, int64_t t)
{
    int opens = (uint64_t)t - (uint64_t)*last >= r->gap_thr;
    if (mode == SZ_CAP_NONE) {
        /* gap_thr <= INT64_MAX + 1: the sum saturates instead of wrapping */
        if (opens)
            *anchor = (uint64_t)INT64_MAX - (uint64_t)*last < r->gap_thr
                          ? INT64_MAX
                          : (int64_t)((uint64_t)*last + r->gap_thr);
    } else if (mode == SZ_CAP_RESTART) {
        opens |= (uint64_t)t - (uint64_t)*anchor >= r->cap_thr;
        if (opens) *anchor = t;
    } else if (mode == SZ_CAP_FIXED) {
        if (opens)
            *anchor = sz__sat_add(t, r->max);
        else if (SZ_UNLIKELY(t >= *anchor)) {
            opens = 1;
            *anchor = sz__next_block_end(*anchor, t, r->max);
        }
    }
    *last = t;
    return opens;
}

/*
 * Whether an event at t < last (out of order) joins the open session without
 * changing any session of its key; otherwise the caller must sort the key.
 *   SZ_CAP_NONE     t is within gap of the session's last event and at or
 *                   after the floor: it joins this session (perhaps as its
 *                   new first event) and cannot join the previous one.
 *   SZ_CAP_RESTART  t is not before the session's start: inside the session,
 *                   it only shortens gaps and moves no cap boundary.
 *   SZ_CAP_FIXED    t is not before the current block's start (no claim when
 *                   the block end saturated): it joins this block, perhaps
 *                   as its new first event; blocks are counted from the
 *                   inactivity session's start, which does not move.
 */
SZ_INLINE int sz__rule_joins(const sz_rule *r, int mode, int64_t last,
                             int64_t anchor, int64_t t)
{
    if (mode == SZ_CAP_NONE)
        return t >= anchor && (uint64_t)last - (uint64_t)t < r->gap_thr;
    if (mode == SZ_CAP_FIXED)
        return anchor != INT64_MAX && t >= anchor - r->max;
    return t >= anchor;
}

#endif /* SZ_INTERNAL_H */
