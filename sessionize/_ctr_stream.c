/*
 * _ctr_stream.c -- the CPython binding of the core's search-CTR stream
 * (sz_ctr_stream, tier 3 of sessionize.h).
 *
 * One type, sessionize._ctr_stream.CtrStream, which
 * sessionize.SearchSessionizer subclasses.  What it adds to the core is
 * what the core cannot know:
 *   - keys, through _keymap.h (ints as themselves, other keys as handles,
 *     forgotten when the core reports the key freed);
 *   - values: the value pushed with a SEARCH (its query) is kept in a dict
 *     under the event's ordinal until its row (or its late report) comes;
 *   - output: rows become the Python layer's row type (a NamedTuple, built
 *     directly as the tuple subclass it is), late events its LateEvent,
 *     times converted back by its hook;
 *   - on_late: return, drop, or raise (LateEventError carrying the rows the
 *     call emitted before the late event).
 * Kinds and times are converted in Python (sessionize/_ctr_stream.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL sessionize_ctr_stream_ARRAY_API
#include <numpy/arrayobject.h>

#include "sessionize.h"
#include "_streamcommon.h"
#include "_columns.h"

typedef struct {
    PyObject_HEAD
    sz_ctr_stream *s;
    streamcommon c;       /* values: SEARCH ordinal -> its value (when not
                             None); time_out may also be False: the stream
                             has no times (rows' time is None) */
    PyObject *row_type;
} CtrStreamObject;

static PyObject *raise_status(CtrStreamObject *self, sz_status st, size_t pos,
                              const char *what, int element)
{
    PyObject *exc = self->c.SessionizeError;
    switch (st) {
    case SZ_ERR_KIND:
        return PyErr_Format(exc, "kinds[%zu]: not an event kind (0-5)", pos);
    case SZ_ERR_SNAPSHOT:
        return PyErr_Format(exc, "state: the snapshot is truncated, corrupted "
                                 "or not a sessionize search-CTR snapshot");
    case SZ_ERR_PARAM:
        return PyErr_Format(exc, "%s: not valid for this stream", what);
    default:
        return sc_raise_status(&self->c, st, pos, what, element);
    }
}

static int need_stream(CtrStreamObject *self)
{
    if (self->s != NULL) return 0;
    PyErr_SetString(PyExc_RuntimeError,
                    "SearchSessionizer: not configured (internal error)");
    return -1;
}

static PyObject *time_out(CtrStreamObject *self, int64_t t)
{
    PyObject *i, *r;
    if (self->c.time_out == Py_None) return PyLong_FromLongLong((long long)t);
    if (self->c.time_out == Py_False) Py_RETURN_NONE;  /* no times */
    i = PyLong_FromLongLong((long long)t);
    if (i == NULL) return NULL;
    r = PyObject_CallOneArg(self->c.time_out, i);
    Py_DECREF(i);
    return r;
}

/* Takes the value kept under ordinal `ord` (None if none). */
static PyObject *value_take(CtrStreamObject *self, uint64_t ord)
{
    PyObject *v = valmap_take(&self->c.values, ord);
    return v != NULL ? v : Py_NewRef(Py_None);
}

/* Turns the core's output into `out` (rows, then late events); *late_item
 * receives the first late event under on_late='raise'. */
static int build_output(CtrStreamObject *self, PyObject *out, PyObject *late_values,
                        PyObject **late_item, size_t *late_pos)
{
    size_t n, i;
    const sz_ctr_stream_out *o = sz_ctr_stream_output(self->s, &n);
    for (i = 0; i < n; i++) {
        const sz_ctr_stream_out *x = &o[i];
        if (x->kind == SZ_CTR_OUT_ROW) {
            PyObject *f[7], *row;
            int j, bad = 0;
            f[0] = keymap_out(&self->c.km, self->c.SessionizeError, x->key, x->key_ns);
            f[1] = PyLong_FromUnsignedLongLong(x->session);
            f[2] = PyLong_FromUnsignedLongLong(x->search);
            f[3] = time_out(self, x->time);
            f[4] = PyBool_FromLong(x->clicks != 0);
            f[5] = PyLong_FromLongLong((long long)x->clicks);
            f[6] = value_take(self, x->search);
            for (j = 0; j < 7; j++) bad |= f[j] == NULL;
            if (bad) {
                for (j = 0; j < 7; j++) Py_XDECREF(f[j]);
                return -1;
            }
            row = sc_make_tuple(self->row_type, f, 7);
            if (row == NULL || PyList_Append(out, row) < 0) {
                Py_XDECREF(row);
                return -1;
            }
            Py_DECREF(row);
        } else if (x->kind == SZ_CTR_OUT_LATE) {
            PyObject *f[3], *item, *v;
            v = value_take(self, x->search);  /* a late SEARCH's value */
            if (v == NULL) return -1;
            Py_DECREF(v);
            if (self->c.on_late == LATE_DROP) continue;
            f[0] = keymap_out(&self->c.km, self->c.SessionizeError, x->key, x->key_ns);
            f[1] = f[0] ? time_out(self, x->time) : NULL;
            f[2] = NULL;
            if (f[1] != NULL) {
                f[2] = late_values ? PySequence_GetItem(late_values, (Py_ssize_t)x->pos)
                                   : Py_NewRef(Py_None);
            }
            if (f[2] == NULL) {
                Py_XDECREF(f[0]);
                Py_XDECREF(f[1]);
                return -1;
            }
            item = sc_make_tuple(self->c.late_type, f, 3);
            if (item == NULL) return -1;
            if (self->c.on_late == LATE_RAISE) {
                *late_item = item;
                *late_pos = x->pos;
                continue;
            }
            if (PyList_Append(out, item) < 0) {
                Py_DECREF(item);
                return -1;
            }
            Py_DECREF(item);
        }
        /* SZ_CTR_OUT_KEY_FREED: below, once every record naming the key is
         * built (a late event of the key can follow its freeing) */
    }
    return 0;
}

/* build_output with the cyclic GC paused (sc_gc_pause). */
static int collect_output(CtrStreamObject *self, PyObject *out, PyObject *late_values,
                          PyObject **late_item, size_t *late_pos)
{
    int gc = sc_gc_pause();
    int r = build_output(self, out, late_values, late_item, late_pos);
    sc_gc_resume(gc);
    return r;
}

/* Whether the core holds namespace-1 key k (sc_sweep's test). */
static int held(const void *s, uint64_t k)
{
    return sz_ctr_stream_has_key((const sz_ctr_stream *)s, k, 1);
}

/* Notes the keys the call freed (sc_note_freed), once every record naming
 * them is built. */
static int forget_freed(CtrStreamObject *self)
{
    size_t n, i, freed = 0;
    const sz_ctr_stream_out *o = sz_ctr_stream_output(self->s, &n);
    for (i = 0; i < n; i++) freed += o[i].kind == SZ_CTR_OUT_KEY_FREED && o[i].key_ns == 1;
    return freed ? sc_note_freed(&self->c, freed, held, self->s) : 0;
}

/*
 * The call's output as columns (columnar=True), a pair for col_result:
 * rows (key, session, search, time, clicks, value) and late events (key,
 * time, position, value).  Times stay the stream's int64; the Python layer
 * converts each column once (or makes it None without times).
 */
static PyObject *columns_output(CtrStreamObject *self, PyObject *late_values)
{
    size_t n, i, nr = 0, nl = 0, r = 0, l = 0;
    const sz_ctr_stream_out *o = sz_ctr_stream_output(self->s, &n);
    PyObject *c[6] = {NULL}, *lc[4] = {NULL}, *res = NULL;
    col_keybuf rk = {NULL, NULL}, lk = {NULL, NULL};
    int drop = self->c.on_late == LATE_DROP;
    for (i = 0; i < n; i++) {
        if (o[i].kind == SZ_CTR_OUT_ROW) nr++;
        else if (o[i].kind == SZ_CTR_OUT_LATE && !drop) nl++;
    }
    if (col_keybuf_init(&rk, nr) < 0 || col_keybuf_init(&lk, nl) < 0) goto done;
    c[1] = col_new(nr, NPY_UINT64);
    c[2] = col_new(nr, NPY_UINT64);
    c[3] = col_new(nr, NPY_INT64);
    c[4] = col_new(nr, NPY_INT64);
    c[5] = col_new(nr, NPY_OBJECT);
    lc[1] = col_new(nl, NPY_INT64);
    lc[2] = col_new(nl, NPY_INT64);
    lc[3] = col_new(nl, NPY_OBJECT);
    for (i = 1; i < 6; i++)
        if (c[i] == NULL) goto done;
    for (i = 1; i < 4; i++)
        if (lc[i] == NULL) goto done;
    for (i = 0; i < n; i++) {
        const sz_ctr_stream_out *x = &o[i];
        PyObject *v;
        if (x->kind == SZ_CTR_OUT_ROW) {
            v = value_take(self, x->search);
            if (v == NULL) goto done;
            col_set_obj(c[5], r, v);
            rk.k[r] = x->key;
            rk.ns[r] = x->key_ns;
            COL_DATA(c[1], uint64_t)[r] = x->session;
            COL_DATA(c[2], uint64_t)[r] = x->search;
            COL_DATA(c[3], int64_t)[r] = x->time;
            COL_DATA(c[4], int64_t)[r] = x->clicks;
            r++;
        } else if (x->kind == SZ_CTR_OUT_LATE) {
            v = value_take(self, x->search);  /* a late SEARCH's value */
            if (v == NULL) goto done;
            Py_DECREF(v);
            if (drop) continue;
            v = col_late_value(late_values, x->pos);
            if (v == NULL) goto done;
            col_set_obj(lc[3], l, v);
            lk.k[l] = x->key;
            lk.ns[l] = x->key_ns;
            COL_DATA(lc[1], int64_t)[l] = x->time;
            COL_DATA(lc[2], int64_t)[l] = (int64_t)x->pos;
            l++;
        }
    }
    res = col_pair(&self->c.km, self->c.SessionizeError, c, 6, &rk, nr, lc, &lk, nl);
done:
    for (i = 0; i < 6; i++) Py_XDECREF(c[i]);
    for (i = 0; i < 4; i++) Py_XDECREF(lc[i]);
    col_keybuf_free(&rk);
    col_keybuf_free(&lk);
    return res;
}

/* Forgets handles made for keys the core never took. */
static int forget_unheld(CtrStreamObject *self, const uint64_t *keys,
                         const uint8_t *ns, const uint8_t *fresh, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (fresh[i] && ns[i] == 1 && !sz_ctr_stream_has_key(self->s, keys[i], 1))
            if (keymap_forget(&self->c.km, keys[i]) < 0) return -1;
    return 0;
}

/*
 * The handles a call leaves unneeded: the keys it freed, and those made for
 * its events that the core never took (fresh may be NULL).  Run once the
 * output is built or failed to build, with any pending error set aside and
 * given back: -1 then, or when the bookkeeping itself failed.
 */
static int settle_keys(CtrStreamObject *self, const uint64_t *keys, const uint8_t *ns,
                       const uint8_t *fresh, size_t n)
{
    PyObject *pending = err_take();
    int r = forget_freed(self);
    if (r == 0 && fresh) r = forget_unheld(self, keys, ns, fresh, n);
    if (pending != NULL) {
        PyErr_Clear();
        err_give(pending);
        return -1;
    }
    return r;
}

/* Runs the core on n prepared events and builds the result list.  values:
 * the chunk's values (a sequence) or NULL. */
static PyObject *run_push(CtrStreamObject *self, const uint64_t *keys,
                          const uint8_t *ns, const uint8_t *fresh, const uint8_t *kinds,
                          const int64_t *times, size_t n, PyObject *values, int element)
{
    size_t done = 0, err_pos = SZ_NO_POSITION, late_pos = 0, i;
    PyObject *out, *late_item = NULL;
    sz_ctr_stream_stats stats;
    uint64_t base;
    sz_status st;
    sz_ctr_stream_stats_get(self->s, &stats);
    base = stats.events;
    if (values != NULL) {  /* keep the SEARCHes' values under their ordinals */
        PyObject *const *direct = sc_items(values, n);
        if (valmap_reserve(&self->c.values, n) < 0) return NULL;
        for (i = 0; i < n; i++) {
            PyObject *v;
            if (kinds[i] != SZ_SEARCH) continue;
            v = direct ? Py_NewRef(direct[i]) : PySequence_GetItem(values, (Py_ssize_t)i);
            if (v == NULL) goto undo;
            if (v != Py_None) valmap_put_reserved(&self->c.values, base + i, v);
            Py_DECREF(v);
        }
    }
    if (n >= GIL_RELEASE_MIN) {
        Py_BEGIN_ALLOW_THREADS
        st = sz_ctr_stream_push(self->s, keys, ns, kinds, times, n,
                                self->c.on_late == LATE_RAISE, &done, &err_pos);
        Py_END_ALLOW_THREADS
    } else {
        st = sz_ctr_stream_push(self->s, keys, ns, kinds, times, n,
                                self->c.on_late == LATE_RAISE, &done, &err_pos);
    }
    /* values of events never consumed (an error, or a raise) */
    if (values != NULL)
        for (i = done; i < n; i++) {
            PyObject *v = value_take(self, base + i);
            if (v == NULL) PyErr_Clear();
            Py_XDECREF(v);
        }
    if (self->c.batch != NULL) {  /* columnar: on_late='raise' is the caller's */
        out = columns_output(self, values);
        if (settle_keys(self, keys, ns, fresh, n) < 0) {
            Py_XDECREF(out);
            return NULL;
        }
        if (st != SZ_OK) {
            Py_DECREF(out);
            return raise_status(self, st, err_pos, element ? "times" : "time", element);
        }
        return col_result(self->c.batch, (PyObject *)self, out);
    }
    out = PyList_New(0);
    if (out == NULL) return NULL;
    if ((collect_output(self, out, values, &late_item, &late_pos) < 0)
        | (settle_keys(self, keys, ns, fresh, n) < 0)) {  /* both run */
        Py_XDECREF(late_item);
        Py_DECREF(out);
        return NULL;
    }
    if (st != SZ_OK) {
        Py_XDECREF(late_item);
        Py_DECREF(out);
        return raise_status(self, st, err_pos, element ? "times" : "time", element);
    }
    return sc_finish(&self->c, out, late_item, late_pos, element ? "times" : "time",
                     element, "rows");
undo:
    for (i = 0; i < n; i++) {
        PyObject *v = value_take(self, base + i);
        Py_XDECREF(v);
    }
    return NULL;
}

/* _push_one(key, kind int, time int or None, value) */
static PyObject *cs_push_one(CtrStreamObject *self, PyObject *const *args,
                             Py_ssize_t nargs)
{
    PyObject *key, *vals, *r;
    uint64_t k;
    uint8_t ns, fresh, kind;
    int64_t t = 0;
    long kd;
    int fr;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "_push_one: 4 arguments");
        return NULL;
    }
    if (need_stream(self) < 0) return NULL;
    key = args[0];
    kd = PyLong_AsLong(args[1]);
    if (kd == -1 && PyErr_Occurred()) return NULL;
    if (kd < 0 || kd >= SZ_N_KINDS)
        return PyErr_Format(self->c.SessionizeError, "kind: not an event kind: %ld", kd);
    kind = (uint8_t)kd;
    if (args[2] != Py_None) {
        long long v = sc_as_longlong(args[2]);
        if (sc_time_checked(&self->c, v, &t) < 0) return NULL;
    }
    if (keymap_in(&self->c.km, key, &k, &ns, &fr) < 0) {
        sc_key_failed(&self->c, key, "key", -1, NULL, NULL, NULL, 0);
        return NULL;
    }
    fresh = (uint8_t)fr;
    vals = sc_one(&self->c, 1, args[3]);
    if (vals == NULL) return NULL;
    r = run_push(self, &k, &ns, &fresh, &kind, args[2] == Py_None ? NULL : &t, 1,
                 args[3] == Py_None ? NULL : vals, 0);
    sc_one_done(&self->c, vals);
    return r;
}

/* _push_many(keys, kinds uint8 array, times int64 array or None, values or None) */
static PyObject *cs_push_many(CtrStreamObject *self, PyObject *args)
{
    PyObject *keys_obj, *kinds_obj, *times_obj, *values, *codes_obj = Py_None, *r = NULL;
    PyObject *fast = NULL;
    PyArrayObject *kinds = NULL, *times = NULL, *ikeys = NULL;
    size_t n, i;
    if (!PyArg_ParseTuple(args, "OOOO|O", &keys_obj, &kinds_obj, &times_obj, &values,
                          &codes_obj))
        return NULL;
    if (need_stream(self) < 0) return NULL;
    kinds = (PyArrayObject *)PyArray_FROM_OTF(kinds_obj, NPY_UINT8, NPY_ARRAY_IN_ARRAY);
    if (kinds == NULL) return NULL;
    n = (size_t)PyArray_SIZE(kinds);
    if (times_obj != Py_None) {
        times = (PyArrayObject *)PyArray_FROM_OTF(times_obj, NPY_INT64, NPY_ARRAY_IN_ARRAY);
        if (times == NULL) goto done;
        if ((size_t)PyArray_SIZE(times) != n) {
            PyErr_Format(self->c.SessionizeError, "times: length %zd differs from kinds' %zu",
                         (Py_ssize_t)PyArray_SIZE(times), n);
            goto done;
        }
    }
    if (values == Py_None) values = NULL;
    if (values != NULL && PySequence_Size(values) != (Py_ssize_t)n) {
        if (!PyErr_Occurred())
            PyErr_Format(self->c.SessionizeError, "values: length %zd differs from kinds' %zu",
                         PySequence_Size(values), n);
        goto done;
    }
    if (PyArray_Check(keys_obj) && PyArray_ISINTEGER((PyArrayObject *)keys_obj)
        && !PyArray_ISUNSIGNED((PyArrayObject *)keys_obj)) {
        ikeys = (PyArrayObject *)PyArray_FROM_OTF(keys_obj, NPY_INT64, NPY_ARRAY_IN_ARRAY);
        if (ikeys == NULL) goto done;
        if ((size_t)PyArray_SIZE(ikeys) != n || PyArray_NDIM(ikeys) != 1) {
            PyErr_Format(self->c.SessionizeError, "keys: length %zd differs from kinds' %zu",
                         (Py_ssize_t)PyArray_SIZE(ikeys), n);
            goto done;
        }
        r = run_push(self, (const uint64_t *)PyArray_DATA(ikeys), NULL, NULL,
                     (const uint8_t *)PyArray_DATA(kinds),
                     times ? (const int64_t *)PyArray_DATA(times) : NULL, n, values, 1);
        goto done;
    }
    if (sc_ensure_buf(&self->c, n ? n : 1, NULL) < 0) goto done;
    if (codes_obj != Py_None) {  /* keys_obj: the distinct keys, a list */
        ikeys = (PyArrayObject *)PyArray_FROM_OTF(codes_obj, NPY_INT64, NPY_ARRAY_IN_ARRAY);
        if (ikeys == NULL) goto done;
        if (!PyList_Check(keys_obj) || (size_t)PyArray_SIZE(ikeys) != n) {
            PyErr_Format(self->c.SessionizeError, "keys: length %zd differs from kinds' %zu",
                         (Py_ssize_t)PyArray_SIZE(ikeys), n);
            goto done;
        }
        if (sc_map_coded(&self->c, keys_obj, (const int64_t *)PyArray_DATA(ikeys), n) < 0)
            goto done;
        r = run_push(self, self->c.kbuf, self->c.nsbuf, self->c.nsbuf + self->c.buf_cap,
                     (const uint8_t *)PyArray_DATA(kinds),
                     times ? (const int64_t *)PyArray_DATA(times) : NULL, n, values, 1);
        goto done;
    }
    fast = PySequence_Fast(keys_obj, "keys: expected a sequence or array of keys");
    if (fast == NULL) goto done;
    if ((size_t)PySequence_Fast_GET_SIZE(fast) != n) {
        PyErr_Format(self->c.SessionizeError, "keys: length %zd differs from kinds' %zu",
                     PySequence_Fast_GET_SIZE(fast), n);
        goto done;
    }
    {
        uint8_t *fresh = self->c.nsbuf + self->c.buf_cap;
        for (i = 0; i < n; i++) {
            int fr;
            PyObject *key = PySequence_Fast_GET_ITEM(fast, (Py_ssize_t)i);
            if (keymap_in(&self->c.km, key, &self->c.kbuf[i], &self->c.nsbuf[i], &fr) < 0) {
                /* also drops the handles made for keys[0..i) */
                sc_key_failed(&self->c, key, "keys", (Py_ssize_t)i, self->c.kbuf,
                              self->c.nsbuf, fresh, i);
                goto done;
            }
            fresh[i] = (uint8_t)fr;
        }
        r = run_push(self, self->c.kbuf, self->c.nsbuf, fresh,
                     (const uint8_t *)PyArray_DATA(kinds),
                     times ? (const int64_t *)PyArray_DATA(times) : NULL, n, values, 1);
    }
done:
    Py_XDECREF(fast);
    Py_XDECREF(ikeys);
    Py_XDECREF(times);
    Py_XDECREF(kinds);
    return r;
}

static PyObject *after_call(CtrStreamObject *self, sz_status st, const char *what)
{
    PyObject *out, *late = NULL;
    size_t pos = 0;
    if (self->c.batch != NULL) {
        out = columns_output(self, NULL);
        if (settle_keys(self, NULL, NULL, NULL, 0) < 0) {
            Py_XDECREF(out);
            return NULL;
        }
        if (st != SZ_OK) {
            Py_DECREF(out);
            return raise_status(self, st, 0, what, 0);
        }
        return col_result(self->c.batch, (PyObject *)self, out);
    }
    out = PyList_New(0);
    if (out == NULL) return NULL;
    if ((collect_output(self, out, NULL, &late, &pos) < 0)
        | (settle_keys(self, NULL, NULL, NULL, 0) < 0)) {  /* both run */
        Py_XDECREF(late);
        Py_DECREF(out);
        return NULL;
    }
    Py_XDECREF(late);  /* advance and flush report no late events */
    if (st != SZ_OK) {
        Py_DECREF(out);
        return raise_status(self, st, 0, what, 0);
    }
    return out;
}

static PyObject *cs_advance(CtrStreamObject *self, PyObject *arg)
{
    long long wm = PyLong_AsLongLong(arg);
    if (wm == -1 && PyErr_Occurred()) return NULL;
    if (need_stream(self) < 0) return NULL;
    return after_call(self, sz_ctr_stream_advance(self->s, (int64_t)wm), "watermark");
}

static PyObject *cs_flush(CtrStreamObject *self, PyObject *unused)
{
    if (self->s == NULL) {
        self->c.flushed_early = 1;  /* the end of an empty input */
        if (self->c.batch != NULL)  /* nothing: an empty batch */
            return PyObject_CallFunctionObjArgs(self->c.batch, (PyObject *)self, Py_None,
                                                Py_None, NULL);
        return PyList_New(0);
    }
    return after_call(self, sz_ctr_stream_flush(self->s), "flush");
}

/* _configure(gap, inclusive, times, delay, min_is_nat, time_out) */
static PyObject *cs_configure(CtrStreamObject *self, PyObject *args)
{
    sz_ctr_stream_config c;
    long long gap, delay;
    int inclusive, times, nat;
    PyObject *tout;
    sz_ctr_stream *s;
    sz_status st;
    memset(&c, 0, sizeof c);
    if (!PyArg_ParseTuple(args, "LppLpO", &gap, &inclusive, &times, &delay, &nat, &tout))
        return NULL;
    c.gap = gap;
    c.inclusive = inclusive;
    c.times = times;
    c.delay = delay;
    c.min_is_nat = nat;
    st = sz_ctr_stream_new(&c, &s);
    if (st != SZ_OK) return raise_status(self, st, 0, "gap/delay", 0);
    if (self->c.flushed_early) (void)sz_ctr_stream_flush(s);  /* empty: cannot fail */
    sz_ctr_stream_free(self->s);
    self->s = s;
    Py_XSETREF(self->c.time_out, Py_NewRef(tout));
    Py_RETURN_NONE;
}

static PyObject *cs_get_late_count(CtrStreamObject *self, void *unused)
{
    sz_ctr_stream_stats st;
    if (self->s == NULL) return PyLong_FromLong(0);
    sz_ctr_stream_stats_get(self->s, &st);
    return PyLong_FromUnsignedLongLong(st.late_count);
}

/* _stats() -> (watermark int or None, events, sessions, keys, open_sessions,
 *             open_searches, buffered, bytes) */
static PyObject *cs_stats(CtrStreamObject *self, PyObject *unused)
{
    sz_ctr_stream_stats st;
    PyObject *wm;
    if (self->s == NULL)
        return Py_BuildValue("(Oiiiiiii)", self->c.flushed_early ? Py_Ellipsis : Py_None,
                             0, 0, 0, 0, 0, 0, 0);
    sz_ctr_stream_stats_get(self->s, &st);
    wm = st.watermark == INT64_MIN ? Py_NewRef(Py_None)
                                   : PyLong_FromLongLong((long long)st.watermark);
    if (wm == NULL) return NULL;
    return Py_BuildValue("(NKKnnnnn)", wm, (unsigned long long)st.events,
                         (unsigned long long)st.sessions, (Py_ssize_t)st.keys,
                         (Py_ssize_t)st.open_sessions, (Py_ssize_t)st.open_searches,
                         (Py_ssize_t)st.buffered, (Py_ssize_t)st.bytes);
}

/* _getstate() -> (bytes or None, {handle: key}, next_key, {ordinal: value}) */
static PyObject *cs_getstate(CtrStreamObject *self, PyObject *unused)
{
    PyObject *b = Py_None, *vals;
    if (self->s != NULL) {
        size_t len = sz_ctr_stream_snapshot_size(self->s);
        /* the snapshot maps only the keys it holds */
        if (self->c.unheld && sc_sweep(&self->c, held, self->s) < 0) return NULL;
        sz_status st;
        b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)len);
        if (b == NULL) return NULL;
        st = sz_ctr_stream_snapshot(self->s, (unsigned char *)PyBytes_AS_STRING(b), len);
        if (st != SZ_OK) {
            Py_DECREF(b);
            return raise_status(self, st, 0, "state", 0);
        }
    } else {
        Py_INCREF(b);
    }
    vals = valmap_to_dict(&self->c.values);
    if (vals == NULL) {
        Py_DECREF(b);
        return NULL;
    }
    return Py_BuildValue("(NOKN)", b, self->c.km.handle_keys,
                         (unsigned long long)self->c.km.next_key, vals);
}

/* _setstate(bytes, {handle: key}, next_key, {ordinal: value}, time_out):
 * validates, then replaces everything or nothing. */
static PyObject *cs_setstate(CtrStreamObject *self, PyObject *args)
{
    Py_buffer buf;
    PyObject *hk, *vals, *tout, *kh = NULL, *hk2 = NULL, *hashes = NULL, *h, *v;
    valmap vals2 = {NULL, NULL, 0, 0};
    unsigned long long next_key;
    sz_ctr_stream *s = NULL;
    sz_ctr_stream_stats stats;
    Py_ssize_t pos = 0;
    sz_status st;
    int bad;
    if (!PyArg_ParseTuple(args, "y*O!KO!O", &buf, &PyDict_Type, &hk, &next_key,
                          &PyDict_Type, &vals, &tout))
        return NULL;
    st = sz_ctr_stream_restore((const unsigned char *)buf.buf, (size_t)buf.len, &s);
    PyBuffer_Release(&buf);
    if (st != SZ_OK) return raise_status(self, st, 0, "state", 0);
    sz_ctr_stream_stats_get(s, &stats);
    hk2 = PyDict_Copy(hk);
    if (hk2 == NULL) goto fail;
    if (valmap_from_dict(&vals2, vals, &bad) < 0) {
        if (bad) goto bad;
        goto fail;
    }
    kh = sc_key_handles(hk, next_key, held, s, &bad, &hashes);
    if (kh == NULL) {
        if (bad) goto bad;
        goto fail;
    }
    while (PyDict_Next(vals, &pos, &h, &v)) {
        unsigned long long o;
        if (!PyLong_Check(h)) goto bad;
        o = PyLong_AsUnsignedLongLong(h);
        if (PyErr_Occurred() || o >= stats.events) {
            PyErr_Clear();
            goto bad;
        }
    }
    /* every handle a held key, and every held key a handle */
    if ((size_t)PyDict_Size(hk) != sz_ctr_stream_keys_in(s, 1))
        goto bad;
    sz_ctr_stream_free(self->s);
    self->s = s;
    sc_install(&self->c, kh, hk2, hashes, &vals2, tout, next_key);
    Py_RETURN_NONE;
bad:
    PyErr_SetString(self->c.SessionizeError, "state: keys or values do not match the snapshot");
fail:
    sz_ctr_stream_free(s);
    Py_XDECREF(kh);
    Py_XDECREF(hk2);
    Py_XDECREF(hashes);
    valmap_free(&vals2);
    return NULL;
}

/* ---- the type ------------------------------------------------------------ */

static int cs_init(CtrStreamObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"on_late", "row_type", "late_type", "late_error", "batch",
                            NULL};
    int on_late;
    PyObject *rt, *lt, *le, *batch = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "iOOO|O", names, &on_late, &rt, &lt, &le,
                                     &batch))
        return -1;
    Py_XSETREF(self->c.batch, batch == Py_None ? NULL : Py_NewRef(batch));
    if (!PyType_Check(rt) || !PyType_IsSubtype((PyTypeObject *)rt, &PyTuple_Type)
        || !PyType_Check(lt) || !PyType_IsSubtype((PyTypeObject *)lt, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "row_type, late_type: tuple subclasses");
        return -1;
    }
    self->c.on_late = on_late;
    Py_XSETREF(self->row_type, Py_NewRef(rt));
    Py_XSETREF(self->c.late_type, Py_NewRef(lt));
    Py_XSETREF(self->c.late_error, Py_NewRef(le));
    return 0;
}

static PyObject *cs_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    CtrStreamObject *self = (CtrStreamObject *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    if (sc_new(&self->c) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int cs_traverse(CtrStreamObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->row_type);
    return sc_traverse(&self->c, visit, arg);
}

static int cs_clear(CtrStreamObject *self)
{
    Py_CLEAR(self->row_type);
    sc_clear(&self->c);
    return 0;
}

static void cs_dealloc(CtrStreamObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    cs_clear(self);
    sz_ctr_stream_free(self->s);
    sc_free_bufs(&self->c);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* Every method holds the object's lock (_streamcommon.h, sc_enter). */
SC_LOCKED_FAST(cs_push_one, CtrStreamObject)
SC_LOCKED(cs_push_many, CtrStreamObject)
SC_LOCKED(cs_advance, CtrStreamObject)
SC_LOCKED(cs_flush, CtrStreamObject)
SC_LOCKED(cs_configure, CtrStreamObject)
SC_LOCKED(cs_stats, CtrStreamObject)
SC_LOCKED(cs_getstate, CtrStreamObject)
SC_LOCKED(cs_setstate, CtrStreamObject)
SC_LOCKED_GET(cs_get_late_count, CtrStreamObject)

static PyMethodDef cs_methods[] = {
    /* the private methods' docs are their signatures alone (__text_signature__,
       which mypy.stubtest checks _ctr_stream.pyi against) */
    {"_push_one", (PyCFunction)(void (*)(void))cs_push_one_locked, METH_FASTCALL,
     "_push_one($self, key, kind, time, value, /)\n--\n\n"},
    {"_push_many", (PyCFunction)cs_push_many_locked, METH_VARARGS,
     "_push_many($self, keys, kinds, times, values, codes=None, /)\n--\n\n"},
    {"_advance", (PyCFunction)cs_advance_locked, METH_O,
     "_advance($self, watermark, /)\n--\n\n"},
    {"flush", (PyCFunction)cs_flush_locked, METH_NOARGS,
     "flush($self, /)\n--\n\n-> list: end of input; the rows of every session still open."},
    {"_configure", (PyCFunction)cs_configure_locked, METH_VARARGS,
     "_configure($self, gap, inclusive, times, delay, min_is_nat, time_out, /)\n--\n\n"},
    {"_stats", (PyCFunction)cs_stats_locked, METH_NOARGS, "_stats($self, /)\n--\n\n"},
    {"_getstate", (PyCFunction)cs_getstate_locked, METH_NOARGS,
     "_getstate($self, /)\n--\n\n"},
    {"_setstate", (PyCFunction)cs_setstate_locked, METH_VARARGS,
     "_setstate($self, state, handle_keys, next_key, values, time_out, /)\n--\n\n"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef cs_getset[] = {
    {"late_count", (getter)cs_get_late_count_locked, NULL, "Number of late events so far.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot cs_type_slots[] = {
    {Py_tp_new, cs_new},
    {Py_tp_init, cs_init},
    {Py_tp_dealloc, cs_dealloc},
    {Py_tp_traverse, cs_traverse},
    {Py_tp_clear, cs_clear},
    {Py_tp_methods, cs_methods},
    {Py_tp_getset, cs_getset},
    {Py_tp_doc, "CtrStream(on_late, row_type, late_type, late_error, batch=None)\n--\n\n"
                "The core's search-CTR stream; use sessionize.SearchSessionizer."},
    {0, NULL},
};

static PyType_Spec cs_type_spec = {
    "sessionize._ctr_stream.CtrStream",
    sizeof(CtrStreamObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    cs_type_slots,
};

static int cs_exec(PyObject *module)
{
    PyObject *type;
    if (_import_array() < 0) return -1;
    type = PyType_FromModuleAndSpec(module, &cs_type_spec, NULL);
    if (type == NULL) return -1;
    if (PyModule_AddObjectRef(module, "CtrStream", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    Py_DECREF(type);
    return 0;
}

static PyModuleDef_Slot cs_slots[] = {
    {Py_mod_exec, cs_exec},
    {0, NULL},
};

static struct PyModuleDef cs_module = {
    PyModuleDef_HEAD_INIT,
    "sessionize._ctr_stream",
    "The binding of the core's search-CTR stream; use sessionize.SearchSessionizer.",
    0,
    NULL,
    cs_slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__ctr_stream(void)
{
    return PyModuleDef_Init(&cs_module);
}
