/*
 * sz_sort.h -- sorting helpers (internal): the batch path's, and the stable
 * index sort both streams order what a call emits with.
 */
#ifndef SZ_SORT_H
#define SZ_SORT_H

#include "sz_internal.h"

/*
 * Stable counting sort of event positions into groups.  Event i's key id is
 * the low 32 bits of packed[i]; the key is in a group when its bit is set in
 * `member` (bit kid of word kid / 64), and then its group is rank[kid].
 * sz__group_starts fills starts (n_groups + 1 entries) with each group's
 * first slot and returns the number m of grouped events; sz__group_scatter
 * then writes the m positions into perm, grouped, input order within a
 * group, leaving starts as it was.
 */
size_t sz__group_starts(const int64_t *packed, size_t n, const uint64_t *member,
                        const uint32_t *rank, size_t n_groups, uint32_t *starts);
void sz__group_scatter(const int64_t *packed, size_t n, const uint64_t *member,
                       const uint32_t *rank, size_t n_groups, uint32_t *starts,
                       uint32_t *perm);

/*
 * The same in pieces, so two parts can each take half of the events:
 * sz__group_count adds events [lo, hi) to counts[group]; sz__group_place
 * writes their positions at next[group]++, in input order.
 */
void sz__group_count(const int64_t *packed, size_t lo, size_t hi,
                     const uint64_t *member, const uint32_t *rank, uint32_t *counts);
void sz__group_place(const int64_t *packed, size_t lo, size_t hi,
                     const uint64_t *member, const uint32_t *rank, uint32_t *next,
                     uint32_t *perm);

/*
 * Stable sort of m pairs (t[j], p[j]) by t.  tmp_t and tmp_p are scratch
 * of m elements each.  Ties keep their order, so when p is increasing on
 * entry, equal times end up in input order.
 */
void sz__sort_pairs(int64_t *t, uint32_t *p, size_t m, int64_t *tmp_t,
                    uint32_t *tmp_p);

/*
 * Stable sort of n indices by a caller's order: afterwards
 * cmp(ctx, idx[i], idx[i + 1]) <= 0 for every i, and entries that compare
 * equal keep their order.  cmp answers as strcmp does.  tmp is scratch of
 * n entries.  Allocates nothing, so it cannot fail: the streams grow tmp
 * alongside their output and sort on every exit, failed calls' too.
 *
 * At most n - 1 + n * ceil(log2 n) comparisons (a bottom-up merge sort);
 * n - 1 and no moves when the entries are in order already, as a watermark
 * step usually emits them.
 */
typedef int (*sz__idx_cmp)(const void *ctx, size_t a, size_t b);

void sz__sort_idx(size_t *idx, size_t n, size_t *tmp, sz__idx_cmp cmp,
                  const void *ctx);

/*
 * Stable LSD radix sort of n pairs (key[i], idx[i]) by key: the streams
 * sort what a call emits by value with it, not through a comparator that
 * reads a record per comparison.  tmp_key and tmp_idx are scratch of n
 * entries; the result is left in key and idx.  One pass over the keys,
 * then two per 11-bit digit below the highest bit any key has set (digits
 * all keys share are skipped): callers pass offsets from the smallest
 * value, so a narrow range costs few passes; 32 pairs or fewer are
 * insertion-sorted instead (a stream step's usual few).  Allocates nothing, cannot
 * fail.
 */
void sz__radix_sort(uint64_t *key, uint32_t *idx, size_t n, uint64_t *tmp_key,
                    uint32_t *tmp_idx);

#ifdef SZ_TESTING
/* Test builds only: the work the emission sorts did since the last call:
 * sz__sort_idx's comparisons plus n for each pass sz__radix_sort made over
 * n pairs, plus the comparisons the streams count with sz_test_sort_count
 * (their "already in order?" checks).  The C tests bound the streams'
 * emission cost by it, not by time.
 * Not atomic: the tests that read it sort on one thread. */
unsigned long long sz_test_sort_cmps(void);
void sz_test_sort_count(unsigned long long n);
#endif

#endif /* SZ_SORT_H */
