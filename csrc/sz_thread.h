/*
 * sz_thread.h -- the one thread the core ever starts, on any platform.
 *
 * parallel.c runs part 1 of a pass on a second thread; this is all it needs
 * of threads: start one, wait for it, and count the cores.  POSIX threads
 * where there are POSIX threads, Win32 threads on Windows (MSVC or
 * mingw-w64), none with -DSZ_NO_THREADS.  Not installed.
 */
#ifndef SZ_THREAD_H
#define SZ_THREAD_H

#if defined(SZ_NO_THREADS)
#define SZ_HAVE_THREADS 0
#elif defined(_WIN32)
#define SZ_HAVE_THREADS 1
#else
#define SZ_HAVE_THREADS 1
#include <pthread.h>
#endif

/* A started thread.  The caller owns it, and it must stay where it is
 * until sz__thread_join(): the new thread reads fn and arg through it. */
typedef struct sz_thread {
    void (*fn)(void *arg);
    void *arg;
#if SZ_HAVE_THREADS && defined(_WIN32)
    void *handle;  /* a HANDLE; void * keeps <windows.h> out of this header */
#elif SZ_HAVE_THREADS
    pthread_t id;
#endif
} sz_thread;

/* Starts fn(arg) on a new thread.  Returns 0 when it started (then
 * sz__thread_join(t) must follow), nonzero when no thread could be had
 * (always, without threads); fn has then not run. */
int sz__thread_start(sz_thread *t, void (*fn)(void *arg), void *arg);

/* Waits until the thread t runs fn to its end and releases it. */
void sz__thread_join(sz_thread *t);

/* How many processors this process can run on now (at least 1). */
int sz__cpu_count(void);

#endif /* SZ_THREAD_H */
