/*
 * sz_sort.h -- sorting helpers of the batch path (internal).
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

#endif /* SZ_SORT_H */
