/*
 * _streamcommon.h -- what the two stream bindings share (included by
 * _stream.c and _ctr_stream.c after numpy's header; static inline functions, one copy per
 * module, as _keymap.h).
 *
 * Both types hold the same Python-side state around their core stream
 * (streamcommon, embedded in each object), map the core's statuses to the
 * same messages, raise a late event the same way and take keys into the
 * same scratch buffers; what differs (the core calls, the output records,
 * how values are kept) stays in each binding.
 */
#ifndef SESSIONIZE_STREAMCOMMON_H
#define SESSIONIZE_STREAMCOMMON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include "sessionize.h"
#include "_keymap.h"
#include "_valmap.h"

/* Pushes of this many events or more run the core without the GIL: below
 * it, releasing costs more than it frees. */
#define GIL_RELEASE_MIN 4096

enum { LATE_RETURN = 0, LATE_DROP = 1, LATE_RAISE = 2 };

typedef struct streamcommon {
    PyObject *SessionizeError;
    keymap km;              /* keys that are not int64: handles (_keymap.h) */
    valmap values;          /* handle or ordinal -> value (each binding's) */
    PyObject *late_type, *late_error;
    PyObject *time_out;     /* int -> caller's time, or None for ints */
    size_t unheld;          /* handles of keys the core let go of, at most
                               (sc_note_freed) */
    PyObject *one[2];       /* push's 1-tuples of its time and value (sc_one) */
    PyObject *batch;        /* columnar=True: makes a call's result from
                               (stream, row columns, late columns), _columns.h;
                               NULL: lists of named tuples */
    int on_late;
    int flushed_early;      /* flush() before configure: apply on configure */
    /* push_many scratch, reused: keys, then namespaces followed by the
     * fresh flags (2 * cap bytes) */
    uint64_t *kbuf;
    uint8_t *nsbuf;
    size_t buf_cap;
    /* one call at a time (sc_enter): the holder's thread and how deep it
     * has re-entered (a push calls back into Python, which may configure);
     * the threads waiting for it, and the gate they wait at */
    PyThread_type_lock lock;
    unsigned long owner;
    int depth;
    int waiting;
    int gate_open;
} streamcommon;

/* ---- one call at a time -------------------------------------------------- */

/*
 * A stream object used from two threads at once is safe: every method
 * holds the object, so calls on one object run one after the other (as if
 * the caller had locked around each), whatever the GIL does in between: a
 * large push releases it while the core runs, and a push calls back into
 * Python (times, values, hashing) where another thread may run.  Holding
 * is re-entrant for the holder's thread, because those callbacks may call
 * the object's own methods.
 *
 * owner, depth, waiting and gate_open are only touched with the GIL held,
 * so taking a free object is two stores: no OS lock on the way in or out
 * (CPython 3.11's PyThread_acquire_lock reads the clock even when it need
 * not wait, a tenth of a per-event push).  Only a thread that finds the
 * object held uses the OS lock, as a gate kept closed: it waits there
 * with the GIL released; a holder leaving with threads waiting opens it
 * once (gate_open: released, and no waiter has passed yet, so it is never
 * released twice), and the waiter that passes closes it again behind
 * itself and takes the object if it is still free, else waits again.
 */
static void sc_wait(streamcommon *c)
{
    c->waiting++;
    do {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(c->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
        c->gate_open = 0;  /* this thread passed: the gate is closed again */
    } while (c->depth > 0);
    c->waiting--;
}

static inline void sc_enter(streamcommon *c)
{
    unsigned long me = PyThread_get_thread_ident();
    if (c->depth > 0) {
        if (c->owner == me) {
            c->depth++;
            return;
        }
        sc_wait(c);
    }
    c->owner = me;
    c->depth = 1;
}

static inline void sc_leave(streamcommon *c)
{
    if (--c->depth == 0) {
        c->owner = 0;
        if (c->waiting > 0 && !c->gate_open) {
            c->gate_open = 1;
            PyThread_release_lock(c->lock);
        }
    }
}

/*
 * The end of a method call: when a key given out by it had changed its hash
 * since it was pushed (keymap_out noted it), the call's result `r` (its
 * sessions, rows and late events: nothing is lost) goes on a
 * SessionizeError, as .sessions, with the key as .key, and that is raised;
 * the stream itself went on as if the hash had not changed.  Only at the
 * outermost call (a callback may re-enter); a call that failed anyway
 * raises its own error.  Steals r.
 */
static inline PyObject *sc_report_changed(streamcommon *c, PyObject *self, PyObject *r)
{
    PyObject *key = c->km.changed, *exc = NULL, *name;
    if (key == NULL || c->depth != 1) return r;
    c->km.changed = NULL;
    if (r == NULL) {
        Py_DECREF(key);
        return NULL;
    }
    name = PyObject_Repr(key);
    if (name == NULL) {  /* a __repr__ that raises: the type's name */
        PyErr_Clear();
        name = PyUnicode_FromFormat("<%s object>", Py_TYPE(key)->tp_name);
    }
    if (name != NULL)
        exc = PyObject_CallFunction(
            c->SessionizeError, "N",
            PyUnicode_FromFormat(
                "keys: the hash of key %U changed after it was pushed; a key must keep "
                "its hash while a %s holds it (this call's output is on the error's "
                ".sessions, nothing was lost)", name, Py_TYPE(self)->tp_name));
    Py_XDECREF(name);
    if (exc != NULL && (PyObject_SetAttrString(exc, "sessions", r) < 0
                        || PyObject_SetAttrString(exc, "key", key) < 0))
        Py_CLEAR(exc);
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    Py_DECREF(key);
    Py_DECREF(r);
    return NULL;
}

/* Wrappers that hold the lock around a method (TYPE *self, PyObject *arg:
 * METH_O, METH_NOARGS and METH_VARARGS alike), a METH_FASTCALL method (with
 * or without keywords) and a getter; a changed hash is reported at the end
 * (sc_report_changed). */
#define SC_LOCKED(fn, TYPE)                                              \
    static PyObject *fn##_locked(TYPE *self, PyObject *arg)              \
    {                                                                    \
        PyObject *r;                                                     \
        sc_enter(&self->c);                                              \
        r = fn(self, arg);                                               \
        r = sc_report_changed(&self->c, (PyObject *)self, r);           \
        sc_leave(&self->c);                                              \
        return r;                                                        \
    }
#define SC_LOCKED_FAST(fn, TYPE)                                         \
    static PyObject *fn##_locked(TYPE *self, PyObject *const *args,      \
                                 Py_ssize_t nargs)                       \
    {                                                                    \
        PyObject *r;                                                     \
        sc_enter(&self->c);                                              \
        r = fn(self, args, nargs);                                       \
        r = sc_report_changed(&self->c, (PyObject *)self, r);           \
        sc_leave(&self->c);                                              \
        return r;                                                        \
    }
#define SC_LOCKED_FASTKW(fn, TYPE)                                       \
    static PyObject *fn##_locked(TYPE *self, PyObject *const *args,      \
                                 Py_ssize_t nargs, PyObject *kwnames)    \
    {                                                                    \
        PyObject *r;                                                     \
        sc_enter(&self->c);                                              \
        r = fn(self, args, nargs, kwnames);                              \
        r = sc_report_changed(&self->c, (PyObject *)self, r);           \
        sc_leave(&self->c);                                              \
        return r;                                                        \
    }
#define SC_LOCKED_GET(fn, TYPE)                                          \
    static PyObject *fn##_locked(TYPE *self, void *closure)              \
    {                                                                    \
        PyObject *r;                                                     \
        sc_enter(&self->c);                                              \
        r = fn(self, closure);                                           \
        sc_leave(&self->c);                                              \
        return r;                                                        \
    }

/* ---- the type's slots ---------------------------------------------------- */

/* Fills a new object's shared state; -1 with an exception set when it
 * could not (the caller then drops the object, which clears the rest). */
static inline int sc_new(streamcommon *c)
{
    PyObject *mod = PyImport_ImportModule("sessionize._core");
    if (mod != NULL) {
        c->SessionizeError = PyObject_GetAttrString(mod, "SessionizeError");
        Py_DECREF(mod);
    }
    c->km.key_handles = PyDict_New();
    c->km.handle_keys = PyDict_New();
    c->km.handle_hash = PyDict_New();
    c->time_out = Py_NewRef(Py_None);
    c->lock = PyThread_allocate_lock();
    if (c->lock == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    (void)PyThread_acquire_lock(c->lock, NOWAIT_LOCK);  /* the gate, closed */
    if (!c->SessionizeError || !c->km.key_handles || !c->km.handle_keys
        || !c->km.handle_hash)
        return -1;
    return 0;
}

static inline int sc_traverse(streamcommon *c, visitproc visit, void *arg)
{
    Py_VISIT(c->SessionizeError);
    Py_VISIT(c->km.key_handles);
    Py_VISIT(c->km.handle_keys);
    Py_VISIT(c->km.handle_hash);
    Py_VISIT(c->km.changed);
    if (valmap_traverse(&c->values, visit, arg)) return -1;
    Py_VISIT(c->late_type);
    Py_VISIT(c->late_error);
    Py_VISIT(c->time_out);
    Py_VISIT(c->batch);
    Py_VISIT(c->one[0]);
    Py_VISIT(c->one[1]);
    return 0;
}

static inline void sc_clear(streamcommon *c)
{
    Py_CLEAR(c->SessionizeError);
    Py_CLEAR(c->km.key_handles);
    Py_CLEAR(c->km.handle_keys);
    Py_CLEAR(c->km.handle_hash);
    Py_CLEAR(c->km.changed);
    valmap_free(&c->values);
    Py_CLEAR(c->late_type);
    Py_CLEAR(c->late_error);
    Py_CLEAR(c->time_out);
    Py_CLEAR(c->batch);
    Py_CLEAR(c->one[0]);
    Py_CLEAR(c->one[1]);
}

/* Frees the scratch buffers and the lock (dealloc; the Python objects go in
 * sc_clear). */
static inline void sc_free_bufs(streamcommon *c)
{
    PyMem_Free(c->kbuf);
    PyMem_Free(c->nsbuf);
    if (c->lock != NULL) PyThread_free_lock(c->lock);
    c->lock = NULL;
}

/* ---- errors -------------------------------------------------------------- */

/* Raises the error for a core status that means the same in both streams;
 * `what` names the argument at fault, `element` says whether pos is an
 * index into it.  Statuses a binding words its own way (a bad snapshot, a
 * bad parameter, a bad kind) it handles before calling this. */
static inline PyObject *sc_raise_status(streamcommon *c, sz_status st, size_t pos,
                                        const char *what, int element)
{
    PyObject *exc = c->SessionizeError;
    switch (st) {
    case SZ_ERR_NOMEM:
        return PyErr_NoMemory();
    case SZ_ERR_TIME_NAT:
        if (element) return PyErr_Format(exc, "%s[%zu]: missing time (NaT)", what, pos);
        return PyErr_Format(exc, "%s: missing time (NaT)", what);
    case SZ_ERR_TIME_OVERFLOW:
        if (element)
            return PyErr_Format(exc, "%s[%zu]: time + gap overflows int64", what, pos);
        return PyErr_Format(exc, "%s: time + gap overflows int64", what);
    default:
        return PyErr_Format(exc, "sessionize core: %s", sz_strerror(st));
    }
}

/*
 * keymap_in failed on `key` (argument `name`, element i, or i < 0 for a
 * scalar): raises the error of the call and returns -1.  First the handles
 * made for the chunk's earlier keys (keys, ns, fresh [0..n), not given to
 * the core yet) are dropped, so the failed call leaves the key map as it
 * found it; that runs those keys' __hash__ and __eq__, so the key's error
 * is kept aside meanwhile (and a failure of the cleanup cannot replace it).
 * Then the key's error becomes one naming the argument and position, with
 * the key's own exception as __cause__:
 *   TypeError         -> TypeError "keys[i]: unhashable key of type T";
 *   another Exception -> SessionizeError "keys[i]: hashing or comparing a
 *                        key of type T raised E: message";
 * a MemoryError, or a BaseException that is not an Exception
 * (KeyboardInterrupt, SystemExit), passes as it is.
 */
static inline int sc_key_failed(streamcommon *c, PyObject *key, const char *name,
                                Py_ssize_t i, const uint64_t *keys,
                                const uint8_t *ns, const uint8_t *fresh, size_t n)
{
    PyObject *cause = err_take(), *exc, *msg;
    const char *tname = Py_TYPE(key)->tp_name;
    char where[64];
    if (n > 0) keymap_forget_fresh(&c->km, keys, ns, fresh, n);
    if (i < 0)
        PyOS_snprintf(where, sizeof where, "%s", name);
    else
        PyOS_snprintf(where, sizeof where, "%s[%zd]", name, i);
    if (cause == NULL) {  /* keymap_in always sets one; never a NULL without */
        PyErr_Format(PyExc_SystemError, "%s: a key of type %s could not be mapped",
                     where, tname);
        return -1;
    }
    if (!PyErr_GivenExceptionMatches(cause, PyExc_Exception)
        || PyErr_GivenExceptionMatches(cause, PyExc_MemoryError)) {
        err_give(cause);
        return -1;
    }
    if (PyErr_GivenExceptionMatches(cause, PyExc_TypeError)) {
        PyErr_Format(PyExc_TypeError, "%s: unhashable key of type %s", where, tname);
    } else {
        msg = PyObject_Str(cause);
        if (msg == NULL) PyErr_Clear();  /* a __str__ that raises: the type alone */
        if (msg != NULL && PyUnicode_GET_LENGTH(msg) > 0)
            PyErr_Format(c->SessionizeError,
                         "%s: hashing or comparing a key of type %s raised %s: %U",
                         where, tname, Py_TYPE(cause)->tp_name, msg);
        else
            PyErr_Format(c->SessionizeError,
                         "%s: hashing or comparing a key of type %s raised %s",
                         where, tname, Py_TYPE(cause)->tp_name);
        Py_XDECREF(msg);
    }
    exc = err_take();
    if (exc == NULL || PyErr_GivenExceptionMatches(exc, PyExc_MemoryError)) {
        /* no memory for the new error: the key's own stands */
        Py_XDECREF(exc);
        err_give(cause);
        return -1;
    }
    /* as `raise exc from cause` in an except block of cause */
    PyException_SetContext(exc, Py_NewRef(cause));  /* steals */
    PyException_SetCause(exc, cause);               /* steals */
    err_give(exc);
    return -1;
}

/*
 * A chunk's keys given factorized: its distinct keys (`uniques`, a list) and
 * each event's code into them (codes[0..n), checked here).  Each distinct
 * key goes through the keymap once, then every event's (key, namespace,
 * fresh: set at the first event of a key whose handle was made) is
 * gathered into the scratch (sc_ensure_buf(n) first): no Python object
 * per event.  A key whose mapping fails is named by its first
 * event, keys[i], as sc_key_failed words it.  0, or -1 with an error set.
 */
static inline int sc_map_coded(streamcommon *c, PyObject *uniques, const int64_t *codes,
                               size_t n)
{
    Py_ssize_t m = PyList_GET_SIZE(uniques), u;
    uint64_t *uk = PyMem_Malloc((m ? (size_t)m : 1) * sizeof *uk);
    uint8_t *uns = PyMem_Malloc(m ? (size_t)m : 1), *ufresh = PyMem_Malloc(m ? (size_t)m : 1);
    uint8_t *fresh = c->nsbuf + c->buf_cap;
    size_t i;
    int r = -1;
    if (uk == NULL || uns == NULL || ufresh == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (i = 0; i < n; i++)
        if (codes[i] < 0 || codes[i] >= m) {
            PyErr_Format(c->SessionizeError, "keys: code %lld at %zu out of range",
                         (long long)codes[i], i);
            goto done;
        }
    for (u = 0; u < m; u++) {
        int fr;
        PyObject *key = PyList_GET_ITEM(uniques, u);
        if (keymap_in(&c->km, key, &uk[u], &uns[u], &fr) < 0) {
            for (i = 0; i < n && codes[i] != u; i++) {}
            sc_key_failed(c, key, "keys", (Py_ssize_t)i, uk, uns, ufresh, (size_t)u);
            goto done;
        }
        ufresh[u] = (uint8_t)fr;
    }
    for (i = 0; i < n; i++) {
        int64_t k = codes[i];
        c->kbuf[i] = uk[k];
        c->nsbuf[i] = uns[k];
        /* a new handle is marked at its key's first event only, as the
         * uncoded path marks it: what drops fresh handles that the core
         * did not keep (forget_unheld) then tries each once, where it
         * tried again at every later event of the key */
        fresh[i] = ufresh[k];
        ufresh[k] = 0;
    }
    r = 0;
done:
    PyMem_Free(uk);
    PyMem_Free(uns);
    PyMem_Free(ufresh);
    return r;
}

/* PyLong_AsLongLong, without its detour: CPython before 3.12 converts an
 * int of two or more 30-bit digits (any epoch time in seconds or finer)
 * through a byte array, a sixth of a per-event push; this loops over the
 * digits.  Beyond int64 it sets OverflowError, as PyLong_AsLongLong does. */
static inline long long sc_as_longlong(PyObject *v)
{
    int overflow = 0;
    long long r = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow) {
        PyErr_SetString(PyExc_OverflowError, "int too large to convert to int64");
        return -1;
    }
    return r;
}

/* The int64 of an int time v (from sc_as_longlong): an int beyond int64
 * is the caller's error (SessionizeError), not an OverflowError. */
static inline int sc_time_checked(streamcommon *c, long long v, int64_t *out)
{
    if (v == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_SetString(c->SessionizeError, "time: does not fit int64");
        }
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

/*
 * The end of a push: `out` when no late event is to be raised; otherwise
 * raises late_error carrying the event, what the call emitted before it
 * (as .sessions, and as .<also> when `also` is not NULL) and its position,
 * and returns NULL.  Steals out and late_item.
 */
static inline PyObject *sc_finish(streamcommon *c, PyObject *out, PyObject *late_item,
                                  size_t late_pos, const char *what, int element,
                                  const char *also)
{
    PyObject *exc, *args, *msg;
    if (late_item == NULL) return out;
    msg = element ? PyUnicode_FromFormat("%s[%zu]: late event (on_late='raise'): %R",
                                         what, late_pos, late_item)
                  : PyUnicode_FromFormat("%s: late event (on_late='raise'): %R",
                                         what, late_item);
    args = msg ? PyTuple_Pack(1, msg) : NULL;
    Py_XDECREF(msg);
    exc = args ? PyObject_Call(c->late_error, args, NULL) : NULL;
    Py_XDECREF(args);
    if (exc != NULL) {
        PyObject *pos = PyLong_FromSize_t(late_pos);
        if (pos == NULL || PyObject_SetAttrString(exc, "event", late_item) < 0
            || PyObject_SetAttrString(exc, "sessions", out) < 0
            || (also != NULL && PyObject_SetAttrString(exc, also, out) < 0)
            || PyObject_SetAttrString(exc, "position", pos) < 0)
            Py_CLEAR(exc);
        Py_XDECREF(pos);
    }
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    Py_DECREF(late_item);
    Py_DECREF(out);
    return NULL;
}

/* ---- output objects ------------------------------------------------------ */

/*
 * An instance of a NamedTuple class (a tuple subclass) from n new
 * references, stolen even on failure.  Allocated directly, not through the
 * class's Python __new__ (which costs more than the rest of a session's
 * record), and left untracked by the cyclic GC when no item is tracked: a
 * call's output is a list of many such tuples, which the collector would
 * otherwise rescan at every collection while the list grows (CPython
 * untracks such tuples itself, but only once a collection has seen them).
 */
static inline PyObject *sc_make_tuple(PyObject *type, PyObject **f, Py_ssize_t n)
{
    PyTypeObject *tp = (PyTypeObject *)type;
    PyObject *t = tp->tp_alloc(tp, n);
    Py_ssize_t i;
    int tracked = 0;
    if (t == NULL) {
        for (i = 0; i < n; i++) Py_XDECREF(f[i]);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        tracked |= PyObject_GC_IsTracked(f[i]);
        PyTuple_SET_ITEM(t, i, f[i]);
    }
    if (!tracked && PyObject_GC_IsTracked(t)) PyObject_GC_UnTrack(t);
    return t;
}

/* Untracks tuple t (just built) when none of its items is tracked, as
 * sc_make_tuple does. */
static inline void sc_untrack_atomic(PyObject *t)
{
    Py_ssize_t i, n = PyTuple_GET_SIZE(t);
    for (i = 0; i < n; i++)
        if (PyObject_GC_IsTracked(PyTuple_GET_ITEM(t, i))) return;
    if (PyObject_GC_IsTracked(t)) PyObject_GC_UnTrack(t);
}

/* The cyclic GC off while a call builds its output list: the objects made
 * there form no cycle, and a collection set off by their allocation would
 * only rescan the growing list.  sc_gc_resume(sc_gc_pause()) restores the
 * caller's setting. */
static inline int sc_gc_pause(void) { return PyGC_Disable(); }

static inline void sc_gc_resume(int was_enabled)
{
    if (was_enabled) PyGC_Enable();
}

/*
 * A 1-tuple of v for a single push's time (slot 0) or value (slot 1), as
 * the push path takes a chunk's: the object's own tuple, refilled, unless
 * it is in use (a push re-entered from a callback), then a new one.  Saves
 * two allocations per push.  Give it back with sc_one_done (accepts NULL).
 */
static inline PyObject *sc_one(streamcommon *c, int slot, PyObject *v)
{
    PyObject *t = c->one[slot];
    if (t == NULL) {
        t = c->one[slot] = PyTuple_Pack(1, Py_None);
        if (t == NULL) return NULL;
    }
    if (Py_REFCNT(t) != 1) return PyTuple_Pack(1, v);  /* in use */
    Py_SETREF(((PyTupleObject *)t)->ob_item[0], Py_NewRef(v));
    return Py_NewRef(t);
}

static inline void sc_one_done(streamcommon *c, PyObject *t)
{
    if (t == NULL) return;
    if (t == c->one[0] || t == c->one[1])  /* let go of the caller's object */
        Py_SETREF(((PyTupleObject *)t)->ob_item[0], Py_NewRef(Py_None));
    Py_DECREF(t);
}

/* ---- handles of keys the core no longer holds ------------------------------ */

/* Drops the handle of every key the core does not hold (is_held(s, h)). */
static inline int sc_sweep(streamcommon *c, int (*is_held)(const void *s, uint64_t k),
                           const void *s)
{
    PyObject *handles = PyDict_Keys(c->km.handle_keys);
    Py_ssize_t i;
    int r = 0;
    if (handles == NULL) return -1;
    for (i = 0; i < PyList_GET_SIZE(handles) && r == 0; i++) {
        PyObject *ho = PyList_GET_ITEM(handles, i);
        unsigned long long h = PyLong_AsUnsignedLongLong(ho);
        if (h == (unsigned long long)-1 && PyErr_Occurred()) r = -1;
        else if (!is_held(s, (uint64_t)h)) r = keymap_forget_h(&c->km, ho);
    }
    Py_DECREF(handles);
    if (r == 0) c->unheld = 0;
    return r;
}

/*
 * A call freed n namespace-1 keys.  Their handles stay mapped: the key's
 * next event finds its handle again, where forgetting it made and dropped
 * two dict entries per session (with a short gap, most of a per-event
 * push).  Once they may be half of the map, one pass drops every handle
 * the core does not hold, so the map stays within twice the keys held
 * plus a constant, at O(1) amortized per key freed.  Snapshots sweep first.
 */
static inline int sc_note_freed(streamcommon *c, size_t n,
                                int (*is_held)(const void *s, uint64_t k), const void *s)
{
    c->unheld += n;
    if (c->unheld <= (size_t)PyDict_GET_SIZE(c->km.handle_keys) / 2 + 4096) return 0;
    return sc_sweep(c, is_held, s);
}

/* The n items of a chunk's values as an array of borrowed references, when
 * they are held as one (a list, a tuple, a 1-D contiguous object array of
 * n items), so that keeping each needs no call; else NULL (read them with
 * PySequence_GetItem).  Valid while `values` is unchanged: nothing the
 * caller runs in between may call back into Python. */
static inline PyObject *const *sc_items(PyObject *values, size_t n)
{
    if (values == NULL) return NULL;
    if (PyList_CheckExact(values) && (size_t)PyList_GET_SIZE(values) == n)
        return (PyObject *const *)((PyListObject *)values)->ob_item;
    if (PyTuple_CheckExact(values) && (size_t)PyTuple_GET_SIZE(values) == n)
        return (PyObject *const *)((PyTupleObject *)values)->ob_item;
    if (PyArray_Check(values)) {
        PyArrayObject *a = (PyArrayObject *)values;
        if (PyArray_TYPE(a) == NPY_OBJECT && PyArray_NDIM(a) == 1
            && (size_t)PyArray_DIM(a, 0) == n && PyArray_IS_C_CONTIGUOUS(a))
            return (PyObject *const *)PyArray_DATA(a);
    }
    return NULL;
}

/* ---- buffers and state --------------------------------------------------- */

/* Makes the scratch hold n events; *extra (may be NULL), a binding's own
 * per-event uint64 buffer, grows with it.  -1 with MemoryError. */
static inline int sc_ensure_buf(streamcommon *c, size_t n, uint64_t **extra)
{
    uint64_t *k, *h = NULL;
    uint8_t *ns;
    if (n <= c->buf_cap) return 0;
    k = PyMem_Realloc(c->kbuf, n * sizeof *k);
    if (k) c->kbuf = k;
    ns = PyMem_Realloc(c->nsbuf, n * 2);
    if (ns) c->nsbuf = ns;
    if (extra != NULL) {
        h = PyMem_Realloc(*extra, n * sizeof *h);
        if (h) *extra = h;
    }
    if (!k || !ns || (extra != NULL && !h)) {
        PyErr_NoMemory();
        return -1;
    }
    c->buf_cap = n;
    return 0;
}

/*
 * _setstate's key check: builds {key: handle} from {handle: key} (hk),
 * where every handle must be below next_key and held by the restored core
 * stream (held(s, handle)), and *hashes, {handle: hash} of the keys whose
 * hash can change (as keymap_note_hash).  New references, or NULL: with the
 * caller's "do not match" error left to it when *bad is set, with an
 * exception set otherwise.
 */
static inline PyObject *sc_key_handles(PyObject *hk, unsigned long long next_key,
                                       int (*held)(const void *s, uint64_t k),
                                       const void *s, int *bad, PyObject **hashes)
{
    PyObject *kh = PyDict_New(), *h, *key;
    Py_ssize_t pos = 0;
    *bad = 0;
    /* the restored keys' hashes, noted as keymap_in notes a new key's */
    *hashes = PyDict_New();
    if (kh == NULL || *hashes == NULL) goto fail;
    while (PyDict_Next(hk, &pos, &h, &key)) {
        unsigned long long hv;
        if (!PyLong_Check(h)) goto bad;
        hv = PyLong_AsUnsignedLongLong(h);
        if (PyErr_Occurred() || hv >= next_key || !held(s, hv)) {
            PyErr_Clear();
            goto bad;
        }
        if (PyDict_SetItem(kh, key, h) < 0) goto fail;
        if (keymap_hash_may_change(key, 0)) {
            Py_hash_t hash = PyObject_Hash(key);
            PyObject *v = hash == -1 ? NULL : PyLong_FromSsize_t((Py_ssize_t)hash);
            if (v == NULL || PyDict_SetItem(*hashes, h, v) < 0) {
                Py_XDECREF(v);
                goto fail;
            }
            Py_DECREF(v);
        }
    }
    if (PyDict_Size(kh) != PyDict_Size(hk)) goto bad;  /* two handles, one key */
    return kh;
bad:
    *bad = 1;
fail:
    Py_XDECREF(kh);
    Py_CLEAR(*hashes);
    return NULL;
}

/* _setstate's last step, once everything checked: the Python side takes
 * the restored state (kh, hk2, hashes and *vals2 taken over). */
static inline void sc_install(streamcommon *c, PyObject *kh, PyObject *hk2,
                              PyObject *hashes, valmap *vals2, PyObject *tout,
                              unsigned long long next_key)
{
    valmap old = c->values;
    c->values = *vals2;
    memset(vals2, 0, sizeof *vals2);
    valmap_free(&old);
    Py_XSETREF(c->km.key_handles, kh);
    Py_XSETREF(c->km.handle_keys, hk2);
    Py_XSETREF(c->km.handle_hash, hashes);
    Py_XSETREF(c->time_out, Py_NewRef(tout));
    c->km.next_key = next_key;
}

#endif /* SESSIONIZE_STREAMCOMMON_H */
