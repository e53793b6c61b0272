/*
 * _core.c -- the CPython binding of the sessionize C core.
 *
 * Thin by design (python-zstandard, bottleneck): it coerces numpy arguments
 * once, checks shapes with messages naming the argument, allocates outputs,
 * releases the GIL, calls the core, and maps a core status to an exception
 * in one place (raise_status).  No sessionization logic lives here; type
 * dispatch (datetime units, duration parsing, key kinds) is in the Python
 * modules, which call these functions with already-normalized arguments.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL sessionize_ARRAY_API
#include <numpy/arrayobject.h>

#include "sessionize.h"
#include "_arrow_in.h"

/* Below this many events the GIL is kept: releasing costs more than it
 * lets other threads gain. */
#define GIL_RELEASE_MIN 4096

typedef struct {
    PyObject *SessionizeError;
} core_state;

static core_state *get_state(PyObject *module)
{
    return (core_state *)PyModule_GetState(module);
}

/* The one place a core status becomes a Python exception.  `times` is the
 * int64 time array and `kinds` the uint8 kind array (for quoting the
 * offending value); either may be NULL. */
static PyObject *raise_status(PyObject *module, sz_status st, size_t pos,
                              PyArrayObject *times, int64_t gap,
                              PyArrayObject *kinds)
{
    PyObject *exc = get_state(module)->SessionizeError;
    long long t = 0;
    int kind = -1;
    if (times != NULL && pos != SZ_NO_POSITION
        && pos < (size_t)PyArray_SIZE(times))
        t = (long long)((const int64_t *)PyArray_DATA(times))[pos];
    if (kinds != NULL && pos != SZ_NO_POSITION
        && pos < (size_t)PyArray_SIZE(kinds))
        kind = ((const uint8_t *)PyArray_DATA(kinds))[pos];
    switch (st) {
    case SZ_ERR_NOMEM:
        return PyErr_NoMemory();
    case SZ_ERR_TIME_NAT:
        return PyErr_Format(exc, "times[%zu]: missing time (NaT)", pos);
    case SZ_ERR_TIME_OVERFLOW:
        return PyErr_Format(exc,
                            "times[%zu]: time + gap overflows int64 "
                            "(time %lld, gap %lld)",
                            pos, t, (long long)gap);
    case SZ_ERR_TIME_NAN:
        return PyErr_Format(exc, "times[%zu]: NaN is not a time", pos);
    case SZ_ERR_TIME_RANGE:
        return PyErr_Format(exc,
                            "times[%zu]: out of range (float seconds must fit "
                            "int64 microseconds)", pos);
    case SZ_ERR_KEY_RANGE:
        return PyErr_Format(exc, "keys[%zu]: key code out of range", pos);
    case SZ_ERR_GAP:
        return PyErr_Format(exc, "gap[%zu]: must be > 0", pos);
    case SZ_ERR_KIND:
        return PyErr_Format(exc,
                            "kinds[%zu]: unknown event kind %d (expected 0-5 "
                            "or a name: APP_OPEN, SEARCH, RESULTS, CLICK, "
                            "APP_CLOSE, TIMEOUT)", pos, kind);
    case SZ_ERR_TOO_LARGE:
        return PyErr_Format(exc,
                            "keys: more than %zu events in one call; split "
                            "the input by key",
                            (size_t)SZ_MAX_EVENTS);
    default:
        return PyErr_Format(exc, "sessionize core: %s", sz_strerror(st));
    }
}

/* A 1-D, C-contiguous, aligned, native array of `type` (NPY_NOTYPE keeps
 * the dtype); copies only when the input is not already so. */
static PyArrayObject *as_1d(PyObject *module, PyObject *obj, int type,
                            const char *name)
{
    PyArrayObject *arr = (PyArrayObject *)PyArray_FROM_OTF(
        obj, type, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_NOTSWAPPED);
    if (arr == NULL) return NULL;
    if (PyArray_NDIM(arr) != 1) {
        PyErr_Format(get_state(module)->SessionizeError,
                     "%s: expected a 1-D array, got %d dimensions", name,
                     PyArray_NDIM(arr));
        Py_DECREF(arr);
        return NULL;
    }
    return arr;
}

/* The keys array for a key kind: byte strings keep their dtype (the core
 * reads their width), integer keys and dense codes become int64. */
static PyArrayObject *keys_as_1d(PyObject *module, PyObject *obj, int kind)
{
    return as_1d(module, obj, kind == SZ_KEYS_BYTES ? NPY_NOTYPE : NPY_INT64, "keys");
}

static PyObject *new_i64(npy_intp n)
{
    return PyArray_EMPTY(1, &n, NPY_INT64, 0);
}

#define I64(a) ((int64_t *)PyArray_DATA((PyArrayObject *)(a)))

/* The core's view of keys_as_1d()'s array. */
static sz_keys keys_view(PyArrayObject *keys, int kind, Py_ssize_t n_codes)
{
    sz_keys kd;
    kd.kind = kind;
    kd.data = PyArray_DATA(keys);
    kd.width = (size_t)PyArray_ITEMSIZE(keys);
    kd.n_codes = n_codes < 0 ? 0 : (size_t)n_codes;
    return kd;
}

/* Six new int64 arrays of n sessions (start, end, window_end, count, index,
 * first_event) and the core's pointers into them.  0, or -1 with an
 * exception set (the arrays made so far are the caller's to release). */
static int new_columns(npy_intp n, PyObject *cols[6], sz_session_columns *c)
{
    int i;
    for (i = 0; i < 6; i++) {
        if ((cols[i] = new_i64(n)) == NULL) return -1;
    }
    c->start = I64(cols[0]);
    c->end = I64(cols[1]);
    c->window_end = I64(cols[2]);
    c->count = I64(cols[3]);
    c->index = I64(cols[4]);
    c->first_event = I64(cols[5]);
    return 0;
}

PyDoc_STRVAR(batch_doc,
"batch(keys, key_kind, n_codes, times, gap, max_duration, cap_mode,\n"
"      inclusive, min_is_nat, describe, /)\n--\n\n"
"-> (ids, path, columns)\n"
"\n"
"Session ids of n events, keys and times already normalized by the caller:\n"
"key_kind 0 = int64 values, 1 = fixed-width bytes (an 'S'/'U'/'V' array),\n"
"2 = dense int64 codes in [0, n_codes).  times are int64.  With describe,\n"
"columns is (start, end, window_end, count, index, first_event), else None.");

static PyObject *core_batch(PyObject *module, PyObject *args)
{
    PyObject *keys_obj, *times_obj, *result = NULL;
    PyArrayObject *keys = NULL, *times = NULL;
    PyObject *ids = NULL, *cols[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    int kind, cap_mode, inclusive, min_is_nat, describe, i;
    Py_ssize_t n_codes;
    long long gap, max_duration;
    sz_batch *b = NULL;
    sz_keys kd;
    sz_params p;
    sz_status st;
    size_t pos = SZ_NO_POSITION, n_sessions = 0;
    npy_intp n;

    if (!PyArg_ParseTuple(args, "OinOLLippp:batch", &keys_obj, &kind, &n_codes,
                          &times_obj, &gap, &max_duration, &cap_mode,
                          &inclusive, &min_is_nat, &describe))
        return NULL;
    if ((keys = keys_as_1d(module, keys_obj, kind)) == NULL) goto done;
    if ((times = as_1d(module, times_obj, NPY_INT64, "times")) == NULL) goto done;
    n = PyArray_SIZE(times);
    if (PyArray_SIZE(keys) != n) {
        PyErr_Format(get_state(module)->SessionizeError,
                     "keys and times: lengths differ (%zd vs %zd)",
                     (Py_ssize_t)PyArray_SIZE(keys), (Py_ssize_t)n);
        goto done;
    }
    if ((size_t)n > SZ_MAX_EVENTS) {  /* before the ids are allocated */
        raise_status(module, SZ_ERR_TOO_LARGE, SZ_NO_POSITION, NULL, 0, NULL);
        goto done;
    }
    kd = keys_view(keys, kind, n_codes);
    p.gap = (int64_t)gap;
    p.max_duration = (int64_t)max_duration;
    p.cap_mode = cap_mode;
    p.inclusive = inclusive;
    p.min_is_nat = min_is_nat;

    if ((ids = new_i64(n)) == NULL) goto done;
    Py_BEGIN_ALLOW_THREADS
    st = sz_batch_assign(&b, &kd, I64(times), (size_t)n, &p, I64(ids),
                         &n_sessions, &pos);
    Py_END_ALLOW_THREADS
    if (st != SZ_OK) {
        raise_status(module, st, pos, times, p.gap, NULL);
        goto done;
    }
    if (describe) {
        sz_session_columns c;
        if (new_columns((npy_intp)n_sessions, cols, &c) < 0) goto done;
        if (n >= GIL_RELEASE_MIN) {
            Py_BEGIN_ALLOW_THREADS
            st = sz_batch_fill(b, I64(times), I64(ids), (size_t)n, &c);
            Py_END_ALLOW_THREADS
        } else {
            st = sz_batch_fill(b, I64(times), I64(ids), (size_t)n, &c);
        }
        if (st != SZ_OK) {
            raise_status(module, st, SZ_NO_POSITION, NULL, 0, NULL);
            goto done;
        }
        result = Py_BuildValue("Oi(OOOOOO)", ids, sz_batch_path_taken(b),
                               cols[0], cols[1], cols[2], cols[3], cols[4],
                               cols[5]);
    } else {
        result = Py_BuildValue("OiO", ids, sz_batch_path_taken(b), Py_None);
    }
done:
    sz_batch_free(b);
    Py_XDECREF(keys);
    Py_XDECREF(times);
    Py_XDECREF(ids);
    for (i = 0; i < 6; i++) Py_XDECREF(cols[i]);
    return result;
}

PyDoc_STRVAR(gapped_doc,
"gapped(keys, key_kind, n_codes, times, gaps, max_duration, cap_mode,\n"
"       inclusive, min_is_nat, /)\n--\n\n"
"-> (ids, (start, end, window_end, count, index, first_event))\n"
"\n"
"batch() with a gap per event (sz_gapped_assign): gaps an int64 array of\n"
"the times' length, each > 0, in the times' unit.");

static PyObject *core_gapped(PyObject *module, PyObject *args)
{
    PyObject *keys_obj, *times_obj, *gaps_obj, *result = NULL;
    PyArrayObject *keys = NULL, *times = NULL, *gaps = NULL;
    PyObject *ids = NULL, *cols[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    int kind, cap_mode, inclusive, min_is_nat, i;
    Py_ssize_t n_codes;
    long long max_duration;
    sz_gapped *g = NULL;
    sz_keys kd;
    sz_params p;
    sz_session_columns c;
    sz_status st;
    size_t pos = SZ_NO_POSITION, n_sessions = 0;
    npy_intp n;

    if (!PyArg_ParseTuple(args, "OinOOLipp:gapped", &keys_obj, &kind, &n_codes,
                          &times_obj, &gaps_obj, &max_duration, &cap_mode,
                          &inclusive, &min_is_nat))
        return NULL;
    if ((keys = keys_as_1d(module, keys_obj, kind)) == NULL) goto done;
    if ((times = as_1d(module, times_obj, NPY_INT64, "times")) == NULL) goto done;
    if ((gaps = as_1d(module, gaps_obj, NPY_INT64, "gap")) == NULL) goto done;
    n = PyArray_SIZE(times);
    if (PyArray_SIZE(keys) != n || PyArray_SIZE(gaps) != n) {
        PyErr_Format(get_state(module)->SessionizeError,
                     "keys, times and gap: lengths differ (%zd, %zd, %zd)",
                     (Py_ssize_t)PyArray_SIZE(keys), (Py_ssize_t)n,
                     (Py_ssize_t)PyArray_SIZE(gaps));
        goto done;
    }
    if ((size_t)n > SZ_MAX_EVENTS) {
        raise_status(module, SZ_ERR_TOO_LARGE, SZ_NO_POSITION, NULL, 0, NULL);
        goto done;
    }
    kd = keys_view(keys, kind, n_codes);
    p.gap = 0;
    p.max_duration = (int64_t)max_duration;
    p.cap_mode = cap_mode;
    p.inclusive = inclusive;
    p.min_is_nat = min_is_nat;

    if ((ids = new_i64(n)) == NULL) goto done;
    Py_BEGIN_ALLOW_THREADS
    st = sz_gapped_assign(&g, &kd, I64(times), I64(gaps), (size_t)n, &p, I64(ids),
                          &n_sessions, &pos);
    Py_END_ALLOW_THREADS
    if (st == SZ_ERR_TIME_OVERFLOW && pos < (size_t)n) {  /* the row's own gap */
        PyErr_Format(get_state(module)->SessionizeError,
                     "gap[%zu]: time + gap overflows int64 (time %lld, gap %lld)", pos,
                     (long long)I64(times)[pos], (long long)I64(gaps)[pos]);
        goto done;
    }
    if (st != SZ_OK) {
        raise_status(module, st, pos, times, 0, NULL);
        goto done;
    }
    if (new_columns((npy_intp)n_sessions, cols, &c) < 0) goto done;
    st = sz_gapped_fill(g, &c);
    if (st != SZ_OK) {
        raise_status(module, st, SZ_NO_POSITION, NULL, 0, NULL);
        goto done;
    }
    result = Py_BuildValue("O(OOOOOO)", ids, cols[0], cols[1], cols[2], cols[3],
                           cols[4], cols[5]);
done:
    sz_gapped_free(g);
    Py_XDECREF(keys);
    Py_XDECREF(times);
    Py_XDECREF(gaps);
    Py_XDECREF(ids);
    for (i = 0; i < 6; i++) Py_XDECREF(cols[i]);
    return result;
}

PyDoc_STRVAR(ctr_doc,
"ctr(keys, key_kind, n_codes, kinds, times, gap, inclusive, flush, min_is_nat,\n"
"    /)\n--\n\n"
"-> (session, search, clicked, clicks, path)\n"
"\n"
"One row per search of n events (sessionize.h, tier 3), keys already\n"
"normalized as for batch(); kinds a uint8 array of event kinds; times an\n"
"int64 array or None (input order is then time order); gap 0 for no gap\n"
"rule.  Rows in session close order: session, search (input position) and\n"
"clicks as int64 arrays, clicked as bool.");

static PyObject *core_ctr(PyObject *module, PyObject *args)
{
    PyObject *keys_obj, *kinds_obj, *times_obj, *result = NULL;
    PyArrayObject *keys = NULL, *kinds = NULL, *times = NULL;
    PyObject *cols[4] = {NULL, NULL, NULL, NULL};
    int kind, inclusive, flush, min_is_nat, i;
    Py_ssize_t n_codes;
    long long gap;
    sz_ctr *c = NULL;
    sz_keys kd;
    sz_ctr_params p;
    sz_ctr_columns cc;
    sz_status st;
    size_t pos = SZ_NO_POSITION, n_rows = 0;
    npy_intp n, r;

    if (!PyArg_ParseTuple(args, "OinOOLppp:ctr", &keys_obj, &kind, &n_codes,
                          &kinds_obj, &times_obj, &gap, &inclusive, &flush,
                          &min_is_nat))
        return NULL;
    if ((keys = keys_as_1d(module, keys_obj, kind)) == NULL) goto done;
    if ((kinds = as_1d(module, kinds_obj, NPY_UINT8, "kinds")) == NULL) goto done;
    n = PyArray_SIZE(kinds);
    if (PyArray_SIZE(keys) != n) {
        PyErr_Format(get_state(module)->SessionizeError,
                     "keys and kinds: lengths differ (%zd vs %zd)",
                     (Py_ssize_t)PyArray_SIZE(keys), (Py_ssize_t)n);
        goto done;
    }
    if (times_obj != Py_None) {
        if ((times = as_1d(module, times_obj, NPY_INT64, "times")) == NULL) goto done;
        if (PyArray_SIZE(times) != n) {
            PyErr_Format(get_state(module)->SessionizeError,
                         "kinds and times: lengths differ (%zd vs %zd)",
                         (Py_ssize_t)n, (Py_ssize_t)PyArray_SIZE(times));
            goto done;
        }
    }
    kd = keys_view(keys, kind, n_codes);
    p.gap = (int64_t)gap;
    p.inclusive = inclusive;
    p.flush = flush;
    p.min_is_nat = min_is_nat;

    if (n >= GIL_RELEASE_MIN) {
        Py_BEGIN_ALLOW_THREADS
        st = sz_ctr_run(&c, &kd, (const uint8_t *)PyArray_DATA(kinds),
                        times ? I64(times) : NULL, (size_t)n, &p, &n_rows, &pos);
        Py_END_ALLOW_THREADS
    } else {
        st = sz_ctr_run(&c, &kd, (const uint8_t *)PyArray_DATA(kinds),
                        times ? I64(times) : NULL, (size_t)n, &p, &n_rows, &pos);
    }
    if (st != SZ_OK) {
        raise_status(module, st, pos, times, p.gap, kinds);
        goto done;
    }
    r = (npy_intp)n_rows;
    for (i = 0; i < 4; i++) {
        cols[i] = i == 2 ? PyArray_EMPTY(1, &r, NPY_BOOL, 0) : new_i64(r);
        if (cols[i] == NULL) goto done;
    }
    cc.session = I64(cols[0]);
    cc.search = I64(cols[1]);
    cc.clicked = (uint8_t *)PyArray_DATA((PyArrayObject *)cols[2]);
    cc.clicks = I64(cols[3]);
    if (r >= GIL_RELEASE_MIN) {
        Py_BEGIN_ALLOW_THREADS
        st = sz_ctr_fill(c, &cc);
        Py_END_ALLOW_THREADS
    } else {
        st = sz_ctr_fill(c, &cc);
    }
    if (st != SZ_OK) {
        raise_status(module, st, SZ_NO_POSITION, NULL, 0, NULL);
        goto done;
    }
    result = Py_BuildValue("OOOOi", cols[0], cols[1], cols[2], cols[3],
                           sz_ctr_path_taken(c));
done:
    sz_ctr_free(c);
    Py_XDECREF(keys);
    Py_XDECREF(kinds);
    Py_XDECREF(times);
    for (i = 0; i < 4; i++) Py_XDECREF(cols[i]);
    return result;
}

PyDoc_STRVAR(seconds_to_micros_doc,
"seconds_to_micros(seconds, /)\n--\n\n"
"-> int64 array\n"
"\n"
"Float seconds to integer microseconds as Apache Beam's Timestamp does:\n"
"int(seconds * 1000000), truncating toward zero.");

static PyObject *core_seconds_to_micros(PyObject *module, PyObject *arg)
{
    PyArrayObject *sec = as_1d(module, arg, NPY_FLOAT64, "times");
    PyObject *out = NULL;
    size_t pos = SZ_NO_POSITION;
    sz_status st;
    npy_intp n;
    if (sec == NULL) return NULL;
    n = PyArray_SIZE(sec);
    if ((out = new_i64(n)) == NULL) goto done;
    Py_BEGIN_ALLOW_THREADS
    st = sz_seconds_to_micros((const double *)PyArray_DATA(sec), (size_t)n,
                              I64(out), &pos);
    Py_END_ALLOW_THREADS
    if (st != SZ_OK) {
        raise_status(module, st, pos, NULL, 0, NULL);
        Py_CLEAR(out);
    }
done:
    Py_DECREF(sec);
    return out;
}

PyDoc_STRVAR(factorize_doc,
"factorize(values, /)\n--\n\n"
"-> (codes, uniques)\n"
"\n"
"Dense int64 codes of any sequence of hashable values, in order of first\n"
"appearance, and the list of distinct values (the first of each).  When\n"
"every element is an exact str, their UTF-8 bytes are hashed in C (no\n"
"object per element); else one dict lookup per element, in C.");

/* Items gathered per call of the core's byte factorizer. */
#define STR_CHUNK 4096

/*
 * factorize() of n items that are all exact str: their UTF-8 bytes through
 * the core's byte-string table (equal str, equal UTF-8), no object made.
 * Returns the (codes, uniques) tuple; NULL with an exception set; or NULL
 * with none when an item is not an exact str or has no UTF-8 form (lone
 * surrogates), for the caller to take the dict path.  `items` are borrowed
 * from a list, tuple or object array the caller holds; the GIL is held
 * throughout, so none can go away.  A non-ASCII str caches its UTF-8 copy
 * on the object (CPython's own cache, freed with the str).
 */
static PyObject *factorize_str(PyObject *const *items, Py_ssize_t n)
{
    PyObject *codes = NULL, *uniques = NULL, *result = NULL;
    sz_arrow_keys *f = NULL;
    const char *ptrs[STR_CHUNK];
    size_t lens[STR_CHUNK], pos, n_keys, c;
    const int64_t *first;
    Py_ssize_t i0, i;
    sz_status st = sz_arrow_keys_new_bytes(&f);
    if (st != SZ_OK) {
        PyErr_NoMemory();
        goto done;
    }
    if ((codes = new_i64(n)) == NULL) goto done;
    for (i0 = 0; i0 < n; i0 += STR_CHUNK) {
        Py_ssize_t m = n - i0 < STR_CHUNK ? n - i0 : STR_CHUNK;
        for (i = 0; i < m; i++) {
            PyObject *item = items[i0 + i];
            Py_ssize_t len;
            if (!PyUnicode_CheckExact(item)) goto done;  /* no exception: fall back */
            ptrs[i] = PyUnicode_AsUTF8AndSize(item, &len);
            if (ptrs[i] == NULL) {
                if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) goto done;
                PyErr_Clear();  /* a lone surrogate: the dict path hashes it */
                goto done;
            }
            lens[i] = (size_t)len;
        }
        st = sz_arrow_keys_add_bytes(f, ptrs, lens, (size_t)m, I64(codes) + i0, &pos);
        if (st == SZ_ERR_TOO_LARGE) goto done;  /* the dict path has no such limit */
        if (st != SZ_OK) {
            PyErr_NoMemory();
            goto done;
        }
    }
    n_keys = sz_arrow_keys_count(f);
    first = sz_arrow_keys_first(f);
    if ((uniques = PyList_New((Py_ssize_t)n_keys)) == NULL) goto done;
    for (c = 0; c < n_keys; c++) {
        PyObject *item = items[first[c]];
        Py_INCREF(item);
        PyList_SET_ITEM(uniques, (Py_ssize_t)c, item);
    }
    result = PyTuple_Pack(2, codes, uniques);
done:
    sz_arrow_keys_free(f);
    Py_XDECREF(codes);
    Py_XDECREF(uniques);
    return result;
}

/* The items of a 1-D, contiguous object array (borrowed from it), or NULL. */
static PyObject *const *object_items(PyObject *arg, Py_ssize_t *n)
{
    PyArrayObject *a = (PyArrayObject *)arg;
    if (!PyArray_CheckExact(arg) || PyArray_NDIM(a) != 1 || PyArray_TYPE(a) != NPY_OBJECT
        || !PyArray_IS_C_CONTIGUOUS(a))
        return NULL;
    *n = (Py_ssize_t)PyArray_SIZE(a);
    return (PyObject *const *)PyArray_DATA(a);
}

/*
 * The pending error of keys[i]'s __hash__ or __eq__, reworded to name the
 * position, the key's own exception kept as __cause__: a TypeError
 * (unhashable) keeps Python's reason, "keys[i]: unhashable type: 'list'";
 * another Exception becomes SessionizeError "keys[i]: hashing or comparing
 * a key of type T raised E: message", as the stream bindings word it
 * (_streamcommon.h, sc_key_failed).  A MemoryError, or a BaseException
 * that is not an Exception (KeyboardInterrupt), passes as it is.
 */
static void key_failed(PyObject *module, PyObject *key, Py_ssize_t i)
{
    PyObject *type, *value, *tb, *why, *exc_t, *exc_v, *exc_tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) return;
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL) PyException_SetTraceback(value, tb);
    if (!PyErr_GivenExceptionMatches(type, PyExc_Exception)
        || PyErr_GivenExceptionMatches(type, PyExc_MemoryError)) {
        PyErr_Restore(type, value, tb);
        return;
    }
    why = PyObject_Str(value);
    if (why == NULL) PyErr_Clear();  /* a __str__ that raises: the type alone */
    if (PyErr_GivenExceptionMatches(type, PyExc_TypeError) && why != NULL)
        PyErr_Format(PyExc_TypeError, "keys[%zd]: %U", i, why);
    else if (PyErr_GivenExceptionMatches(type, PyExc_TypeError))
        PyErr_Format(PyExc_TypeError, "keys[%zd]: unhashable key of type %s", i,
                     Py_TYPE(key)->tp_name);
    else if (why != NULL && PyUnicode_GET_LENGTH(why) > 0)
        PyErr_Format(get_state(module)->SessionizeError,
                     "keys[%zd]: hashing or comparing a key of type %s raised %s: %U",
                     i, Py_TYPE(key)->tp_name, ((PyTypeObject *)type)->tp_name, why);
    else
        PyErr_Format(get_state(module)->SessionizeError,
                     "keys[%zd]: hashing or comparing a key of type %s raised %s",
                     i, Py_TYPE(key)->tp_name, ((PyTypeObject *)type)->tp_name);
    Py_XDECREF(why);
    PyErr_Fetch(&exc_t, &exc_v, &exc_tb);
    PyErr_NormalizeException(&exc_t, &exc_v, &exc_tb);
    if (exc_v == NULL || PyErr_GivenExceptionMatches(exc_t, PyExc_MemoryError)) {
        /* no memory for the new error: the key's own stands */
        Py_XDECREF(exc_t);
        Py_XDECREF(exc_v);
        Py_XDECREF(exc_tb);
        PyErr_Restore(type, value, tb);
        return;
    }
    /* as `raise exc from cause` in an except block of cause */
    Py_INCREF(value);
    PyException_SetContext(exc_v, value);  /* steals */
    PyException_SetCause(exc_v, value);    /* steals the reference fetched */
    Py_DECREF(type);
    Py_XDECREF(tb);
    PyErr_Restore(exc_t, exc_v, exc_tb);
}

static PyObject *core_factorize(PyObject *module, PyObject *arg)
{
    PyObject *seq, *table = NULL, *uniques = NULL, *codes = NULL;
    PyObject *result = NULL;
    PyObject *const *items;
    Py_ssize_t i, n = 0;
    int64_t *out;
    (void)module;
    items = object_items(arg, &n);
    if (items != NULL && n > 0) {
        result = factorize_str(items, n);
        if (result != NULL || PyErr_Occurred()) return result;
    }
    seq = PySequence_Fast(arg, "keys: expected a sequence of hashable values");
    if (seq == NULL) return NULL;
    n = PySequence_Fast_GET_SIZE(seq);
    if (items == NULL && n > 0) {
        result = factorize_str(PySequence_Fast_ITEMS(seq), n);
        if (result != NULL || PyErr_Occurred()) {
            Py_DECREF(seq);
            return result;
        }
    }
    if ((table = PyDict_New()) == NULL) goto done;
    if ((uniques = PyList_New(0)) == NULL) goto done;
    if ((codes = new_i64(n)) == NULL) goto done;
    out = I64(codes);
    for (i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);  /* borrowed */
        PyObject *code;
        Py_hash_t h = PyObject_Hash(item);
        if (h == -1) {
            /* Python's own reason (it names the unhashable part, as in a
             * tuple holding a list), prefixed with the position */
            key_failed(module, item, i);
            goto done;
        }
        code = PyDict_GetItemWithError(table, item);  /* borrowed */
        if (code != NULL) {
            out[i] = (int64_t)PyLong_AsLongLong(code);
            continue;
        }
        if (PyErr_Occurred()) {  /* a raising __eq__ */
            key_failed(module, item, i);
            goto done;
        }
        out[i] = (int64_t)PyList_GET_SIZE(uniques);
        code = PyLong_FromLongLong(out[i]);
        if (code == NULL) goto done;
        if (PyDict_SetItem(table, item, code) < 0) {
            key_failed(module, item, i);  /* __hash__ or __eq__ raised this time */
            Py_DECREF(code);
            goto done;
        }
        if (PyList_Append(uniques, item) < 0) {
            Py_DECREF(code);
            goto done;
        }
        Py_DECREF(code);
    }
    result = PyTuple_Pack(2, codes, uniques);
done:
    Py_DECREF(seq);
    Py_XDECREF(table);
    Py_XDECREF(uniques);
    Py_XDECREF(codes);
    return result;
}

PyDoc_STRVAR(event_fields_doc,
"event_fields(events, kind_of, /)\n--\n\n"
"-> (kinds, users, times, missing) or int\n"
"\n"
"One pass over a sequence of event objects: kinds (uint8 array) from\n"
"kind_of[type(event)], users (list of event.user), times (list of\n"
"event.time, None where an event has none) and how many are None.  An\n"
"event whose type is not in kind_of stops the pass: its index is returned\n"
"instead, for the caller to resolve and call again.  An event without a\n"
"user attribute is a TypeError, a user of None a SessionizeError, both\n"
"naming events[i].");

static PyObject *core_event_fields(PyObject *module, PyObject *args)
{
    PyObject *events_obj, *kind_of, *seq = NULL, *kinds = NULL, *users = NULL;
    PyObject *times = NULL, *user_s = NULL, *time_s = NULL, *result = NULL;
    PyTypeObject *last_type = NULL;
    long last_code = 0;
    Py_ssize_t i, n, missing = 0;
    npy_intp dims;
    uint8_t *k;

    if (!PyArg_ParseTuple(args, "OO!:event_fields", &events_obj, &PyDict_Type, &kind_of))
        return NULL;
    seq = PySequence_Fast(events_obj, "events: expected a list of events");
    if (seq == NULL) return NULL;
    n = PySequence_Fast_GET_SIZE(seq);
    dims = (npy_intp)n;
    if ((kinds = PyArray_EMPTY(1, &dims, NPY_UINT8, 0)) == NULL) goto done;
    if ((users = PyList_New(n)) == NULL) goto done;
    if ((times = PyList_New(n)) == NULL) goto done;
    if ((user_s = PyUnicode_InternFromString("user")) == NULL) goto done;
    if ((time_s = PyUnicode_InternFromString("time")) == NULL) goto done;
    k = (uint8_t *)PyArray_DATA((PyArrayObject *)kinds);
    for (i = 0; i < n; i++) {
        PyObject *e = PySequence_Fast_GET_ITEM(seq, i);  /* borrowed */
        PyTypeObject *tp = Py_TYPE(e);
        PyObject *u, *t;
        if (tp != last_type) {  /* runs of one type are common */
            PyObject *code = PyDict_GetItemWithError(kind_of, (PyObject *)tp);
            if (code == NULL) {
                if (!PyErr_Occurred()) result = PyLong_FromSsize_t(i);
                goto done;
            }
            last_code = PyLong_AsLong(code);
            if (last_code == -1 && PyErr_Occurred()) goto done;
            last_type = tp;
        }
        k[i] = (uint8_t)last_code;
        u = PyObject_GetAttr(e, user_s);
        if (u == NULL) {
            if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError, "events[%zd]: %s has no user attribute",
                             i, tp->tp_name);
            }
            goto done;
        }
        if (u == Py_None) {
            Py_DECREF(u);
            PyErr_Format(get_state(module)->SessionizeError,
                         "events[%zd]: event without a user (user is None)", i);
            goto done;
        }
        PyList_SET_ITEM(users, i, u);  /* steals */
        t = PyObject_GetAttr(e, time_s);
        if (t == NULL) {  /* the seeds' own classes have no time */
            if (!PyErr_ExceptionMatches(PyExc_AttributeError)) goto done;
            PyErr_Clear();
            Py_INCREF(Py_None);
            t = Py_None;
        }
        missing += t == Py_None;
        PyList_SET_ITEM(times, i, t);  /* steals */
    }
    result = Py_BuildValue("OOOn", kinds, users, times, missing);
done:
    Py_DECREF(seq);
    Py_XDECREF(kinds);
    Py_XDECREF(users);
    Py_XDECREF(times);
    Py_XDECREF(user_s);
    Py_XDECREF(time_s);
    return result;
}

PyDoc_STRVAR(set_threads_doc,
"set_threads(n, /)\n--\n\n"
"The most threads one call may use (sz_set_threads): 1 keeps every call on\n"
"the caller's thread, 0 lets a call over 2**18 events or more use two when\n"
"the machine has them.  Results never depend on it.");

/* ---- Arrow input: keys and times read by the core, no object per event -- */

/* A core status from the Arrow reader, as an exception naming `arg` and,
 * for one element, its row. */
static PyObject *raise_arrow(PyObject *module, sz_status st, size_t pos,
                             const arrow_column *c, const char *arg)
{
    PyObject *exc = get_state(module)->SessionizeError;
    const char *format = c->schema != NULL && c->schema->format != NULL ? c->schema->format : "?";
    switch (st) {
    case SZ_ERR_NULL:
        return PyErr_Format(exc, "%s[%zu]: missing value (null)", arg, pos);
    case SZ_ERR_ARROW_TYPE:
        return PyErr_Format(PyExc_TypeError, "%s: unsupported Arrow type (format '%s')",
                            arg, format);
    case SZ_ERR_ARROW_INVALID:
        if (pos != SZ_NO_POSITION)
            return PyErr_Format(exc, "%s[%zu]: malformed Arrow array (%s)", arg, pos,
                                sz_strerror(st));
        return PyErr_Format(exc, "%s: malformed Arrow array (%s)", arg, sz_strerror(st));
    case SZ_ERR_TIME_RANGE:
        return PyErr_Format(exc, "%s[%zu]: out of range (an unsigned value above int64's "
                            "largest)", arg, pos);
    case SZ_ERR_TOO_LARGE:
        return PyErr_Format(exc, "%s: too many distinct keys or a key of 4 GiB or more", arg);
    default:
        return raise_status(module, st, pos, NULL, 0, NULL);
    }
}

PyDoc_STRVAR(arrow_keys_doc,
"arrow_keys(column, arg, /)\n--\n\n"
"-> (codes, first)\n"
"\n"
"Keys given as Arrow data (__arrow_c_array__ or __arrow_c_stream__), read\n"
"and factorized in C: int64 codes per row in order of first appearance,\n"
"and the row of each code's first occurrence.");

static PyObject *core_arrow_keys(PyObject *module, PyObject *args)
{
    PyObject *obj, *codes = NULL, *first = NULL, *result = NULL;
    const char *arg;
    arrow_column c;
    sz_arrow_keys *f = NULL;
    sz_status st = SZ_OK;
    size_t pos = SZ_NO_POSITION, row = 0, i, n_keys;
    if (!PyArg_ParseTuple(args, "Os:arrow_keys", &obj, &arg)) return NULL;
    if (arrow_column_open(&c, obj, arg) < 0) goto done;
    if ((codes = new_i64((npy_intp)c.length)) == NULL) goto done;
    st = sz_arrow_keys_new(&f, c.schema);
    if (st == SZ_OK) {
        Py_BEGIN_ALLOW_THREADS
        for (i = 0; i < c.n_chunks && st == SZ_OK; i++) {
            st = sz_arrow_keys_add(f, &c.chunks[i], I64(codes) + row, &pos);
            row += (size_t)c.chunks[i].length;
        }
        Py_END_ALLOW_THREADS
    }
    if (st != SZ_OK) {
        raise_arrow(module, st, pos, &c, arg);
        goto done;
    }
    n_keys = sz_arrow_keys_count(f);
    if ((first = new_i64((npy_intp)n_keys)) == NULL) goto done;
    if (n_keys > 0) memcpy(I64(first), sz_arrow_keys_first(f), n_keys * sizeof(int64_t));
    result = PyTuple_Pack(2, codes, first);
done:
    sz_arrow_keys_free(f);
    arrow_column_close(&c);
    Py_XDECREF(codes);
    Py_XDECREF(first);
    return result;
}

PyDoc_STRVAR(arrow_ints_doc,
"arrow_ints(column, arg, /)\n--\n\n"
"-> (values, kind, unit, zone)\n"
"\n"
"An integer, timestamp, date or duration column given as Arrow data, read\n"
"in C into int64 values in its own unit; kind and unit as the core's\n"
"sz_arrow_kind and sz_arrow_unit, zone the timestamp's time zone or ''.");

static PyObject *core_arrow_ints(PyObject *module, PyObject *args)
{
    PyObject *obj, *values = NULL, *result = NULL;
    const char *arg;
    arrow_column c;
    sz_status st;
    size_t pos = SZ_NO_POSITION, row = 0, i, tz_len = 0;
    int kind = 0, unit = 0;
    char tz[256];
    if (!PyArg_ParseTuple(args, "Os:arrow_ints", &obj, &arg)) return NULL;
    if (arrow_column_open(&c, obj, arg) < 0) goto done;
    st = sz_arrow_time_type(c.schema, &kind, &unit, tz, sizeof tz, &tz_len);
    if (st != SZ_OK) {
        if (st == SZ_ERR_PARAM && tz_len >= sizeof tz)
            PyErr_Format(PyExc_ValueError, "%s: the time zone's name is too long", arg);
        else
            raise_arrow(module, st, SZ_NO_POSITION, &c, arg);
        goto done;
    }
    if ((values = new_i64((npy_intp)c.length)) == NULL) goto done;
    Py_BEGIN_ALLOW_THREADS
    for (i = 0; i < c.n_chunks && st == SZ_OK; i++) {
        st = sz_arrow_ints_read(c.schema, &c.chunks[i], I64(values) + row, row, &pos);
        row += (size_t)c.chunks[i].length;
    }
    Py_END_ALLOW_THREADS
    if (st != SZ_OK) {
        raise_arrow(module, st, pos, &c, arg);
        goto done;
    }
    result = Py_BuildValue("Oiis#", values, kind, unit, tz, (Py_ssize_t)tz_len);
done:
    arrow_column_close(&c);
    Py_XDECREF(values);
    return result;
}

static PyObject *core_set_threads(PyObject *module, PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    sz_set_threads(n < 0 ? 0 : n > 1024 ? 1024 : (int)n);
    Py_RETURN_NONE;
}

static PyMethodDef core_methods[] = {
    {"set_threads", core_set_threads, METH_O, set_threads_doc},
    {"batch", core_batch, METH_VARARGS, batch_doc},
    {"gapped", core_gapped, METH_VARARGS, gapped_doc},
    {"ctr", core_ctr, METH_VARARGS, ctr_doc},
    {"seconds_to_micros", core_seconds_to_micros, METH_O, seconds_to_micros_doc},
    {"factorize", core_factorize, METH_O, factorize_doc},
    {"event_fields", core_event_fields, METH_VARARGS, event_fields_doc},
    {"arrow_keys", core_arrow_keys, METH_VARARGS, arrow_keys_doc},
    {"arrow_ints", core_arrow_ints, METH_VARARGS, arrow_ints_doc},
    {NULL, NULL, 0, NULL},
};

static int core_exec(PyObject *module)
{
    core_state *state = get_state(module);
    if (_import_array() < 0) return -1;
    state->SessionizeError = PyErr_NewExceptionWithDoc(
        "sessionize.SessionizeError",
        "Bad data or state given to sessionize (a ValueError).", PyExc_ValueError,
        NULL);
    if (state->SessionizeError == NULL) return -1;
    if (PyModule_AddObjectRef(module, "SessionizeError", state->SessionizeError) < 0)
        return -1;
    if (PyModule_AddStringConstant(module, "core_version", SZ_VERSION_STRING) < 0)
        return -1;
    if (PyModule_AddIntConstant(module, "MAX_EVENTS", (long)SZ_MAX_EVENTS) < 0)
        return -1;
    return 0;
}

static int core_traverse(PyObject *module, visitproc visit, void *arg)
{
    Py_VISIT(get_state(module)->SessionizeError);
    return 0;
}

static int core_clear(PyObject *module)
{
    Py_CLEAR(get_state(module)->SessionizeError);
    return 0;
}

static void core_free(void *module)
{
    core_clear((PyObject *)module);
}

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, core_exec},
    {0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    "sessionize._core",
    "The sessionize C core's binding; use the sessionize package instead.",
    sizeof(core_state),
    core_methods,
    core_slots,
    core_traverse,
    core_clear,
    core_free,
};

PyMODINIT_FUNC PyInit__core(void)
{
    return PyModuleDef_Init(&core_module);
}
