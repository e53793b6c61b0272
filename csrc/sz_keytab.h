/*
 * sz_keytab.h -- the bookkeeping both streams keep per key (internal).
 *
 * The incremental sessionizer (stream.c) and the search-CTR stream
 * (ctr_stream.c) both hold a pool of per-key records, find them by
 * (key, namespace) through an open-addressing table, and order them by the
 * watermark value at which something happens to them ("due") in a 4-ary
 * min-heap.  This is that machinery, once; keytab.c holds the code.
 *
 * The heap keeps each key record's position in the heap inside the record
 * itself (so a key can be lowered or removed in O(log n)); the records live
 * in the caller's array, which moves when it grows, so every heap call is
 * given where the positions are: sz__heap_pos{base, stride}, the address
 * of record 0's position field and the size of a record.
 */
#ifndef SZ_KEYTAB_H
#define SZ_KEYTAB_H

#include "sz_internal.h"

#define NIL UINT32_MAX

/* ---- growing arrays ------------------------------------------------------ */

/* Grows *p (capacity *cap elements of `size` bytes) to hold `need`,
 * doubling; SZ_ERR_NOMEM leaves *p and *cap as they were. */
sz_status sz__grow_to(void **p, size_t *cap, size_t need, size_t size);

/* The same, the check for room inline: the streams reserve room for
 * several buffers per event, and it is nearly always there. */
SZ_INLINE sz_status sz__grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (SZ_LIKELY(need <= *cap)) return SZ_OK;
    return sz__grow_to(p, cap, need, size);
}

/* The same for a uint32_t capacity, which stays below NIL. */
sz_status sz__grow32_to(void **p, uint32_t *cap, size_t need, size_t size);

SZ_INLINE sz_status sz__grow32(void **p, uint32_t *cap, size_t need, size_t size)
{
    if (SZ_LIKELY(need <= *cap)) return SZ_OK;
    return sz__grow32_to(p, cap, need, size);
}

/* ---- the key table -------------------------------------------------------- */

typedef struct sz__slot {  /* idx == NIL: empty */
    uint64_t key;
    uint32_t ns;
    uint32_t idx;
} sz__slot;

typedef struct sz__keytab {
    sz__slot *slots;
    size_t n_slots;  /* a power of two */
} sz__keytab;

/* An empty table of n_slots (a power of two).  SZ_OK or SZ_ERR_NOMEM. */
sz_status sz__keytab_init(sz__keytab *t, size_t n_slots);
void sz__keytab_free(sz__keytab *t);

SZ_INLINE size_t sz__keytab_home(const sz__keytab *t, uint64_t key, uint32_t ns)
{
    return (size_t)sz__hash_u64(key ^ ((uint64_t)ns << 59 | ns)) & (t->n_slots - 1);
}

/* The record index of (key, ns), or NIL. */
SZ_INLINE uint32_t sz__keytab_find(const sz__keytab *t, uint64_t key, uint32_t ns)
{
    size_t i = sz__keytab_home(t, key, ns);
    for (;;) {
        const sz__slot *sl = &t->slots[i];
        if (sl->idx == NIL) return NIL;
        if (sl->key == key && sl->ns == ns) return sl->idx;
        i = (i + 1) & (t->n_slots - 1);
    }
}

/* Makes room for `live` keys at a load of at most one half (doubling).
 * SZ_OK or SZ_ERR_NOMEM (the table unchanged). */
sz_status sz__keytab_reserve(sz__keytab *t, size_t live);

/* Inserts (key, ns) -> idx; the key must not be there and room reserved. */
void sz__keytab_put(sz__keytab *t, uint64_t key, uint32_t ns, uint32_t idx);

/* Removes (key, ns), which must be there. */
void sz__keytab_del(sz__keytab *t, uint64_t key, uint32_t ns);

/* Removes every key (the slots stay allocated). */
void sz__keytab_clear(sz__keytab *t);

/* ---- the heap of keys by due --------------------------------------------- */

typedef struct sz__heap_node {
    int64_t due;
    uint32_t k;
} sz__heap_node;

typedef struct sz__heap {
    sz__heap_node *a;    /* a[0] is the top; the children of a[i] are
                            a[4i + 1 .. 4i + 4] */
    unsigned char *mem;  /* the block a lies in (a is aligned within it) */
    uint32_t n, cap;
} sz__heap;

#define SZ_HEAP_ARITY 4

SZ_INLINE uint32_t sz__heap_parent(uint32_t i)
{
    return (i - 1) / SZ_HEAP_ARITY;
}

typedef struct sz__heap_pos {
    unsigned char *base;  /* &records[0].heap_pos */
    size_t stride;        /* sizeof records[0] */
} sz__heap_pos;

#define SZ_HEAP_POS(records, field)                                      \
    sz__heap_pos_of((unsigned char *)&(records)[0].field, sizeof (records)[0])

SZ_INLINE sz__heap_pos sz__heap_pos_of(unsigned char *base, size_t stride)
{
    sz__heap_pos p;
    p.base = base;
    p.stride = stride;
    return p;
}

SZ_INLINE uint32_t *sz__heap_slot(sz__heap_pos p, uint32_t k)
{
    return (uint32_t *)(void *)(p.base + (size_t)k * p.stride);
}

/* Room for `need` entries.  SZ_OK or SZ_ERR_NOMEM (nothing changed).  The
 * nodes lie aligned within h->mem: grow them with this, never directly. */
sz_status sz__heap_grow(sz__heap *h, size_t need);

SZ_INLINE sz_status sz__heap_reserve(sz__heap *h, size_t need)
{
    if (SZ_LIKELY(need <= h->cap)) return SZ_OK;
    return sz__heap_grow(h, need);
}

/* Adds key k with `due`.  SZ_OK or SZ_ERR_NOMEM (nothing changed). */
sz_status sz__heap_push(sz__heap *h, sz__heap_pos p, uint32_t k, int64_t due);

/* Removes the top; its key's position is left to the caller. */
void sz__heap_pop_top(sz__heap *h, sz__heap_pos p);

/* Restores the order after the entry at `pos` grew (sift down). */
void sz__heap_down(sz__heap *h, sz__heap_pos p, uint32_t pos);

/* Lowers key k's entry to `due` if that is earlier. */
void sz__heap_lower(sz__heap *h, sz__heap_pos p, uint32_t k, int64_t due);

/* Moves key k's entry to `due`, earlier or later, and restores the order. */
void sz__heap_move(sz__heap *h, sz__heap_pos p, uint32_t k, int64_t due);

/* Removes key k's entry (at position pos); its position is left to the
 * caller. */
void sz__heap_remove(sz__heap *h, sz__heap_pos p, uint32_t pos);

/* Orders a[0 .. n), whatever its order, and writes every position. */
void sz__heap_build(sz__heap *h, sz__heap_pos p);

void sz__heap_free(sz__heap *h);

#endif /* SZ_KEYTAB_H */
