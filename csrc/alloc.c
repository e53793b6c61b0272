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
/* A pass may run in two parts on two threads (parallel.c), and a part may
 * allocate: the counters are atomic.  Which part's allocation is the n-th
 * is then up to the scheduler, so the tests walk failures single-threaded
 * (their inputs are below the parallel threshold). */
static long sz__countdown = 0;  /* <= 0: off; k > 0: the k-th call fails */
static long sz__calls = 0;

long sz_test_fail_after(long n)
{
    long made = __atomic_exchange_n(&sz__calls, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&sz__countdown, n > 0 ? n : 0, __ATOMIC_SEQ_CST);
    return made;
}

static int sz__should_fail(void)
{
    __atomic_add_fetch(&sz__calls, 1, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&sz__countdown, __ATOMIC_SEQ_CST) > 0
           && __atomic_sub_fetch(&sz__countdown, 1, __ATOMIC_SEQ_CST) == 0;
}
#else
#define sz__should_fail() 0
#endif

void *sz__malloc(size_t size)
{
    void *p;
    if (sz__should_fail()) return NULL;
    p = malloc(size ? size : 1);
    sz__huge_hint(p, size);
    return p;
}

void *sz__calloc(size_t count, size_t size)
{
    void *p;
    if (sz__should_fail()) return NULL;
    if (count == 0 || size == 0) count = size = 1;
    p = calloc(count, size);
    /* count * size cannot overflow once calloc succeeded */
    sz__huge_hint(p, p ? count * size : 0);
    return p;
}

void *sz__realloc(void *ptr, size_t size)
{
    void *p;
    if (sz__should_fail()) return NULL;
    p = realloc(ptr, size ? size : 1);
    sz__huge_hint(p, size);
    return p;
}

void sz__free(void *ptr)
{
    free(ptr);
}

/* Asks for huge pages over a large allocation (every one the core makes,
 * through the three functions above, and the caller's output it writes):
 * such memory is fresh from mmap, written once, at random (tables,
 * scatters) or as a stream, so its pages are touched once each, and in a
 * VM every 4 KiB page fault costs about as much as writing the page
 * (measured: the shuffled redo's scratch took 38 k faults and most of a
 * call's system time).  Only a hint. */
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
