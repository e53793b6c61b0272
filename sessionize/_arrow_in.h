/*
 * _arrow_in.h -- one Arrow column handed to the binding through the Arrow
 * PyCapsule interface (__arrow_c_array__ or __arrow_c_stream__), as the
 * C Data Interface structs the core reads (csrc/arrow.c).
 *
 * Binding-side only: it deals with capsules and their owners' lifetimes;
 * what the arrays hold is read and validated by the core.
 */
#ifndef SESSIONIZE_ARROW_IN_H
#define SESSIONIZE_ARROW_IN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "nanoarrow.h" /* the C Data Interface structs, as Arrow publishes them */

typedef struct arrow_column {
    struct ArrowSchema *schema;  /* the column's type */
    struct ArrowArray *chunks;   /* n_chunks chunks, in order */
    size_t n_chunks;
    size_t length;               /* rows over all chunks */
    /* __arrow_c_array__: its capsules own schema and the one chunk, and
     * are kept alive here; __arrow_c_stream__: the stream's schema and
     * chunks were moved to us and are released by arrow_column_close() */
    PyObject *owner;
    struct ArrowSchema own_schema;
    size_t chunks_cap;
} arrow_column;

/* Whether `obj` offers Arrow data (has __arrow_c_array__ or
 * __arrow_c_stream__); numpy arrays never count. */
int arrow_column_offered(PyObject *obj);

/* Opens obj's Arrow data: 0, or -1 with an exception naming `arg`.
 * Always follow with arrow_column_close(), also after a failure. */
int arrow_column_open(arrow_column *c, PyObject *obj, const char *arg);

/* Releases what open took; accepts a zeroed or failed column. */
void arrow_column_close(arrow_column *c);

#endif
