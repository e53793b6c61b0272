/*
 * estimate.c -- about how many distinct keys an input has.
 *
 * The hashed passes (batch.c, ctr.c) size their table from this, so it is
 * allocated once at its final size instead of doubling its way there: each
 * doubling rehashes every key into memory never touched, a sixth of the
 * time at a million keys, several times what the estimate costs.  Only a
 * table's size depends on it, never a result.
 *
 * A HyperLogLog sketch: 2^12 one-byte registers (about 1.6% error), the
 * register chosen by the hash's top bits, its value the rank of the first
 * set bit below them; linear counting for small cardinalities.
 *
 * And the span of int64 keys: when their values lie in a narrow range (a
 * user id from a database sequence, say), batch.c indexes its table by
 * key - smallest instead of hashing, which needs no estimate.
 */
#include "sz_internal.h"

#define SZ_HLL_BITS 12
#define SZ_EST_CHUNK 4096  /* positions listed, then hashed, at a time */

#ifdef SZ_TESTING
/* Test builds can turn the estimate off (it then answers 0), so the
 * tables' growth paths still run. */
static int sz__estimating = 1;
void sz_test_estimate(int on) { sz__estimating = on; }
static int sz__spanning = 1;
void sz_test_span(int on) { sz__spanning = on; }
#else
#define sz__estimating 1
#define sz__spanning 1
#endif

#define SZ_SPAN_CHUNK 1024  /* events between checks of the span so far */

size_t sz__key_span(const int64_t *keys, size_t n, size_t limit, int64_t *smallest)
{
    /* Two independent minima and maxima, so the loop is not one chain of
     * dependent compares; checked a chunk at a time, so keys spread wide
     * (hashes, random ids) stop the scan within the first chunk. */
    int64_t lo0, lo1, hi0, hi1;
    size_t i, end;
    if (!sz__spanning || n == 0 || limit == 0) return 0;
    lo0 = lo1 = hi0 = hi1 = keys[0];
    for (end = 0; end < n;) {
        size_t chunk_end = n - end < SZ_SPAN_CHUNK ? n : end + SZ_SPAN_CHUNK;
        for (i = end; i + 1 < chunk_end; i += 2) {
            int64_t a = keys[i], b = keys[i + 1];
            lo0 = a < lo0 ? a : lo0;
            hi0 = a > hi0 ? a : hi0;
            lo1 = b < lo1 ? b : lo1;
            hi1 = b > hi1 ? b : hi1;
        }
        if (i < chunk_end) {
            lo0 = keys[i] < lo0 ? keys[i] : lo0;
            hi0 = keys[i] > hi0 ? keys[i] : hi0;
        }
        end = chunk_end;
        lo0 = lo1 < lo0 ? lo1 : lo0;
        hi0 = hi1 > hi0 ? hi1 : hi0;
        /* unsigned: the difference of any two int64 fits */
        if ((uint64_t)hi0 - (uint64_t)lo0 >= limit) return 0;
    }
    *smallest = lo0;
    return (size_t)((uint64_t)hi0 - (uint64_t)lo0) + 1;
}

/* The number of leading zero bits of b != 0. */
static unsigned sz__clz64(uint64_t b)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_clzll(b);
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_ARM64))
    unsigned long k;
    (void)_BitScanReverse64(&k, b);
    return 63u - (unsigned)k;
#else
    unsigned k = 0;
    while (!(b >> 63)) {
        b <<= 1;
        k++;
    }
    return k;
#endif
}

/* m ln(m / zeros), without <math.h>: x = 2^k f, f in [1, 2), and ln f by
 * atanh's series, which converges fast there. */
static double sz__linear_count(double m, double zeros)
{
    double x = m / zeros, y, y2, term, lg = 0;
    int k, p2 = 0;
    while (x >= 2) {
        x /= 2;
        p2++;
    }
    y = (x - 1) / (x + 1);
    y2 = y * y;
    term = y;
    for (k = 1; k < 40; k += 2) {
        lg += term / k;
        term *= y2;
    }
    return m * (p2 * 0.6931471805599453 + 2 * lg);
}

SZ_INLINE void sz__hll_add(unsigned char *reg, uint64_t h)
{
    size_t j = (size_t)(h >> (64 - SZ_HLL_BITS));
    unsigned rho = sz__clz64((h << SZ_HLL_BITS) | ((uint64_t)1 << (SZ_HLL_BITS - 1))) + 1;
    if (rho > reg[j]) reg[j] = (unsigned char)rho;
}

double sz__estimate_keys(const sz_keys *keys, size_t n, const uint8_t *kinds,
                         unsigned need)
{
    const size_t m = (size_t)1 << SZ_HLL_BITS;
    unsigned char reg[(size_t)1 << SZ_HLL_BITS];
    uint32_t list[SZ_EST_CHUNK];
    double sum = 0, e;
    size_t i, lo, zeros = 0;
    if (!sz__estimating || keys->kind == SZ_KEYS_DENSE) return 0;
    memset(reg, 0, sizeof reg);
    if (kinds == NULL) {
        for (i = 0; i < n; i++) sz__hll_add(reg, sz__key_hash(keys, keys->kind, i));
    } else {
        for (lo = 0; lo < n; lo += SZ_EST_CHUNK) {
            size_t hi = n - lo < SZ_EST_CHUNK ? n : lo + SZ_EST_CHUNK, c = 0;
            for (i = lo; i < hi; i++) {  /* the positions to hash, branch-free */
                list[c] = (uint32_t)i;
                c += (need >> kinds[i]) & 1u;
            }
            for (i = 0; i < c; i++)
                sz__hll_add(reg, sz__key_hash(keys, keys->kind, list[i]));
        }
    }
    for (i = 0; i < m; i++) {
        sum += 1.0 / (double)((uint64_t)1 << reg[i]);
        zeros += reg[i] == 0;
    }
    e = 0.7213 / (1.0 + 1.079 / (double)m) * (double)m * (double)m / sum;
    if (e <= 2.5 * (double)m && zeros > 0) e = sz__linear_count((double)m, (double)zeros);
    return e;
}
