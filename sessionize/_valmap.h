/*
 * _valmap.h -- the values a stream keeps until they are emitted: uint64
 * handle -> Python object (included by _streamcommon.h; static functions).
 *
 * Both streams keep the value pushed with an event under a 64-bit number
 * the core carries (the Sessionizer's value handles with collect=True, the
 * SearchSessionizer's SEARCH ordinals).  A dict keyed by Python ints made
 * and hashed an int object per event on the way in and two on the way out;
 * this table keys on the number itself.  Open addressing, linear probing,
 * at most half full, deletion by shifting the cluster back (Knuth's
 * algorithm R), so there are no tombstones to sweep.  A value is decref'd
 * only once the table is consistent again: its destructor may run Python
 * code that calls back into the stream.
 */
#ifndef SESSIONIZE_VALMAP_H
#define SESSIONIZE_VALMAP_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct valmap {
    uint64_t *keys;
    PyObject **vals;  /* NULL: an empty slot */
    size_t cap;       /* slots: 0 or a power of two */
    size_t n;         /* values held */
} valmap;

static inline size_t valmap_slot(const valmap *m, uint64_t h)
{
    /* handles are consecutive numbers: spread them (Fibonacci hashing) */
    return (size_t)((h * 0x9e3779b97f4a7c15ULL) >> 20) & (m->cap - 1);
}

/* Room for `more` more values; -1 with MemoryError (the table unchanged). */
static int valmap_reserve(valmap *m, size_t more)
{
    size_t cap = m->cap ? m->cap : 64, i;
    valmap nm;
    if ((m->n + more) * 2 <= m->cap) return 0;
    while ((m->n + more) * 2 > cap) {
        if (cap > ((size_t)PY_SSIZE_T_MAX) / (2 * sizeof(uint64_t))) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    nm.cap = cap;
    nm.n = m->n;
    nm.keys = PyMem_Malloc(cap * sizeof *nm.keys);
    nm.vals = PyMem_Calloc(cap, sizeof *nm.vals);
    if (nm.keys == NULL || nm.vals == NULL) {
        PyMem_Free(nm.keys);
        PyMem_Free(nm.vals);
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < m->cap; i++) {
        size_t j;
        if (m->vals[i] == NULL) continue;
        for (j = valmap_slot(&nm, m->keys[i]); nm.vals[j] != NULL; j = (j + 1) & (cap - 1)) {}
        nm.keys[j] = m->keys[i];
        nm.vals[j] = m->vals[i];
    }
    PyMem_Free(m->keys);
    PyMem_Free(m->vals);
    *m = nm;
    return 0;
}

/* The slot holding h, or (size_t)-1. */
static size_t valmap_find(const valmap *m, uint64_t h)
{
    size_t j;
    if (m->n == 0) return (size_t)-1;
    for (j = valmap_slot(m, h); m->vals[j] != NULL; j = (j + 1) & (m->cap - 1))
        if (m->keys[j] == h) return j;
    return (size_t)-1;
}

/* Keeps v (a new reference taken) under h, which must be absent; room must
 * have been reserved. */
static void valmap_put_reserved(valmap *m, uint64_t h, PyObject *v)
{
    size_t j;
    for (j = valmap_slot(m, h); m->vals[j] != NULL; j = (j + 1) & (m->cap - 1)) {}
    m->keys[j] = h;
    m->vals[j] = Py_NewRef(v);
    m->n++;
}

/* The value under h (borrowed), or NULL when there is none. */
static PyObject *valmap_get(const valmap *m, uint64_t h)
{
    size_t j = valmap_find(m, h);
    return j == (size_t)-1 ? NULL : m->vals[j];
}

/* Removes h's value and returns it (the table's reference), or NULL. */
static PyObject *valmap_take(valmap *m, uint64_t h)
{
    size_t i = valmap_find(m, h), j, mask = m->cap - 1;
    PyObject *v;
    if (i == (size_t)-1) return NULL;
    v = m->vals[i];
    m->vals[i] = NULL;
    m->n--;
    for (j = (i + 1) & mask; m->vals[j] != NULL; j = (j + 1) & mask) {
        size_t k = valmap_slot(m, m->keys[j]);
        /* the entry at j stays unless its home k lies cyclically in (i, j] */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        m->vals[j] = NULL;
        i = j;
    }
    return v;
}

/* Drops h's value, if any. */
static void valmap_drop(valmap *m, uint64_t h)
{
    Py_XDECREF(valmap_take(m, h));
}

static int valmap_traverse(const valmap *m, visitproc visit, void *arg)
{
    size_t i;
    for (i = 0; i < m->cap; i++) Py_VISIT(m->vals[i]);
    return 0;
}

/* Releases every value and the table. */
static void valmap_free(valmap *m)
{
    valmap old = *m;
    size_t i;
    memset(m, 0, sizeof *m);  /* empty before any destructor runs */
    for (i = 0; i < old.cap; i++) Py_XDECREF(old.vals[i]);
    PyMem_Free(old.keys);
    PyMem_Free(old.vals);
}

/* {handle: value} (a new dict), as snapshots hold it. */
static PyObject *valmap_to_dict(const valmap *m)
{
    PyObject *d = PyDict_New();
    size_t i;
    if (d == NULL) return NULL;
    for (i = 0; i < m->cap; i++) {
        PyObject *k;
        int r;
        if (m->vals[i] == NULL) continue;
        k = PyLong_FromUnsignedLongLong(m->keys[i]);
        r = k ? PyDict_SetItem(d, k, m->vals[i]) : -1;
        Py_XDECREF(k);
        if (r < 0) {
            Py_DECREF(d);
            return NULL;
        }
    }
    return d;
}

/* A table from {handle: value} (a restored snapshot's).  0, or -1: with
 * *bad set when a key is not an int in [0, 2**64), with an exception set
 * otherwise. */
static int valmap_from_dict(valmap *m, PyObject *d, int *bad)
{
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    memset(m, 0, sizeof *m);
    *bad = 0;
    if (valmap_reserve(m, (size_t)PyDict_GET_SIZE(d)) < 0) return -1;
    while (PyDict_Next(d, &pos, &k, &v)) {
        unsigned long long h;
        if (!PyLong_Check(k)) goto bad;
        h = PyLong_AsUnsignedLongLong(k);
        if (h == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            goto bad;
        }
        valmap_put_reserved(m, (uint64_t)h, v);  /* dict keys: no duplicate */
    }
    return 0;
bad:
    *bad = 1;
    valmap_free(m);
    return -1;
}

#endif /* SESSIONIZE_VALMAP_H */
