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
 */
#include "sz_internal.h"

#define SZ_HLL_BITS 12
#define SZ_EST_CHUNK 4096  /* positions listed, then hashed, at a time */

#ifdef SZ_TESTING
/* Test builds can turn the estimate off (it then answers 0), so the
 * tables' growth paths still run. */
static int sz__estimating = 1;
void sz_test_estimate(int on) { sz__estimating = on; }
#else
#define sz__estimating 1
#endif

/* The number of leading zero bits of b != 0. */
static unsigned sz__clz64(uint64_t b)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_clzll(b);
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
