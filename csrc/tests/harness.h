/*
 * harness.h -- what the C test binaries share: pass/fail counters and
 * groups, allocation that cannot fail quietly, a seeded PRNG, and the
 * doctoring of snapshots.  Each
 * test file defines its own check_() (how much it reports differs) and its
 * seed; everything here is static inline, so a binary compiles only what
 * it uses.
 */
#ifndef SZ_TEST_HARNESS_H
#define SZ_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sz_internal.h"  /* sz__hash_bytes, the snapshots' checksum */

static long n_pass, n_fail, grp_pass, grp_fail;
static const char *grp_name = "";
static char ctx[512];  /* what is being tested, printed with a failure */

static inline void group_begin(const char *name)
{
    grp_name = name;
    grp_pass = grp_fail = 0;
    ctx[0] = '\0';
}

static inline void group_end(const char *detail)
{
    printf("[%s] %ld ok, %ld failed%s%s\n", grp_name, grp_pass, grp_fail,
           detail && *detail ? "; " : "", detail ? detail : "");
    fflush(stdout);
}

static inline void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL) {
        printf("test harness: out of memory\n");
        exit(2);
    }
    return p;
}

static inline void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL) {
        printf("test harness: out of memory\n");
        exit(2);
    }
    return p;
}

static inline void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (p == NULL) {
        printf("test harness: out of memory\n");
        exit(2);
    }
    return p;
}

/* ---- PRNG: xorshift64; each file sets rng_state's start ---------------- */

static uint64_t rng_state;

static inline uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static inline size_t rndn(size_t n) { return n ? (size_t)(rnd() % n) : 0; }
static inline int coin(unsigned pct) { return rnd() % 100u < pct; }
static inline int64_t rndi(int64_t n) { return n > 0 ? (int64_t)(rnd() % (uint64_t)n) : 0; }

/* ---- doctoring snapshots (a forged one has its checksum re-sealed) ---- */

/* The offset of the last copy of the n bytes at pat in buf (len when
 * none), and in *copies how many there are: a doctoring test finds its
 * field so, and checks it found the one it meant. */
static inline size_t find_bytes(const unsigned char *buf, size_t len,
                                const void *pat, size_t n, size_t *copies)
{
    size_t i, at = len;
    *copies = 0;
    for (i = 0; i + n <= len; i++)
        if (memcmp(buf + i, pat, n) == 0) {
            at = i;
            ++*copies;
        }
    return at;
}

/* Writes v at buf + at and re-seals the checksum trailer. */
static inline void doctor_i64(unsigned char *buf, size_t len, size_t at, int64_t v)
{
    uint64_t sum;
    memcpy(buf + at, &v, 8);
    sum = sz__hash_bytes(buf, len - 8);
    memcpy(buf + len - 8, &sum, 8);
}

/* ---- checks: every failure reported, up to MAX_REPORTS in all ---------- */
/* (test_stream.c defines its own check_, which reports per group.) */

#ifdef SZ_TEST_SIMPLE_CHECK
#define MAX_REPORTS 40

static inline int check_(int ok, int line, const char *what)
{
    if (ok) {
        n_pass++;
        grp_pass++;
        return 1;
    }
    n_fail++;
    grp_fail++;
    if (n_fail <= MAX_REPORTS)
        printf("  FAIL [%s] line %d: %s  {%s}\n", grp_name, line, what, ctx);
    return 0;
}

#define CHECK(cond) check_((cond) != 0, __LINE__, #cond)
#endif

#endif /* SZ_TEST_HARNESS_H */
