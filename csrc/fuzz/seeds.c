/*
 * seeds.c -- writes the fuzz targets' seed corpus (csrc/fuzz/corpus/, kept
 * in the repository): `make -C csrc fuzz-seeds`.  Each seed is a small,
 * valid input in its target's layout (see the targets' header comments)
 * that reaches a distinct part of the core, so the fuzzer starts from
 * there instead of from nothing; the snapshot seeds are real snapshots of
 * streams holding state, of both formats.
 */
#include "../sessionize.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;

static void put(const char *target, const char *name, const unsigned char *p, size_t n)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

/* Events as (key, time step) pairs after a header. */
static size_t events(unsigned char *p, size_t at, int n, unsigned seed)
{
    int i;
    for (i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[at++] = (unsigned char)((seed >> 16) % 6);
        p[at++] = (unsigned char)(12 + (seed >> 8) % 20 - (i % 7 == 6 ? 10 : 0));
    }
    return at;
}

static void batch_seeds(void)
{
    /* flags: cap mode, inclusive, key kind, two threads */
    static const unsigned char flags[] = {0x03, 0x07, 0x01, 0x06, 0x12, 0x23, 0x47, 0x85};
    unsigned char p[512];
    size_t i;
    for (i = 0; i < sizeof flags; i++) {
        size_t n = 0;
        char name[32];
        p[n++] = flags[i];
        p[n++] = 8;   /* gap */
        p[n++] = 20;  /* max */
        n = events(p, n, 40 + (int)i * 10, (unsigned)i);
        snprintf(name, sizeof name, "seed%zu", i);
        put("batch", name, p, n);
    }
    {  /* a time at the limit: overflow with the gap */
        unsigned char q[] = {0x03, 5, 0, 1, 3, 2, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
        put("batch", "overflow", q, sizeof q);
    }
}

/* fuzz_gaps: (key, time step, gap selector) triples after a header of
 * flags, flags2, gap (ignored) and max; selectors mostly tiny gaps and
 * gaps to another event's time (windows that touch), now and then one
 * reaching INT64_MAX. */
static size_t gap_events(unsigned char *p, size_t at, int n, unsigned seed, int keys, int back)
{
    int i;
    for (i = 0; i < n; i++) {
        unsigned r;
        seed = seed * 1103515245u + 12345u;
        r = seed >> 8;
        p[at++] = (unsigned char)(r % (unsigned)keys);
        p[at++] = (unsigned char)(12 + (r >> 4) % 20 - (i % 7 == 6 ? back : 0));
        p[at++] = (unsigned char)((r >> 12) % 4 == 0 ? 0x80 + (r >> 14) % 96 : (r >> 14) % 24);
    }
    return at;
}

static void gaps_seeds(void)
{
    /* flags: cap mode, inclusive, key kind, two threads, one gap for all */
    static const unsigned char flags[] = {0x03, 0x07, 0x01, 0x06, 0x12, 0x23, 0x47, 0x85, 0xA7};
    unsigned char p[1024];
    size_t i, n;
    for (i = 0; i < sizeof flags; i++) {
        char name[32];
        n = 0;
        p[n++] = flags[i];
        p[n++] = (unsigned char)(i % 2);  /* flags2: the estimate off */
        p[n++] = (unsigned char)(i % 3);  /* gap: ignored */
        p[n++] = 20;                      /* max */
        n = gap_events(p, n, 30 + (int)i * 8, (unsigned)i + 100, 6, 10);
        snprintf(name, sizeof name, "seed%zu", i);
        put("gaps", name, p, n);
    }
    /* one key's 80 events, every seventh a step back, in one long session
     * (gaps of 2^12): over 32 out of order, so radix sorted */
    n = 0;
    p[n++] = 0x07;
    p[n++] = 0;
    p[n++] = 0;
    p[n++] = 100;
    n = gap_events(p, n, 80, 7u, 1, 12);
    for (i = 6; i < n; i += 3) p[i] = 0xF2;
    put("gaps", "sorted", p, n);
    {  /* the first bad element: a zero gap (event 1) before a NaT (event 2) */
        unsigned char q[] = {0x0B, 0, 1, 0, 0, 20, 3, 0, 12, 0xFE, 0, 0xF0, 0, 0, 0, 0, 0, 0,
                             0, 0x80, 5};
        put("gaps", "bad-gap", q, sizeof q);
    }
    {  /* event 1 a NaT with a zero gap: the NaT is its error */
        unsigned char q[] = {0x0B, 0, 1, 0, 0, 20, 3, 0, 0xF0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xFE,
                             0, 20, 5};
        put("gaps", "nat-and-gap", q, sizeof q);
    }
    {  /* windows up to INT64_MAX exactly (the coarse gap lowered); then
        * the last one past it: an overflow */
        unsigned char q[] = {0x03, 0, 5, 0, 0, 0xF0, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                             0x7F, 0xE0, 0, 12, 0xE1, 1, 14, 0x83, 1, 20, 4};
        put("gaps", "reach-max", q, sizeof q);
        q[sizeof q - 1] = 0xEF;
        put("gaps", "overflow", q, sizeof q);
    }
    {  /* dense codes, n_codes 4: key 5 out of range */
        unsigned char q[] = {0x21, 0x12, 1, 30, 0, 20, 3, 2, 20, 4, 5, 20, 5, 1, 20, 6};
        put("gaps", "key-range", q, sizeof q);
    }
}

static void stream_seeds(void)
{
    static const unsigned char flags[] = {0x03, 0x13, 0x21, 0x36, 0x42, 0x97};
    unsigned char p[512];
    size_t i;
    for (i = 0; i < sizeof flags; i++) {
        size_t n = 0;
        int r;
        char name[32];
        p[n++] = flags[i];
        p[n++] = 6;   /* gap */
        p[n++] = 15;  /* max */
        p[n++] = (unsigned char)(i % 3 * 4);  /* delay */
        p[n++] = (unsigned char)(i % 2 * 5);  /* allowed lateness */
        for (r = 0; r < 6; r++) {
            p[n++] = (unsigned char)(7 << 3);  /* push 8 events */
            n = events(p, n, 8, (unsigned)(i * 7 + r));
            if (r == 2) p[n++] = 5;                         /* snapshot, restore */
            if (r == 3) { p[n++] = 4; p[n++] = 40; }        /* advance */
            if (r == 4) { p[n++] = 7 | (2 << 3); p[n++] = 0; n = events(p, n, 1, 9); }
        }
        p[n++] = 6;  /* flush */
        snprintf(name, sizeof name, "seed%zu", i);
        put("stream", name, p, n);
    }
}

/* fuzz_stream on per-event streams: (key, time step, gap selector)
 * triples; selectors mostly in range (small, near the bound of 6, the
 * bound), one chunk with a zero gap (SZ_ERR_GAP, nothing applied). */
static size_t gap_stream_events(unsigned char *p, size_t at, int n, unsigned seed)
{
    static const unsigned char sel[] = {0x00, 0x03, 0x05, 0x81, 0x83, 0xC0};
    int i;
    for (i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[at++] = (unsigned char)((seed >> 16) % 6);
        p[at++] = (unsigned char)(12 + (seed >> 8) % 20 - (i % 7 == 6 ? 10 : 0));
        p[at++] = sel[(seed >> 20) % sizeof sel];
    }
    return at;
}

static void stream_gaps_seeds(void)
{
    /* caps (none, restart, fixed), inclusive, update, values, stop_at_late */
    static const unsigned char flags[] = {0x07, 0x13, 0x21, 0x36, 0x42, 0x95};
    unsigned char p[1024];
    size_t i;
    for (i = 0; i < sizeof flags; i++) {
        size_t n = 0;
        int r;
        char name[32];
        p[n++] = flags[i];
        p[n++] = (unsigned char)(0x80 | (i == 4));  /* per-event; seed 4 all at the bound */
        p[n++] = 6;   /* gap: the bound */
        p[n++] = 15;  /* max */
        p[n++] = (unsigned char)(i % 3 * 4);  /* delay */
        p[n++] = (unsigned char)(i % 2 * 5);  /* allowed lateness */
        for (r = 0; r < 6; r++) {
            p[n++] = (unsigned char)(7 << 3);  /* push 8 events */
            n = gap_stream_events(p, n, 8, (unsigned)(i * 7 + r));
            if (r == 1) {  /* a zero gap: the call fails whole */
                p[n++] = 3 << 3;
                n = gap_stream_events(p, n, 4, 5);
                p[n - 4] = 0xFE;
            }
            if (r == 2) p[n++] = 5;                         /* snapshot, restore */
            if (r == 3) { p[n++] = 4; p[n++] = 40; }        /* advance */
            if (r == 4) {  /* a failure, in a push without gaps */
                p[n++] = 7 | (2 << 3);
                p[n++] = 0x83;
                n = events(p, n, 1, 9);
            }
            if (r == 5) { p[n++] = 4 | 8 | (2 << 4); p[n++] = 30; }  /* key 2 alone */
        }
        p[n++] = 6;  /* flush */
        snprintf(name, sizeof name, "gaps%zu", i);
        put("stream", name, p, n);
    }
}

/* fuzz_ctr_stream: every kind in turn, with and without times. */
static void ctr_stream_seeds(void)
{
    static const unsigned char flags[] = {0x00, 0x01, 0x03, 0x05, 0x09, 0x0C};
    unsigned char p[1024];
    size_t i;
    for (i = 0; i < sizeof flags; i++) {
        size_t n = 0;
        int r, e;
        char name[32];
        p[n++] = flags[i];
        p[n++] = 6;                             /* gap */
        p[n++] = (unsigned char)(i % 3 * 4);    /* delay */
        for (r = 0; r < 6; r++) {
            p[n++] = (unsigned char)(7 << 3);  /* push 8 events */
            for (e = 0; e < 8; e++) {
                unsigned v = (unsigned)(i * 7 + r) * 8 + (unsigned)e;
                p[n++] = (unsigned char)(v * 5 % 3 | (v % 2) << 4);  /* key, namespace */
                p[n++] = (unsigned char)(v * 7 % 6);                  /* kind */
                if (flags[i] & 1) p[n++] = (unsigned char)(12 + v * 11 % 9);  /* time step */
            }
            if (r == 2) p[n++] = 5;                      /* snapshot, restore */
            if (r == 3) { p[n++] = 4; p[n++] = 40; }     /* advance */
            if (r == 4) p[n++] = 7 | (2 << 3);           /* the next push: a failure */
        }
        p[n++] = 6;  /* flush */
        snprintf(name, sizeof name, "seed%zu", i);
        put("ctr_stream", name, p, n);
    }
}

static void snapshot_seeds(void)
{
    unsigned char *buf;
    size_t len, nd, ep, i;
    uint64_t keys[12], h[12];
    int64_t t[12];
    uint8_t kinds[12];
    int c;
    for (i = 0; i < 12; i++) {
        keys[i] = i % 3;
        h[i] = i;
        t[i] = (int64_t)(i * 4 + (i % 5 == 4 ? -9 : 0));
        kinds[i] = (uint8_t)(i % 6);
    }
    for (c = 0; c < 4; c++) {  /* sz_stream: caps, values, update mode */
        sz_stream_config cfg;
        sz_stream *s = NULL;
        char name[32];
        memset(&cfg, 0, sizeof cfg);
        cfg.session.gap = 5;
        cfg.session.cap_mode = c % 3;
        cfg.session.max_duration = 12;
        cfg.session.inclusive = c & 1;
        cfg.delay = 6;
        cfg.allowed_lateness = c == 3 ? 4 : 0;
        cfg.emit = c >= 2 ? SZ_EMIT_UPDATE : SZ_EMIT_FINAL;
        cfg.keep_values = c & 1;
        if (sz_stream_new(&cfg, &s) != SZ_OK
            || sz_stream_push(s, keys, NULL, t, h, 12, 0, &nd, &ep) != SZ_OK)
            exit(1);
        len = sz_stream_snapshot_size(s);
        buf = (unsigned char *)malloc(len + 1);
        buf[0] = 0;  /* flags: keep the checksum as it is */
        sz_stream_snapshot(s, buf + 1, len);
        snprintf(name, sizeof name, "stream%d", c);
        put("snapshot", name, buf, len + 1);
        free(buf);
        sz_stream_free(s);
    }
    {  /* a stream with per-event gaps: version 2, a reach per event */
        sz_stream_config cfg;
        sz_stream *s = NULL;
        int64_t g[12];
        memset(&cfg, 0, sizeof cfg);
        cfg.session.gap = 5;
        cfg.session.cap_mode = SZ_CAP_FIXED;
        cfg.session.max_duration = 12;
        cfg.session.inclusive = 1;
        cfg.delay = 6;
        cfg.keep_values = 1;
        cfg.per_event_gaps = 1;
        for (i = 0; i < 12; i++) g[i] = (int64_t)(1 + i % 5);
        if (sz_stream_new(&cfg, &s) != SZ_OK
            || sz_stream_push_gaps(s, keys, NULL, t, g, h, 12, 0, &nd, &ep) != SZ_OK)
            exit(1);
        len = sz_stream_snapshot_size(s);
        buf = (unsigned char *)malloc(len + 1);
        buf[0] = 0;
        sz_stream_snapshot(s, buf + 1, len);
        put("snapshot", "stream-gaps", buf, len + 1);
        free(buf);
        sz_stream_free(s);
    }
    for (c = 0; c < 2; c++) {  /* sz_ctr_stream: with and without times */
        sz_ctr_stream_config cfg;
        sz_ctr_stream *s = NULL;
        char name[32];
        memset(&cfg, 0, sizeof cfg);
        cfg.times = c;
        cfg.gap = c ? 10 : 0;
        cfg.delay = c ? 3 : 0;
        if (sz_ctr_stream_new(&cfg, &s) != SZ_OK
            || sz_ctr_stream_push(s, keys, NULL, kinds, c ? t : NULL, 12, 0, &nd, &ep)
                   != SZ_OK)
            exit(1);
        len = sz_ctr_stream_snapshot_size(s);
        buf = (unsigned char *)malloc(len + 1);
        buf[0] = 1;  /* flags: fix the checksum after mutation */
        sz_ctr_stream_snapshot(s, buf + 1, len);
        snprintf(name, sizeof name, "ctr%d", c);
        put("snapshot", name, buf, len + 1);
        free(buf);
        sz_ctr_stream_free(s);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: seeds CORPUS_DIR\n");
        return 2;
    }
    dir = argv[1];
    batch_seeds();
    gaps_seeds();
    stream_seeds();
    stream_gaps_seeds();
    ctr_stream_seeds();
    snapshot_seeds();
    return 0;
}
