/*
 * bench_stream.c -- how fast the streams take a realistic log (`make
 * bench-stream`; not a test).
 *
 * 10 M events of 1 M users, made here as sessionize.synthetic.clickstream
 * makes its "log" order (benchmarks/clickstream.py), with its own
 * deterministic generator: events per user heavy-tailed (Pareto 1.5, at
 * least one each), a user's first event somewhere in the first week, then
 * gaps of 40 s on average (exponential, in-session clicks) or, one in ten,
 * between 35 minutes and 2 days (log-uniform, a new visit); every event in
 * time order, users interleaved.  With a gap of 30 minutes that is about
 * 1.9 M sessions, and the streams hold up to 1 M keys at once: their due
 * heaps and key tables do not fit in the L2 cache.
 *
 * Reports M events/s for sz_stream_push (gap 30 minutes, inclusive, delay
 * 5 s) and sz_ctr_stream_push (the same gap and delay; a visit's first
 * event an APP_OPEN, the others searches, results, clicks and a few
 * closes), each pushed in chunks of 100 k and of 1 k events with the output
 * read after every chunk, then flushed.  Best of 3 runs each.
 */
#define _POSIX_C_SOURCE 199309L
#include "../sessionize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_EVENTS 10000000
#define N_USERS 1000000
#define GAP 1800000       /* ms: 30 minutes */
#define DELAY 5000        /* ms */
#define START_MS 1790870400000LL

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

/* Uniform in (0, 1]: never 0, so logs and negative powers are finite. */
static double unif(void)
{
    return ((double)(rnd() >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

static void die(const char *what, sz_status st)
{
    fprintf(stderr, "bench_stream: %s: %s\n", what, sz_strerror(st));
    exit(1);
}

/* Stable LSD radix sort of (t[i], user[i]) by t (>= 0), 11 bits a pass:
 * ties stay in generation order, so the log is the same on every run. */
static void sort_by_time(int64_t *t, uint32_t *user, size_t n)
{
    int64_t *t2 = (int64_t *)malloc(n * sizeof *t2), *ts = t, *td = t2;
    uint32_t *u2 = (uint32_t *)malloc(n * sizeof *u2), *us = user, *ud = u2;
    int64_t max = 0;
    unsigned shift;
    size_t i;
    if (!t2 || !u2) exit(2);
    for (i = 0; i < n; i++)
        if (t[i] > max) max = t[i];
    for (shift = 0; shift < 64 && (max >> shift) != 0; shift += 11) {
        static size_t count[1u << 11];
        size_t sum = 0;
        memset(count, 0, sizeof count);
        for (i = 0; i < n; i++) count[(ts[i] >> shift) & 2047]++;
        for (i = 0; i < 2048; i++) {
            size_t c = count[i];
            count[i] = sum;
            sum += c;
        }
        for (i = 0; i < n; i++) {
            size_t at = count[(ts[i] >> shift) & 2047]++;
            td[at] = ts[i];
            ud[at] = us[i];
        }
        { int64_t *x = ts; ts = td; td = x; }
        { uint32_t *x = us; us = ud; ud = x; }
    }
    if (ts != t) {
        memcpy(t, ts, n * sizeof *t);
        memcpy(user, us, n * sizeof *user);
    }
    free(t2);
    free(u2);
}

/* The log: keys[i] (user ids 0 .. N_USERS - 1), times[i] (increasing) and
 * kinds[i] for the CTR stream. */
static void make_log(uint64_t *keys, int64_t *times, uint8_t *kinds)
{
    double *w = (double *)malloc(N_USERS * sizeof *w), sum = 0;
    size_t *count = (size_t *)malloc(N_USERS * sizeof *count);
    uint32_t *user = (uint32_t *)malloc(N_EVENTS * sizeof *user);
    uint8_t *visit = (uint8_t *)malloc(N_EVENTS);
    size_t u, i, e = 0, total = 0;
    if (!w || !count || !user || !visit) exit(2);
    for (u = 0; u < N_USERS; u++) {
        w[u] = pow(unif(), -1.0 / 1.5);  /* numpy's pareto(1.5) + 1 */
        sum += w[u];
    }
    for (u = 0; u < N_USERS; u++) {
        count[u] = (size_t)floor(w[u] / sum * N_EVENTS);
        if (count[u] < 1) count[u] = 1;
        total += count[u];
    }
    while (total < N_EVENTS) {  /* the rounding's shortfall, to random users */
        count[rnd() % N_USERS]++;
        total++;
    }
    for (u = 0; total > N_EVENTS; u = (u + 1) % N_USERS)  /* a surplus */
        if (count[u] > 1) {
            count[u]--;
            total--;
        }
    /* each user's times, relative to the start; the tag in the low bits of
     * `visit` marks the events that start a visit */
    for (u = 0; u < N_USERS; u++) {
        int64_t t = (int64_t)(rnd() % (7 * 86400000ULL));
        size_t j;
        for (j = 0; j < count[u]; j++, e++) {
            int new_visit = j == 0;
            if (j > 0) {
                if (rnd() % 10 == 0) {
                    double lo = log(35 * 60e3), hi = log(2 * 86400e3);
                    t += (int64_t)exp(lo + (hi - lo) * unif());
                    new_visit = 1;
                } else {
                    t += (int64_t)(-40e3 * log(unif()));
                }
            }
            times[e] = t;
            user[e] = (uint32_t)u;
            visit[e] = (uint8_t)new_visit;
        }
    }
    /* the visit marks go along with the sort through the user array's top
     * bit (N_USERS < 2^31) */
    for (i = 0; i < N_EVENTS; i++) user[i] |= (uint32_t)visit[i] << 31;
    sort_by_time(times, user, N_EVENTS);
    for (i = 0; i < N_EVENTS; i++) {
        unsigned r = (unsigned)(rnd() % 100);
        keys[i] = user[i] & 0x7fffffffu;
        times[i] += START_MS;
        if (user[i] >> 31)
            kinds[i] = SZ_APP_OPEN;
        else
            kinds[i] = r < 30 ? SZ_SEARCH : r < 55 ? SZ_RESULTS : r < 96 ? SZ_CLICK
                                                                          : SZ_APP_CLOSE;
    }
    free(w);
    free(count);
    free(user);
    free(visit);
}

/* One sz_stream over the log in chunks; returns the seconds taken and
 * counts the sessions emitted. */
static double run_stream(const uint64_t *keys, const int64_t *times, size_t chunk,
                         size_t *sessions)
{
    sz_stream_config c;
    sz_stream *s = NULL;
    const sz_stream_out *o;
    size_t at, n_out, i, done, ep;
    double t0;
    sz_status st;
    memset(&c, 0, sizeof c);
    c.session.gap = GAP;
    c.session.inclusive = 1;
    c.delay = DELAY;
    *sessions = 0;
    t0 = now();
    st = sz_stream_new(&c, &s);
    if (st != SZ_OK) die("stream_new", st);
    for (at = 0; at <= N_EVENTS; at += chunk) {
        if (at == N_EVENTS) {
            st = sz_stream_flush(s);
        } else {
            size_t len = N_EVENTS - at < chunk ? N_EVENTS - at : chunk;
            st = sz_stream_push(s, keys + at, NULL, times + at, NULL, len, 0, &done, &ep);
        }
        if (st != SZ_OK) die("stream_push", st);
        o = sz_stream_output(s, &n_out, NULL, NULL);
        for (i = 0; i < n_out; i++) *sessions += o[i].kind == SZ_OUT_SESSION;
        if (at == N_EVENTS) break;
    }
    t0 = now() - t0;
    sz_stream_free(s);
    return t0;
}

/* The same for sz_ctr_stream; counts the rows (searches) emitted. */
static double run_ctr(const uint64_t *keys, const int64_t *times, const uint8_t *kinds,
                      size_t chunk, size_t *rows, uint64_t *sessions)
{
    sz_ctr_stream_config c;
    sz_ctr_stream_stats stats;
    sz_ctr_stream *s = NULL;
    const sz_ctr_stream_out *o;
    size_t at, n_out, i, done, ep;
    double t0;
    sz_status st;
    memset(&c, 0, sizeof c);
    c.gap = GAP;
    c.inclusive = 1;
    c.times = 1;
    c.delay = DELAY;
    *rows = 0;
    t0 = now();
    st = sz_ctr_stream_new(&c, &s);
    if (st != SZ_OK) die("ctr_stream_new", st);
    for (at = 0; at <= N_EVENTS; at += chunk) {
        if (at == N_EVENTS) {
            st = sz_ctr_stream_flush(s);
        } else {
            size_t len = N_EVENTS - at < chunk ? N_EVENTS - at : chunk;
            st = sz_ctr_stream_push(s, keys + at, NULL, kinds + at, times + at, len, 0,
                                    &done, &ep);
        }
        if (st != SZ_OK) die("ctr_stream_push", st);
        o = sz_ctr_stream_output(s, &n_out);
        for (i = 0; i < n_out; i++) *rows += o[i].kind == SZ_CTR_OUT_ROW;
        if (at == N_EVENTS) break;
    }
    t0 = now() - t0;
    sz_ctr_stream_stats_get(s, &stats);
    *sessions = stats.sessions;
    sz_ctr_stream_free(s);
    return t0;
}

int main(void)
{
    static const size_t chunks[2] = {100000, 1000};
    uint64_t *keys = (uint64_t *)malloc(N_EVENTS * sizeof *keys);
    int64_t *times = (int64_t *)malloc(N_EVENTS * sizeof *times);
    uint8_t *kinds = (uint8_t *)malloc(N_EVENTS);
    double best[2][2] = {{1e9, 1e9}, {1e9, 1e9}};
    size_t sessions[2] = {0, 0}, rows[2] = {0, 0};
    uint64_t ctr_sessions[2] = {0, 0};
    int rep, c;
    if (!keys || !times || !kinds) return 2;
    make_log(keys, times, kinds);
    for (rep = 0; rep < 3; rep++)
        for (c = 0; c < 2; c++) {
            double t = run_stream(keys, times, chunks[c], &sessions[c]);
            if (t < best[0][c]) best[0][c] = t;
            t = run_ctr(keys, times, kinds, chunks[c], &rows[c], &ctr_sessions[c]);
            if (t < best[1][c]) best[1][c] = t;
        }
    if (sessions[0] != sessions[1] || rows[0] != rows[1]
        || ctr_sessions[0] != ctr_sessions[1]) {
        fprintf(stderr, "bench_stream: chunk sizes disagree\n");
        return 1;
    }
    printf("%d events of %d users in time order (log), gap %d ms, delay %d ms; "
           "best of 3\n", N_EVENTS, N_USERS, GAP, DELAY);
    printf("  sz_stream      %zu sessions\n", sessions[0]);
    for (c = 0; c < 2; c++)
        printf("    chunks of %6zu  %7.2f M events/s\n", chunks[c],
               N_EVENTS / best[0][c] / 1e6);
    printf("  sz_ctr_stream  %llu sessions, %zu searches\n",
           (unsigned long long)ctr_sessions[0], rows[0]);
    for (c = 0; c < 2; c++)
        printf("    chunks of %6zu  %7.2f M events/s\n", chunks[c],
               N_EVENTS / best[1][c] / 1e6);
    free(keys);
    free(times);
    free(kinds);
    return 0;
}
