/*
 * sort.c -- the two sorts of the batch path for keys out of time order:
 * a stable counting sort of event positions by group (a key id mapped
 * through a rank table), and a stable sort of one key's (time, position)
 * pairs; and the stable index sort with which both streams order the
 * records one call emits.
 */
#include "sz_sort.h"

/* Whether event i's key belongs to a group: one bit per key id, so the
 * test stays in cache while only the members pay for the rank lookup. */
SZ_INLINE int sz__member(const uint64_t *member, uint32_t kid)
{
    return (int)((member[kid >> 6] >> (kid & 63)) & 1u);
}

void sz__group_count(const int64_t *packed, size_t lo, size_t hi,
                     const uint64_t *member, const uint32_t *rank, uint32_t *counts)
{
    size_t i;
    for (i = lo; i < hi; i++) {
        uint32_t kid = (uint32_t)packed[i];
        if (sz__member(member, kid)) counts[rank[kid]]++;
    }
}

void sz__group_place(const int64_t *packed, size_t lo, size_t hi,
                     const uint64_t *member, const uint32_t *rank, uint32_t *next,
                     uint32_t *perm)
{
    size_t i;
    /* in input order, so each group's positions stay in input order */
    for (i = lo; i < hi; i++) {
        uint32_t kid = (uint32_t)packed[i];
        if (sz__member(member, kid)) perm[next[rank[kid]]++] = (uint32_t)i;
    }
}

size_t sz__group_starts(const int64_t *packed, size_t n, const uint64_t *member,
                        const uint32_t *rank, size_t n_groups, uint32_t *starts)
{
    size_t g;
    memset(starts, 0, (n_groups + 1) * sizeof *starts);
    sz__group_count(packed, 0, n, member, rank, starts + 1);
    for (g = 0; g < n_groups; g++) starts[g + 1] += starts[g];
    return starts[n_groups];
}

void sz__group_scatter(const int64_t *packed, size_t n, const uint64_t *member,
                       const uint32_t *rank, size_t n_groups, uint32_t *starts,
                       uint32_t *perm)
{
    size_t g;
    /* starts[g] walks to the start of group g + 1; shifting the array back
     * by one afterwards restores it. */
    sz__group_place(packed, 0, n, member, rank, starts, perm);
    for (g = n_groups; g > 0; g--) starts[g] = starts[g - 1];
    starts[0] = 0;
}

/* Insertion sort, the right tool for short runs and nearly sorted ones;
 * it gives up after `budget` element moves (SIZE_MAX: never) and returns
 * whether it finished.  A log's jitter displaces events by a few places, so
 * a key's times are nearly sorted and this costs O(m + inversions).  What it
 * leaves when it gives up is a permutation that kept equal times in order,
 * so a stable sort after it is still stable overall. */
static int sz__insertion_pairs(int64_t *t, uint32_t *p, size_t m,
                               size_t budget)
{
    size_t i, j;
    for (i = 1; i < m; i++) {
        int64_t tv = t[i];
        uint32_t pv = p[i];
        for (j = i; j > 0 && t[j - 1] > tv; j--) {
            t[j] = t[j - 1];
            p[j] = p[j - 1];
        }
        t[j] = tv;
        p[j] = pv;
        if (i - j > budget) return 0;
        budget -= i - j;
    }
    return 1;
}

#define SZ_RUN 24

void sz__sort_pairs(int64_t *t, uint32_t *p, size_t m, int64_t *tmp_t,
                    uint32_t *tmp_p)
{
    size_t lo, width;
    int64_t *src_t = t, *dst_t = tmp_t;
    uint32_t *src_p = p, *dst_p = tmp_p;
    if (m <= SZ_RUN) {
        (void)sz__insertion_pairs(t, p, m, SIZE_MAX);
        return;
    }
    if (sz__insertion_pairs(t, p, m, 4 * m)) return;
    for (lo = 0; lo < m; lo += SZ_RUN)
        (void)sz__insertion_pairs(t + lo, p + lo, m - lo < SZ_RUN ? m - lo : SZ_RUN,
                                  SIZE_MAX);
    /* Bottom-up merges, ping-ponging between the arrays and the scratch.
     * Taking from the left run on ties keeps the sort stable. */
    for (width = SZ_RUN; width < m; width *= 2) {
        for (lo = 0; lo < m; lo += 2 * width) {
            size_t mid = lo + width < m ? lo + width : m;
            size_t hi = mid + width < m ? mid + width : m;
            size_t a = lo, b = mid, o = lo;
            if (mid == hi || src_t[mid - 1] <= src_t[mid]) {
                memcpy(dst_t + lo, src_t + lo, (hi - lo) * sizeof *dst_t);
                memcpy(dst_p + lo, src_p + lo, (hi - lo) * sizeof *dst_p);
                continue;
            }
            while (a < mid && b < hi) {
                if (src_t[b] < src_t[a]) {
                    dst_t[o] = src_t[b];
                    dst_p[o++] = src_p[b++];
                } else {
                    dst_t[o] = src_t[a];
                    dst_p[o++] = src_p[a++];
                }
            }
            while (a < mid) {
                dst_t[o] = src_t[a];
                dst_p[o++] = src_p[a++];
            }
            while (b < hi) {
                dst_t[o] = src_t[b];
                dst_p[o++] = src_p[b++];
            }
        }
        { int64_t *x = src_t; src_t = dst_t; dst_t = x; }
        { uint32_t *x = src_p; src_p = dst_p; dst_p = x; }
    }
    if (src_t != t) {
        memcpy(t, src_t, m * sizeof *t);
        memcpy(p, src_p, m * sizeof *p);
    }
}

/* ---- the streams' emission order ------------------------------------------ */

#ifdef SZ_TESTING
static unsigned long long sz__sort_cmps;

unsigned long long sz_test_sort_cmps(void)
{
    unsigned long long n = sz__sort_cmps;
    sz__sort_cmps = 0;
    return n;
}
void sz_test_sort_count(unsigned long long n)
{
    sz__sort_cmps += n;
}
#define SZ_CMP(a, b) (sz__sort_cmps++, cmp(ctx, (a), (b)))
#else
#define SZ_CMP(a, b) cmp(ctx, (a), (b))
#endif

void sz__sort_idx(size_t *idx, size_t n, size_t *tmp, sz__idx_cmp cmp,
                  const void *ctx)
{
    size_t *src = idx, *dst = tmp, width, lo, i;
    /* A step's records mostly come out in order: one pass proves it. */
    for (i = 1; i < n && SZ_CMP(idx[i - 1], idx[i]) <= 0; i++) continue;
    if (i >= n) return;
    /* Bottom-up merges from single entries, ping-ponging with the
     * scratch: no run detection to go wrong, ceil(log2 n) passes of fewer
     * than n comparisons each, and a pair of runs already in order costs
     * one.  Taking from the left run on ties keeps the sort stable. */
    for (width = 1; width < n; width *= 2) {
        for (lo = 0; lo < n; lo += 2 * width) {
            size_t mid = n - lo > width ? lo + width : n;
            size_t hi = n - mid > width ? mid + width : n;
            size_t a = lo, b = mid, o = lo;
            if (mid == hi || SZ_CMP(src[mid - 1], src[mid]) <= 0) {
                memcpy(dst + lo, src + lo, (hi - lo) * sizeof *dst);
                continue;
            }
            while (a < mid && b < hi)
                dst[o++] = SZ_CMP(src[b], src[a]) < 0 ? src[b++] : src[a++];
            while (a < mid) dst[o++] = src[a++];
            while (b < hi) dst[o++] = src[b++];
        }
        { size_t *x = src; src = dst; dst = x; }
    }
    if (src != idx) memcpy(idx, src, n * sizeof *idx);
}

#undef SZ_CMP

#define SZ_RADIX_BITS 11
#define SZ_RADIX_MASK ((1u << SZ_RADIX_BITS) - 1)
#define SZ_RADIX_SMALL 32  /* at most this many: insertion sort, O(n^2) bounded */

void sz__radix_sort(uint64_t *key, uint32_t *idx, size_t n, uint64_t *tmp_key,
                    uint32_t *tmp_idx)
{
    uint64_t *sk = key, *dk = tmp_key, any = 0;
    uint32_t *si = idx, *di = tmp_idx;
    size_t count[1u << SZ_RADIX_BITS], i;
    unsigned shift;
    /* A step of a stream usually sorts a handful of records: a pass would
     * clear and sum 2 Ki counters for them (most of a chunked push's time,
     * measured), where an insertion sort makes a few moves. */
    if (n <= SZ_RADIX_SMALL) {
        for (i = 1; i < n; i++) {
            uint64_t kv = key[i];
            uint32_t iv = idx[i];
            size_t j;
            for (j = i; j > 0 && key[j - 1] > kv; j--) {
                key[j] = key[j - 1];
                idx[j] = idx[j - 1];
            }
            key[j] = kv;
            idx[j] = iv;
#ifdef SZ_TESTING
            sz__sort_cmps += i - j + 1;
#endif
        }
        return;
    }
    for (i = 0; i < n; i++) any |= key[i];
    /* Only the digits some key has set: a flush's keys are offsets within
     * a narrow range, one or two passes.  Each pass scatters in input
     * order, so the sort is stable. */
    for (shift = 0; shift < 64 && (any >> shift) != 0; shift += SZ_RADIX_BITS) {
        size_t sum = 0, b;
        memset(count, 0, sizeof count);
        for (i = 0; i < n; i++) count[(sk[i] >> shift) & SZ_RADIX_MASK]++;
        if (count[(sk[0] >> shift) & SZ_RADIX_MASK] == n) continue;  /* one digit */
        for (b = 0; b <= SZ_RADIX_MASK; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (i = 0; i < n; i++) {
            size_t d = count[(sk[i] >> shift) & SZ_RADIX_MASK]++;
            dk[d] = sk[i];
            di[d] = si[i];
        }
#ifdef SZ_TESTING
        sz__sort_cmps += n;
#endif
        { uint64_t *x = sk; sk = dk; dk = x; }
        { uint32_t *x = si; si = di; di = x; }
    }
    if (sk != key) {
        memcpy(key, sk, n * sizeof *key);
        memcpy(idx, si, n * sizeof *idx);
    }
}

