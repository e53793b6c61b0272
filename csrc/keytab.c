/*
 * keytab.c -- the per-key table and due heap both streams use
 * (sz_keytab.h explains them).
 */
#include "sz_keytab.h"

#include <stdlib.h>

sz_status sz__grow_to(void **p, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap ? *cap : 4;  /* small: a stream may hold one key (sessionize.bytewax) */
    void *q;
    if (need <= *cap) return SZ_OK;
    while (c < need) c = c > SIZE_MAX / 2 ? need : c * 2;
    q = SZ_REALLOC(*p, sz__mul_size(c, size));
    if (q == NULL) return SZ_ERR_NOMEM;
    *p = q;
    *cap = c;
    return SZ_OK;
}

sz_status sz__grow32_to(void **p, uint32_t *cap, size_t need, size_t size)
{
    size_t c = *cap;
    sz_status st;
    if (need > UINT32_MAX - 1) return SZ_ERR_NOMEM;
    st = sz__grow(p, &c, need, size);
    if (st == SZ_OK) *cap = c > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)c;
    return st;
}

/* ---- the key table -------------------------------------------------------- */

sz_status sz__keytab_init(sz__keytab *t, size_t n_slots)
{
    size_t i;
    t->slots = (sz__slot *)SZ_MALLOC(sz__mul_size(n_slots, sizeof *t->slots));
    t->n_slots = 0;
    if (t->slots == NULL) return SZ_ERR_NOMEM;
    t->n_slots = n_slots;
    for (i = 0; i < n_slots; i++) t->slots[i].idx = NIL;
    return SZ_OK;
}

void sz__keytab_free(sz__keytab *t)
{
    SZ_FREE(t->slots);
    t->slots = NULL;
    t->n_slots = 0;
}

void sz__keytab_put(sz__keytab *t, uint64_t key, uint32_t ns, uint32_t idx)
{
    size_t i = sz__keytab_home(t, key, ns);
    while (t->slots[i].idx != NIL) i = (i + 1) & (t->n_slots - 1);
    t->slots[i].key = key;
    t->slots[i].ns = ns;
    t->slots[i].idx = idx;
}

sz_status sz__keytab_reserve(sz__keytab *t, size_t live)
{
    sz__keytab bigger;
    size_t n = t->n_slots, i;
    if (live <= n / 2) return SZ_OK;
    while (live > n / 2) {
        if (n > SIZE_MAX / 2) return SZ_ERR_NOMEM;
        n *= 2;
    }
    if (sz__keytab_init(&bigger, n) != SZ_OK) return SZ_ERR_NOMEM;
    for (i = 0; i < t->n_slots; i++) {
        const sz__slot *sl = &t->slots[i];
        if (sl->idx != NIL) sz__keytab_put(&bigger, sl->key, sl->ns, sl->idx);
    }
    SZ_FREE(t->slots);
    *t = bigger;
    return SZ_OK;
}

/* Backward-shift deletion keeps linear probing's chains intact. */
void sz__keytab_del(sz__keytab *t, uint64_t key, uint32_t ns)
{
    size_t mask = t->n_slots - 1, i = sz__keytab_home(t, key, ns), j;
    while (!(t->slots[i].key == key && t->slots[i].ns == ns)) i = (i + 1) & mask;
    j = i;
    for (;;) {
        size_t home;
        j = (j + 1) & mask;
        if (t->slots[j].idx == NIL) break;
        home = sz__keytab_home(t, t->slots[j].key, t->slots[j].ns);
        /* move j back to i unless its home lies cyclically in (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    t->slots[i].idx = NIL;
}

void sz__keytab_clear(sz__keytab *t)
{
    size_t i;
    for (i = 0; i < t->n_slots; i++) t->slots[i].idx = NIL;
}

/* ---- the heap ------------------------------------------------------------- */

/* A 4-ary heap.  A sift crosses half the levels of a binary heap, and a
 * level's four children share one cache line (sz__heap_grow aligns them),
 * so a heap larger than the cache costs half the scattered reads and half
 * the position writes per sift.  In cache (bench-stream's log holds about
 * 11 k keys at once) what a level costs is the wait for its compares, and
 * that is what sz__heap_down is written for. */

static void sz__heap_set(sz__heap *h, sz__heap_pos p, uint32_t pos, sz__heap_node nd)
{
    h->a[pos] = nd;
    *sz__heap_slot(p, nd.k) = pos;
}

static void sz__heap_up(sz__heap *h, sz__heap_pos p, uint32_t pos)
{
    sz__heap_node nd = h->a[pos];
    while (pos > 0) {
        uint32_t q = sz__heap_parent(pos);
        if (h->a[q].due <= nd.due) break;
        sz__heap_set(h, p, pos, h->a[q]);
        pos = q;
    }
    sz__heap_set(h, p, pos, nd);
}

void sz__heap_down(sz__heap *h, sz__heap_pos p, uint32_t pos)
{
    sz__heap_node nd = h->a[pos];
    const sz__heap_node *a = h->a;
    size_t n = h->n;
    for (;;) {
        size_t c = (size_t)pos * SZ_HEAP_ARITY + 1, g = c * SZ_HEAP_ARITY + 1, m;
        int64_t md;
        if (c >= n) break;
        /* the next level's four lines (the children's children, one run)
         * load while this level compares: they matter once the heap
         * outgrows the cache */
        if (g + 15 < n) {
            SZ_PREFETCH_R(a + g);
            SZ_PREFETCH_R(a + g + 4);
            SZ_PREFETCH_R(a + g + 8);
            SZ_PREFETCH_R(a + g + 12);
        }
        if (SZ_LIKELY(c + 3 < n)) {
            /* A tournament on the values, which compiles to conditional
             * moves: which child is least is a coin toss that a branch
             * would mispredict once a level.  The least due comes out of
             * the tournament itself: reloading it by the winner's index
             * put a load after the compares on every level's path, and
             * made this heap slower than the binary one it replaced
             * (bench-stream, sz_stream: 8.6 with an index tournament, 9.4
             * binary, 11.2 M events/s this way). */
            int64_t d0 = a[c].due, d1 = a[c + 1].due, d2 = a[c + 2].due, d3 = a[c + 3].due;
            size_t m01 = d1 < d0 ? c + 1 : c, m23 = d3 < d2 ? c + 3 : c + 2;
            int64_t v01 = d1 < d0 ? d1 : d0, v23 = d3 < d2 ? d3 : d2;
            m = v23 < v01 ? m23 : m01;
            md = v23 < v01 ? v23 : v01;
        } else {
            size_t j;
            m = c;
            md = a[c].due;
            for (j = c + 1; j < n; j++)
                if (a[j].due < md) {
                    m = j;
                    md = a[j].due;
                }
        }
        if (md >= nd.due) break;
        sz__heap_set(h, p, pos, a[m]);
        pos = (uint32_t)m;
    }
    sz__heap_set(h, p, pos, nd);
}

/* a[1], the root's first child, starts a 64-byte line, and with it every
 * group of four siblings a[4i + 1 .. 4i + 4] (16-byte nodes).  An
 * allocator aligns a block to 16 bytes (8 on some 32-bit systems), so the
 * nodes' offset in the block is a multiple of their alignment and below 64:
 * the block holds 64 bytes more than the nodes. */
#define SZ_HEAP_LINE 64
#define SZ_HEAP_SLACK SZ_HEAP_LINE

static size_t sz__heap_offset(const unsigned char *mem)
{
    return (size_t)((SZ_HEAP_LINE - sizeof(sz__heap_node) - (uintptr_t)mem % SZ_HEAP_LINE)
                    % SZ_HEAP_LINE);
}

sz_status sz__heap_grow(sz__heap *h, size_t need)
{
    size_t c = h->cap ? h->cap : 4, old_off, off;
    unsigned char *mem;
    if (need <= h->cap) return SZ_OK;
    if (need > UINT32_MAX - 1) return SZ_ERR_NOMEM;
    while (c < need) c = c > SIZE_MAX / 2 ? need : c * 2;
    if (c > UINT32_MAX - 1) c = UINT32_MAX - 1;
    if (c > (SIZE_MAX - SZ_HEAP_SLACK) / sizeof *h->a) return SZ_ERR_NOMEM;
    old_off = h->mem ? (size_t)((unsigned char *)h->a - h->mem) : 0;
    mem = (unsigned char *)SZ_REALLOC(h->mem, c * sizeof *h->a + SZ_HEAP_SLACK);
    if (mem == NULL) return SZ_ERR_NOMEM;
    /* realloc kept the bytes, not necessarily their alignment */
    off = sz__heap_offset(mem);
    if (off != old_off && h->n > 0)
        memmove(mem + off, mem + old_off, (size_t)h->n * sizeof *h->a);
    h->mem = mem;
    h->a = (sz__heap_node *)(void *)(mem + off);
    h->cap = (uint32_t)c;
    return SZ_OK;
}

sz_status sz__heap_push(sz__heap *h, sz__heap_pos p, uint32_t k, int64_t due)
{
    sz__heap_node nd;
    if (sz__heap_reserve(h, (size_t)h->n + 1) != SZ_OK) return SZ_ERR_NOMEM;
    nd.due = due;
    nd.k = k;
    h->a[h->n] = nd;
    *sz__heap_slot(p, k) = h->n++;
    sz__heap_up(h, p, h->n - 1);
    return SZ_OK;
}

void sz__heap_pop_top(sz__heap *h, sz__heap_pos p)
{
    sz__heap_remove(h, p, 0);
}

void sz__heap_remove(sz__heap *h, sz__heap_pos p, uint32_t pos)
{
    h->n--;
    if (pos < h->n) {
        int64_t old = h->a[pos].due;
        sz__heap_set(h, p, pos, h->a[h->n]);
        if (h->a[pos].due < old)
            sz__heap_up(h, p, pos);
        else
            sz__heap_down(h, p, pos);
    }
}

void sz__heap_lower(sz__heap *h, sz__heap_pos p, uint32_t k, int64_t due)
{
    uint32_t pos = *sz__heap_slot(p, k);
    if (due < h->a[pos].due) {
        h->a[pos].due = due;
        sz__heap_up(h, p, pos);
    }
}

void sz__heap_move(sz__heap *h, sz__heap_pos p, uint32_t k, int64_t due)
{
    uint32_t pos = *sz__heap_slot(p, k);
    int64_t old = h->a[pos].due;
    h->a[pos].due = due;
    if (due < old)
        sz__heap_up(h, p, pos);
    else if (due > old)
        sz__heap_down(h, p, pos);
}

void sz__heap_build(sz__heap *h, sz__heap_pos p)
{
    uint32_t i;
    for (i = 0; i < h->n; i++) *sz__heap_slot(p, h->a[i].k) = i;
    if (h->n > 1)
        for (i = sz__heap_parent(h->n - 1) + 1; i-- > 0;) sz__heap_down(h, p, i);
}

void sz__heap_free(sz__heap *h)
{
    SZ_FREE(h->mem);
    h->mem = NULL;
    h->a = NULL;
    h->n = h->cap = 0;
}
