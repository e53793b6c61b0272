/*
 * _columns.h -- the columnar output of the stream bindings (included by
 * _stream.c and _ctr_stream.c after numpy's header; static functions, one
 * copy per module).
 *
 * With columnar=True a call's records become numpy columns, filled in one
 * pass over the core's output: no Python object per session or per event,
 * but for the caller's own objects (keys that are not int64, values), which
 * are referenced, not made.  The Python layer wraps the columns in tables
 * (sessionize/_table.py) and converts the times' int64 to the caller's type
 * once per column.
 */
#ifndef SESSIONIZE_COLUMNS_H
#define SESSIONIZE_COLUMNS_H

#include "_keymap.h"

/* A new 1-D array of n items of `typenum` (contents unset; object arrays
 * hold NULLs or Nones: col_set_obj replaces either). */
static PyObject *col_new(size_t n, int typenum)
{
    npy_intp dims[1];
    dims[0] = (npy_intp)n;
    return PyArray_SimpleNew(1, dims, typenum);
}

#define COL_DATA(arr, type) ((type *)PyArray_DATA((PyArrayObject *)(arr)))

/* Puts the new reference v at item i of object array arr. */
static void col_set_obj(PyObject *arr, size_t i, PyObject *v)
{
    PyObject **d = COL_DATA(arr, PyObject *);
    Py_XSETREF(d[i], v);
}

/* An object array of n Nones. */
static PyObject *col_nones(size_t n)
{
    PyObject *a = col_new(n, NPY_OBJECT);
    size_t i;
    if (a == NULL) return NULL;
    for (i = 0; i < n; i++) col_set_obj(a, i, Py_NewRef(Py_None));
    return a;
}

/*
 * The key column of n records whose core keys are k[i] in namespace ns[i]:
 * int64 when every key is an int64 (namespace 0), as the caller pushed
 * them; otherwise an object array of the caller's key objects (the ones
 * the keymap holds, not copies).
 */
static PyObject *col_keys(keymap *km, PyObject *error, const uint64_t *k,
                          const uint32_t *ns, size_t n)
{
    PyObject *a;
    size_t i;
    int ints = 1;
    for (i = 0; i < n && ints; i++) ints = ns[i] == 0;
    if (ints) {
        a = col_new(n, NPY_INT64);
        if (a != NULL && n) memcpy(PyArray_DATA((PyArrayObject *)a), k, n * sizeof *k);
        return a;
    }
    a = col_new(n, NPY_OBJECT);
    if (a == NULL) return NULL;
    for (i = 0; i < n; i++) {
        PyObject *key = keymap_out(km, error, k[i], ns[i]);
        if (key == NULL) {
            Py_DECREF(a);
            return NULL;
        }
        col_set_obj(a, i, key);
    }
    return a;
}

/* Scratch for the key columns of a call: the keys and namespaces of its
 * session rows and of its late events.  -1 with MemoryError. */
typedef struct col_keybuf {
    uint64_t *k;
    uint32_t *ns;
} col_keybuf;

static int col_keybuf_init(col_keybuf *b, size_t n)
{
    b->k = PyMem_Malloc((n ? n : 1) * sizeof *b->k);
    b->ns = PyMem_Malloc((n ? n : 1) * sizeof *b->ns);
    if (b->k == NULL || b->ns == NULL) {
        PyMem_Free(b->k);
        PyMem_Free(b->ns);
        b->k = NULL;
        b->ns = NULL;
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void col_keybuf_free(col_keybuf *b)
{
    PyMem_Free(b->k);
    PyMem_Free(b->ns);
}

/* The value of a late event at position pos of the call's values (None
 * when the call had none). */
static PyObject *col_late_value(PyObject *values, size_t pos)
{
    if (values == NULL) return Py_NewRef(Py_None);
    return PySequence_GetItem(values, (Py_ssize_t)pos);
}

/* Moves n new references from src into a new tuple (src left NULL). */
static PyObject *col_tuple(PyObject **src, size_t n)
{
    PyObject *t = PyTuple_New((Py_ssize_t)n);
    size_t i;
    if (t == NULL) return NULL;
    for (i = 0; i < n; i++) {
        PyTuple_SET_ITEM(t, (Py_ssize_t)i, src[i]);
        src[i] = NULL;
    }
    return t;
}

/*
 * The pair a binding's columns_output returns: (rows, late), each a tuple
 * of columns, key column first.  rows[1..nr_cols) and late[1..4) are the
 * other columns, made by the binding (new references or NULL after a
 * failure, all released here either way); the key columns are made here
 * from the gathered keys (rk: n_rows of them, lk: n_late).
 */
static PyObject *col_pair(keymap *km, PyObject *error, PyObject **rows, size_t nr_cols,
                          const col_keybuf *rk, size_t n_rows, PyObject **late,
                          const col_keybuf *lk, size_t n_late)
{
    PyObject *r = NULL, *l = NULL, *res = NULL;
    size_t i;
    int ok = 1;
    for (i = 1; i < nr_cols; i++) ok &= rows[i] != NULL;
    for (i = 1; i < 4; i++) ok &= late[i] != NULL;
    if (ok) {
        rows[0] = col_keys(km, error, rk->k, rk->ns, n_rows);
        late[0] = rows[0] ? col_keys(km, error, lk->k, lk->ns, n_late) : NULL;
    }
    if (ok && late[0] != NULL) {
        r = col_tuple(rows, nr_cols);
        l = r ? col_tuple(late, 4) : NULL;
        res = l ? PyTuple_Pack(2, r, l) : NULL;
    }
    for (i = 0; i < nr_cols; i++) Py_CLEAR(rows[i]);
    for (i = 0; i < 4; i++) Py_CLEAR(late[i]);
    Py_XDECREF(r);
    Py_XDECREF(l);
    return res;
}

/* The caller's result from the raw columns (a pair from a binding's
 * columns_output, stolen; NULL passes an error on): batch(stream, rows,
 * late).  Called once the binding's own bookkeeping is done, since the
 * batch maker may raise (on_late='raise'). */
static PyObject *col_result(PyObject *batch, PyObject *stream, PyObject *raw)
{
    PyObject *r;
    if (raw == NULL) return NULL;
    r = PyObject_CallFunctionObjArgs(batch, stream, PyTuple_GET_ITEM(raw, 0),
                                     PyTuple_GET_ITEM(raw, 1), NULL);
    Py_DECREF(raw);
    return r;
}

#endif /* SESSIONIZE_COLUMNS_H */
