/*
 * _keymap.h -- how the stream bindings give keys to the core (included by
 * _stream.c and _ctr_stream.c; static functions, one copy per module).
 *
 * The core's streams take 64-bit keys in a namespace.  Python ints (and
 * anything with __index__, numpy integers, floats equal to an int) that fit
 * int64 go as themselves in namespace 0; every other hashable key gets a
 * 64-bit handle in namespace 1 through two dicts, which the binding drops
 * when the core reports the key freed.
 *
 * A key must keep its hash while a stream holds it, as a dict's keys must.
 * One whose hash can change (an object of a class of the caller's, or a
 * tuple holding one) has its hash noted when its handle is made; when a
 * session or late event of that handle is given out and the hash differs,
 * the key is noted in `changed` for the binding to report once the call's
 * output is built (_streamcommon.h, sc_report_changed): the output is never
 * lost.  Dropping a handle checks that the key still finds it, and else
 * rebuilds the key dict without it, so that no entry is left pointing at a
 * dropped handle (the "key handle is missing" error that a changed hash
 * used to cause, with the session it lost).
 */
#ifndef SESSIONIZE_KEYMAP_H
#define SESSIONIZE_KEYMAP_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* The pending exception as one object (a new reference, normalized, its
 * traceback attached; NULL when none), cleared; and setting it again
 * (stolen).  Code that may run Python (a key's __hash__ or __eq__) must not
 * run with an exception pending: these keep it aside meanwhile.  CPython
 * 3.12 has them (PyErr_GetRaisedException, PyErr_SetRaisedException);
 * before, they are made of PyErr_Fetch and PyErr_Restore. */
static PyObject *err_take(void)
{
    if (PyErr_Occurred() == NULL) return NULL;  /* the usual case, and cheap */
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) return NULL;
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL) {
        (void)PyException_SetTraceback(value, tb);
        Py_DECREF(tb);
    }
    Py_DECREF(type);
    return value;
#endif
}

static void err_give(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    if (exc == NULL) {
        PyErr_Clear();
        return;
    }
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc,
                  PyException_GetTraceback(exc));
#endif
}

typedef struct keymap {
    PyObject *key_handles;  /* key object -> int handle (namespace 1) */
    PyObject *handle_keys;  /* int handle -> key object */
    PyObject *handle_hash;  /* int handle -> the key's hash when mapped, for
                               keys whose hash can change (keymap_noted) */
    PyObject *changed;      /* the first key given out whose hash changed
                               since it was mapped, or NULL (a reference) */
    uint64_t next_key;      /* the next handle */
} keymap;

/* Whether key's hash can change while it is held: not for the built-in
 * immutable types, nor for tuples of them (a key of a class of the
 * caller's, or a tuple holding one, can). */
static int keymap_hash_may_change(PyObject *key, int depth)
{
    Py_ssize_t i;
    if (PyUnicode_CheckExact(key) || PyBytes_CheckExact(key) || PyLong_CheckExact(key)
        || PyFloat_CheckExact(key) || key == Py_None || PyBool_Check(key)
        || PyComplex_CheckExact(key))
        return 0;
    if (!PyTuple_CheckExact(key) || depth > 4) return 1;
    for (i = 0; i < PyTuple_GET_SIZE(key); i++)
        if (keymap_hash_may_change(PyTuple_GET_ITEM(key, i), depth + 1)) return 1;
    return 0;
}

/* Notes key's hash under handle h when it can change.  0, or -1 with an
 * exception set (its __hash__ raised, or no memory). */
static int keymap_note_hash(keymap *self, PyObject *h, PyObject *key)
{
    Py_hash_t hash;
    PyObject *v;
    int r;
    if (!keymap_hash_may_change(key, 0)) return 0;
    hash = PyObject_Hash(key);
    if (hash == -1) return -1;
    v = PyLong_FromSsize_t((Py_ssize_t)hash);
    if (v == NULL) return -1;
    r = PyDict_SetItem(self->handle_hash, h, v);
    Py_DECREF(v);
    return r;
}

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
    if (PyDict_SetItem(self->key_handles, key, h) < 0) {
        /* the key's __hash__ or __eq__ raised this time, or no memory:
         * nothing was added */
        Py_DECREF(h);
        return -1;
    }
    if (PyDict_SetItem(self->handle_keys, h, key) < 0) {
        /* no memory; taking the key back runs its __hash__: not with the
         * error pending, and the error stays the one raised */
        PyObject *err = err_take();
        if (PyDict_DelItem(self->key_handles, key) < 0) PyErr_Clear();
        err_give(err);
        Py_DECREF(h);
        return -1;
    }
    if (keymap_note_hash(self, h, key) < 0) {
        /* its __hash__ raised this time, or no memory: taken back as above */
        PyObject *err = err_take();
        if (PyDict_DelItem(self->key_handles, key) < 0) PyErr_Clear();
        if (PyDict_DelItem(self->handle_keys, h) < 0) PyErr_Clear();
        err_give(err);
        Py_DECREF(h);
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
    if (self->changed == NULL && PyDict_GET_SIZE(self->handle_hash) > 0) {
        /* its hash when mapped, against its hash now: the key is given out
         * all the same, and noted for the binding to report */
        PyObject *was;
        Py_hash_t now;
        h = PyLong_FromUnsignedLongLong(k);
        if (h == NULL) return NULL;
        was = PyDict_GetItemWithError(self->handle_hash, h);
        Py_DECREF(h);
        if (was == NULL && PyErr_Occurred()) return NULL;
        if (was != NULL) {
            now = PyObject_Hash(key);
            if (now == -1) PyErr_Clear();  /* a hash that raises now: changed too */
            if (now == -1 || (Py_ssize_t)now != PyLong_AsSsize_t(was))
                self->changed = Py_NewRef(key);
        }
    }
    return Py_NewRef(key);
}

/* Makes the key dict anew without the entries of handle h: a key whose
 * hash changed sits under its old hash, where no lookup by the key finds
 * it (or finds another key's entry, equal to it now).  The other keys are
 * hashed again (as they are now).  0, or -1 with an exception set (no
 * memory, or another key's __hash__ or __eq__ raised), the dict unchanged. */
static int keymap_rebuild_without(keymap *self, PyObject *h)
{
    PyObject *kh = PyDict_New(), *old = Py_NewRef(self->key_handles), *key, *v;
    Py_ssize_t pos = 0;
    if (kh == NULL) goto fail;
    while (PyDict_Next(old, &pos, &key, &v)) {
        int same = PyObject_RichCompareBool(v, h, Py_EQ);  /* two ints */
        if (same < 0) goto fail;
        if (same) continue;
        if (PyDict_SetItem(kh, key, v) < 0) goto fail;
    }
    Py_SETREF(self->key_handles, kh);
    Py_DECREF(old);
    return 0;
fail:
    Py_XDECREF(kh);
    Py_DECREF(old);
    return -1;
}

/* Drops handle k and its key.  Must not be called with an exception
 * pending: finding the key runs its __hash__ (and maybe __eq__).  When the
 * key no longer finds its handle (its hash changed), the key dict is made
 * anew without it (keymap_rebuild_without), so no entry is left pointing
 * at the dropped handle.  When a hash or comparison raises, its error is
 * dropped and both entries stay, so the two dicts still agree (the key
 * keeps its handle; pushed again, it takes it back).  -1 with an exception set only when
 * the handle could not be looked up (no memory). */
static int keymap_forget_h(keymap *self, PyObject *h)
{
    PyObject *key, *found;
    int mine;
    key = PyDict_GetItemWithError(self->handle_keys, h);
    if (key != NULL) {
        Py_INCREF(key);
        /* The key's entry is dropped by the key only when the key still
         * finds this very handle: after its hash changed it finds none, or
         * the entry of another key equal to it now, which must stay. */
        found = PyDict_GetItemWithError(self->key_handles, key);
        mine = found != NULL ? PyObject_RichCompareBool(found, h, Py_EQ)
                             : PyErr_Occurred() ? -1 : 0;
        if (mine < 0 || (mine ? PyDict_DelItem(self->key_handles, key)
                              : keymap_rebuild_without(self, h))) {
            /* its __hash__ or __eq__ raised, or another key's did while
             * the dict was made anew: both entries stay */
            PyErr_Clear();
        } else {
            if (PyDict_DelItem(self->handle_keys, h) < 0)
                PyErr_Clear();  /* cannot fail: an int key just found */
            /* only keys whose hash can change are noted (none, with str
             * keys): asked first, rather than a KeyError made and dropped
             * per handle forgotten */
            if (PyDict_GET_SIZE(self->handle_hash) > 0
                && PyDict_Contains(self->handle_hash, h) == 1
                && PyDict_DelItem(self->handle_hash, h) < 0)
                PyErr_Clear();
        }
        Py_DECREF(key);
    }
    return PyErr_Occurred() ? -1 : 0;
}

/* keymap_forget_h by the handle's value. */
static int keymap_forget(keymap *self, uint64_t k)
{
    PyObject *h = PyLong_FromUnsignedLongLong(k);
    int r;
    if (h == NULL) return -1;
    r = keymap_forget_h(self, h);
    Py_DECREF(h);
    return r;
}

/* Drops the handles made (fresh) for keys[0..n) that no core stream took
 * yet: a chunk whose keys could not all be mapped.  Safe with no exception
 * pending only, as keymap_forget; a failure of one is dropped (it keeps
 * its handle) and the rest still go. */
static void keymap_forget_fresh(keymap *self, const uint64_t *keys,
                                const uint8_t *ns, const uint8_t *fresh,
                                size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (fresh[i] && ns[i] == 1 && keymap_forget(self, keys[i]) < 0)
            PyErr_Clear();
}

#endif /* SESSIONIZE_KEYMAP_H */
