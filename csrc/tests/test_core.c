/*
 * test_core.c -- C-only tests of the sessionize core (csrc/).
 *
 * Built by `make -C csrc test` with -DSZ_TESTING -DSZ_DEBUG; no Python, no
 * numpy.  The heart is a slow, obviously correct reference (ref_compute):
 * group the events by key with a plain sort, order the keys by first
 * appearance (by code for SZ_KEYS_DENSE), sort each key's events by (time,
 * position), and apply SPEC.md section 1 literally in 128-bit arithmetic.
 * Thousands of generated inputs are compared with sz_batch_assign() and
 * sz_batch_fill(); every input is also classified (sorted by (key, time)?
 * each key time-ordered?) to predict sz_batch_path_taken() (a key with late
 * events may still take the ORDERED path: test_jitter covers that rule).
 *
 * Output: one line per test group, then a last line "N passed, N failed"
 * (N counting individual checks).  Exit status is nonzero on any failure.
 */
#include "../sessionize.h"
#include "../sz_internal.h"
#include "../sz_sort.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SZ_TEST_SIMPLE_CHECK 1  /* harness.h's check_() and CHECK */
#include "harness.h"

#define RNG_SEED 0x2545F4914F6CDD1DULL

__extension__ typedef __int128 i128;

/* ---- checks ------------------------------------------------------------ */



/* Points the six session columns at the rows of a test's int64_t c[6][N]. */
#define point_columns(cols, c)                                         \
    do {                                                               \
        (cols)->start = (c)[0];                                        \
        (cols)->end = (c)[1];                                          \
        (cols)->window_end = (c)[2];                                   \
        (cols)->count = (c)[3];                                        \
        (cols)->index = (c)[4];                                        \
        (cols)->first_event = (c)[5];                                  \
    } while (0)

/* ---- PRNG: xorshift64, fixed seed -------------------------------------- */


/* A bijection on 64 bits, for distinct int keys: the core's own key hash
 * (murmur3's finalizer) serves as a generator here. */
static uint64_t mix64(uint64_t x) { return sz__hash_u64(x); }

/* ---- a test input ------------------------------------------------------ */

typedef struct tin {
    int kind;
    size_t width;          /* SZ_KEYS_BYTES */
    size_t n_codes;        /* SZ_KEYS_DENSE */
    size_t n;
    int64_t *ik;           /* SZ_KEYS_INT64 / SZ_KEYS_DENSE keys, n */
    unsigned char *bk;     /* SZ_KEYS_BYTES keys, n * width */
    int64_t *t;            /* n times */
    sz_params p;
    const char *order;     /* how it was generated, for messages */
} tin;

static void tin_alloc(tin *in, int kind, size_t width, size_t n_codes, size_t n)
{
    memset(in, 0, sizeof *in);
    in->kind = kind;
    in->width = width;
    in->n_codes = n_codes;
    in->n = n;
    in->ik = (int64_t *)xmalloc((n ? n : 1) * sizeof *in->ik);
    in->bk = (unsigned char *)xmalloc((n ? n : 1) * (width ? width : 1));
    in->t = (int64_t *)xmalloc((n ? n : 1) * sizeof *in->t);
    in->order = "";
}

static void tin_free(tin *in)
{
    free(in->ik);
    free(in->bk);
    free(in->t);
    in->ik = NULL;
    in->bk = NULL;
    in->t = NULL;
}

static sz_keys tin_keys(const tin *in)
{
    sz_keys k;
    k.kind = in->kind;
    k.data = in->kind == SZ_KEYS_BYTES ? (const void *)in->bk : (const void *)in->ik;
    k.width = in->width;
    k.n_codes = in->n_codes;
    return k;
}

static int tin_key_cmp(const tin *in, size_t i, size_t j)
{
    if (in->kind == SZ_KEYS_BYTES)
        return memcmp(in->bk + i * in->width, in->bk + j * in->width, in->width);
    return (in->ik[i] > in->ik[j]) - (in->ik[i] < in->ik[j]);
}

static void describe(const tin *in, const char *what)
{
    snprintf(ctx, sizeof ctx,
             "%s: kind=%d width=%zu n_codes=%zu n=%zu order=%s gap=%lld max=%lld "
             "mode=%d incl=%d nat=%d",
             what, in->kind, in->width, in->n_codes, in->n, in->order,
             (long long)in->p.gap, (long long)in->p.max_duration, in->p.cap_mode,
             in->p.inclusive, in->p.min_is_nat);
}

/* Prints a small failing input as C initializers: the reproducer. */
static int dumps_left = 3;
static void dump_input(const tin *in)
{
    size_t i, b;
    if (dumps_left <= 0 || in->n > 64) return;
    dumps_left--;
    printf("    reproducer (%s):\n    keys = {", ctx);
    for (i = 0; i < in->n; i++) {
        if (in->kind == SZ_KEYS_BYTES) {
            printf("\"");
            for (b = 0; b < in->width; b++) printf("\\x%02x", in->bk[i * in->width + b]);
            printf("\"%s", i + 1 < in->n ? ", " : "");
        } else {
            printf("%lld%s", (long long)in->ik[i], i + 1 < in->n ? ", " : "");
        }
    }
    printf("}\n    times = {");
    for (i = 0; i < in->n; i++)
        printf("%lld%s", (long long)in->t[i], i + 1 < in->n ? ", " : "");
    printf("}\n");
}

/* ---- the reference ----------------------------------------------------- */

typedef struct ref_t {
    size_t S;        /* sessions */
    size_t n_keys;   /* distinct keys (SZ_KEYS_DENSE: n_codes) */
    int path;        /* the path the input's shape calls for */
    size_t sorted_bail;   /* first position breaking (key, time) order, or n */
    size_t ordered_bail;  /* first position where a key's time decreases, or n */
    int64_t *ids;    /* n */
    int64_t *start, *end, *window_end, *count, *index, *first_event;  /* S */
} ref_t;

static const tin *cmp_in;  /* qsort has no context argument */

/* by key, then position: groups each key's events in input order */
static int cmp_key_pos(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = tin_key_cmp(cmp_in, i, j);
    if (c) return c;
    return (i > j) - (i < j);
}

/* by time, then position: a key's events in time order, ties in input order */
static int cmp_time_pos(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int64_t ti = cmp_in->t[i], tj = cmp_in->t[j];
    if (ti != tj) return (ti > tj) - (ti < tj);
    return (i > j) - (i < j);
}

typedef struct group_t {
    size_t lo, hi, first;
} group_t;

static int cmp_group_first(const void *a, const void *b)
{
    size_t i = ((const group_t *)a)->first, j = ((const group_t *)b)->first;
    return (i > j) - (i < j);
}

static int64_t to_i64(i128 v)
{
    if (v < (i128)INT64_MIN || v > (i128)INT64_MAX)
        CHECK(!"reference window_end fits int64");
    return (int64_t)v;
}

static void ref_free(ref_t *r)
{
    free(r->ids);
    free(r->start);
    free(r->end);
    free(r->window_end);
    free(r->count);
    free(r->index);
    free(r->first_event);
    memset(r, 0, sizeof *r);
}

static void ref_compute(const tin *in, ref_t *r)
{
    size_t n = in->n, i, g, n_groups = 0, S = 0;
    size_t *ord = (size_t *)xmalloc((n ? n : 1) * sizeof *ord);
    size_t *ev = (size_t *)xmalloc((n ? n : 1) * sizeof *ev);
    group_t *groups = (group_t *)xmalloc((n ? n : 1) * sizeof *groups);
    int64_t *inact = (int64_t *)xmalloc((n ? n : 1) * sizeof *inact);
    const i128 gap = in->p.gap, max = in->p.max_duration;
    const int mode = in->p.cap_mode, incl = in->p.inclusive != 0;

    memset(r, 0, sizeof *r);
    r->ids = (int64_t *)xmalloc((n ? n : 1) * sizeof(int64_t));
    r->start = (int64_t *)xmalloc((n ? n : 1) * sizeof(int64_t));
    r->end = (int64_t *)xmalloc((n ? n : 1) * sizeof(int64_t));
    r->window_end = (int64_t *)xmalloc((n ? n : 1) * sizeof(int64_t));
    r->count = (int64_t *)xmalloc((n ? n : 1) * sizeof(int64_t));
    r->index = (int64_t *)xmalloc((n ? n : 1) * sizeof(int64_t));
    r->first_event = (int64_t *)xmalloc((n ? n : 1) * sizeof(int64_t));

    /* The shape of the input, which decides the path. */
    r->sorted_bail = n;
    for (i = 1; i < n; i++) {
        int c = tin_key_cmp(in, i, i - 1);
        if (c < 0 || (c == 0 && in->t[i] < in->t[i - 1])) {
            r->sorted_bail = i;
            break;
        }
    }

    /* Group by key; a group's events are in input order. */
    cmp_in = in;
    for (i = 0; i < n; i++) ord[i] = i;
    qsort(ord, n, sizeof *ord, cmp_key_pos);
    for (i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && tin_key_cmp(in, ord[j], ord[i]) == 0) j++;
        groups[n_groups].lo = i;
        groups[n_groups].hi = j;
        groups[n_groups].first = ord[i];
        n_groups++;
        i = j;
    }
    r->ordered_bail = n;
    for (g = 0; g < n_groups; g++) {
        for (i = groups[g].lo + 1; i < groups[g].hi; i++) {
            if (in->t[ord[i]] < in->t[ord[i - 1]] && ord[i] < r->ordered_bail)
                r->ordered_bail = ord[i];
        }
    }
    r->path = r->sorted_bail == n ? SZ_PATH_SORTED
              : r->ordered_bail == n ? SZ_PATH_ORDERED : SZ_PATH_SORTING;

    /* Keys by first appearance; DENSE keys are already in code order. */
    if (in->kind != SZ_KEYS_DENSE)
        qsort(groups, n_groups, sizeof *groups, cmp_group_first);
    r->n_keys = in->kind == SZ_KEYS_DENSE ? in->n_codes : n_groups;

    for (g = 0; g < n_groups; g++) {
        size_t m = groups[g].hi - groups[g].lo, j;
        int64_t prev = 0, sess_start = 0, s = 0, local = 0;
        memcpy(ev, ord + groups[g].lo, m * sizeof *ev);
        qsort(ev, m, sizeof *ev, cmp_time_pos);
        for (j = 0; j < m; j++) {
            int64_t t = in->t[ev[j]];
            int opens;
            if (j == 0) {
                opens = 1;
                s = t;
            } else {
                i128 d = (i128)t - prev;
                int gap_break = incl ? d > gap : d >= gap;
                opens = gap_break;
                if (mode == SZ_CAP_RESTART) {
                    i128 c = (i128)t - sess_start;
                    opens |= incl ? c > max : c >= max;
                } else if (mode == SZ_CAP_FIXED) {
                    if (gap_break) {
                        s = t;
                    } else {
                        i128 bt = ((i128)t - s) / max, bp = ((i128)prev - s) / max;
                        opens = bt != bp;
                    }
                }
            }
            if (opens) {
                r->start[S] = t;
                r->count[S] = 0;
                r->index[S] = local++;
                r->first_event[S] = (int64_t)ev[j];
                inact[S] = s;
                sess_start = t;
                S++;
            }
            r->ids[ev[j]] = (int64_t)(S - 1);
            r->count[S - 1]++;
            r->end[S - 1] = t;
            prev = t;
        }
    }
    r->S = S;

    for (g = 0; g < S; g++) {
        i128 we = (i128)r->end[g] + gap, lim = we;
        if (mode == SZ_CAP_RESTART) {
            lim = (i128)r->start[g] + max;
        } else if (mode == SZ_CAP_FIXED) {
            i128 k = ((i128)r->start[g] - inact[g]) / max;
            lim = (i128)inact[g] + (k + 1) * max;
        }
        r->window_end[g] = to_i64(lim < we ? lim : we);
    }
    free(ord);
    free(ev);
    free(groups);
    free(inact);
}

/* ---- comparing the core with the reference ----------------------------- */

#define SENTINEL ((int64_t)0x5EEDF00DDEADBEEFLL)

static int arrays_equal(const char *name, const int64_t *got,
                        const int64_t *want, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        if (got[i] != want[i]) {
            size_t used = strlen(ctx);
            snprintf(ctx + used, sizeof ctx - used, " | %s[%zu] got %lld want %lld",
                     name, i, (long long)got[i], (long long)want[i]);
            return 0;
        }
    }
    return 1;
}

static int64_t *alloc_col(size_t S)
{
    int64_t *c = (int64_t *)xmalloc((S + 1) * sizeof *c);
    size_t i;
    for (i = 0; i <= S; i++) c[i] = SENTINEL;
    return c;
}

static long paths_seen[3];
/* int64 inputs off the sorted path: [0] took the hashed table, [1] the
 * table indexed by key span */
static long tables_seen[2];
static size_t last_n_keys;  /* distinct keys of the last run_compare() input */

/* Runs one input through the core and compares everything with the
 * reference.  Returns the path taken, or -1 if the call failed. */
static int run_compare(const tin *in)
{
    ref_t r;
    sz_keys keys = tin_keys(in);
    size_t n = in->n, S = 987654, pos = 4242, keybytes;
    int64_t *ids = alloc_col(n), *ids2 = alloc_col(n);
    int64_t *t_copy = (int64_t *)xmalloc((n ? n : 1) * sizeof *t_copy);
    unsigned char *k_copy;
    static int dummy;
    sz_batch *b = (sz_batch *)(void *)&dummy;
    sz_status st;
    int path = -1, ok = 1;
    size_t fails_before = (size_t)n_fail;

    keybytes = in->kind == SZ_KEYS_BYTES ? n * in->width : n * sizeof(int64_t);
    k_copy = (unsigned char *)xmalloc(keybytes ? keybytes : 1);
    memcpy(k_copy, keys.data, keybytes);
    memcpy(t_copy, in->t, n * sizeof *t_copy);

    ref_compute(in, &r);
    last_n_keys = r.n_keys;
    st = sz_batch_assign(&b, &keys, in->t, n, &in->p, ids, &S, &pos);
    if (!CHECK(st == SZ_OK)) {
        size_t used = strlen(ctx);
        snprintf(ctx + used, sizeof ctx - used, " | status %d (%s) pos %zu", (int)st,
                 sz_strerror(st), pos);
        CHECK(!"see status above");
        goto done;
    }
    CHECK(b != NULL);
    CHECK(pos == SZ_NO_POSITION);
    CHECK(S == r.S);
    CHECK(sz_batch_sessions(b) == r.S);
    CHECK(sz_batch_keys(b) == r.n_keys);
    path = sz_batch_path_taken(b);
    /* Disorder within a key may stay on the ORDERED path when every late
     * event falls inside its key's open session (test_jitter pins which);
     * results are compared with the reference either way. */
    if (r.path == SZ_PATH_SORTING)
        CHECK(path == SZ_PATH_SORTING || path == SZ_PATH_ORDERED);
    else
        CHECK(path == r.path);
    if (path >= 0 && path < 3) paths_seen[path]++;
    if (in->kind == SZ_KEYS_INT64 && path != SZ_PATH_SORTED)
        tables_seen[sz_test_batch_spanned(b) == 1]++;
    CHECK(ids[n] == SENTINEL);
    ok &= CHECK(arrays_equal("ids", ids, r.ids, n));

    if (S == r.S) {
        sz_session_columns c;
        c.start = alloc_col(S);
        c.end = alloc_col(S);
        c.window_end = alloc_col(S);
        c.count = alloc_col(S);
        c.index = alloc_col(S);
        c.first_event = alloc_col(S);
        st = sz_batch_fill(b, in->t, ids, n, &c);
        CHECK(st == SZ_OK);
        ok &= CHECK(arrays_equal("start", c.start, r.start, S));
        ok &= CHECK(arrays_equal("end", c.end, r.end, S));
        ok &= CHECK(arrays_equal("count", c.count, r.count, S));
        ok &= CHECK(arrays_equal("index", c.index, r.index, S));
        ok &= CHECK(arrays_equal("window_end", c.window_end, r.window_end, S));
        ok &= CHECK(arrays_equal("first_event", c.first_event, r.first_event, S));
        CHECK(c.start[S] == SENTINEL && c.end[S] == SENTINEL
              && c.window_end[S] == SENTINEL && c.count[S] == SENTINEL
              && c.index[S] == SENTINEL && c.first_event[S] == SENTINEL);
        free(c.start);
        free(c.end);
        free(c.window_end);
        free(c.count);
        free(c.index);
        free(c.first_event);
    }
    sz_batch_free(b);

    /* ids only, no batch, no optional outputs */
    st = sz_batch_assign(NULL, &keys, in->t, n, &in->p, ids2, NULL, NULL);
    CHECK(st == SZ_OK);
    ok &= CHECK(arrays_equal("ids (out=NULL)", ids2, r.ids, n));

    /* the caller's arrays are not touched */
    CHECK(memcmp(t_copy, in->t, n * sizeof *t_copy) == 0);
    CHECK(memcmp(k_copy, keys.data, keybytes) == 0);
done:
    if (!ok || (size_t)n_fail != fails_before) dump_input(in);
    ref_free(&r);
    free(ids);
    free(ids2);
    free(t_copy);
    free(k_copy);
    return path;
}

/* ---- generating inputs ------------------------------------------------- */

typedef struct keyset {
    int kind;
    size_t width, n_codes, K;
    int64_t *iv;          /* K int64 keys or codes */
    unsigned char *bv;    /* K * width */
    size_t *sorted;       /* key indices in key order */
} keyset;

static const keyset *cmp_ks;

static int cmp_ks_keys(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (cmp_ks->kind == SZ_KEYS_BYTES)
        return memcmp(cmp_ks->bv + i * cmp_ks->width, cmp_ks->bv + j * cmp_ks->width,
                      cmp_ks->width);
    return (cmp_ks->iv[i] > cmp_ks->iv[j]) - (cmp_ks->iv[i] < cmp_ks->iv[j]);
}

static void shuffle_size(size_t *a, size_t m)
{
    size_t i;
    for (i = m; i > 1; i--) {
        size_t j = rndn(i), x = a[i - 1];
        a[i - 1] = a[j];
        a[j] = x;
    }
}

static void keyset_free(keyset *ks)
{
    free(ks->iv);
    free(ks->bv);
    free(ks->sorted);
}

/* K distinct keys of the given kind, in a random "first appearance" order. */
static void keyset_gen(keyset *ks, int kind, size_t K)
{
    size_t i, b, L;
    size_t *perm = (size_t *)xmalloc(K * sizeof *perm);
    memset(ks, 0, sizeof *ks);
    ks->kind = kind;
    ks->K = K;
    ks->iv = (int64_t *)xmalloc(K * sizeof *ks->iv);
    for (i = 0; i < K; i++) perm[i] = i;
    shuffle_size(perm, K);

    if (kind == SZ_KEYS_INT64) {
        int mode = (int)rndn(4);
        int64_t step = mode == 0 ? (int64_t[]){1, 2, 7}[rndn(3)] : 1, off = 0;
        if (mode == 0) {
            switch (rndn(4)) {
            case 0: off = 0; break;
            case 1: off = -(int64_t)K; break;
            case 2: off = INT64_MIN; break;
            default: off = INT64_MAX - (int64_t)K * step; break;
            }
        }
        for (i = 0; i < K; i++) {
            size_t x = perm[i];
            switch (mode) {
            case 0: ks->iv[i] = off + (int64_t)x * step; break;
            case 1: ks->iv[i] = (int64_t)mix64(x + 0x1234567ULL); break;
            case 2:
                ks->iv[i] = x % 2 ? INT64_MAX - (int64_t)(x / 2)
                                  : INT64_MIN + (int64_t)(x / 2);
                break;
            default: ks->iv[i] = -(int64_t)x - 1; break;
            }
        }
    } else if (kind == SZ_KEYS_BYTES) {
        int mode = (int)rndn(4);
        unsigned char prefix[24];
        L = K <= 256 ? 1 : K <= 65536 ? 2 : 3;
        ks->width = L + rndn(24 - L + 1);
        ks->bv = (unsigned char *)xmalloc(K * ks->width);
        for (b = 0; b < 24; b++) prefix[b] = coin(30) ? 0 : (unsigned char)rnd();
        for (i = 0; i < K; i++) {
            unsigned char *k = ks->bv + i * ks->width;
            size_t x = perm[i], at = mode == 3 ? 0 : ks->width - L;
            for (b = 0; b < ks->width; b++) {
                switch (mode) {
                case 0: k[b] = prefix[b]; break;       /* common prefix */
                case 1: k[b] = 0; break;               /* zeros */
                default: k[b] = coin(20) ? 0 : (unsigned char)rnd(); break;
                }
            }
            /* the index, big-endian, in the last L bytes (mode 3: the first):
             * with K <= 256 keys differ only in the last byte (modes 0, 1) */
            for (b = 0; b < L; b++)
                k[at + b] = (unsigned char)((L == 1 ? x * 167u + 13u : x) >> (8 * (L - 1 - b)));
        }
    } else {
        size_t *codes;
        ks->n_codes = K + (coin(50) ? rndn(4) : rndn(K + 1));
        codes = (size_t *)xmalloc(ks->n_codes * sizeof *codes);
        for (i = 0; i < ks->n_codes; i++) codes[i] = i;
        shuffle_size(codes, ks->n_codes);
        for (i = 0; i < K; i++) ks->iv[i] = (int64_t)codes[i];
        free(codes);
    }

    ks->sorted = (size_t *)xmalloc(K * sizeof *ks->sorted);
    for (i = 0; i < K; i++) ks->sorted[i] = i;
    cmp_ks = ks;
    qsort(ks->sorted, K, sizeof *ks->sorted, cmp_ks_keys);
    free(perm);
}

enum {
    ORD_SORTED,      /* by (key, time): SZ_PATH_SORTED */
    ORD_INTERLEAVE,  /* each key time-ordered, keys randomly interleaved */
    ORD_TIMEMERGE,   /* a log: all events in time order */
    ORD_SHUFFLE,     /* random permutation */
    ORD_LATE,        /* interleaved, one key out of order near its end */
    ORD_REVERSE,     /* by (key, time) reversed */
    N_ORD
};
static const char *const ord_name[N_ORD] = {"sorted", "interleave", "timemerge",
                                            "shuffle", "late", "reverse"};
static const int ord_path[N_ORD] = {SZ_PATH_SORTED, SZ_PATH_ORDERED, SZ_PATH_ORDERED,
                                    SZ_PATH_SORTING, SZ_PATH_SORTING, SZ_PATH_SORTING};

enum { TM_WALK, TM_TIES, TM_EXTREME };

typedef struct genspec {
    int kind, order, tmode, skew;
    size_t n, K;
    int64_t G, M;  /* step sizes of the time walk (the params' gap and max) */
} genspec;

static int64_t clamp128(i128 v, int64_t lo, int64_t hi)
{
    if (v < lo) return lo;
    if (v > hi) return hi;
    return (int64_t)v;
}

static int64_t rnd_between(int64_t lo, int64_t hi)  /* inclusive */
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    uint64_t off = span == UINT64_MAX ? rnd() : rnd() % (span + 1);
    return (int64_t)((uint64_t)lo + off);
}

/* Times near the limits of int64 and at exact gap/max distances from them. */
static int64_t extreme_time(const sz_params *p, int64_t prev, int have_prev)
{
    const int64_t lo = p->min_is_nat ? INT64_MIN + 1 : INT64_MIN;
    const int64_t hi = INT64_MAX - p->gap;
    const i128 G = p->gap, M = p->max_duration > 0 ? p->max_duration : 1;
    i128 v;
    if (have_prev && coin(40)) {
        switch (rndn(7)) {
        case 0: v = (i128)prev + G; break;
        case 1: v = (i128)prev + G - 1; break;
        case 2: v = (i128)prev + G + 1; break;
        case 3: v = (i128)prev + M; break;
        case 4: v = (i128)prev + M - 1; break;
        case 5: v = (i128)prev; break;
        default: v = (i128)prev + (i128)rndn(3); break;
        }
        return clamp128(v, lo, hi);
    }
    switch (rndn(22)) {
    case 0: v = lo; break;
    case 1: v = (i128)lo + 1; break;
    case 2: v = (i128)lo + G - 1; break;
    case 3: v = (i128)lo + G; break;
    case 4: v = (i128)lo + G + 1; break;
    case 5: v = (i128)lo + M - 1; break;
    case 6: v = (i128)lo + M; break;
    case 7: v = (i128)lo + 2 * M; break;
    case 8: v = -G; break;
    case 9: v = -1; break;
    case 10: v = 0; break;
    case 11: v = 1; break;
    case 12: v = G; break;
    case 13: v = hi; break;
    case 14: v = (i128)hi - 1; break;
    case 15: v = (i128)hi - G; break;
    case 16: v = (i128)hi - G + 1; break;
    case 17: v = (i128)hi - M; break;
    case 18: v = (i128)hi - M + 1; break;
    case 19: v = INT64_MIN / 2; break;
    default: v = rnd_between(lo, hi); break;
    }
    return clamp128(v, lo, hi);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct rec_t {
    int64_t t;
    uint64_t tag;
    size_t k;
} rec_t;

static int cmp_rec(const void *a, const void *b)
{
    const rec_t *x = (const rec_t *)a, *y = (const rec_t *)b;
    if (x->t != y->t) return (x->t > y->t) - (x->t < y->t);
    return (x->tag > y->tag) - (x->tag < y->tag);
}

/* Builds `in` from a keyset: per-key sorted times, arranged per spec.order. */
static void gen_events(tin *in, const keyset *ks, const genspec *sp, const sz_params *p)
{
    size_t n = sp->n, K = ks->K, i, j, k;
    size_t *cnt = (size_t *)xmalloc((K + 1) * sizeof *cnt);
    size_t *offs = (size_t *)xmalloc((K + 1) * sizeof *offs);
    size_t *cur = (size_t *)xmalloc((K + 1) * sizeof *cur);
    size_t *label = (size_t *)xmalloc((n ? n : 1) * sizeof *label);
    int64_t *kt = (int64_t *)xmalloc((n ? n : 1) * sizeof *kt);   /* per-key times */
    size_t *ek = (size_t *)xmalloc((n ? n : 1) * sizeof *ek);     /* arranged keys */
    int64_t *et = (int64_t *)xmalloc((n ? n : 1) * sizeof *et);   /* arranged times */
    int64_t base = (int64_t)rndn(2000000) - 1000000;
    size_t pos = 0;

    tin_alloc(in, ks->kind, ks->width, ks->n_codes, n);
    in->p = *p;
    in->order = ord_name[sp->order];

    /* every key appears when n >= K (the big tests need > 70000 distinct
     * keys present); the rest by the skew; labels in random order */
    for (k = 0; k < K; k++) cnt[k] = 0;
    for (i = 0; i < n; i++) {
        if (i < K)
            k = i;
        else if (sp->skew == 1 && coin(50))
            k = 0;                               /* one long run */
        else if (sp->skew == 2)
            k = rndn(1 + rndn(K));               /* few heavy keys */
        else
            k = rndn(K);
        label[i] = k;
        cnt[k]++;
    }
    shuffle_size(label, n);
    for (k = 0, pos = 0; k < K; k++) {
        offs[k] = pos;
        pos += cnt[k];
    }

    /* each key's times, in order */
    for (k = 0; k < K; k++) {
        int64_t *tk = kt + offs[k];
        int64_t t = base + (int64_t)rndn((size_t)(3 * sp->G + 1));
        int64_t G = sp->G, M = sp->M;
        for (j = 0; j < cnt[k]; j++) {
            if (sp->tmode == TM_EXTREME) {
                tk[j] = extreme_time(p, j ? tk[j - 1] : 0, j > 0);
                continue;
            }
            if (j > 0) {
                if (sp->tmode == TM_TIES) {
                    t += coin(70) ? 0 : coin(50) ? G : 1;
                } else {
                    switch (rndn(12)) {
                    case 0: case 1: case 2: break;
                    case 3: t += 1; break;
                    case 4: t += G - 1; break;
                    case 5: t += G; break;
                    case 6: t += G + 1; break;
                    case 7: t += M - 1; break;
                    case 8: t += M; break;
                    case 9: t += M + 1; break;
                    case 10: t += (int64_t)rndn((size_t)(3 * G + 1)); break;
                    default: t += (int64_t)rndn((size_t)(M + 1)); break;
                    }
                }
            }
            tk[j] = t;
        }
        if (sp->tmode == TM_EXTREME) qsort(tk, cnt[k], sizeof *tk, cmp_i64);
    }

    /* arrange */
    switch (sp->order) {
    case ORD_SORTED:
    case ORD_SHUFFLE:
    case ORD_REVERSE:
        for (i = 0, pos = 0; i < K; i++) {
            k = ks->sorted[i];
            for (j = 0; j < cnt[k]; j++, pos++) {
                ek[pos] = k;
                et[pos] = kt[offs[k] + j];
            }
        }
        if (sp->order == ORD_SHUFFLE) {
            for (i = n; i > 1; i--) {
                size_t x = rndn(i);
                size_t tk_ = ek[i - 1];
                int64_t tt_ = et[i - 1];
                ek[i - 1] = ek[x];
                et[i - 1] = et[x];
                ek[x] = tk_;
                et[x] = tt_;
            }
        } else if (sp->order == ORD_REVERSE) {
            for (i = 0; i < n / 2; i++) {
                size_t tk_ = ek[i];
                int64_t tt_ = et[i];
                ek[i] = ek[n - 1 - i];
                et[i] = et[n - 1 - i];
                ek[n - 1 - i] = tk_;
                et[n - 1 - i] = tt_;
            }
        }
        break;
    case ORD_TIMEMERGE: {
        rec_t *recs = (rec_t *)xmalloc((n ? n : 1) * sizeof *recs);
        for (k = 0, pos = 0; k < K; k++) {
            for (j = 0; j < cnt[k]; j++, pos++) {
                recs[pos].t = kt[offs[k] + j];
                recs[pos].tag = rnd();
                recs[pos].k = k;
            }
        }
        qsort(recs, n, sizeof *recs, cmp_rec);
        for (i = 0; i < n; i++) {
            ek[i] = recs[i].k;
            et[i] = recs[i].t;
        }
        free(recs);
        break;
    }
    default: /* ORD_INTERLEAVE, ORD_LATE: labels are a random interleaving */
        for (k = 0; k < K; k++) cur[k] = 0;
        for (i = 0; i < n; i++) {
            k = label[i];
            ek[i] = k;
            et[i] = kt[offs[k] + cur[k]++];
        }
        if (sp->order == ORD_LATE && n > 1) {
            /* swap a key's last event with the latest earlier one of the
             * same key that has a smaller time: that key's order breaks
             * late, after most events were processed. */
            size_t tries;
            for (tries = 0; tries < 8; tries++) {
                size_t last = rndn(n), q;
                k = ek[last];
                for (q = n; q-- > 0;)
                    if (ek[q] == k) {
                        last = q;
                        break;
                    }
                for (q = last; q-- > 0;) {
                    if (ek[q] == k && et[q] < et[last]) {
                        int64_t x = et[q];
                        et[q] = et[last];
                        et[last] = x;
                        tries = 8;
                        break;
                    }
                }
            }
        }
        break;
    }

    for (i = 0; i < n; i++) {
        k = ek[i];
        in->t[i] = et[i];
        if (ks->kind == SZ_KEYS_BYTES)
            memcpy(in->bk + i * ks->width, ks->bv + k * ks->width, ks->width);
        else
            in->ik[i] = ks->iv[k];
    }
    free(cnt);
    free(offs);
    free(cur);
    free(label);
    free(kt);
    free(ek);
    free(et);
}

/* Random small gap / max and a cap mode; CAP_NONE sometimes with a junk max. */
static void random_params(sz_params *p, genspec *sp)
{
    static const int64_t gaps[] = {1, 2, 3, 5, 10};
    int64_t G = coin(80) ? gaps[rndn(5)] : 1 + (int64_t)rndn(100), M;
    switch (rndn(7)) {
    case 0: M = 1; break;
    case 1: M = G; break;
    case 2: M = G > 1 ? G - 1 : 1; break;
    case 3: M = G + 1; break;
    case 4: M = 2 * G; break;
    case 5: M = 3 * G + 1; break;
    default: M = 1 + (int64_t)rndn(50); break;
    }
    memset(p, 0, sizeof *p);
    p->gap = G;
    p->cap_mode = (int)rndn(3);
    p->max_duration = M;
    if (p->cap_mode == SZ_CAP_NONE && coin(30)) p->max_duration = coin(50) ? 0 : -7;
    p->inclusive = coin(50) ? 0 : coin(80) ? 1 : 7;
    p->min_is_nat = coin(50);
    sp->G = G;
    sp->M = M;
}

static int random_kind(void) { return (int)rndn(3); }

/* ---- test groups ------------------------------------------------------- */

/* Generates the input a spec describes, compares it with the reference, and
 * frees it; returns the path taken.  `extra` is appended to the context. */
static int run_generated(const genspec *sp, const sz_params *p, const char *label,
                         const char *extra, long *n_events)
{
    keyset ks;
    tin in;
    int path;
    keyset_gen(&ks, sp->kind, sp->K);
    gen_events(&in, &ks, sp, p);
    describe(&in, label);
    if (extra && *extra) {
        size_t used = strlen(ctx);
        snprintf(ctx + used, sizeof ctx - used, " %s", extra);
    }
    path = run_compare(&in);
    if (n_events) *n_events += (long)in.n;
    tin_free(&in);
    keyset_free(&ks);
    return path;
}

static void test_random(void)
{
    long cases[N_ORD] = {0}, hits[N_ORD] = {0}, c, total = 0, events = 0;
    char detail[256], extra[32];
    const long N_CASES = 9000;
    group_begin("random vs reference");
    paths_seen[0] = paths_seen[1] = paths_seen[2] = 0;
    tables_seen[0] = tables_seen[1] = 0;
    for (c = 0; c < N_CASES; c++) {
        genspec sp;
        sz_params p;
        int path, size = (int)rndn(10);
        /* every other round of orders with the span table off, so int64
         * keys in a narrow range take the hashed table too */
        sz_test_span((c / N_ORD) % 2 == 0);
        memset(&sp, 0, sizeof sp);
        random_params(&p, &sp);
        sp.kind = random_kind();
        sp.order = (int)(c % N_ORD);
        sp.tmode = coin(20) ? TM_TIES : TM_WALK;
        if (size < 6) {
            sp.n = rndn(40);
            sp.K = 1 + rndn(8);
        } else if (size < 9) {
            sp.n = rndn(400);
            sp.K = (size_t[]){1, 2, 3, 1 + rndn(sp.n + 1), sp.n + 1}[rndn(5)];
        } else {
            sp.n = 200 + rndn(2500);  /* long per-key runs: the merge sort */
            sp.K = (size_t[]){1, 2, 5, 1 + rndn(50), sp.n / 2}[rndn(5)];
            sp.skew = (int)rndn(3);
        }
        if (sp.kind == SZ_KEYS_BYTES && sp.K > 65536) sp.K = 65536;
        snprintf(extra, sizeof extra, "case=%ld", c);
        path = run_generated(&sp, &p, "random", extra, &events);
        cases[sp.order]++;
        if (path == ord_path[sp.order]) hits[sp.order]++;
        total++;
    }
    /* every generated order reached its path, almost always */
    for (c = 0; c < N_ORD; c++) {
        snprintf(ctx, sizeof ctx, "order %s: %ld of %ld cases took path %d",
                 ord_name[c], hits[c], cases[c], ord_path[c]);
        CHECK(hits[c] > 0);
        CHECK(hits[c] * 10 >= cases[c] * 6);
    }
    CHECK(hits[ORD_SORTED] == cases[ORD_SORTED]);
    sz_test_span(1);
    snprintf(ctx, sizeof ctx, "int64 tables hashed/span = %ld/%ld", tables_seen[0],
             tables_seen[1]);
    CHECK(tables_seen[0] * 5 >= tables_seen[1] && tables_seen[1] * 5 >= tables_seen[0]);
    snprintf(detail, sizeof detail,
             "%ld cases, %ld events; paths sorted/ordered/sorting = %ld/%ld/%ld; "
             "int64 tables hashed/span = %ld/%ld", total, events, paths_seen[0],
             paths_seen[1], paths_seen[2], tables_seen[0], tables_seen[1]);
    group_end(detail);
}

static void test_extreme_random(void)
{
    static const int64_t gaps[] = {INT64_MAX, INT64_MAX - 1, INT64_MAX / 2,
                                   INT64_MAX / 2 + 1, (int64_t)1 << 62, 1, 2, 1000};
    long c;
    char detail[160];
    const long N_CASES = 3000;
    group_begin("int64 limits vs reference");
    paths_seen[0] = paths_seen[1] = paths_seen[2] = 0;
    for (c = 0; c < N_CASES; c++) {
        genspec sp;
        sz_params p;
        int64_t G = coin(85) ? gaps[rndn(8)] : (int64_t)(rnd() >> 1) + 1, M;
        switch (rndn(8)) {
        case 0: M = INT64_MAX; break;
        case 1: M = INT64_MAX - 1; break;
        case 2: M = INT64_MAX / 2; break;
        case 3: M = G; break;
        case 4: M = G > 1 ? G - 1 : 1; break;
        case 5: M = G < INT64_MAX ? G + 1 : G; break;
        case 6: M = 1 + (int64_t)rndn(3); break;
        default: M = (int64_t)(rnd() >> 1) + 1; break;
        }
        memset(&p, 0, sizeof p);
        p.gap = G;
        p.max_duration = M;
        p.cap_mode = (int)rndn(3);
        p.inclusive = coin(50);
        p.min_is_nat = coin(30);
        memset(&sp, 0, sizeof sp);
        sp.kind = random_kind();
        sp.order = (int)(c % N_ORD);
        sp.tmode = TM_EXTREME;
        sp.n = rndn(30);
        sp.K = 1 + rndn(4);
        sp.G = 1;
        sp.M = 1;
        run_generated(&sp, &p, "extreme", NULL, NULL);
    }
    snprintf(detail, sizeof detail, "%ld cases; paths %ld/%ld/%ld", N_CASES,
             paths_seen[0], paths_seen[1], paths_seen[2]);
    group_end(detail);
}

static void test_big(void)
{
    /* > 70000 distinct keys: the hash table is sized from the estimate of
     * the keys, or (estimate off) grows twice from 65536 slots; the SORTED
     * path's key_first vector reallocates many times. */
    int kinds[3] = {SZ_KEYS_INT64, SZ_KEYS_BYTES, SZ_KEYS_DENSE};
    int orders[4] = {ORD_SORTED, ORD_INTERLEAVE, ORD_SHUFFLE, ORD_LATE};
    int a, o, est, runs = 0;
    char detail[128];
    group_begin("big inputs (table sized, and grown)");
    for (est = 1; est >= 0; est--)
    for (a = 0; a < 3; a++) {
        sz_test_estimate(est);
        sz_test_span(est);  /* off: int64 keys in a narrow range grow a table too */
        for (o = 0; o < 4; o++) {
            genspec sp;
            sz_params p;
            int path;
            memset(&sp, 0, sizeof sp);
            random_params(&p, &sp);
            sp.kind = kinds[a];
            sp.order = orders[o];
            sp.tmode = TM_WALK;
            sp.K = 75000;
            sp.n = 170000;
            sp.skew = 1;  /* key 0 gets ~85000 events: a long merge-sorted run */
            path = run_generated(&sp, &p, "big", NULL, NULL);
            if (ord_path[orders[o]] == SZ_PATH_SORTING)  /* see test_jitter */
                CHECK(path == SZ_PATH_SORTING || path == SZ_PATH_ORDERED);
            else
                CHECK(path == ord_path[orders[o]]);
            CHECK(last_n_keys > 70000);
            runs++;
        }
    }
    sz_test_estimate(1);
    sz_test_span(1);
    snprintf(detail, sizeof detail, "%d runs of 170000 events / 75000 keys", runs);
    group_end(detail);
}

/* A hand-checked case: keys (int64), times, params, expected columns. */
typedef struct hand_t {
    const char *name;
    size_t n;
    int64_t keys[8], times[8];
    sz_params p;
    size_t S;
    int64_t ids[8], start[8], end[8], we[8], count[8], index[8], first[8];
} hand_t;

static void check_hand(const hand_t *h)
{
    tin in;
    ref_t r;
    sz_keys keys;
    int64_t ids[8];
    sz_batch *b = NULL;
    size_t S = 0;
    sz_status st;
    size_t i;
    tin_alloc(&in, SZ_KEYS_INT64, 0, 0, h->n);
    for (i = 0; i < h->n; i++) {
        in.ik[i] = h->keys[i];
        in.t[i] = h->times[i];
    }
    in.p = h->p;
    in.order = "hand";
    describe(&in, h->name);
    keys = tin_keys(&in);
    /* the reference agrees with the hand computation... */
    ref_compute(&in, &r);
    CHECK(r.S == h->S);
    if (r.S == h->S) {
        CHECK(arrays_equal("ref ids", r.ids, h->ids, h->n));
        CHECK(arrays_equal("ref start", r.start, h->start, h->S));
        CHECK(arrays_equal("ref end", r.end, h->end, h->S));
        CHECK(arrays_equal("ref window_end", r.window_end, h->we, h->S));
        CHECK(arrays_equal("ref count", r.count, h->count, h->S));
        CHECK(arrays_equal("ref index", r.index, h->index, h->S));
        CHECK(arrays_equal("ref first_event", r.first_event, h->first, h->S));
    }
    ref_free(&r);
    /* ...and so does the core */
    st = sz_batch_assign(&b, &keys, in.t, in.n, &in.p, ids, &S, NULL);
    CHECK(st == SZ_OK);
    CHECK(S == h->S);
    if (st == SZ_OK && S == h->S) {
        int64_t c[6][8];
        sz_session_columns cols;
        point_columns(&cols, c);
        CHECK(arrays_equal("ids", ids, h->ids, h->n));
        CHECK(sz_batch_fill(b, in.t, ids, in.n, &cols) == SZ_OK);
        CHECK(arrays_equal("start", c[0], h->start, S));
        CHECK(arrays_equal("end", c[1], h->end, S));
        CHECK(arrays_equal("window_end", c[2], h->we, S));
        CHECK(arrays_equal("count", c[3], h->count, S));
        CHECK(arrays_equal("index", c[4], h->index, S));
        CHECK(arrays_equal("first_event", c[5], h->first, S));
    }
    sz_batch_free(b);
    /* every path gives the same answer: reversed input goes through SORTING */
    tin_free(&in);
}

static sz_params mkp(int64_t gap, int64_t max, int mode, int incl)
{
    sz_params p;
    memset(&p, 0, sizeof p);
    p.gap = gap;
    p.max_duration = max;
    p.cap_mode = mode;
    p.inclusive = incl;
    return p;
}

static void test_hand(void)
{
    const int64_t MIN = INT64_MIN, MAX = INT64_MAX;
    const int64_t L = INT64_MAX / 2; /* 2^62 - 1 */
    size_t i;
    hand_t h[12];
    memset(h, 0, sizeof h);
    group_begin("hand-computed cases");

    /* gap rule, both senses: diffs 10, 10, 11 with gap 10 */
    h[0] = (hand_t){"gap incl", 4, {7, 7, 7, 7}, {0, 10, 20, 31}, mkp(10, 0, 0, 1), 2,
                    {0, 0, 0, 1}, {0, 31}, {20, 31}, {30, 41}, {3, 1}, {0, 1}, {0, 3}};
    h[1] = (hand_t){"gap excl", 4, {7, 7, 7, 7}, {0, 10, 20, 31}, mkp(10, 0, 0, 0), 4,
                    {0, 1, 2, 3}, {0, 10, 20, 31}, {0, 10, 20, 31}, {10, 20, 30, 41},
                    {1, 1, 1, 1}, {0, 1, 2, 3}, {0, 1, 2, 3}};
    /* restart cap 15: inclusive joins at exactly start + 15 */
    h[2] = (hand_t){"restart incl", 4, {1, 1, 1, 1}, {0, 10, 15, 20},
                    mkp(10, 15, SZ_CAP_RESTART, 1), 2, {0, 0, 0, 1}, {0, 20}, {15, 20},
                    {15, 30}, {3, 1}, {0, 1}, {0, 3}};
    h[3] = (hand_t){"restart excl", 4, {1, 1, 1, 1}, {0, 10, 15, 20},
                    mkp(10, 15, SZ_CAP_RESTART, 0), 2, {0, 1, 1, 1}, {0, 10}, {0, 20},
                    {10, 25}, {1, 3}, {0, 1}, {0, 1}};
    /* fixed blocks of 15 from 0: [0,15) [15,30); 45 starts a new inactivity
     * session (diff 16 > 10) */
    h[4] = (hand_t){"fixed", 6, {3, 3, 3, 3, 3, 3}, {0, 10, 15, 20, 29, 45},
                    mkp(10, 15, SZ_CAP_FIXED, 1), 3, {0, 0, 1, 1, 1, 2}, {0, 15, 45},
                    {10, 29, 45}, {15, 30, 55}, {2, 3, 1}, {0, 1, 2}, {0, 2, 5}};
    /* ties keep input order; keys in first-appearance order (9 before 4);
     * input out of time order */
    h[5] = (hand_t){"ties, two keys", 6, {9, 4, 9, 9, 4, 9}, {5, 3, 5, 0, 3, 20},
                    mkp(10, 0, 0, 1), 3, {0, 2, 0, 0, 2, 1}, {0, 20, 3}, {5, 20, 3},
                    {15, 30, 13}, {3, 1, 2}, {0, 1, 0}, {3, 5, 1}};
    /* gap INT64_MAX: INT64_MIN to 0 is 2^63 > gap; window_end reaches MAX */
    h[6] = (hand_t){"gap MAX split", 2, {0, 0}, {MIN, 0}, mkp(MAX, 0, 0, 1), 2, {0, 1},
                    {MIN, 0}, {MIN, 0}, {-1, MAX}, {1, 1}, {0, 1}, {0, 1}};
    h[7] = (hand_t){"gap MAX join", 2, {0, 0}, {MIN + 1, 0}, mkp(MAX, 0, 0, 1), 1,
                    {0, 0}, {MIN + 1}, {0}, {MAX}, {2}, {0}, {0}};
    /* restart with max = MAX: start + max = -1 exactly */
    h[8] = (hand_t){"restart MAX incl", 2, {0, 0}, {MIN, -1},
                    mkp(MAX, MAX, SZ_CAP_RESTART, 1), 1, {0, 0}, {MIN}, {-1}, {-1}, {2},
                    {0}, {0}};
    h[9] = (hand_t){"restart MAX excl", 2, {0, 0}, {MIN, -1},
                    mkp(MAX, MAX, SZ_CAP_RESTART, 0), 2, {0, 1}, {MIN, -1}, {MIN, -1},
                    {-1, MAX - 1}, {1, 1}, {0, 1}, {0, 1}};
    /* fixed, blocks of L = 2^62-1 from INT64_MIN: ends MIN+L, MIN+2L = -2,
     * MIN+3L = 2^62-3 */
    h[10] = (hand_t){"fixed huge blocks", 4, {0, 0, 0, 0}, {MIN, MIN + L - 1, MIN + L, 0},
                     mkp(MAX, L, SZ_CAP_FIXED, 1), 3, {0, 0, 1, 2}, {MIN, MIN + L, 0},
                     {MIN + L - 1, MIN + L, 0}, {MIN + L, -2, ((int64_t)1 << 62) - 3},
                     {2, 1, 1}, {0, 1, 2}, {0, 2, 3}};
    /* saturated cap limit near INT64_MAX: window_end = t + gap = MAX */
    h[11] = (hand_t){"saturated limits", 2, {0, 0}, {MAX - 15, MAX - 10},
                     mkp(10, L, SZ_CAP_FIXED, 1), 1, {0, 0}, {MAX - 15}, {MAX - 10},
                     {MAX}, {2}, {0}, {0}};
    for (i = 0; i < 12; i++) check_hand(&h[i]);
    /* the same last case in restart mode */
    h[11].name = "saturated restart";
    h[11].p.cap_mode = SZ_CAP_RESTART;
    check_hand(&h[11]);
    group_end("");
}

static void test_beam_seed(void)
{
    /* beam-session-windows.md: user1_data + user2_data, Thanos at
     * +2**event s (event 0..4), Groot at +2, +4, +10 s; gap 5 s; Beam's
     * sessions are not inclusive.  Base 1554117323.37 s is
     * 1554117323370000 us (see test_seconds). */
    const int64_t B = 1554117323370000LL, S1 = 1000000;
    /* 7, not 6: room for the strings' NUL, which newer compilers demand
     * (-Wunterminated-string-initialization); the keys are the first 6 */
    static const char names[8][7] = {"Thanos", "Thanos", "Thanos", "Thanos", "Thanos",
                                     "Groot\0", "Groot\0", "Groot\0"};
    const int64_t off[8] = {1, 2, 4, 8, 16, 2, 4, 10};
    const int64_t want_ids[8] = {0, 0, 0, 0, 1, 2, 2, 3};
    const int64_t want_len[4] = {12 * S1, 5 * S1, 7 * S1, 5 * S1};
    const int64_t want_count[4] = {4, 1, 2, 1};
    /* input orders: as created; event_3 before event_2 (the seed's
     * DirectRunner); Groot first */
    static const size_t orders[3][8] = {{0, 1, 2, 3, 4, 5, 6, 7},
                                        {0, 1, 3, 2, 4, 5, 6, 7},
                                        {5, 6, 7, 0, 1, 2, 3, 4}};
    int o, incl;
    group_begin("beam seed");
    for (o = 0; o < 3; o++) {
        for (incl = 0; incl < 2; incl++) {
            unsigned char kb[8 * 6];
            int64_t t[8], ids[8], c[6][4];
            sz_keys keys;
            sz_params p = mkp(5 * S1, 0, SZ_CAP_NONE, incl);
            sz_batch *b = NULL;
            sz_session_columns cols;
            size_t S = 0, i;
            sz_status st;
            for (i = 0; i < 8; i++) {
                size_t e = orders[o][i];
                memcpy(kb + i * 6, names[e], 6);
                t[i] = B + off[e] * S1;
            }
            snprintf(ctx, sizeof ctx, "beam order %d inclusive %d", o, incl);
            keys.kind = SZ_KEYS_BYTES;
            keys.data = kb;
            keys.width = 6;
            keys.n_codes = 0;
            st = sz_batch_assign(&b, &keys, t, 8, &p, ids, &S, NULL);
            CHECK(st == SZ_OK);
            CHECK(S == 4);
            CHECK(sz_batch_keys(b) == 2);
            CHECK(sz_batch_path_taken(b) == (o == 1 ? SZ_PATH_SORTING
                                             : o == 0 ? SZ_PATH_ORDERED
                                                      : SZ_PATH_SORTED));
            if (st != SZ_OK || S != 4) {
                sz_batch_free(b);
                continue;
            }
            point_columns(&cols, c);
            CHECK(sz_batch_fill(b, t, ids, 8, &cols) == SZ_OK);
            for (i = 0; i < 8; i++) {
                /* Groot first (order 2) swaps the key blocks */
                size_t e = orders[o][i];
                int64_t w = want_ids[e];
                if (o == 2) w = w >= 2 ? w - 2 : w + 2;
                CHECK(ids[i] == w);
            }
            for (i = 0; i < 4; i++) {
                size_t j = o == 2 ? (i + 2) % 4 : i;  /* session j in id order */
                CHECK(c[2][j] - c[0][j] == want_len[i]);
                CHECK(c[3][j] == want_count[i]);
                CHECK(c[4][j] == (int64_t)(i % 2));
            }
            /* the Thanos sessions */
            {
                size_t j = o == 2 ? 2 : 0;
                CHECK(c[0][j] == B + S1 && c[1][j] == B + 8 * S1);
                CHECK(c[2][j] == B + 13 * S1);
                CHECK(c[0][j + 1] == B + 16 * S1 && c[2][j + 1] == B + 21 * S1);
                CHECK(memcmp(kb + 6 * (size_t)c[5][j], "Thanos", 6) == 0);
            }
            sz_batch_free(b);
        }
    }
    group_end("");
}

static void test_seconds(void)
{
    /* Expected values, worked out by hand (exact binary arithmetic, bc):
     *  1554117323.37 is the double 1554117323.36999988555908203125; times
     *  1e6 that is 1554117323369999.885559..., which rounds to the nearest
     *  multiple of 2^-2 (the spacing of doubles there): 1554117323370000.0.
     *  1.001 is 1.00099999999999988987; times 1e6 = 1000999.99999999988987
     *  rounds (spacing 2^-33) to 1000999.9999999998836, truncated 1000999,
     *  as Python's int(1.001 * 1000000) gives.
     *  9.2e12 * 1e6 = 9.2e18 = 23 * 5^17 * 2^19, exact. */
    const double in[] = {1.5, -1.5, 1554117323.37, 1.001, -1.001, 0.0, -0.0,
                         1e-7, -1e-7, 0.9999999, 9.2e12, -9.2e12, 1554117323.0};
    const int64_t want[] = {1500000, -1500000, 1554117323370000LL, 1000999, -1000999,
                            0, 0, 0, 0, 999999, 9200000000000000000LL,
                            -9200000000000000000LL, 1554117323000000LL};
    const size_t n = sizeof in / sizeof in[0];
    int64_t out[16];
    size_t pos = 99, i;
    group_begin("seconds_to_micros");
    snprintf(ctx, sizeof ctx, "seconds");
    CHECK(sz_seconds_to_micros(in, n, out, &pos) == SZ_OK);
    CHECK(pos == SZ_NO_POSITION);
    for (i = 0; i < n; i++) {
        snprintf(ctx, sizeof ctx, "seconds[%zu] = %.17g -> %lld", i, in[i],
                 (long long)out[i]);
        CHECK(out[i] == want[i]);
    }
    ctx[0] = '\0';
    CHECK(sz_seconds_to_micros(NULL, 0, NULL, &pos) == SZ_OK);
    CHECK(pos == SZ_NO_POSITION);
    CHECK(sz_seconds_to_micros(in, n, out, NULL) == SZ_OK);
    {
        double bad[5] = {1.0, 2.0, NAN, INFINITY, 3.0};
        pos = 0;
        CHECK(sz_seconds_to_micros(bad, 5, out, &pos) == SZ_ERR_TIME_NAN);
        CHECK(pos == 2);
        CHECK(out[0] == 1000000 && out[1] == 2000000);
        CHECK(sz_seconds_to_micros(bad, 5, out, NULL) == SZ_ERR_TIME_NAN);
        bad[2] = 4.0;
        CHECK(sz_seconds_to_micros(bad, 5, out, &pos) == SZ_ERR_TIME_RANGE);
        CHECK(pos == 3);
        bad[3] = -INFINITY;
        CHECK(sz_seconds_to_micros(bad, 5, out, &pos) == SZ_ERR_TIME_RANGE);
        CHECK(pos == 3);
        bad[3] = 1e300;
        CHECK(sz_seconds_to_micros(bad, 5, out, &pos) == SZ_ERR_TIME_RANGE);
        CHECK(pos == 3);
        bad[3] = -1e300;
        CHECK(sz_seconds_to_micros(bad, 5, out, &pos) == SZ_ERR_TIME_RANGE);
        CHECK(pos == 3);
        bad[3] = 9.3e12;  /* 9.3e18 us > 2^63 */
        CHECK(sz_seconds_to_micros(bad, 5, out, &pos) == SZ_ERR_TIME_RANGE);
        CHECK(pos == 3);
        bad[3] = -9.3e12;
        CHECK(sz_seconds_to_micros(bad, 5, out, &pos) == SZ_ERR_TIME_RANGE);
        CHECK(pos == 3);
        bad[0] = NAN;  /* the first bad element wins */
        CHECK(sz_seconds_to_micros(bad, 5, out, &pos) == SZ_ERR_TIME_NAN);
        CHECK(pos == 0);
    }
    group_end("");
}

/* Error reporting on generated inputs of every shape: the first bad
 * element's position, whichever path finds it. */
static void test_element_errors(void)
{
    long c, by_status[9] = {0}, after_sorted_bail = 0, after_ordered_bail = 0;
    char detail[200];
    const long N_CASES = 3000;
    group_begin("element errors");
    for (c = 0; c < N_CASES; c++) {
        genspec sp;
        sz_params p;
        keyset ks;
        tin in;
        ref_t r;
        sz_keys keys;
        size_t pos_bad, q, pos = 0, S = 5;
        int64_t *ids;
        sz_status want, st, second;
        static int dummy;
        sz_batch *b = (sz_batch *)(void *)&dummy;
        int where = (int)rndn(3);

        memset(&sp, 0, sizeof sp);
        random_params(&p, &sp);
        sp.kind = random_kind();
        sp.order = (int)(c % N_ORD);
        sp.tmode = TM_WALK;
        sp.n = 2 + rndn(coin(80) ? 60 : 600);
        sp.K = 1 + rndn(coin(50) ? 4 : sp.n);
        keyset_gen(&ks, sp.kind, sp.K);
        gen_events(&in, &ks, &sp, &p);
        ref_compute(&in, &r);  /* only for the bail points */

        /* where the first bad element goes: anywhere, or after the point
         * where the sorted scan (or the hashed pass) gives up */
        if (where == 1 && r.sorted_bail + 1 < in.n) {
            pos_bad = r.sorted_bail + 1 + rndn(in.n - r.sorted_bail - 1);
            after_sorted_bail++;
        } else if (where == 2 && r.ordered_bail + 1 < in.n) {
            pos_bad = r.ordered_bail + 1 + rndn(in.n - r.ordered_bail - 1);
            after_ordered_bail++;
        } else {
            pos_bad = rndn(in.n);
        }
        ref_free(&r);

        switch (rndn(in.kind == SZ_KEYS_DENSE ? 3 : 2)) {
        case 0:
            in.p.min_is_nat = 1;
            in.t[pos_bad] = INT64_MIN;
            want = SZ_ERR_TIME_NAT;
            break;
        case 1:
            in.t[pos_bad] = coin(50) ? INT64_MAX
                                     : rnd_between(INT64_MAX - in.p.gap + 1, INT64_MAX);
            want = SZ_ERR_TIME_OVERFLOW;
            break;
        default:
            switch (rndn(4)) {
            case 0: in.ik[pos_bad] = (int64_t)in.n_codes; break;
            case 1: in.ik[pos_bad] = -1; break;
            case 2: in.ik[pos_bad] = INT64_MIN; break;
            default: in.ik[pos_bad] = INT64_MAX; break;
            }
            want = SZ_ERR_KEY_RANGE;
            break;
        }
        /* sometimes a second, later bad element of another kind */
        second = SZ_OK;
        if (pos_bad + 1 < in.n && coin(50)) {
            q = pos_bad + 1 + rndn(in.n - pos_bad - 1);
            if (in.kind == SZ_KEYS_DENSE && coin(50)) {
                in.ik[q] = -5;
                second = SZ_ERR_KEY_RANGE;
            } else if (in.p.min_is_nat && coin(50)) {
                in.t[q] = INT64_MIN;
                second = SZ_ERR_TIME_NAT;
            } else {
                in.t[q] = INT64_MAX;
                second = SZ_ERR_TIME_OVERFLOW;
            }
        }
        (void)second;
        describe(&in, "element error");
        {
            size_t used = strlen(ctx);
            snprintf(ctx + used, sizeof ctx - used, " case=%ld bad@%zu want %d", c,
                     pos_bad, (int)want);
        }
        keys = tin_keys(&in);
        ids = (int64_t *)xmalloc(in.n * sizeof *ids);
        st = sz_batch_assign(&b, &keys, in.t, in.n, &in.p, ids, &S, &pos);
        CHECK(st == want);
        CHECK(pos == pos_bad);
        CHECK(b == NULL);
        if (st == SZ_OK) sz_batch_free(b);
        by_status[want]++;
        /* the same without the optional outputs */
        st = sz_batch_assign(NULL, &keys, in.t, in.n, &in.p, ids, NULL, NULL);
        CHECK(st == want);
        free(ids);
        tin_free(&in);
        keyset_free(&ks);
    }
    snprintf(detail, sizeof detail,
             "%ld cases (NaT %ld, overflow %ld, key range %ld; %ld after the sorted "
             "bail, %ld after the ordered bail)",
             N_CASES, by_status[SZ_ERR_TIME_NAT], by_status[SZ_ERR_TIME_OVERFLOW],
             by_status[SZ_ERR_KEY_RANGE], after_sorted_bail, after_ordered_bail);
    group_end(detail);
}

static void test_api_errors(void)
{
    int64_t keys_i[4] = {1, 1, 2, 2}, t[4] = {0, 1, 2, 3}, ids[4];
    unsigned char kb[4] = {'a', 'a', 'b', 'b'};
    sz_keys k = {SZ_KEYS_INT64, keys_i, 0, 0};
    sz_params p = mkp(10, 5, SZ_CAP_RESTART, 1);
    static int dummy;
    sz_batch *b;
    size_t pos, S, i, j;
    sz_status st;
    int mode;
    group_begin("parameter and API errors");

#define EXPECT_ASSIGN(want, keysp, timesp, n, paramsp, idsp)                       \
    do {                                                                        \
        b = (sz_batch *)(void *)&dummy;                                         \
        pos = 1234;                                                             \
        S = 77;                                                                 \
        st = sz_batch_assign(&b, (keysp), (timesp), (n), (paramsp), (idsp), &S, \
                             &pos);                                             \
        CHECK(st == (want));                                                    \
        CHECK((st == SZ_OK) == (b != NULL));                                    \
        CHECK(pos == SZ_NO_POSITION);                                           \
        if (st == SZ_OK) sz_batch_free(b);                                      \
    } while (0)

    /* gap <= 0, max <= 0 with a cap, bad mode */
    {
        const int64_t bad_gaps[] = {0, -1, INT64_MIN};
        const int64_t bad_max[] = {0, -1, INT64_MIN};
        for (i = 0; i < 3; i++) {
            sz_params q = p;
            snprintf(ctx, sizeof ctx, "gap %lld", (long long)bad_gaps[i]);
            q.gap = bad_gaps[i];
            for (mode = 0; mode < 3; mode++) {
                q.cap_mode = mode;
                CHECK(sz_params_check(&q) == SZ_ERR_PARAM);
                EXPECT_ASSIGN(SZ_ERR_PARAM, &k, t, 4, &q, ids);
            }
        }
        for (mode = SZ_CAP_RESTART; mode <= SZ_CAP_FIXED; mode++) {
            for (i = 0; i < 3; i++) {
                sz_params q = p;
                snprintf(ctx, sizeof ctx, "mode %d max %lld", mode, (long long)bad_max[i]);
                q.cap_mode = mode;
                q.max_duration = bad_max[i];
                CHECK(sz_params_check(&q) == SZ_ERR_PARAM);
                EXPECT_ASSIGN(SZ_ERR_PARAM, &k, t, 4, &q, ids);
            }
        }
        ctx[0] = '\0';
        {
            sz_params q = p;
            q.cap_mode = SZ_CAP_NONE;
            q.max_duration = -3;  /* ignored without a cap */
            CHECK(sz_params_check(&q) == SZ_OK);
            q.cap_mode = 3;
            CHECK(sz_params_check(&q) == SZ_ERR_PARAM);
            EXPECT_ASSIGN(SZ_ERR_PARAM, &k, t, 4, &q, ids);
            q.cap_mode = -1;
            CHECK(sz_params_check(&q) == SZ_ERR_PARAM);
            EXPECT_ASSIGN(SZ_ERR_PARAM, &k, t, 4, &q, ids);
            q = p;
            q.gap = INT64_MAX;
            q.max_duration = INT64_MAX;
            CHECK(sz_params_check(&q) == SZ_OK);
        }
        CHECK(sz_params_check(NULL) == SZ_ERR_PARAM);
        CHECK(sz_params_check(&p) == SZ_OK);
        EXPECT_ASSIGN(SZ_ERR_PARAM, &k, t, 4, NULL, ids);
    }

    /* bad keys */
    {
        sz_keys q = k;
        q.kind = 3;
        EXPECT_ASSIGN(SZ_ERR_PARAM, &q, t, 4, &p, ids);
        q.kind = -1;
        EXPECT_ASSIGN(SZ_ERR_PARAM, &q, t, 4, &p, ids);
        q.kind = SZ_KEYS_BYTES;
        q.data = kb;
        q.width = 0;
        EXPECT_ASSIGN(SZ_ERR_PARAM, &q, t, 4, &p, ids);
        q.width = 1;
        EXPECT_ASSIGN(SZ_OK, &q, t, 4, &p, ids);
        EXPECT_ASSIGN(SZ_ERR_PARAM, NULL, t, 4, &p, ids);
        q = k;
        q.data = NULL;
        EXPECT_ASSIGN(SZ_ERR_PARAM, &q, t, 4, &p, ids);
        EXPECT_ASSIGN(SZ_ERR_PARAM, &k, NULL, 4, &p, ids);
        EXPECT_ASSIGN(SZ_ERR_PARAM, &k, t, 4, &p, NULL);
        if (sizeof(size_t) > 4) {
            /* refused before any element is read */
            EXPECT_ASSIGN(SZ_ERR_TOO_LARGE, &k, t, SZ_MAX_EVENTS + 1, &p, ids);
            q = k;
            q.kind = SZ_KEYS_DENSE;
            q.n_codes = SZ_MAX_EVENTS + 1;
            EXPECT_ASSIGN(SZ_ERR_TOO_LARGE, &q, t, 4, &p, ids);
        }
    }

    /* n = 0: no sessions, and NULL arrays are fine; n = 1 */
    {
        int kinds[3] = {SZ_KEYS_INT64, SZ_KEYS_BYTES, SZ_KEYS_DENSE};
        for (i = 0; i < 3; i++) {
            sz_keys q = {kinds[i], NULL, 3, 0};
            sz_session_columns cols;
            int64_t c[6][2];
            for (j = 0; j < 2; j++) {  /* DENSE with 0 and with 5 codes */
                q.n_codes = j ? 5 : 0;
                snprintf(ctx, sizeof ctx, "n=0 kind %d n_codes %zu", kinds[i], q.n_codes);
                b = NULL;
                S = 9;
                pos = 9;
                st = sz_batch_assign(&b, &q, NULL, 0, &p, NULL, &S, &pos);
                CHECK(st == SZ_OK);
                CHECK(S == 0 && pos == SZ_NO_POSITION);
                CHECK(b != NULL);
                CHECK(sz_batch_sessions(b) == 0);
                CHECK(sz_batch_keys(b) == (kinds[i] == SZ_KEYS_DENSE ? q.n_codes : 0));
                point_columns(&cols, c);
                CHECK(sz_batch_fill(b, NULL, NULL, 0, &cols) == SZ_OK);
                CHECK(sz_batch_fill(b, t, ids, 1, &cols) == SZ_ERR_PARAM);
                sz_batch_free(b);
            }
        }
        for (i = 0; i < 3; i++) {
            for (mode = 0; mode < 3; mode++) {
                int64_t one_t = -40, one_k = 2, c[6][2], want_we;
                unsigned char one_b[3] = {0, 0, 7};
                sz_keys q = {kinds[i], kinds[i] == SZ_KEYS_BYTES ? (void *)one_b : (void *)&one_k,
                             3, 3};
                sz_params pp = mkp(10, 4, mode, 1);
                sz_session_columns cols;
                snprintf(ctx, sizeof ctx, "n=1 kind %d mode %d", kinds[i], mode);
                b = NULL;
                st = sz_batch_assign(&b, &q, &one_t, 1, &pp, ids, &S, &pos);
                CHECK(st == SZ_OK);
                CHECK(S == 1 && ids[0] == 0);
                CHECK(sz_batch_path_taken(b) == SZ_PATH_SORTED);
                point_columns(&cols, c);
                CHECK(sz_batch_fill(b, &one_t, ids, 1, &cols) == SZ_OK);
                want_we = mode == SZ_CAP_NONE ? -30 : -36;
                CHECK(c[0][0] == -40 && c[1][0] == -40 && c[2][0] == want_we);
                CHECK(c[3][0] == 1 && c[4][0] == 0 && c[5][0] == 0);
                sz_batch_free(b);
            }
        }
    }

    /* sz_batch_fill refusals */
    {
        int64_t c[6][4], bad_ids[4];
        sz_session_columns cols, q;
        sz_batch *bb = NULL;
        int64_t **slot[6];
        ctx[0] = '\0';
        point_columns(&cols, c);
        st = sz_batch_assign(&bb, &k, t, 4, &p, ids, &S, &pos);
        CHECK(st == SZ_OK && S == 2);
        CHECK(sz_batch_fill(bb, t, ids, 4, &cols) == SZ_OK);
        CHECK(sz_batch_fill(bb, t, ids, 3, &cols) == SZ_ERR_PARAM);
        CHECK(sz_batch_fill(bb, t, ids, 5, &cols) == SZ_ERR_PARAM);
        CHECK(sz_batch_fill(bb, t, ids, 0, &cols) == SZ_ERR_PARAM);
        CHECK(sz_batch_fill(bb, t, ids, 4, NULL) == SZ_ERR_PARAM);
        CHECK(sz_batch_fill(NULL, t, ids, 4, &cols) == SZ_ERR_PARAM);
        CHECK(sz_batch_fill(bb, NULL, ids, 4, &cols) == SZ_ERR_PARAM);
        CHECK(sz_batch_fill(bb, t, NULL, 4, &cols) == SZ_ERR_PARAM);
        slot[0] = &q.start;
        slot[1] = &q.end;
        slot[2] = &q.window_end;
        slot[3] = &q.count;
        slot[4] = &q.index;
        slot[5] = &q.first_event;
        for (i = 0; i < 6; i++) {
            q = cols;
            *slot[i] = NULL;
            snprintf(ctx, sizeof ctx, "NULL column %zu", i);
            CHECK(sz_batch_fill(bb, t, ids, 4, &q) == SZ_ERR_PARAM);
        }
        ctx[0] = '\0';
        memcpy(bad_ids, ids, sizeof bad_ids);
        bad_ids[2] = 2;  /* == S */
        CHECK(sz_batch_fill(bb, t, bad_ids, 4, &cols) == SZ_ERR_PARAM);
        bad_ids[2] = -1;
        CHECK(sz_batch_fill(bb, t, bad_ids, 4, &cols) == SZ_ERR_PARAM);
        sz_batch_free(bb);
    }

    /* NULL-tolerant accessors and free */
    sz_batch_free(NULL);
    CHECK(sz_batch_sessions(NULL) == 0);
    CHECK(sz_batch_keys(NULL) == 0);
    CHECK(sz_batch_path_taken(NULL) == -1);

    /* sz_strerror: every status named, distinctly; unknown values too */
    {
        const char *names[9];
        const char *unk1 = sz_strerror((sz_status)99), *unk2 = sz_strerror((sz_status)-1);
        for (i = 0; i < 9; i++) {
            names[i] = sz_strerror((sz_status)i);
            snprintf(ctx, sizeof ctx, "strerror(%zu)", i);
            CHECK(names[i] != NULL && names[i][0] != '\0');
        }
        for (i = 0; i < 9; i++)
            for (j = i + 1; j < 9; j++) {
                snprintf(ctx, sizeof ctx, "strerror(%zu) vs (%zu)", i, j);
                CHECK(names[i] && names[j] && strcmp(names[i], names[j]) != 0);
            }
        ctx[0] = '\0';
        CHECK(unk1 != NULL && unk2 != NULL);
        for (i = 0; i < 9; i++)
            CHECK(unk1 && names[i] && strcmp(unk1, names[i]) != 0);
        /* pinned values */
        CHECK(SZ_OK == 0 && SZ_ERR_NOMEM == 1 && SZ_ERR_PARAM == 2 && SZ_ERR_TIME_NAT == 3
              && SZ_ERR_TIME_OVERFLOW == 4 && SZ_ERR_TOO_LARGE == 5
              && SZ_ERR_KEY_RANGE == 6 && SZ_ERR_TIME_NAN == 7 && SZ_ERR_TIME_RANGE == 8);
    }

    /* hand-made element errors, one per path */
    {
        /* sorted, bail at 3 (key 1 after 2), bad time at 5: the hashed pass
         * must still find it */
        int64_t kk[6] = {1, 2, 2, 1, 3, 3}, tt[6] = {0, 0, 1, 1, 0, 0};
        sz_keys q = {SZ_KEYS_INT64, kk, 0, 0};
        sz_params pp = mkp(10, 0, 0, 1);
        int64_t ids6[6];
        pp.min_is_nat = 1;
        tt[5] = INT64_MAX - 9;
        snprintf(ctx, sizeof ctx, "overflow after the sorted bail");
        st = sz_batch_assign(NULL, &q, tt, 6, &pp, ids6, NULL, &pos);
        CHECK(st == SZ_ERR_TIME_OVERFLOW && pos == 5);
        tt[5] = INT64_MAX - 10;  /* the largest valid time */
        st = sz_batch_assign(NULL, &q, tt, 6, &pp, ids6, NULL, &pos);
        CHECK(st == SZ_OK && pos == SZ_NO_POSITION);
        tt[5] = INT64_MIN;
        st = sz_batch_assign(NULL, &q, tt, 6, &pp, ids6, NULL, &pos);
        CHECK(st == SZ_ERR_TIME_NAT && pos == 5);
        /* time order broken at 2 (hashed pass bails), bad at 4 */
        kk[3] = 2;
        tt[2] = -1;
        tt[5] = 0;
        tt[4] = INT64_MIN;
        snprintf(ctx, sizeof ctx, "NaT after the ordered bail");
        st = sz_batch_assign(NULL, &q, tt, 6, &pp, ids6, NULL, &pos);
        CHECK(st == SZ_ERR_TIME_NAT && pos == 4);
        pp.min_is_nat = 0;  /* then INT64_MIN is a time like any other */
        st = sz_batch_assign(NULL, &q, tt, 6, &pp, ids6, NULL, &pos);
        CHECK(st == SZ_OK);
        /* DENSE out of range after both bails */
        q.kind = SZ_KEYS_DENSE;
        q.n_codes = 4;
        kk[4] = 4;
        tt[4] = 0;
        snprintf(ctx, sizeof ctx, "dense code after the bails");
        st = sz_batch_assign(NULL, &q, tt, 6, &pp, ids6, NULL, &pos);
        CHECK(st == SZ_ERR_KEY_RANGE && pos == 4);
        kk[4] = -1;
        st = sz_batch_assign(NULL, &q, tt, 6, &pp, ids6, NULL, &pos);
        CHECK(st == SZ_ERR_KEY_RANGE && pos == 4);
        kk[4] = 3;
        st = sz_batch_assign(NULL, &q, tt, 6, &pp, ids6, NULL, &pos);
        CHECK(st == SZ_OK);
        /* no codes at all: the first event is already out of range */
        q.n_codes = 0;
        snprintf(ctx, sizeof ctx, "dense with n_codes = 0");
        st = sz_batch_assign(NULL, &q, tt, 6, &pp, ids6, NULL, &pos);
        CHECK(st == SZ_ERR_KEY_RANGE && pos == 0);
        /* code == n_codes at the very first event of a sorted input */
        q.n_codes = 1;
        kk[0] = 1;
        st = sz_batch_assign(NULL, &q, tt, 1, &pp, ids6, NULL, &pos);
        CHECK(st == SZ_ERR_KEY_RANGE && pos == 0);
        kk[0] = 0;
        st = sz_batch_assign(NULL, &q, tt, 1, &pp, ids6, NULL, &pos);
        CHECK(st == SZ_OK && pos == SZ_NO_POSITION && ids6[0] == 0);
    }
#undef EXPECT_ASSIGN
    group_end("");
}

/* ---- sort.c on its own -------------------------------------------------
 * Batch outputs cannot show an unstable time sort (equal times always
 * share a session, and sz_batch_fill() finds first events from the input),
 * so the sorts' promises are checked directly. */

typedef struct idx_val {
    int64_t t;
    size_t i;
} idx_val;

static int cmp_idx_val(const void *pa, const void *pb)
{
    const idx_val *a = (const idx_val *)pa, *b = (const idx_val *)pb;
    if (a->t != b->t) return a->t < b->t ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

static int idx_order(const void *ctx, size_t a, size_t b)
{
    const int64_t *t = (const int64_t *)ctx;
    return (t[a] > t[b]) - (t[a] < t[b]);
}

static void test_sorts(void)
{
    static const size_t lens[] = {0, 1, 2, 3, 23, 24, 25, 47, 48, 49, 100, 101, 257,
                                  1000, 4099};
    long cases = 0;
    size_t li, pat, i, j;
    char detail[96];
    group_begin("sort.c");
    for (li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        for (pat = 0; pat < 8; pat++) {
            size_t m = lens[li];
            int64_t *t = (int64_t *)xmalloc(m * sizeof *t);
            int64_t *rt = (int64_t *)xmalloc(m * sizeof *rt);
            uint32_t *pp = (uint32_t *)xmalloc(m * sizeof *pp);
            uint32_t *rp = (uint32_t *)xmalloc(m * sizeof *rp);
            /* scratch of exactly m elements, so valgrind sees any overrun */
            int64_t *tmp_t = (int64_t *)xmalloc(m * sizeof *tmp_t);
            uint32_t *tmp_p = (uint32_t *)xmalloc(m * sizeof *tmp_p);
            for (i = 0; i < m; i++) {
                switch (pat) {
                case 0: t[i] = (int64_t)rndn(4); break;            /* many ties */
                case 1: t[i] = (int64_t)rnd(); break;              /* full range */
                case 2: t[i] = (int64_t)i; break;                  /* sorted */
                case 3: t[i] = (int64_t)(m - i) / 3; break;        /* reversed, ties */
                case 4: t[i] = (int64_t)(i < m / 2 ? i : m - i); break;  /* organ pipe */
                case 5: t[i] = coin(90) ? (int64_t)i : (int64_t)rndn(m + 1); break;
                case 7: t[i] = (int64_t)(4 * i + rndn(9)); break;  /* a log's jitter */
                default: t[i] = coin(50) ? INT64_MIN : INT64_MAX; break;
                }
                pp[i] = (uint32_t)i;
                rt[i] = t[i];
                rp[i] = (uint32_t)i;
            }
            /* reference: stable insertion sort */
            for (i = 1; i < m; i++) {
                int64_t tv = rt[i];
                uint32_t pv = rp[i];
                for (j = i; j > 0 && rt[j - 1] > tv; j--) {
                    rt[j] = rt[j - 1];
                    rp[j] = rp[j - 1];
                }
                rt[j] = tv;
                rp[j] = pv;
            }
            snprintf(ctx, sizeof ctx, "sort_pairs m=%zu pattern %zu", m, pat);
            sz__sort_pairs(t, pp, m, tmp_t, tmp_p);
            CHECK(m == 0 || memcmp(t, rt, m * sizeof *t) == 0);
            CHECK(m == 0 || memcmp(pp, rp, m * sizeof *pp) == 0);  /* stable */
            cases++;
            free(t);
            free(rt);
            free(pp);
            free(rp);
            free(tmp_t);
            free(tmp_p);
        }
    }
    /* the stable counting sort into groups: key id in the low 32 bits (high
     * bits are the ORDERED pass's session numbers and must be ignored),
     * member bit set: group = rank[key id]; bit clear: left out */
    for (li = 0; li < 200; li++) {
        size_t n = rndn(li < 100 ? 40 : 3000), K = 1 + rndn(li % 3 == 0 ? 3 : n + 1), k, G = 0, m;
        int64_t *packed = (int64_t *)xmalloc(n * sizeof *packed);
        uint32_t *rank = (uint32_t *)xmalloc(K * sizeof *rank);
        uint64_t *member = (uint64_t *)xmalloc(((K + 63) / 64) * sizeof *member);
        uint32_t *starts = (uint32_t *)xmalloc((K + 1) * sizeof *starts);
        uint32_t *perm = (uint32_t *)xmalloc((n ? n : 1) * sizeof *perm);
        int ok_perm = 1, ok_starts = 1;
        size_t o = 0;
        for (k = 0; k < K; k++)  /* every other pass: only some keys grouped */
            rank[k] = (li % 2 == 0 || rndn(2)) ? (uint32_t)G++ : UINT32_MAX;
        for (i = 0; i < n; i++)
            packed[i] = (int64_t)(((uint64_t)rndn(5) << 32) | (uint64_t)rndn(K));
        memset(member, 0, ((K + 63) / 64) * sizeof *member);
        for (k = 0; k < K; k++)
            if (rank[k] != UINT32_MAX) member[k >> 6] |= (uint64_t)1 << (k & 63);
        m = sz__group_starts(packed, n, member, rank, G, starts);
        sz__group_scatter(packed, n, member, rank, G, starts, perm);
        for (k = 0; k < K; k++) {
            if (rank[k] == UINT32_MAX) continue;
            if (starts[rank[k]] != o) ok_starts = 0;
            for (i = 0; i < n; i++) {
                if ((uint32_t)packed[i] != k) continue;
                if (o >= m || perm[o] != i) ok_perm = 0;
                o++;
            }
        }
        snprintf(ctx, sizeof ctx, "group sort n=%zu K=%zu G=%zu", n, K, G);
        CHECK(ok_starts && starts[G] == m);
        CHECK(ok_perm && o == m);
        cases++;
        free(packed);
        free(rank);
        free(member);
        free(starts);
        free(perm);
    }
    /* the streams' stable index sort, against qsort by (value, index) */
    {
        double worst = 0.0;
        for (li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            for (pat = 0; pat < 8; pat++) {
                size_t m = lens[li], bound = 0, w;
                int64_t *t = (int64_t *)xmalloc(m * sizeof *t);
                idx_val *ref = (idx_val *)xmalloc(m * sizeof *ref);
                size_t *idx = (size_t *)xmalloc(m * sizeof *idx);
                size_t *tmp = (size_t *)xmalloc(m * sizeof *tmp);  /* exactly m */
                unsigned long long cmps;
                int same = 1;
                for (i = 0; i < m; i++) {
                    switch (pat) {
                    case 0: t[i] = (int64_t)rndn(4); break;
                    case 1: t[i] = (int64_t)rnd(); break;
                    case 2: t[i] = (int64_t)i; break;
                    case 3: t[i] = (int64_t)(m - i) / 3; break;
                    case 4: t[i] = (int64_t)(i < m / 2 ? i : m - i); break;
                    case 5: t[i] = coin(90) ? (int64_t)i : (int64_t)rndn(m + 1); break;
                    /* a flush's shape: a session, then its key's KEY_FREED */
                    case 6: t[i] = i % 2 ? INT64_MAX : (int64_t)rndn(m + 1); break;
                    default: t[i] = (int64_t)(4 * i + rndn(9)); break;
                    }
                    idx[i] = i;
                    ref[i].t = t[i];
                    ref[i].i = i;
                }
                qsort(ref, m, sizeof *ref, cmp_idx_val);
                (void)sz_test_sort_cmps();
                sz__sort_idx(idx, m, tmp, idx_order, t);
                cmps = sz_test_sort_cmps();
                for (i = 0; i < m; i++) same &= idx[i] == ref[i].i;
                for (w = 1; w < m; w *= 2) bound += m;  /* m ceil(log2 m) */
                bound += m > 0 ? m - 1 : 0;
                snprintf(ctx, sizeof ctx, "sort_idx m=%zu pattern %zu: %llu comparisons",
                         m, pat, cmps);
                CHECK(same);  /* sorted, and stable */
                CHECK(cmps <= bound);
                if (pat == 2 || m < 2) CHECK(cmps == (m > 0 ? m - 1 : 0));
                if (m > 1 && (double)cmps / (double)(bound - (m - 1)) > worst)
                    worst = (double)cmps / (double)(bound - (m - 1));
                cases++;
                free(t);
                free(ref);
                free(idx);
                free(tmp);
            }
        }
        snprintf(detail, sizeof detail, "%ld cases; sort_idx: up to %.2f m ceil(log2 m) comparisons",
                 cases, worst);
    }
    group_end(detail);
}

/* Every allocation of a call made to fail in turn. */
static long alloc_walk(const tin *in, int want_path, long *fail_points)
{
    ref_t r;
    sz_keys keys = tin_keys(in);
    int64_t *ids = (int64_t *)xmalloc((in->n ? in->n : 1) * sizeof *ids);
    long k, made = 0;
    int with_out;
    static int dummy;
    ref_compute(in, &r);
    for (with_out = 1; with_out >= 0; with_out--) {
        for (k = 1;; k++) {
            sz_batch *b = (sz_batch *)(void *)&dummy;
            size_t S = 0, pos = 0;
            sz_status st;
            sz_test_fail_after(k);
            st = sz_batch_assign(with_out ? &b : NULL, &keys, in->t, in->n, &in->p, ids,
                                 &S, &pos);
            made = sz_test_fail_after(0);
            if (made < k) {  /* the k-th allocation never came: a clean run */
                CHECK(st == SZ_OK);
                if (st == SZ_OK) {
                    CHECK(S == r.S);
                    CHECK(arrays_equal("ids", ids, r.ids, in->n));
                    if (with_out) {
                        CHECK(sz_batch_path_taken(b) == want_path);
                        sz_batch_free(b);
                    }
                }
                break;
            }
            (*fail_points)++;
            {
                size_t used = strlen(ctx);
                if (st != SZ_ERR_NOMEM)
                    snprintf(ctx + used, sizeof ctx - used, " | alloc %ld -> %d", k, (int)st);
            }
            CHECK(st == SZ_ERR_NOMEM);
            CHECK(pos == SZ_NO_POSITION);
            if (with_out) CHECK(b == NULL);
            if (st == SZ_OK && with_out && b != (sz_batch *)(void *)&dummy) sz_batch_free(b);
            if (k > 10000) {
                CHECK(!"allocation walk does not end");
                break;
            }
        }
    }
    ref_free(&r);
    free(ids);
    return made;
}

static void test_alloc_failures(void)
{
    int kinds[3] = {SZ_KEYS_INT64, SZ_KEYS_BYTES, SZ_KEYS_DENSE};
    int orders[3] = {ORD_SORTED, ORD_INTERLEAVE, ORD_SHUFFLE};
    size_t sizes[2][2] = {{3000, 1500}, {160000, 75000}};
    long fail_points = 0, walks = 0, most = 0;
    int a, o, s;
    char detail[160];
    group_begin("allocation failures");
    sz_test_fail_after(0);
    for (s = 0; s < 2; s++) {
        for (a = 0; a < 3; a++) {
            for (o = 0; o < 3; o++) {
                genspec sp;
                sz_params p;
                keyset ks;
                tin in;
                long made;
                memset(&sp, 0, sizeof sp);
                random_params(&p, &sp);
                p.cap_mode = o;  /* each mode somewhere */
                if (p.max_duration <= 0) p.max_duration = 3;
                sp.kind = kinds[a];
                sp.order = orders[o];
                sp.tmode = TM_WALK;
                sp.n = sizes[s][0];
                sp.K = sizes[s][1];
                sp.skew = 1;  /* a long run: the sort's scratch buffers */
                keyset_gen(&ks, sp.kind, sp.K);
                gen_events(&in, &ks, &sp, &p);
                describe(&in, "alloc walk");
                made = alloc_walk(&in, ord_path[orders[o]], &fail_points);
                if (made > most) most = made;
                walks++;
                tin_free(&in);
                keyset_free(&ks);
            }
        }
    }
    /* the empty input allocates too */
    {
        tin in;
        tin_alloc(&in, SZ_KEYS_INT64, 0, 0, 0);
        in.p = mkp(1, 0, 0, 0);
        describe(&in, "alloc walk, n=0");
        alloc_walk(&in, SZ_PATH_SORTED, &fail_points);
        walks++;
        tin_free(&in);
    }
    snprintf(detail, sizeof detail,
             "%ld walks, %ld injected failures, up to %ld allocations per call", walks,
             fail_points, most);
    group_end(detail);
}

/* A log's jitter: a late event inside its key's open session stays on the
 * ORDERED path; one that would bridge two sessions or precede a session's
 * start sends the input to the SORTING path.  Results match the reference. */
/* The table indexed by key span (batch.c) is taken exactly when the int64
 * keys span at most n values, at either end of int64 and across zero, in
 * time order and shuffled; results are compared with the reference. */
static void test_span(void)
{
    static const int64_t bases[] = {0, -7, INT64_MIN, INT64_MAX - 16, 1000000007};
    enum { N = 16 };
    size_t bi, i;
    int wide, shuffled;
    group_begin("span table");
    for (bi = 0; bi < sizeof bases / sizeof bases[0]; bi++)
    for (wide = 0; wide <= 1; wide++)
    for (shuffled = 0; shuffled <= 1; shuffled++) {
        int64_t k[N], t[N];
        long spanned_before = tables_seen[1], hashed_before = tables_seen[0];
        tin in;
        for (i = 0; i < N; i++) {
            k[i] = bases[bi] + (int64_t)((i * 7) % 5);  /* 5 keys, repeating */
            t[i] = shuffled ? (int64_t)((i * 11) % N) * 4 : (int64_t)i * 4;
        }
        k[3] = bases[bi] + N - 1 + wide;  /* spans N values, or N + 1 */
        memset(&in, 0, sizeof in);
        in.kind = SZ_KEYS_INT64;
        in.n = N;
        in.ik = k;
        in.t = t;
        in.order = shuffled ? "span, shuffled" : "span, in time order";
        in.p.gap = 9;
        in.p.inclusive = 1;
        CHECK(run_compare(&in) == (shuffled ? SZ_PATH_SORTING : SZ_PATH_ORDERED));
        snprintf(ctx, sizeof ctx, "base %lld, span %d", (long long)bases[bi], N + wide);
        CHECK(tables_seen[1] - spanned_before == !wide);
        CHECK(tables_seen[0] - hashed_before == wide);
    }
    group_end("");
}

/* The sorted scan of int64 keys without a cap works a chunk of 2048
 * events at a time and scans a chunk again when it holds a fault: a fault
 * at each chunk edge must still be found where it is (a bad time: its
 * status and position; keys or times out of order: the other paths, whose
 * results are compared with the reference). */
static void test_sorted_chunks(void)
{
    static const size_t at[] = {0, 1, 2046, 2047, 2048, 2049, 4095, 4096, 6143, 6148};
    enum { N = 3 * 2048 + 5, FAULTS = 4 };
    int64_t *k = (int64_t *)xmalloc(N * sizeof *k), *t = (int64_t *)xmalloc(N * sizeof *t);
    int64_t *ids = (int64_t *)xmalloc(N * sizeof *ids);
    size_t a, i;
    int f;
    group_begin("sorted scan: faults at chunk edges");
    for (a = 0; a < sizeof at / sizeof at[0]; a++)
    for (f = 0; f < FAULTS; f++) {
        size_t pos = at[a], err = 4242, S = 0;
        sz_keys keys;
        sz_params p;
        sz_status st;
        tin in;
        for (i = 0; i < N; i++) {  /* keys of 7 events, 30 +- 30 apart */
            k[i] = (int64_t)(i / 7) - 500;
            t[i] = (int64_t)((i * 37) % 60) + (int64_t)i * 30;
        }
        memset(&p, 0, sizeof p);
        p.gap = 40;
        p.min_is_nat = 1;
        memset(&keys, 0, sizeof keys);
        keys.kind = SZ_KEYS_INT64;
        keys.data = k;
        snprintf(ctx, sizeof ctx, "fault %d at %zu", f, pos);
        if (a == 0 && f == 0) {  /* unfaulted, it is sorted */
            memset(&in, 0, sizeof in);
            in.kind = SZ_KEYS_INT64;
            in.n = N;
            in.ik = k;
            in.t = t;
            in.order = "sorted, chunks";
            in.p = p;
            CHECK(run_compare(&in) == SZ_PATH_SORTED);
        }
        if (f == 0 || f == 1) {  /* a missing time, a time too late to add gap to */
            t[pos] = f == 0 ? INT64_MIN : INT64_MAX - 10;
            if (pos + 1 < N) t[pos + 1] = f == 0 ? INT64_MIN : INT64_MAX;  /* a later one */
            st = sz_batch_assign(NULL, &keys, t, N, &p, ids, &S, &err);
            CHECK(st == (f == 0 ? SZ_ERR_TIME_NAT : SZ_ERR_TIME_OVERFLOW));
            CHECK(err == pos);
            continue;
        }
        if (f == 2) {  /* the event's time before its key's previous one */
            if (pos == 0 || k[pos] != k[pos - 1]) pos++;
            t[pos] = t[pos - 1] - 1 - 200 * (pos % 2);
        } else {       /* its key smaller than the previous event's */
            if (pos == 0) pos = 1;
            k[pos] = k[pos - 1] - 1 - (int64_t)(pos % 3);
        }
        memset(&in, 0, sizeof in);
        in.kind = SZ_KEYS_INT64;
        in.n = N;
        in.ik = k;
        in.t = t;
        in.order = f == 2 ? "sorted but one time" : "sorted but one key";
        in.p = p;
        CHECK(run_compare(&in) != SZ_PATH_SORTED);
    }
    free(k);
    free(t);
    free(ids);
    group_end("");
}

static void test_jitter(void)
{
    static const struct {
        int mode;
        int64_t max;
        int64_t t[6];
        int path;
    } cases[] = {
        /* key 1: 0, 10, 5 (late, inside [0, 10]) -> ordered */
        {SZ_CAP_NONE, 0, {0, 100, 10, 105, 5, 107}, SZ_PATH_ORDERED},
        /* late event exactly at the open session's start -> ordered */
        {SZ_CAP_NONE, 0, {0, 100, 10, 105, 0, 107}, SZ_PATH_ORDERED},
        /* key 1: 0, 40 (new session), late 30: too far from 0 to join it,
         * within gap of 40: the open session's new first event -> ordered */
        {SZ_CAP_NONE, 0, {0, 100, 40, 105, 30, 107}, SZ_PATH_ORDERED},
        /* key 1: 0, 25 (new session), late 12 bridges the two -> sorting */
        {SZ_CAP_NONE, 0, {0, 100, 25, 105, 12, 107}, SZ_PATH_SORTING},
        /* key 1: 0, 40, late 20: its own session between them -> sorting */
        {SZ_CAP_NONE, 0, {0, 100, 40, 105, 20, 107}, SZ_PATH_SORTING},
        /* restart cap: 0, 40 (new session), late 30 would move the start the
         * cap counts from: not judged in place -> sorting */
        {SZ_CAP_RESTART, 100, {0, 100, 40, 105, 30, 107}, SZ_PATH_SORTING},
        /* restart cap 12: 0, 10, 5 inside the session -> ordered */
        {SZ_CAP_RESTART, 12, {0, 100, 10, 105, 5, 107}, SZ_PATH_ORDERED},
        /* fixed cap 8: blocks [0,8),[8,16); 0, 10 (second block), 9 late but
         * inside that block -> ordered, and becomes its first event */
        {SZ_CAP_FIXED, 8, {0, 100, 10, 105, 9, 107}, SZ_PATH_ORDERED},
        /* fixed cap 8: 0, 10, then 7 belongs to the first block -> sorting */
        {SZ_CAP_FIXED, 8, {0, 100, 10, 105, 7, 107}, SZ_PATH_SORTING},
    };
    int64_t keys[6] = {1, 2, 1, 2, 1, 2}, t[6];
    size_t c;
    group_begin("jitter");
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tin in;
        memset(&in, 0, sizeof in);
        in.kind = SZ_KEYS_INT64;
        in.n = 6;
        memcpy(t, cases[c].t, sizeof t);
        in.ik = keys;
        in.t = t;
        in.order = "jitter";
        in.p.gap = 15;
        in.p.inclusive = 1;
        in.p.cap_mode = cases[c].mode;
        in.p.max_duration = cases[c].max;
        CHECK(run_compare(&in) == cases[c].path);
    }
    group_end("");
}

int main(void)
{
    rng_state = RNG_SEED;
    sz_test_fail_after(0);
    test_api_errors();
    test_hand();
    test_beam_seed();
    test_jitter();
    test_span();
    test_sorted_chunks();
    test_seconds();
    test_random();
    test_extreme_random();
    test_big();
    test_element_errors();
    test_sorts();
    test_alloc_failures();
    /* The same cases again with every pass over 16 events or more cut in
     * two parts on two threads (parallel.c): no result may change.  The
     * allocation walks stay single-threaded (see alloc.c). */
    printf("-- again, passes run in two parts on two threads\n");
    sz_set_threads(2);
    sz_test_parallel_min(16);
    test_hand();
    test_jitter();
    test_sorted_chunks();
    test_random();
    test_extreme_random();
    test_big();
    test_element_errors();
    sz_test_parallel_min(0);
    sz_set_threads(0);
    printf("%ld passed, %ld failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
