/*
 * alloc.c -- the core's only door to the heap.
 *
 * SQLite's lesson: out-of-memory paths are only correct if they are run.
 * Test builds (-DSZ_TESTING) can make the n-th allocation fail so the C
 * tests walk every failure point of an operation.
 */
#include "sz_internal.h"

#include <stdlib.h>

#ifdef SZ_TESTING
/* Test builds are single-threaded by contract; plain globals suffice. */
static long sz__countdown = 0;  /* 0: off; k > 0: the k-th call fails */
static long sz__calls = 0;

long sz_test_fail_after(long n)
{
    long made = sz__calls;
    sz__calls = 0;
    sz__countdown = n > 0 ? n : 0;
    return made;
}

static int sz__should_fail(void)
{
    sz__calls++;
    if (sz__countdown > 0 && --sz__countdown == 0) return 1;
    return 0;
}
#else
#define sz__should_fail() 0
#endif

void *sz__malloc(size_t size)
{
    if (sz__should_fail()) return NULL;
    return malloc(size ? size : 1);
}

void *sz__calloc(size_t count, size_t size)
{
    if (sz__should_fail()) return NULL;
    if (count == 0 || size == 0) count = size = 1;
    return calloc(count, size);
}

void *sz__realloc(void *ptr, size_t size)
{
    if (sz__should_fail()) return NULL;
    return realloc(ptr, size ? size : 1);
}

void sz__free(void *ptr)
{
    free(ptr);
}
