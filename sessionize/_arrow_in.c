/*
 * _arrow_in.c -- Arrow columns from PyCapsules (see _arrow_in.h).
 *
 * The Arrow PyCapsule interface: __arrow_c_array__() returns a pair of
 * capsules ("arrow_schema", "arrow_array") that own their structs until the
 * capsules die; __arrow_c_stream__() returns one "arrow_array_stream"
 * capsule whose stream hands its schema and chunks over to the consumer,
 * who releases them.  One chunk is read in place; a stream's chunks are
 * all taken first, so the caller can size its outputs once.
 */
#include "_arrow_in.h"

#include <string.h>

int arrow_column_offered(PyObject *obj)
{
    return PyObject_HasAttrString(obj, "__arrow_c_array__")
           || PyObject_HasAttrString(obj, "__arrow_c_stream__");
}

static void *capsule_pointer(PyObject *cap, const char *name, const char *arg)
{
    void *p;
    if (!PyCapsule_CheckExact(cap) || !PyCapsule_IsValid(cap, name)) {
        PyErr_Format(PyExc_TypeError, "%s: expected an Arrow PyCapsule named '%s'", arg, name);
        return NULL;
    }
    p = PyCapsule_GetPointer(cap, name);
    return p;
}

static int open_array(arrow_column *c, PyObject *obj, const char *arg)
{
    PyObject *pair = PyObject_CallMethod(obj, "__arrow_c_array__", NULL);
    struct ArrowArray *array;
    if (pair == NULL) return -1;
    c->owner = pair;
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
        PyErr_Format(PyExc_TypeError, "%s: __arrow_c_array__ did not return (schema, array)", arg);
        return -1;
    }
    c->schema = (struct ArrowSchema *)capsule_pointer(PyTuple_GET_ITEM(pair, 0),
                                                      "arrow_schema", arg);
    if (c->schema == NULL) return -1;
    array = (struct ArrowArray *)capsule_pointer(PyTuple_GET_ITEM(pair, 1), "arrow_array", arg);
    if (array == NULL) return -1;
    if (array->release == NULL || c->schema->release == NULL) {
        PyErr_Format(PyExc_ValueError, "%s: the Arrow array was already released", arg);
        return -1;
    }
    if (array->length < 0) {
        PyErr_Format(PyExc_ValueError, "%s: malformed Arrow array (negative length)", arg);
        return -1;
    }
    c->chunks = array;
    c->n_chunks = 1;
    c->length = (size_t)array->length;
    return 0;
}

static int stream_error(struct ArrowArrayStream *s, int code, const char *arg)
{
    const char *msg = s->get_last_error != NULL ? s->get_last_error(s) : NULL;
    PyErr_Format(PyExc_ValueError, "%s: reading the Arrow stream failed (%s)", arg,
                 msg != NULL ? msg : strerror(code));
    return -1;
}

static int open_stream(arrow_column *c, PyObject *obj, const char *arg)
{
    PyObject *cap = PyObject_CallMethod(obj, "__arrow_c_stream__", NULL);
    struct ArrowArrayStream *s;
    int code;
    if (cap == NULL) return -1;
    c->owner = cap;
    s = (struct ArrowArrayStream *)capsule_pointer(cap, "arrow_array_stream", arg);
    if (s == NULL) return -1;
    if (s->release == NULL) {
        PyErr_Format(PyExc_ValueError, "%s: the Arrow stream was already released", arg);
        return -1;
    }
    if ((code = s->get_schema(s, &c->own_schema)) != 0) return stream_error(s, code, arg);
    c->schema = &c->own_schema;
    for (;;) {
        struct ArrowArray next;
        if (c->n_chunks == c->chunks_cap) {
            size_t cap2 = c->chunks_cap ? 2 * c->chunks_cap : 8;
            struct ArrowArray *grown = PyMem_Realloc(c->chunks, cap2 * sizeof *grown);
            if (grown == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            c->chunks = grown;
            c->chunks_cap = cap2;
        }
        memset(&next, 0, sizeof next);
        if ((code = s->get_next(s, &next)) != 0) return stream_error(s, code, arg);
        if (next.release == NULL) break;  /* the end of the stream */
        c->chunks[c->n_chunks++] = next;  /* moved: ours to release */
        if (next.length < 0) {
            PyErr_Format(PyExc_ValueError, "%s: malformed Arrow array (negative length)", arg);
            return -1;
        }
        c->length += (size_t)next.length;
    }
    return 0;
}

int arrow_column_open(arrow_column *c, PyObject *obj, const char *arg)
{
    memset(c, 0, sizeof *c);
    /* one array is read in place; anything else (ChunkedArray, polars) streams */
    if (PyObject_HasAttrString(obj, "__arrow_c_array__")) return open_array(c, obj, arg);
    if (PyObject_HasAttrString(obj, "__arrow_c_stream__")) return open_stream(c, obj, arg);
    PyErr_Format(PyExc_TypeError, "%s: expected Arrow data (__arrow_c_array__ or "
                 "__arrow_c_stream__), got %s", arg, Py_TYPE(obj)->tp_name);
    return -1;
}

void arrow_column_close(arrow_column *c)
{
    size_t i;
    if (c->chunks_cap > 0) {  /* a stream's: ours */
        for (i = 0; i < c->n_chunks; i++)
            if (c->chunks[i].release != NULL) c->chunks[i].release(&c->chunks[i]);
        PyMem_Free(c->chunks);
    }
    if (c->own_schema.release != NULL) c->own_schema.release(&c->own_schema);
    Py_CLEAR(c->owner);
    memset(c, 0, sizeof *c);
}
