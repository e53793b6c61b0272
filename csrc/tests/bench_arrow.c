/*
 * bench_arrow.c -- how fast Arrow keys become SZ_KEYS_DENSE codes (`make
 * bench-arrow`; not a test).
 *
 * 10 M events of 1 M users `user-%07d` (utf8, 12 bytes), in a log's order:
 * each event's user drawn at random, so every user appears about 10 times
 * spread over the whole sequence and consecutive events are of different
 * users (the worst case for the table: 1 M keys do not fit in cache).  Times
 * increase (a log), so sz_batch_assign takes its ordered path.
 *
 * Reports M events/s for: the factorizer alone (one chunk, and chunks of
 * 64 Ki rows), the factorizer then sz_batch_assign(SZ_KEYS_DENSE), and
 * sz_batch_assign(SZ_KEYS_INT64) on the users' integer ids (the baseline:
 * what a caller with integer keys pays).  Best of 3 runs each.
 */
#define _POSIX_C_SOURCE 199309L
#include "../sessionize.h"
#include "../vendor/nanoarrow/nanoarrow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_EVENTS 10000000
#define N_USERS 1000000
#define CHUNK 65536

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void no_release(struct ArrowArray *a) { a->release = NULL; }

static void die(const char *what, sz_status st)
{
    fprintf(stderr, "bench_arrow: %s: %s\n", what, sz_strerror(st));
    exit(1);
}

/* Factorizes the n rows from `from` in chunks of `chunk` rows (slices of
 * one utf8 array); returns the seconds taken. */
static double factorize(const struct ArrowSchema *schema, struct ArrowArray *arr,
                        int64_t *codes, size_t chunk, size_t *n_keys)
{
    sz_arrow_keys *f = NULL;
    double t0 = now();
    size_t at;
    sz_status st = sz_arrow_keys_new(&f, schema);
    if (st != SZ_OK) die("keys_new", st);
    for (at = 0; at < N_EVENTS; at += chunk) {
        struct ArrowArray part = *arr;
        size_t len = N_EVENTS - at < chunk ? N_EVENTS - at : chunk;
        part.offset = (int64_t)at;
        part.length = (int64_t)len;
        st = sz_arrow_keys_add(f, &part, codes + at, NULL);
        if (st != SZ_OK) die("keys_add", st);
    }
    *n_keys = sz_arrow_keys_count(f);
    sz_arrow_keys_free(f);
    return now() - t0;
}

int main(void)
{
    int32_t *offsets = (int32_t *)malloc((N_EVENTS + 1) * sizeof *offsets);
    char *data = (char *)malloc((size_t)N_EVENTS * 12 + 16);
    int64_t *user = (int64_t *)malloc(N_EVENTS * sizeof *user);
    int64_t *times = (int64_t *)malloc(N_EVENTS * sizeof *times);
    int64_t *codes = (int64_t *)malloc(N_EVENTS * sizeof *codes);
    int64_t *ids = (int64_t *)malloc(N_EVENTS * sizeof *ids);
    int64_t *ids2 = (int64_t *)malloc(N_EVENTS * sizeof *ids2);
    const void *bufs[3];
    struct ArrowArray arr;
    struct ArrowSchema schema;
    sz_params p;
    double best[4] = {1e9, 1e9, 1e9, 1e9};
    size_t i, n_keys = 0, S1 = 0, S2 = 0;
    int rep;

    if (!offsets || !data || !user || !times || !codes || !ids || !ids2) return 2;
    offsets[0] = 0;
    for (i = 0; i < N_EVENTS; i++) {
        char tmp[16];
        user[i] = (int64_t)(rnd() % N_USERS);
        times[i] = (int64_t)i * 10;  /* a log: increasing */
        snprintf(tmp, sizeof tmp, "user-%07d", (int)user[i]);
        memcpy(data + (size_t)i * 12, tmp, 12);
        offsets[i + 1] = (int32_t)((i + 1) * 12);
    }
    bufs[0] = NULL;
    bufs[1] = offsets;
    bufs[2] = data;
    memset(&arr, 0, sizeof arr);
    arr.length = N_EVENTS;
    arr.n_buffers = 3;
    arr.buffers = bufs;
    arr.release = no_release;
    if (ArrowSchemaInitFromType(&schema, NANOARROW_TYPE_STRING) != NANOARROW_OK) return 2;

    memset(&p, 0, sizeof p);
    p.gap = 5000000;  /* about half a user's gaps (10 events x 1 M apart) */
    p.inclusive = 1;

    for (rep = 0; rep < 3; rep++) {
        double t, t0;
        sz_keys k;
        sz_status st;
        t = factorize(&schema, &arr, codes, N_EVENTS, &n_keys);
        if (t < best[0]) best[0] = t;
        t = factorize(&schema, &arr, codes, CHUNK, &n_keys);
        if (t < best[1]) best[1] = t;

        t0 = now();
        t = factorize(&schema, &arr, codes, N_EVENTS, &n_keys);
        k.kind = SZ_KEYS_DENSE;
        k.data = codes;
        k.width = 0;
        k.n_codes = n_keys;
        st = sz_batch_assign(NULL, &k, times, N_EVENTS, &p, ids, &S1, NULL);
        if (st != SZ_OK) die("assign dense", st);
        t = now() - t0;
        if (t < best[2]) best[2] = t;

        t0 = now();
        k.kind = SZ_KEYS_INT64;
        k.data = user;
        k.n_codes = 0;
        st = sz_batch_assign(NULL, &k, times, N_EVENTS, &p, ids2, &S2, NULL);
        if (st != SZ_OK) die("assign int64", st);
        t = now() - t0;
        if (t < best[3]) best[3] = t;
    }
    if (S1 != S2 || memcmp(ids, ids2, N_EVENTS * sizeof *ids) != 0) {
        fprintf(stderr, "bench_arrow: dense and int64 session ids differ\n");
        return 1;
    }
    printf("%d events, %zu distinct utf8 keys (12 bytes), users at random "
           "(log order), %zu sessions; best of 3\n", N_EVENTS, n_keys, S1);
    printf("  factorize, one chunk                 %7.1f M events/s\n", N_EVENTS / best[0] / 1e6);
    printf("  factorize, chunks of %d           %7.1f M events/s\n", CHUNK, N_EVENTS / best[1] / 1e6);
    printf("  factorize + assign(SZ_KEYS_DENSE)    %7.1f M events/s\n", N_EVENTS / best[2] / 1e6);
    printf("  assign(SZ_KEYS_INT64) on user ids    %7.1f M events/s  (baseline)\n",
           N_EVENTS / best[3] / 1e6);
    schema.release(&schema);
    free(offsets);
    free(data);
    free(user);
    free(times);
    free(codes);
    free(ids);
    free(ids2);
    return 0;
}
