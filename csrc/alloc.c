/*
 * alloc.c -- the core's only door to the heap.
 *
 * SQLite's lesson: out-of-memory paths are only correct if they are run.
 * Test builds (-DSZ_TESTING) can make the n-th allocation fail so the C
 * tests walk every failure point of an operation.
 */
/* madvise() and MADV_HUGEPAGE are not C99: ask for them (before any
 * system header).  Without it -std=c99 hides them and the hint is lost. */
#define _DEFAULT_SOURCE

#include "sz_internal.h"

#include <stdlib.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

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

/* Asks for huge pages over a large fresh allocation: written once, at
 * random (the table) or as a stream (rows, blocks), its pages are touched
 * once each, and in a VM every 4 KiB page fault costs about as much as
 * writing the page.  Only a hint. */
void sz__huge_hint(void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p != NULL && bytes >= ((size_t)4 << 20)) {
        uintptr_t huge = (uintptr_t)1 << 21;
        uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
        uintptr_t hi = ((uintptr_t)p + bytes) & ~(huge - 1);
        if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
#else
    (void)p;
    (void)bytes;
#endif
}
