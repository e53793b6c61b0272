/*
 * alloc.c -- the core's only door to the heap.
 *
 * SQLite's lesson: out-of-memory paths are only correct if they are run.
 * Test builds (-DSZ_TESTING) can make the n-th allocation fail so the C
 * tests walk every failure point of an operation.
 */
/* madvise() and MADV_HUGEPAGE are not C11: ask for them (before any
 * system header).  Without it -std=c11 hides them and the hint is lost. */
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
 * (their inputs are below the parallel threshold).
 *
 * GNU C's __atomic builtins (gcc, clang, mingw-w64), MSVC's Interlocked
 * intrinsics (MSVC has <stdatomic.h> only behind a flag), else C11's
 * <stdatomic.h>.  sz__add returns the new value; all are sequentially
 * consistent. */
#if defined(__GNUC__) || defined(__clang__)
typedef long sz__counter;
#define sz__xchg(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define sz__load(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define sz__add(p, d) __atomic_add_fetch((p), (d), __ATOMIC_SEQ_CST)
#elif defined(_MSC_VER)  /* <intrin.h> comes with sz_internal.h */
typedef long volatile sz__counter;
#define sz__xchg(p, v) _InterlockedExchange((p), (v))
#define sz__load(p) _InterlockedCompareExchange((p), 0, 0)
#define sz__add(p, d) (_InterlockedExchangeAdd((p), (d)) + (d))
#elif !defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
typedef _Atomic long sz__counter;
#define sz__xchg(p, v) atomic_exchange((p), (v))
#define sz__load(p) atomic_load(p)
#define sz__add(p, d) (atomic_fetch_add((p), (d)) + (d))
#else
#error "SZ_TESTING needs atomics: GNU C, MSVC or C11 <stdatomic.h>"
#endif

static sz__counter sz__countdown = 0;  /* <= 0: off; k > 0: the k-th call fails */
static sz__counter sz__calls = 0;

long sz_test_fail_after(long n)
{
    long made = sz__xchg(&sz__calls, 0);
    (void)sz__xchg(&sz__countdown, n > 0 ? n : 0);
    return made;
}

static int sz__should_fail(void)
{
    (void)sz__add(&sz__calls, 1);
    return sz__load(&sz__countdown) > 0 && sz__add(&sz__countdown, -1) == 0;
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
