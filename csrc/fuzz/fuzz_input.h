/*
 * fuzz_input.h -- what the fuzz targets share: reading typed values off the
 * fuzzer's bytes (an exhausted input reads as zeros, so every byte string
 * is a valid input), and a failure that stops the fuzzer with a message.
 *
 * The targets and seeds.c (which writes the seed corpus) agree on each
 * target's layout through the readers here; the layouts are described at
 * the top of each target.
 */
#ifndef SZ_FUZZ_INPUT_H
#define SZ_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fz {
    const uint8_t *p;
    size_t n, at;
} fz;

static inline void fz_init(fz *f, const uint8_t *p, size_t n)
{
    f->p = p;
    f->n = n;
    f->at = 0;
}

static inline int fz_more(const fz *f) { return f->at < f->n; }

static inline uint8_t fz_u8(fz *f) { return f->at < f->n ? f->p[f->at++] : 0; }

static inline uint64_t fz_u64(fz *f)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < 8; i++) v |= (uint64_t)fz_u8(f) << (8 * i);
    return v;
}

/* A time: usually a small step from the previous one (sessions form), now
 * and then any int64 at all (the limits, NaT, overflow). */
static inline int64_t fz_time(fz *f, int64_t prev)
{
    uint8_t b = fz_u8(f);
    if (b >= 0xF0) return (int64_t)fz_u64(f);
    /* steps of -12 .. 51: mostly forward, sometimes back (out of order) */
    return (int64_t)((uint64_t)prev + (uint64_t)((int64_t)(b & 63) - 12));
}

/* A duration (gap, max, delay, lateness): small, or any value read whole. */
static inline int64_t fz_duration(fz *f)
{
    uint8_t b = fz_u8(f);
    if (b >= 0xF8) return (int64_t)fz_u64(f);
    return (int64_t)(b % 24);
}

#define FZ_FAIL(...)                                        \
    do {                                                    \
        fprintf(stderr, "fuzz check failed, line %d: ", __LINE__); \
        fprintf(stderr, __VA_ARGS__);                       \
        fprintf(stderr, "\n");                              \
        abort();                                            \
    } while (0)

#define FZ_CHECK(cond)                                      \
    do {                                                    \
        if (!(cond)) FZ_FAIL("%s", #cond);                  \
    } while (0)

#endif /* SZ_FUZZ_INPUT_H */
