/*
 * parallel.c -- running a pass as two parts at once.
 *
 * The machine this library is measured on has two cores, and its passes
 * over large arrays are bound by memory latency and page faults, which a
 * second core doubles.  So a pass can be cut in two parts: part 1 runs on a
 * new thread while part 0 runs on the caller's, and the call returns when
 * both are done.  Parts must not allocate through the core's allocator's
 * failure injection at the same time in test builds (see alloc.c), write
 * the same cache lines, or depend on each other; every caller arranges
 * that.  Where threads are unavailable (built with -DSZ_NO_THREADS, or
 * creating one fails) part 1 simply runs after part 0, on the caller's
 * thread: threads only change how fast a result comes, never what it is.
 * The thread itself comes from thread.c (POSIX or Win32).
 */
#include "sz_internal.h"
#include "sz_thread.h"

/* Below this many events a second thread costs more than it saves (its
 * start is tens of microseconds; a pass over 2^18 events, about a
 * millisecond). */
#define SZ_PARALLEL_MIN ((size_t)1 << 18)

static int sz__max_threads = 0;  /* 0: not set, use the cores (at most 2) */

void sz_set_threads(int n) { sz__max_threads = n < 0 ? 0 : n; }

#if SZ_HAVE_THREADS
static size_t sz__parallel_min = SZ_PARALLEL_MIN;
#endif

int sz__threads_for(size_t n)
{
#if SZ_HAVE_THREADS
    if (n < sz__parallel_min || sz__max_threads == 1) return 1;
    if (sz__max_threads >= 2) return 2;
    return sz__cpu_count() >= 2 ? 2 : 1;
#else
    (void)n;
    return 1;
#endif
}

#ifdef SZ_TESTING
void sz_test_parallel_min(size_t n)
{
#if SZ_HAVE_THREADS
    sz__parallel_min = n ? n : SZ_PARALLEL_MIN;
#else
    (void)n;
#endif
}
#endif

#if SZ_HAVE_THREADS
typedef struct sz_part_call {
    sz_part_fn fn;
    void *arg;
} sz_part_call;

static void sz__part1_main(void *p)
{
    const sz_part_call *c = (const sz_part_call *)p;
    c->fn(c->arg, 1);
}
#endif

void sz__run_parts(sz_part_fn fn, void *arg, int parts)
{
#if SZ_HAVE_THREADS
    if (parts >= 2) {
        sz_part_call c;
        sz_thread th;
        c.fn = fn;
        c.arg = arg;
        if (sz__thread_start(&th, sz__part1_main, &c) == 0) {
            fn(arg, 0);
            sz__thread_join(&th);
            return;
        }
    }
#endif
    fn(arg, 0);
    if (parts >= 2) fn(arg, 1);
}
