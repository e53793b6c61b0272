/*
 * _keymap.h -- how the stream bindings give keys to the core (included by
 * _stream.c and _ctr_stream.c; static functions, one copy per module).
 *
 * The core's streams take 64-bit keys in a namespace.  Python ints (and
 * anything with __index__, numpy integers, floats equal to an int) that fit
 * int64 go as themselves in namespace 0; every other hashable key gets a
 * 64-bit handle in namespace 1 through two dicts, which the binding drops
 * when the core reports the key freed.
 */
#ifndef SESSIONIZE_KEYMAP_H
#define SESSIONIZE_KEYMAP_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

typedef struct keymap {
    PyObject *key_handles;  /* key object -> int handle (namespace 1) */
    PyObject *handle_keys;  /* int handle -> key object */
    uint64_t next_key;      /* the next handle */
} keymap;

/* Maps a key object to (value, namespace).  *fresh is set when a new
 * namespace-1 handle was made for it. */
static int keymap_in(keymap *self, PyObject *key, uint64_t *k, uint8_t *ns,
                     int *fresh)
{
    PyObject *h;
    *fresh = 0;
    if (PyFloat_Check(key)) {
        /* a float equal to an int64 is that int, as a dict has it */
        double d = PyFloat_AS_DOUBLE(key);
        if (d >= -9223372036854775808.0 && d < 9223372036854775808.0
            && d == (double)(long long)d) {
            *k = (uint64_t)(long long)d;
            *ns = 0;
            return 0;
        }
    } else if (PyLong_CheckExact(key) || PyIndex_Check(key)) {
        int overflow = 0;
        long long v;
        PyObject *i = PyNumber_Index(key);
        if (i == NULL) return -1;
        v = PyLong_AsLongLongAndOverflow(i, &overflow);
        Py_DECREF(i);
        if (v == -1 && PyErr_Occurred()) return -1;
        if (!overflow) {
            *k = (uint64_t)v;
            *ns = 0;
            return 0;
        }
        /* a Python int beyond int64: a handle like any other key */
    }
    h = PyDict_GetItemWithError(self->key_handles, key);
    if (h != NULL) {
        *k = (uint64_t)PyLong_AsUnsignedLongLong(h);
        *ns = 1;
        return 0;
    }
    if (PyErr_Occurred()) return -1;  /* unhashable: TypeError */
    h = PyLong_FromUnsignedLongLong(self->next_key);
    if (h == NULL) return -1;
    if (PyDict_SetItem(self->key_handles, key, h) < 0
        || PyDict_SetItem(self->handle_keys, h, key) < 0) {
        PyDict_DelItem(self->key_handles, key);
        PyErr_Clear();
        Py_DECREF(h);
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        return -1;
    }
    Py_DECREF(h);
    *k = self->next_key++;
    *ns = 1;
    *fresh = 1;
    return 0;
}

/* The key object for (k, ns): a new reference. */
static PyObject *keymap_out(keymap *self, PyObject *error, uint64_t k, uint32_t ns)
{
    PyObject *h, *key;
    if (ns == 0) return PyLong_FromLongLong((long long)k);
    h = PyLong_FromUnsignedLongLong(k);
    if (h == NULL) return NULL;
    key = PyDict_GetItemWithError(self->handle_keys, h);
    Py_DECREF(h);
    if (key == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(error,
                            "state: a key handle is missing (corrupted state)");
        return NULL;
    }
    return Py_NewRef(key);
}

static int keymap_forget(keymap *self, uint64_t k)
{
    PyObject *h = PyLong_FromUnsignedLongLong(k), *key;
    if (h == NULL) return -1;
    key = PyDict_GetItemWithError(self->handle_keys, h);
    if (key != NULL) {
        Py_INCREF(key);
        if (PyDict_DelItem(self->key_handles, key) < 0) PyErr_Clear();
        Py_DECREF(key);
        if (PyDict_DelItem(self->handle_keys, h) < 0) PyErr_Clear();
    }
    Py_DECREF(h);
    return PyErr_Occurred() ? -1 : 0;
}

#endif /* SESSIONIZE_KEYMAP_H */
