/*
 * keytab.c -- the per-key table and due heap both streams use
 * (sz_keytab.h explains them).
 */
#include "sz_keytab.h"

#include <stdlib.h>

sz_status sz__grow(void **p, size_t *cap, size_t need, size_t size)
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

sz_status sz__grow32(void **p, uint32_t *cap, size_t need, size_t size)
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

static void sz__heap_set(sz__heap *h, sz__heap_pos p, uint32_t pos, sz__heap_node nd)
{
    h->a[pos] = nd;
    *sz__heap_slot(p, nd.k) = pos;
}

static void sz__heap_up(sz__heap *h, sz__heap_pos p, uint32_t pos)
{
    sz__heap_node nd = h->a[pos];
    while (pos > 0) {
        uint32_t q = (pos - 1) / 2;
        if (h->a[q].due <= nd.due) break;
        sz__heap_set(h, p, pos, h->a[q]);
        pos = q;
    }
    sz__heap_set(h, p, pos, nd);
}

void sz__heap_down(sz__heap *h, sz__heap_pos p, uint32_t pos)
{
    sz__heap_node nd = h->a[pos];
    for (;;) {
        uint32_t c = 2 * pos + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && h->a[c + 1].due < h->a[c].due) c++;
        if (h->a[c].due >= nd.due) break;
        sz__heap_set(h, p, pos, h->a[c]);
        pos = c;
    }
    sz__heap_set(h, p, pos, nd);
}

sz_status sz__heap_push(sz__heap *h, sz__heap_pos p, uint32_t k, int64_t due)
{
    sz__heap_node nd;
    if (sz__grow32((void **)&h->a, &h->cap, (size_t)h->n + 1, sizeof *h->a) != SZ_OK)
        return SZ_ERR_NOMEM;
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

void sz__heap_free(sz__heap *h)
{
    SZ_FREE(h->a);
    h->a = NULL;
    h->n = h->cap = 0;
}
