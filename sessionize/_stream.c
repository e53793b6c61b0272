/*
 * _stream.c -- the CPython binding of the core's incremental sessionizer.
 *
 * One type, sessionize._stream.Stream, which sessionize.Sessionizer
 * subclasses.  What it adds to sz_stream is what the core cannot know:
 *   - keys: Python ints (and anything with __index__, numpy integers) that
 *     fit int64 go to the core as themselves (namespace 0); every other
 *     hashable key gets a 64-bit handle (namespace 1) through two dicts,
 *     dropped when the core reports the key freed;
 *   - values: with collect=True each event's value is kept in a dict under
 *     a handle the core carries, and released when its session is final;
 *   - output: records become StreamSession / LateEvent tuples (classes
 *     given by the Python layer), times converted back by its hook;
 *   - on_late: return, drop, or raise (LateEventError carrying what the
 *     call emitted before the late event).
 * Time conversion and durations live in Python (sessionize/_stream.py): the
 * push fast path takes exact ints; any other time goes through the
 * subclass's _time_in().
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL sessionize_stream_ARRAY_API
#include <numpy/arrayobject.h>

#include "sessionize.h"
#include "_streamcommon.h"
#include "_columns.h"

typedef struct {
    PyObject *SessionizeError;
} stream_state;

typedef struct {
    PyObject_HEAD
    sz_stream *s;
    streamcommon c;         /* values: int handle -> value (collect=True) */
    PyObject *session_type;
    uint64_t next_value;
    int collect;
    uint64_t *hbuf;         /* push_many scratch: value handles, c.buf_cap */
} StreamObject;

/* ---- errors ------------------------------------------------------------- */

static PyObject *raise_status(StreamObject *self, sz_status st, size_t pos,
                              const char *times_name, int element)
{
    switch (st) {
    case SZ_ERR_SNAPSHOT:
        return PyErr_Format(self->c.SessionizeError,
                            "state: the snapshot is truncated, corrupted "
                            "or not a sessionize snapshot");
    case SZ_ERR_PARAM:
        return PyErr_Format(self->c.SessionizeError,
                            "sessionize core: invalid parameter");
    case SZ_ERR_GAP:  /* Python checks gaps first: this is a backstop */
        if (element)
            return PyErr_Format(self->c.SessionizeError,
                                "gaps[%zu]: must be > 0 and at most the Sessionizer's gap",
                                pos);
        return PyErr_Format(self->c.SessionizeError,
                            "gap: must be > 0 and at most the Sessionizer's gap");
    default:
        return sc_raise_status(&self->c, st, pos, times_name, element);
    }
}

static int need_stream(StreamObject *self)
{
    if (self->s != NULL) return 0;
    PyErr_SetString(PyExc_RuntimeError,
                    "Sessionizer: not configured (internal error)");
    return -1;
}

/* ---- values -------------------------------------------------------------- */

static void value_drop(StreamObject *self, uint64_t h)
{
    valmap_drop(&self->c.values, h);
}

/* The value under handle h (a new reference). */
static PyObject *value_get(StreamObject *self, uint64_t h)
{
    PyObject *v = valmap_get(&self->c.values, h);
    if (v == NULL)
        PyErr_SetString(self->c.SessionizeError,
                        "state: a collected value is missing (corrupted state)");
    return Py_XNewRef(v);
}

/* A tuple of the values under handles[0..n); released when `release`. */
static PyObject *values_out(StreamObject *self, const uint64_t *handles,
                            size_t n, int release)
{
    PyObject *t = PyTuple_New((Py_ssize_t)n);
    size_t i;
    if (t == NULL) return NULL;
    for (i = 0; i < n; i++) {
        PyObject *v = value_get(self, handles[i]);
        if (v == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, (Py_ssize_t)i, v);
    }
    if (release)
        for (i = 0; i < n; i++) value_drop(self, handles[i]);
    sc_untrack_atomic(t);
    return t;
}

/* ---- output -------------------------------------------------------------- */

static PyObject *time_out(StreamObject *self, int64_t t)
{
    PyObject *i = PyLong_FromLongLong((long long)t), *r;
    if (i == NULL || self->c.time_out == Py_None) return i;
    r = PyObject_CallOneArg(self->c.time_out, i);
    Py_DECREF(i);
    return r;
}

/* Appends the session record o to list `out`. */
static int add_session(StreamObject *self, PyObject *out, const sz_stream_out *o,
                       const uint64_t *ids, const uint64_t *handles)
{
    PyObject *f[11] = {NULL};
    PyObject *item = NULL;
    size_t i;
    int r = -1;
    f[0] = keymap_out(&self->c.km, self->c.SessionizeError, o->key, o->key_ns);
    f[1] = f[0] ? time_out(self, o->start) : NULL;
    f[2] = f[1] ? time_out(self, o->end) : NULL;
    f[3] = f[2] ? time_out(self, o->window_end) : NULL;
    if (f[3] == NULL) goto done;
    f[4] = PyLong_FromLongLong((long long)o->count);
    f[5] = PyLong_FromLongLong((long long)o->index);
    f[6] = PyLong_FromLongLong((long long)o->revision);
    f[7] = PyLong_FromUnsignedLongLong(o->id);
    f[8] = PyTuple_New((Py_ssize_t)o->n_replaces);
    if (!f[4] || !f[5] || !f[6] || !f[7] || !f[8]) goto done;
    for (i = 0; i < o->n_replaces; i++) {
        PyObject *x = PyLong_FromUnsignedLongLong(ids[o->replaces_off + i]);
        if (x == NULL) goto done;
        PyTuple_SET_ITEM(f[8], (Py_ssize_t)i, x);
    }
    sc_untrack_atomic(f[8]);
    if (self->collect)
        f[9] = values_out(self, handles + o->values_off, o->n_values, o->final);
    else
        f[9] = Py_NewRef(Py_None);
    if (f[9] == NULL) goto done;
    f[10] = Py_NewRef(o->final ? Py_True : Py_False);
    item = sc_make_tuple(self->session_type, f, 11);  /* steals f */
    memset(f, 0, sizeof f);
    if (item == NULL) goto done;
    r = PyList_Append(out, item);
done:
    for (i = 0; i < 11; i++) Py_XDECREF(f[i]);
    Py_XDECREF(item);
    return r;
}

/*
 * Turns the core's output into Python items appended to `out`.  For late
 * records, `time_objs`/`values` (sequences indexed by the record's
 * position, or NULL) give the caller's own time and value.  A late event
 * under on_late="raise" is returned through *late_item (new reference).
 */
static int build_output(StreamObject *self, PyObject *out, PyObject *time_objs,
                        PyObject *values, uint64_t value_base,
                        PyObject **late_item, size_t *late_pos)
{
    size_t n, i;
    const uint64_t *ids, *handles;
    const sz_stream_out *o = sz_stream_output(self->s, &n, &ids, &handles);
    for (i = 0; i < n; i++, o++) {
        switch (o->kind) {
        case SZ_OUT_SESSION:
            if (add_session(self, out, o, ids, handles) < 0) return -1;
            break;
        case SZ_OUT_RETIRED:
            if (self->collect) {
                size_t j;
                for (j = 0; j < o->n_values; j++)
                    value_drop(self, handles[o->values_off + j]);
            }
            break;
        case SZ_OUT_KEY_FREED:
            break;  /* none: the stream reports freed keys by list */
        case SZ_OUT_LATE: {
            PyObject *key, *t, *v, *item;
            if (self->collect) value_drop(self, value_base + o->pos);
            if (self->c.on_late == LATE_DROP) break;
            key = keymap_out(&self->c.km, self->c.SessionizeError, o->key, o->key_ns);
            if (key == NULL) return -1;
            t = time_objs ? PySequence_GetItem(time_objs, (Py_ssize_t)o->pos)
                          : time_out(self, o->start);
            v = values ? PySequence_GetItem(values, (Py_ssize_t)o->pos)
                       : Py_NewRef(Py_None);
            if (t == NULL || v == NULL) {
                Py_DECREF(key);
                Py_XDECREF(t);
                Py_XDECREF(v);
                return -1;
            }
            {
                PyObject *args[3] = {key, t, v};
                item = sc_make_tuple(self->c.late_type, args, 3);  /* steals */
            }
            if (item == NULL) return -1;
            if (self->c.on_late == LATE_RAISE) {
                *late_item = item;
                *late_pos = o->pos;
                break;
            }
            if (PyList_Append(out, item) < 0) {
                Py_DECREF(item);
                return -1;
            }
            Py_DECREF(item);
            break;
        }
        }
    }
    return 0;
}

/* build_output with the cyclic GC paused (sc_gc_pause). */
static int collect_output(StreamObject *self, PyObject *out, PyObject *time_objs,
                          PyObject *values, uint64_t value_base,
                          PyObject **late_item, size_t *late_pos)
{
    int gc = sc_gc_pause();
    int r = build_output(self, out, time_objs, values, value_base, late_item, late_pos);
    sc_gc_resume(gc);
    return r;
}

/* Whether the core holds namespace-1 key k (sc_sweep's test). */
static int held(const void *s, uint64_t k)
{
    return sz_stream_has_key((const sz_stream *)s, k, 1);
}

/* Notes the keys the call freed (sc_note_freed), once every record naming
 * them is built.  The stream lists them rather than writing a record each
 * (sz_stream_set_key_freed_records): a flush of a million keys writes half
 * the records. */
static int forget_freed(StreamObject *self)
{
    size_t n, i, freed = 0;
    const sz_stream_key *k = sz_stream_freed_keys(self->s, &n);
    for (i = 0; i < n; i++) freed += k[i].ns == 1;
    return freed ? sc_note_freed(&self->c, freed, held, self->s) : 0;
}

/*
 * The call's output as columns (columnar=True), a pair for col_result:
 * sessions (key, start, end, window_end, count, index, revision, id, final,
 * replaces offsets, replaces ids, values offsets, values or None) and late
 * events (key, time, position, value).  Times stay the stream's int64;
 * the Python layer converts each column once.  Values are taken and
 * released as collect_output does.
 */
static PyObject *columns_output(StreamObject *self, PyObject *values,
                                uint64_t value_base)
{
    size_t n, i, ns = 0, nl = 0, nrep = 0, nval = 0, s = 0, l = 0, r = 0, v = 0;
    const uint64_t *ids, *handles;
    const sz_stream_out *out = sz_stream_output(self->s, &n, &ids, &handles), *o;
    PyObject *c[13] = {NULL}, *lc[4] = {NULL}, *res = NULL;
    col_keybuf sk = {NULL, NULL}, lk = {NULL, NULL};
    int64_t *start, *end, *wend, *count, *index, *rev, *roff, *voff, *lt, *lp;
    uint64_t *id, *rid;
    npy_bool *fin;
    int drop = self->c.on_late == LATE_DROP;
    for (i = 0, o = out; i < n; i++, o++) {
        if (o->kind == SZ_OUT_SESSION) {
            ns++;
            nrep += o->n_replaces;
            nval += o->n_values;
        } else if (o->kind == SZ_OUT_LATE && !drop) {
            nl++;
        }
    }
    if (col_keybuf_init(&sk, ns) < 0 || col_keybuf_init(&lk, nl) < 0) goto done;
    for (i = 1; i < 8; i++) c[i] = col_new(ns, i == 7 ? NPY_UINT64 : NPY_INT64);
    c[8] = col_new(ns, NPY_BOOL);
    c[9] = col_new(ns + 1, NPY_INT64);
    c[10] = col_new(nrep, NPY_UINT64);
    c[11] = col_new(ns + 1, NPY_INT64);
    c[12] = self->collect ? col_new(nval, NPY_OBJECT) : Py_NewRef(Py_None);
    lc[1] = col_new(nl, NPY_INT64);
    lc[2] = col_new(nl, NPY_INT64);
    lc[3] = col_new(nl, NPY_OBJECT);
    for (i = 1; i < 13; i++)
        if (c[i] == NULL) goto done;
    for (i = 1; i < 4; i++)
        if (lc[i] == NULL) goto done;
    start = COL_DATA(c[1], int64_t);
    end = COL_DATA(c[2], int64_t);
    wend = COL_DATA(c[3], int64_t);
    count = COL_DATA(c[4], int64_t);
    index = COL_DATA(c[5], int64_t);
    rev = COL_DATA(c[6], int64_t);
    id = COL_DATA(c[7], uint64_t);
    fin = COL_DATA(c[8], npy_bool);
    roff = COL_DATA(c[9], int64_t);
    rid = COL_DATA(c[10], uint64_t);
    voff = COL_DATA(c[11], int64_t);
    lt = COL_DATA(lc[1], int64_t);
    lp = COL_DATA(lc[2], int64_t);
    roff[0] = voff[0] = 0;
    for (i = 0, o = out; i < n; i++, o++) {
        size_t j;
        switch (o->kind) {
        case SZ_OUT_SESSION:
            sk.k[s] = o->key;
            sk.ns[s] = o->key_ns;
            start[s] = o->start;
            end[s] = o->end;
            wend[s] = o->window_end;
            count[s] = o->count;
            index[s] = o->index;
            rev[s] = o->revision;
            id[s] = o->id;
            fin[s] = (npy_bool)(o->final != 0);
            for (j = 0; j < o->n_replaces; j++) rid[r++] = ids[o->replaces_off + j];
            roff[s + 1] = (int64_t)r;
            if (self->collect) {
                const uint64_t *h = handles + o->values_off;
                for (j = 0; j < o->n_values; j++) {
                    PyObject *x = value_get(self, h[j]);
                    if (x == NULL) goto done;
                    col_set_obj(c[12], v++, x);
                }
                if (o->final)
                    for (j = 0; j < o->n_values; j++) value_drop(self, h[j]);
            }
            voff[s + 1] = (int64_t)v;
            s++;
            break;
        case SZ_OUT_RETIRED:
            if (self->collect)
                for (j = 0; j < o->n_values; j++)
                    value_drop(self, handles[o->values_off + j]);
            break;
        case SZ_OUT_LATE: {
            PyObject *val;
            if (self->collect) value_drop(self, value_base + o->pos);
            if (drop) break;
            val = col_late_value(values, o->pos);
            if (val == NULL) goto done;
            col_set_obj(lc[3], l, val);
            lk.k[l] = o->key;
            lk.ns[l] = o->key_ns;
            lt[l] = o->start;
            lp[l] = (int64_t)o->pos;
            l++;
            break;
        }
        default:
            break;
        }
    }
    res = col_pair(&self->c.km, self->c.SessionizeError, c, 13, &sk, ns, lc, &lk, nl);
done:
    for (i = 0; i < 13; i++) Py_XDECREF(c[i]);
    for (i = 0; i < 4; i++) Py_XDECREF(lc[i]);
    col_keybuf_free(&sk);
    col_keybuf_free(&lk);
    return res;
}

/* Forgets handles made for keys that the core never took (their only
 * event was late). */
static int forget_unheld(StreamObject *self, const uint64_t *keys,
                         const uint8_t *ns, const uint8_t *fresh, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (fresh[i] && ns[i] == 1 && !sz_stream_has_key(self->s, keys[i], 1))
            if (keymap_forget(&self->c.km, keys[i]) < 0) return -1;
    return 0;
}

/*
 * The handles a call leaves unneeded: the keys it freed, and those made for
 * its events that the core never took (fresh may be NULL).  Run once the
 * output is built or failed to build, with any pending error set aside and
 * given back: -1 then, or when the bookkeeping itself failed.
 */
static int settle_keys(StreamObject *self, const uint64_t *keys, const uint8_t *ns,
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

/* ---- the type ------------------------------------------------------------ */

static int stream_init(StreamObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"collect", "on_late", "session_type", "late_type",
                            "late_error", "batch", NULL};
    int collect, on_late;
    PyObject *st, *lt, *le, *batch = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "piOOO|O", names, &collect, &on_late,
                                     &st, &lt, &le, &batch))
        return -1;
    if (!PyType_Check(st) || !PyType_IsSubtype((PyTypeObject *)st, &PyTuple_Type)
        || !PyType_Check(lt) || !PyType_IsSubtype((PyTypeObject *)lt, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "session_type, late_type: tuple subclasses");
        return -1;
    }
    Py_XSETREF(self->c.batch, batch == Py_None ? NULL : Py_NewRef(batch));
    self->collect = collect;
    self->c.on_late = on_late;
    Py_XSETREF(self->session_type, Py_NewRef(st));
    Py_XSETREF(self->c.late_type, Py_NewRef(lt));
    Py_XSETREF(self->c.late_error, Py_NewRef(le));
    return 0;
}

static PyObject *stream_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    StreamObject *self = (StreamObject *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    if (sc_new(&self->c) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int stream_traverse(StreamObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->session_type);
    return sc_traverse(&self->c, visit, arg);
}

static int stream_clear(StreamObject *self)
{
    Py_CLEAR(self->session_type);
    sc_clear(&self->c);
    return 0;
}

static void stream_dealloc(StreamObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    stream_clear(self);
    sz_stream_free(self->s);
    sc_free_bufs(&self->c);
    PyMem_Free(self->hbuf);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* _configure(gap, max_duration, cap_mode, inclusive, delay,
 *            allowed_lateness, emit, min_is_nat, time_out, per_event_gaps=False) */
static PyObject *stream_configure(StreamObject *self, PyObject *args)
{
    sz_stream_config c;
    int inclusive, min_is_nat, per_event = 0;
    PyObject *tout;
    sz_status st;
    sz_stream *s;
    long long gap, max, delay, lateness;
    memset(&c, 0, sizeof c);
    if (!PyArg_ParseTuple(args, "LLipLLipO|p", &gap, &max, &c.session.cap_mode,
                          &inclusive, &delay, &lateness, &c.emit, &min_is_nat,
                          &tout, &per_event))
        return NULL;
    c.per_event_gaps = per_event;
    c.session.gap = gap;
    c.session.max_duration = max;
    c.session.inclusive = inclusive;
    c.session.min_is_nat = min_is_nat;
    c.delay = delay;
    c.allowed_lateness = lateness;
    c.keep_values = self->collect;
    st = sz_stream_new(&c, &s);
    if (st != SZ_OK) return raise_status(self, st, 0, "time", 0);
    sz_stream_set_key_freed_records(s, 0);  /* forget_freed reads the list */
    if (self->c.flushed_early) (void)sz_stream_flush(s);  /* cannot fail: empty */
    sz_stream_free(self->s);
    self->s = s;
    Py_XSETREF(self->c.time_out, Py_NewRef(tout));
    Py_RETURN_NONE;
}

static int ensure_buf(StreamObject *self, size_t n)
{
    return sc_ensure_buf(&self->c, n, &self->hbuf);
}

/* Runs the core on n prepared events (gaps NULL: each event's gap is the
 * stream's) and builds the result list. */
static PyObject *run_push(StreamObject *self, const uint64_t *keys,
                          const uint8_t *ns, const uint8_t *fresh,
                          const int64_t *times, const int64_t *gaps, size_t n,
                          PyObject *time_objs, PyObject *values,
                          const char *times_name, int element)
{
    size_t done = 0, err_pos = SZ_NO_POSITION, late_pos = 0;
    uint64_t base = self->next_value;
    PyObject *out, *late_item = NULL;
    sz_status st;
    size_t i;
    if (self->collect) {
        if (valmap_reserve(&self->c.values, n) < 0) return NULL;
        PyObject *const *direct = sc_items(values, n);
        for (i = 0; i < n; i++) self->hbuf[i] = base + i;
        for (i = 0; i < n; i++) {
            PyObject *v = direct ? Py_NewRef(direct[i])
                          : values ? PySequence_GetItem(values, (Py_ssize_t)i)
                                   : Py_NewRef(Py_None);
            if (v == NULL) {
                while (i-- > 0) value_drop(self, base + i);
                return NULL;
            }
            valmap_put_reserved(&self->c.values, base + i, v);
            Py_DECREF(v);
        }
        self->next_value += n;
    }
    if (n >= GIL_RELEASE_MIN) {
        Py_BEGIN_ALLOW_THREADS
        st = sz_stream_push_gaps(self->s, keys, ns, times, gaps,
                                 self->collect ? self->hbuf : NULL, n,
                                 self->c.on_late == LATE_RAISE, &done, &err_pos);
        Py_END_ALLOW_THREADS
    } else {
        st = sz_stream_push_gaps(self->s, keys, ns, times, gaps,
                                 self->collect ? self->hbuf : NULL, n,
                                 self->c.on_late == LATE_RAISE, &done, &err_pos);
    }
    /* values of events never consumed (an error, or a raise) */
    if (self->collect)
        for (i = done; i < n; i++) value_drop(self, base + i);
    if (st != SZ_OK && done == 0) {
        if (fresh) forget_unheld(self, keys, ns, fresh, n);
        return raise_status(self, st, err_pos, times_name, element);
    }
    if (self->c.batch != NULL) {  /* columnar: on_late='raise' is the caller's */
        out = columns_output(self, values, base);
        if (settle_keys(self, keys, ns, fresh, n) < 0) {
            Py_XDECREF(out);
            return NULL;
        }
        if (st != SZ_OK) {
            Py_DECREF(out);
            return raise_status(self, st, err_pos, times_name, element);
        }
        return col_result(self->c.batch, (PyObject *)self, out);
    }
    out = PyList_New(0);
    if (out == NULL) return NULL;
    if ((collect_output(self, out, time_objs, values, base, &late_item, &late_pos) < 0)
        | (settle_keys(self, keys, ns, fresh, n) < 0)) {  /* both run */
        Py_XDECREF(late_item);
        Py_DECREF(out);
        return NULL;
    }
    if (st != SZ_OK) {
        Py_XDECREF(late_item);
        Py_DECREF(out);
        return raise_status(self, st, err_pos, times_name, element);
    }
    return sc_finish(&self->c, out, late_item, late_pos, times_name, element, NULL);
}

/* The int64 time of a scalar: exact ints directly, anything else through
 * the subclass's _time_in (which also configures the stream on first use). */
static int time_in(StreamObject *self, PyObject *t, int64_t *out)
{
    long long v;
    if (self->s != NULL && self->c.time_out == Py_None && PyLong_CheckExact(t)) {
        v = sc_as_longlong(t);
    } else {
        PyObject *r = PyObject_CallMethod((PyObject *)self, "_time_in", "O", t);
        if (r == NULL) return -1;
        v = sc_as_longlong(r);
        Py_DECREF(r);
    }
    return sc_time_checked(&self->c, v, out);
}

/* The int64 gap of push's gap= (the subclass's _gap_in checks it: the
 * stream takes gaps per event, and this one is within its bound); 1 when
 * the event is to be left out (a bad gap, on_bad_gap='drop'). */
static int gap_in(StreamObject *self, PyObject *g, int64_t *out)
{
    long long v;
    PyObject *r = PyObject_CallMethod((PyObject *)self, "_gap_in", "O", g);
    if (r == NULL) return -1;
    if (r == Py_None) {
        Py_DECREF(r);
        return 1;
    }
    v = PyLong_AsLongLong(r);
    Py_DECREF(r);
    if (v == -1 && PyErr_Occurred()) return -1;
    *out = (int64_t)v;
    return 0;
}

static PyObject *stream_push(StreamObject *self, PyObject *const *args,
                             Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *key, *t, *value = Py_None, *tobjs = NULL, *vals = NULL, *r, *gap = NULL;
    uint64_t k;
    uint8_t ns, fresh_b;
    int64_t ti, gi = 0;
    int fresh;
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) > 0) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, 0);
        if (PyTuple_GET_SIZE(kwnames) != 1 || !PyUnicode_Check(name)
            || PyUnicode_CompareWithASCIIString(name, "gap") != 0) {
            PyErr_SetString(PyExc_TypeError,
                            "push(key, time, value=None, *, gap=None): the only "
                            "keyword is gap");
            return NULL;
        }
        gap = args[nargs];
        if (gap == Py_None) gap = NULL;
    }
    if (nargs < 2 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError,
                        "push(key, time, value=None, *, gap=None): takes 2 or 3 "
                        "positional arguments");
        return NULL;
    }
    key = args[0];
    t = args[1];
    if (nargs == 3) value = args[2];
    if (time_in(self, t, &ti) < 0 || need_stream(self) < 0) return NULL;
    if (gap != NULL) {
        int skip = gap_in(self, gap, &gi);
        if (skip < 0) return NULL;
        if (skip) return PyObject_CallMethod((PyObject *)self, "_dropped", NULL);
    }
    if (self->collect && ensure_buf(self, 1) < 0) return NULL;
    if (keymap_in(&self->c.km, key, &k, &ns, &fresh) < 0) {
        sc_key_failed(&self->c, key, "key", -1, NULL, NULL, NULL, 0);
        return NULL;
    }
    fresh_b = (uint8_t)fresh;
    tobjs = sc_one(&self->c, 0, t);
    vals = sc_one(&self->c, 1, value);
    if (tobjs == NULL || vals == NULL) {
        sc_one_done(&self->c, tobjs);
        sc_one_done(&self->c, vals);
        return NULL;
    }
    r = run_push(self, &k, &ns, &fresh_b, &ti, gap != NULL ? &gi : NULL, 1, tobjs, vals,
                 "time", 0);
    sc_one_done(&self->c, tobjs);
    sc_one_done(&self->c, vals);
    return r;
}

/* _push_many(keys, times int64 array, values or None, codes=None,
 *            gaps=None: an int64 array the Python layer checked) */
static PyObject *stream_push_many(StreamObject *self, PyObject *args)
{
    PyObject *keys_obj, *times_obj, *values, *codes_obj = Py_None, *r = NULL, *fast = NULL;
    PyObject *gaps_obj = Py_None;
    PyArrayObject *times = NULL, *ikeys = NULL, *gaps_arr = NULL;
    const int64_t *gaps = NULL;
    uint8_t *fresh = NULL;
    size_t n, i;
    if (!PyArg_ParseTuple(args, "OOO|OO", &keys_obj, &times_obj, &values, &codes_obj,
                          &gaps_obj))
        return NULL;
    if (need_stream(self) < 0) return NULL;
    times = (PyArrayObject *)PyArray_FROM_OTF(times_obj, NPY_INT64,
                                              NPY_ARRAY_IN_ARRAY);
    if (times == NULL) return NULL;
    n = (size_t)PyArray_SIZE(times);
    if (gaps_obj != Py_None) {
        gaps_arr = (PyArrayObject *)PyArray_FROM_OTF(gaps_obj, NPY_INT64, NPY_ARRAY_IN_ARRAY);
        if (gaps_arr == NULL) goto done;
        if ((size_t)PyArray_SIZE(gaps_arr) != n) {
            PyErr_Format(self->c.SessionizeError, "gaps: length %zd differs from times' %zu",
                         (Py_ssize_t)PyArray_SIZE(gaps_arr), n);
            goto done;
        }
        gaps = (const int64_t *)PyArray_DATA(gaps_arr);
    }
    if (values == Py_None) values = NULL;
    if (values != NULL && PySequence_Size(values) != (Py_ssize_t)n) {
        if (!PyErr_Occurred())
            PyErr_Format(self->c.SessionizeError,
                         "values: length %zd differs from times' %zu",
                         PySequence_Size(values), n);
        goto done;
    }
    if (ensure_buf(self, n ? n : 1) < 0) goto done;
    if (PyArray_Check(keys_obj)
        && PyArray_ISINTEGER((PyArrayObject *)keys_obj)
        && !PyArray_ISUNSIGNED((PyArrayObject *)keys_obj)) {
        ikeys = (PyArrayObject *)PyArray_FROM_OTF(keys_obj, NPY_INT64,
                                                  NPY_ARRAY_IN_ARRAY);
        if (ikeys == NULL) goto done;
        if ((size_t)PyArray_SIZE(ikeys) != n || PyArray_NDIM(ikeys) != 1) {
            PyErr_Format(self->c.SessionizeError,
                         "keys: length %zd differs from times' %zu",
                         (Py_ssize_t)PyArray_SIZE(ikeys), n);
            goto done;
        }
        r = run_push(self, (const uint64_t *)PyArray_DATA(ikeys), NULL, NULL,
                     (const int64_t *)PyArray_DATA(times), gaps, n, NULL, values,
                     "times", 1);
        goto done;
    }
    fresh = self->c.nsbuf + self->c.buf_cap;
    if (codes_obj != Py_None) {  /* keys_obj: the distinct keys, a list */
        ikeys = (PyArrayObject *)PyArray_FROM_OTF(codes_obj, NPY_INT64, NPY_ARRAY_IN_ARRAY);
        if (ikeys == NULL) goto done;
        if (!PyList_Check(keys_obj) || (size_t)PyArray_SIZE(ikeys) != n) {
            PyErr_Format(self->c.SessionizeError, "keys: length %zd differs from times' %zu",
                         (Py_ssize_t)PyArray_SIZE(ikeys), n);
            goto done;
        }
        if (sc_map_coded(&self->c, keys_obj, (const int64_t *)PyArray_DATA(ikeys), n) < 0)
            goto done;
        r = run_push(self, self->c.kbuf, self->c.nsbuf, fresh,
                     (const int64_t *)PyArray_DATA(times), gaps, n, NULL, values,
                     "times", 1);
        goto done;
    }
    fast = PySequence_Fast(keys_obj, "keys: expected a sequence or array of keys");
    if (fast == NULL) goto done;
    if ((size_t)PySequence_Fast_GET_SIZE(fast) != n) {
        PyErr_Format(self->c.SessionizeError, "keys: length %zd differs from times' %zu",
                     PySequence_Fast_GET_SIZE(fast), n);
        goto done;
    }
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
                 (const int64_t *)PyArray_DATA(times), gaps, n, NULL, values, "times", 1);
done:
    Py_XDECREF(gaps_arr);
    Py_XDECREF(fast);
    Py_XDECREF(ikeys);
    Py_XDECREF(times);
    return r;
}

static PyObject *after_call(StreamObject *self, sz_status st)
{
    PyObject *out, *late = NULL;
    size_t pos = 0;
    if (st != SZ_OK) return raise_status(self, st, 0, "watermark", 0);
    if (self->c.batch != NULL) {
        out = columns_output(self, NULL, 0);
        if (settle_keys(self, NULL, NULL, NULL, 0) < 0) {
            Py_XDECREF(out);
            return NULL;
        }
        return col_result(self->c.batch, (PyObject *)self, out);
    }
    out = PyList_New(0);
    if (out == NULL) return NULL;
    if ((collect_output(self, out, NULL, NULL, 0, &late, &pos) < 0)
        | (settle_keys(self, NULL, NULL, NULL, 0) < 0)) {  /* both run */
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* _advance(int watermark) */
static PyObject *stream_advance(StreamObject *self, PyObject *arg)
{
    long long wm = PyLong_AsLongLong(arg);
    if (wm == -1 && PyErr_Occurred()) return NULL;
    if (need_stream(self) < 0) return NULL;
    return after_call(self, sz_stream_advance(self->s, (int64_t)wm));
}

static PyObject *stream_flush(StreamObject *self, PyObject *unused)
{
    if (self->s == NULL) {
        self->c.flushed_early = 1;  /* the end of an empty input */
        if (self->c.batch != NULL)  /* nothing: an empty batch */
            return PyObject_CallFunctionObjArgs(self->c.batch, (PyObject *)self, Py_None,
                                                Py_None, NULL);
        return PyList_New(0);
    }
    return after_call(self, sz_stream_flush(self->s));
}

static PyObject *stream_get_late_count(StreamObject *self, void *unused)
{
    sz_stream_stats st;
    if (self->s == NULL) return PyLong_FromLong(0);
    sz_stream_stats_get(self->s, &st);
    return PyLong_FromUnsignedLongLong(st.late_count);
}

/* _stats() -> (watermark int or None, keys, open_sessions, open_events,
 *             bytes) */
static PyObject *stream_stats(StreamObject *self, PyObject *unused)
{
    sz_stream_stats st;
    if (self->s == NULL) return Py_BuildValue("(Onnnn)", Py_None, 0, 0, 0, 0);
    sz_stream_stats_get(self->s, &st);
    if (st.watermark == INT64_MIN)
        return Py_BuildValue("(Onnnn)", Py_None, (Py_ssize_t)st.keys,
                             (Py_ssize_t)st.open_sessions,
                             (Py_ssize_t)st.open_events, (Py_ssize_t)st.bytes);
    return Py_BuildValue("(Lnnnn)", (long long)st.watermark, (Py_ssize_t)st.keys,
                         (Py_ssize_t)st.open_sessions, (Py_ssize_t)st.open_events,
                         (Py_ssize_t)st.bytes);
}

/* The core's (k, ns) of a key object it may hold, or -1 with *absent set
 * when it cannot hold it (a key object never pushed). */
static int known_key(StreamObject *self, PyObject *key, uint64_t *k, uint8_t *ns,
                     int *absent)
{
    int fresh = 0;
    *absent = 0;
    if (keymap_in(&self->c.km, key, k, ns, &fresh) < 0) return -1;
    if (fresh) {  /* never pushed: take back the handle just made */
        if (keymap_forget(&self->c.km, *k) < 0) return -1;
        *absent = 1;
    }
    return 0;
}

/* _advance_key(key, int watermark): sz_stream_advance_key */
static PyObject *stream_advance_key(StreamObject *self, PyObject *args)
{
    PyObject *key;
    long long wm;
    uint64_t k;
    uint8_t ns;
    int absent;
    if (!PyArg_ParseTuple(args, "OL", &key, &wm)) return NULL;
    if (self->s == NULL) return PyList_New(0);
    if (known_key(self, key, &k, &ns, &absent) < 0) return NULL;
    if (absent) return PyList_New(0);
    return after_call(self, sz_stream_advance_key(self->s, k, ns, (int64_t)wm));
}

/* _key_due(key) -> int or None: sz_stream_key_due */
static PyObject *stream_key_due(StreamObject *self, PyObject *key)
{
    uint64_t k;
    uint8_t ns;
    int absent;
    int64_t due;
    if (self->s == NULL) Py_RETURN_NONE;
    if (known_key(self, key, &k, &ns, &absent) < 0) return NULL;
    if (absent) Py_RETURN_NONE;
    due = sz_stream_key_due(self->s, k, ns);
    if (due == INT64_MAX) Py_RETURN_NONE;
    return PyLong_FromLongLong((long long)due);
}

/* _next_due() -> int or None: sz_stream_next_due (None: nothing open) */
static PyObject *stream_next_due(StreamObject *self, PyObject *unused)
{
    int64_t due;
    if (self->s == NULL) Py_RETURN_NONE;
    due = sz_stream_next_due(self->s);
    if (due == INT64_MAX) Py_RETURN_NONE;
    return PyLong_FromLongLong((long long)due);
}

/* _getstate() -> (bytes or None, {handle: key}, next_key, {handle: value},
 *                 next_value) */
static PyObject *stream_getstate(StreamObject *self, PyObject *unused)
{
    PyObject *b = Py_None, *r, *vals;
    if (self->s != NULL) {
        size_t len = sz_stream_snapshot_size(self->s);
        /* the snapshot maps only the keys it holds */
        if (self->c.unheld && sc_sweep(&self->c, held, self->s) < 0) return NULL;
        sz_status st;
        b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)len);
        if (b == NULL) return NULL;
        st = sz_stream_snapshot(self->s, (unsigned char *)PyBytes_AS_STRING(b), len);
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
    r = Py_BuildValue("(NOKNK)", b, self->c.km.handle_keys,
                      (unsigned long long)self->c.km.next_key, vals,
                      (unsigned long long)self->next_value);
    return r;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Whether the restored core's events and the values restored with it match
 * one to one (each event's handle below next_value, held once, with a
 * value): 1 or 0, or -1 with MemoryError. */
static int values_match(const sz_stream *s, const valmap *vals, size_t n_events,
                        uint64_t next_value)
{
    uint64_t *h;
    size_t n, i;
    int ok = 1;
    if (n_events == 0) return 1;
    h = PyMem_Malloc(n_events * sizeof *h);
    if (h == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    n = sz_stream_value_handles(s, h);
    qsort(h, n, sizeof *h, cmp_u64);
    for (i = 0; ok && i < n; i++)
        ok = h[i] < next_value && (i == 0 || h[i] != h[i - 1])
             && valmap_get(vals, h[i]) != NULL;
    PyMem_Free(h);
    return ok && n == n_events;
}

/* _setstate(bytes, {handle: key}, next_key, {handle: value}, next_value,
 *           time_out): validates, then replaces everything or nothing. */
static PyObject *stream_setstate(StreamObject *self, PyObject *args)
{
    Py_buffer buf;
    PyObject *hk, *vals, *tout, *kh = NULL, *hk2 = NULL, *hashes = NULL;
    valmap vals2 = {NULL, NULL, 0, 0};
    unsigned long long next_key, next_value;
    sz_stream *s = NULL;
    sz_stream_stats stats;
    sz_status st;
    int bad;
    if (!PyArg_ParseTuple(args, "y*O!KO!KO", &buf, &PyDict_Type, &hk, &next_key,
                          &PyDict_Type, &vals, &next_value, &tout))
        return NULL;
    st = sz_stream_restore((const unsigned char *)buf.buf, (size_t)buf.len, &s);
    PyBuffer_Release(&buf);
    if (st != SZ_OK) return raise_status(self, st, 0, "state", 0);
    sz_stream_set_key_freed_records(s, 0);  /* as stream_configure */
    if (self->s != NULL) {  /* the settings restored must be the core's */
        sz_stream_config a, b;
        sz_stream_config_get(self->s, &a);
        sz_stream_config_get(s, &b);
        if (a.session.gap != b.session.gap || a.session.max_duration != b.session.max_duration
            || a.session.cap_mode != b.session.cap_mode
            || a.session.inclusive != b.session.inclusive
            || a.session.min_is_nat != b.session.min_is_nat || a.delay != b.delay
            || a.allowed_lateness != b.allowed_lateness || a.emit != b.emit
            || a.keep_values != b.keep_values || a.per_event_gaps != b.per_event_gaps) {
            sz_stream_free(s);
            PyErr_SetString(self->c.SessionizeError,
                            "state: the snapshot's settings differ from its stream's");
            return NULL;
        }
    }
    sz_stream_stats_get(s, &stats);
    /* the Python side must match what the core holds */
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
    if (vals2.n != (self->collect ? stats.open_events : 0))
        goto bad;
    /* every handle a held key, and every held key a handle */
    if ((size_t)PyDict_Size(hk) != sz_stream_keys_in(s, 1))
        goto bad;
    if (self->collect) {
        int m = values_match(s, &vals2, stats.open_events, next_value);
        if (m < 0) goto fail;
        if (m == 0) goto bad;
    }
    sz_stream_free(self->s);
    self->s = s;
    sc_install(&self->c, kh, hk2, hashes, &vals2, tout, next_key);
    self->next_value = next_value;
    Py_RETURN_NONE;
bad:
    PyErr_SetString(self->c.SessionizeError,
                    "state: keys or values do not match the snapshot");
fail:
    sz_stream_free(s);
    Py_XDECREF(kh);
    Py_XDECREF(hk2);
    Py_XDECREF(hashes);
    valmap_free(&vals2);
    return NULL;
}

/* Every method holds the object's lock (_streamcommon.h, sc_enter). */
SC_LOCKED_FASTKW(stream_push, StreamObject)
SC_LOCKED(stream_push_many, StreamObject)
SC_LOCKED(stream_advance, StreamObject)
SC_LOCKED(stream_flush, StreamObject)
SC_LOCKED(stream_configure, StreamObject)
SC_LOCKED(stream_stats, StreamObject)
SC_LOCKED(stream_next_due, StreamObject)
SC_LOCKED(stream_advance_key, StreamObject)
SC_LOCKED(stream_key_due, StreamObject)
SC_LOCKED(stream_getstate, StreamObject)
SC_LOCKED(stream_setstate, StreamObject)
SC_LOCKED_GET(stream_get_late_count, StreamObject)

static PyMethodDef stream_methods[] = {
    {"push", (PyCFunction)(void (*)(void))stream_push_locked,
     METH_FASTCALL | METH_KEYWORDS,
     "push($self, key, time, value=None, /, *, gap=None)\n--\n\n"
     "-> list of the sessions (and late events) this event finishes."},
    /* the private methods' docs are their signatures alone (__text_signature__,
       which mypy.stubtest checks _stream.pyi against) */
    {"_push_many", (PyCFunction)stream_push_many_locked, METH_VARARGS,
     "_push_many($self, keys, times, values, codes=None, gaps=None, /)\n--\n\n"},
    {"_advance", (PyCFunction)stream_advance_locked, METH_O,
     "_advance($self, watermark, /)\n--\n\n"},
    {"flush", (PyCFunction)stream_flush_locked, METH_NOARGS,
     "flush($self, /)\n--\n\n-> list: end of input; every open session, as final."},
    {"_configure", (PyCFunction)stream_configure_locked, METH_VARARGS,
     "_configure($self, gap, max_duration, cap_mode, inclusive, delay,\n"
     "           allowed_lateness, emit, min_is_nat, time_out, per_event_gaps=False, /)"
     "\n--\n\n"},
    {"_stats", (PyCFunction)stream_stats_locked, METH_NOARGS, "_stats($self, /)\n--\n\n"},
    {"_next_due", (PyCFunction)stream_next_due_locked, METH_NOARGS,
     "_next_due($self, /)\n--\n\n"},
    {"_advance_key", (PyCFunction)stream_advance_key_locked, METH_VARARGS,
     "_advance_key($self, key, watermark, /)\n--\n\n"},
    {"_key_due", (PyCFunction)stream_key_due_locked, METH_O,
     "_key_due($self, key, /)\n--\n\n"},
    {"_getstate", (PyCFunction)stream_getstate_locked, METH_NOARGS,
     "_getstate($self, /)\n--\n\n"},
    {"_setstate", (PyCFunction)stream_setstate_locked, METH_VARARGS,
     "_setstate($self, state, handle_keys, next_key, values, next_value, time_out,\n"
     "          /)\n--\n\n"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef stream_getset[] = {
    {"late_count", (getter)stream_get_late_count_locked, NULL,
     "Number of late events so far.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot stream_type_slots[] = {
    {Py_tp_new, stream_new},
    {Py_tp_init, stream_init},
    {Py_tp_dealloc, stream_dealloc},
    {Py_tp_traverse, stream_traverse},
    {Py_tp_clear, stream_clear},
    {Py_tp_methods, stream_methods},
    {Py_tp_getset, stream_getset},
    {Py_tp_doc, "Stream(collect, on_late, session_type, late_type, late_error, batch=None)\n"
                "--\n\n"
                "The core's incremental sessionizer; use sessionize.Sessionizer."},
    {0, NULL},
};

static PyType_Spec stream_type_spec = {
    "sessionize._stream.Stream",
    sizeof(StreamObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    stream_type_slots,
};

static int stream_exec(PyObject *module)
{
    PyObject *type;
    if (_import_array() < 0) return -1;
    type = PyType_FromModuleAndSpec(module, &stream_type_spec, NULL);
    if (type == NULL) return -1;
    if (PyModule_AddObjectRef(module, "Stream", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    Py_DECREF(type);
    return 0;
}

static PyModuleDef_Slot stream_slots[] = {
    {Py_mod_exec, stream_exec},
    {0, NULL},
};

static struct PyModuleDef stream_module = {
    PyModuleDef_HEAD_INIT,
    "sessionize._stream",
    "The binding of the core's incremental sessionizer; use sessionize.Sessionizer.",
    0,
    NULL,
    stream_slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__stream(void)
{
    return PyModuleDef_Init(&stream_module);
}
