/*
 * thread.c -- sz_thread.h on POSIX threads or Win32 threads.
 *
 * Kept apart from parallel.c so the platform's headers and calls stay in
 * one small file, and parallel.c says only what runs where.
 */
#if !defined(_WIN32)
#define _DEFAULT_SOURCE  /* sysconf(_SC_NPROCESSORS_ONLN) is not C11 */
#endif

#include "sz_thread.h"

#include <stddef.h>
#include <stdint.h>

#if SZ_HAVE_THREADS && defined(_WIN32)

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <process.h>

/* _beginthreadex rather than CreateThread: fn allocates through the C
 * runtime (malloc), and _beginthreadex is the documented way to start a
 * thread that uses it (with a static CRT, CreateThread's threads leaked
 * the CRT's per-thread data).  Its handle is waited on and closed as
 * CreateThread's is. */
static unsigned __stdcall sz__thread_main(void *p)
{
    sz_thread *t = (sz_thread *)p;
    t->fn(t->arg);
    return 0;
}

int sz__thread_start(sz_thread *t, void (*fn)(void *arg), void *arg)
{
    uintptr_t h;
    t->fn = fn;
    t->arg = arg;
    h = _beginthreadex(NULL, 0, sz__thread_main, t, 0, NULL);
    if (h == 0) return 1;
    t->handle = (void *)h;
    return 0;
}

void sz__thread_join(sz_thread *t)
{
    WaitForSingleObject((HANDLE)t->handle, INFINITE);
    CloseHandle((HANDLE)t->handle);
}

/* The processors of this process's group: a process starts in one group
 * of at most 64, and two is all that is asked of it. */
int sz__cpu_count(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwNumberOfProcessors >= 1 ? (int)si.dwNumberOfProcessors : 1;
}

#elif SZ_HAVE_THREADS

#include <unistd.h>

static void *sz__thread_main(void *p)
{
    sz_thread *t = (sz_thread *)p;
    t->fn(t->arg);
    return NULL;
}

int sz__thread_start(sz_thread *t, void (*fn)(void *arg), void *arg)
{
    t->fn = fn;
    t->arg = arg;
    return pthread_create(&t->id, NULL, sz__thread_main, t) != 0;
}

void sz__thread_join(sz_thread *t)
{
    (void)pthread_join(t->id, NULL);
}

int sz__cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);  /* -1 when unknown */
    if (n < 1) return 1;
    return n > 4096 ? 4096 : (int)n;
}

#else /* no threads */

int sz__thread_start(sz_thread *t, void (*fn)(void *arg), void *arg)
{
    t->fn = fn;
    t->arg = arg;
    return 1;
}

void sz__thread_join(sz_thread *t)
{
    (void)t;
}

int sz__cpu_count(void)
{
    return 1;
}

#endif
