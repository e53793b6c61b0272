/*
 * sz_sort.h -- sorting helpers of the batch path (internal).
 */
#ifndef SZ_SORT_H
#define SZ_SORT_H

#include "sz_internal.h"

/*
 * Stable counting sort of positions 0..n-1 by key id, the key id of event i
 * being the low 32 bits of packed[i] (all < n_keys).  perm receives the n
 * positions grouped by key, input order within a key; starts (n_keys + 1
 * entries) receives each key's first slot in perm, starts[n_keys] = n.
 */
void sz__counting_sort(const int64_t *packed, size_t n, size_t n_keys,
                       uint32_t *starts, uint32_t *perm);

/*
 * Stable sort of m pairs (t[j], p[j]) by t.  tmp_t and tmp_p are scratch
 * of m elements each.  Ties keep their order, so when p is increasing on
 * entry, equal times end up in input order.
 */
void sz__sort_pairs(int64_t *t, uint32_t *p, size_t m, int64_t *tmp_t,
                    uint32_t *tmp_p);

#endif /* SZ_SORT_H */
