/*
 * test_arrow.c -- tier 4: Arrow input (arrow.c) against a slow, obvious
 * reference.
 *
 * Arrays are built with nanoarrow's builder (the vendored copy), sliced and
 * cut into chunks, and factorized; the codes must equal the first-appearance
 * factorization of the same values done by linear search, the first rows
 * must be each key's first row, and the codes fed to sz_batch_assign as
 * SZ_KEYS_DENSE must give the session ids the same keys give as
 * SZ_KEYS_BYTES or SZ_KEYS_INT64.  Then nulls, empty chunks, malformed
 * arrays, refused types, every allocation failure point, and the integer
 * and time reader.
 */
#include "../sessionize.h"
#include "../sz_internal.h"
#include "../vendor/nanoarrow/nanoarrow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SZ_TEST_SIMPLE_CHECK 1
#include "harness.h"

#define RNG_SEED 0x6A09E667F3BCC909ULL
#define MAXB 40  /* longest test key */

/* One row's value. */
typedef struct val {
    int null;
    size_t len;
    unsigned char b[MAXB];  /* bytes; integers: the int64/uint64 bits */
} val;

/* Key types under test. */
enum { T_U, T_UU, T_VU, T_Z, T_ZZ, T_VZ, T_W, T_INT, N_T };
static const enum ArrowType t_arrow[N_T] = {
    NANOARROW_TYPE_STRING, NANOARROW_TYPE_LARGE_STRING, NANOARROW_TYPE_STRING_VIEW,
    NANOARROW_TYPE_BINARY, NANOARROW_TYPE_LARGE_BINARY, NANOARROW_TYPE_BINARY_VIEW,
    NANOARROW_TYPE_FIXED_SIZE_BINARY, NANOARROW_TYPE_INT64};
static const enum ArrowType int_types[8] = {
    NANOARROW_TYPE_INT8, NANOARROW_TYPE_UINT8, NANOARROW_TYPE_INT16, NANOARROW_TYPE_UINT16,
    NANOARROW_TYPE_INT32, NANOARROW_TYPE_UINT32, NANOARROW_TYPE_INT64, NANOARROW_TYPE_UINT64};

typedef struct ttype {
    int t;                 /* T_* */
    enum ArrowType itype;  /* T_INT: which integer */
    int width;             /* T_W */
    int dict;              /* dictionary-encoded */
    enum ArrowType index;  /* dict: index type */
} ttype;

static int is_unsigned(enum ArrowType t)
{
    return t == NANOARROW_TYPE_UINT8 || t == NANOARROW_TYPE_UINT16
           || t == NANOARROW_TYPE_UINT32 || t == NANOARROW_TYPE_UINT64;
}

static void ok_or_die(int rc, const char *what)
{
    if (rc != NANOARROW_OK) {
        printf("test_arrow: nanoarrow %s failed (%d)\n", what, rc);
        exit(2);
    }
}

static void value_schema(struct ArrowSchema *s, const ttype *tt)
{
    if (tt->t == T_W) {
        ArrowSchemaInit(s);
        ok_or_die(ArrowSchemaSetTypeFixedSize(s, NANOARROW_TYPE_FIXED_SIZE_BINARY, tt->width),
                  "fixed size");
    } else {
        ok_or_die(ArrowSchemaInitFromType(s, tt->t == T_INT ? tt->itype : t_arrow[tt->t]),
                  "schema");
    }
}

static void make_schema(struct ArrowSchema *s, const ttype *tt)
{
    if (!tt->dict) {
        value_schema(s, tt);
        return;
    }
    ok_or_die(ArrowSchemaInitFromType(s, tt->index), "index schema");
    ok_or_die(ArrowSchemaAllocateDictionary(s), "dictionary");
    value_schema(s->dictionary, tt);
}

static void append_value(struct ArrowArray *a, const ttype *tt, const val *v)
{
    if (v->null) {
        ok_or_die(ArrowArrayAppendNull(a, 1), "append null");
    } else if (tt->t == T_INT) {
        int64_t x;
        memcpy(&x, v->b, 8);
        if (is_unsigned(tt->itype))
            ok_or_die(ArrowArrayAppendUInt(a, (uint64_t)x), "append uint");
        else
            ok_or_die(ArrowArrayAppendInt(a, x), "append int");
    } else {
        struct ArrowBufferView bv;
        bv.data.data = v->b;
        bv.size_bytes = (int64_t)v->len;
        ok_or_die(ArrowArrayAppendBytes(a, bv), "append bytes");
    }
}

static int val_eq(const val *a, const val *b)
{
    return a->null == b->null && a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

/* A random value of the type, from a pool of about `pool` values: strings
 * share prefixes, some are empty, some longer than 12 and 16 bytes. */
static val rand_val(const ttype *tt, size_t pool)
{
    val v;
    uint64_t k = rnd() % (pool ? pool : 1);
    memset(&v, 0, sizeof v);
    if (tt->t == T_INT) {
        uint64_t x = sz__hash_u64(k);
        int64_t s;
        switch (tt->itype) {
        case NANOARROW_TYPE_INT8: s = (int8_t)x; break;
        case NANOARROW_TYPE_UINT8: s = (int64_t)(uint8_t)x; break;
        case NANOARROW_TYPE_INT16: s = (int16_t)x; break;
        case NANOARROW_TYPE_UINT16: s = (int64_t)(uint16_t)x; break;
        case NANOARROW_TYPE_INT32: s = (int32_t)x; break;
        case NANOARROW_TYPE_UINT32: s = (int64_t)(uint32_t)x; break;
        case NANOARROW_TYPE_UINT64: s = (int64_t)(k % 3 == 0 ? x | (1ULL << 63) : x); break;
        default: s = k % 5 == 0 ? (int64_t)-(int64_t)k : (int64_t)x; break;
        }
        memcpy(v.b, &s, 8);
        v.len = 8;
    } else if (tt->t == T_W) {
        size_t i;
        v.len = (size_t)tt->width;
        for (i = 0; i < v.len; i++) v.b[i] = (unsigned char)(sz__hash_u64(k * 131 + i) % 3 + 'a');
    } else {
        int n = 0;
        switch (k % 6) {
        case 0: n = snprintf((char *)v.b, MAXB, "user-%07d", (int)k); break;
        case 1: n = snprintf((char *)v.b, MAXB, "%d", (int)k); break;
        case 2: n = k == 2 ? 0 : snprintf((char *)v.b, MAXB, "k%llu", (unsigned long long)k); break;
        case 3: n = snprintf((char *)v.b, MAXB, "a-long-shared-prefix-%06d", (int)k); break;
        case 4: n = snprintf((char *)v.b, MAXB, "sixteen-bytes%03d", (int)(k % 1000)); break;
        default: n = snprintf((char *)v.b, MAXB, "user-%07d-x", (int)k); break;
        }
        v.len = (size_t)n;
    }
    return v;
}

/* Builds one array of the n rows.  A dictionary holds every distinct row
 * value in a random order, some twice, plus unused values and (when
 * with_null_value) an unused null. */
static void build(struct ArrowArray *a, const ttype *tt, const val *rows, size_t n,
                  int with_null_value)
{
    struct ArrowSchema s;
    struct ArrowError err;
    size_t i;
    make_schema(&s, tt);
    ok_or_die(ArrowArrayInitFromSchema(a, &s, &err), "array init");
    ok_or_die(ArrowArrayStartAppending(a), "start");
    if (!tt->dict) {
        for (i = 0; i < n; i++) append_value(a, tt, &rows[i]);
    } else {
        val *d = (val *)xmalloc((2 * n + 8) * sizeof *d);
        size_t nd = 0, j, extra = rnd() % 4;
        for (i = 0; i < n; i++) {
            if (rows[i].null) continue;
            for (j = 0; j < nd; j++)
                if (val_eq(&d[j], &rows[i])) break;
            if (j == nd) d[nd++] = rows[i];
            if (rnd() % 8 == 0) d[nd++] = rows[i];  /* a duplicate */
        }
        for (i = 0; i < extra; i++) d[nd++] = rand_val(tt, 100000);
        if (with_null_value) {
            memset(&d[nd], 0, sizeof d[nd]);
            d[nd++].null = 1;
        }
        for (i = nd; i > 1; i--) {  /* shuffle */
            size_t k = (size_t)(rnd() % i);
            val t = d[i - 1];
            d[i - 1] = d[k];
            d[k] = t;
        }
        for (i = 0; i < nd; i++) append_value(a->dictionary, tt, &d[i]);
        for (i = 0; i < n; i++) {
            if (rows[i].null) {
                ok_or_die(ArrowArrayAppendNull(a, 1), "null index");
                continue;
            }
            {   /* any dictionary position holding the value */
                size_t hits = 0, pick = 0;
                for (j = 0; j < nd; j++)
                    if (val_eq(&d[j], &rows[i]) && rnd() % (++hits) == 0) pick = j;
                ok_or_die(ArrowArrayAppendInt(a, (int64_t)pick), "index");
            }
        }
        free(d);
    }
    ok_or_die(ArrowArrayFinishBuildingDefault(a, &err), "finish");
    s.release(&s);
}

/* The reference: first-appearance codes of rows (no nulls) by linear
 * search; returns the number of keys, fills first[]. */
static size_t ref_codes(const val *rows, size_t n, int64_t *codes, int64_t *first)
{
    size_t k = 0, i, j;
    size_t *rep = (size_t *)xmalloc((n ? n : 1) * sizeof *rep);
    for (i = 0; i < n; i++) {
        for (j = 0; j < k; j++)
            if (val_eq(&rows[rep[j]], &rows[i])) break;
        if (j == k) {
            rep[k] = i;
            first[k] = (int64_t)i;
            k++;
        }
        codes[i] = (int64_t)j;
    }
    free(rep);
    return k;
}

static void gen_rows(val *rows, size_t n, const ttype *tt, size_t pool)
{
    size_t i;
    for (i = 0; i < n; i++) rows[i] = rand_val(tt, pool);
}

static void describe(const ttype *tt, const char *what)
{
    snprintf(ctx, sizeof ctx, "type %d int %d w %d dict %d idx %d: %s", tt->t, (int)tt->itype,
             tt->width, tt->dict, (int)tt->index, what);
}

/* Session ids of the rows as SZ_KEYS_DENSE (codes) and as SZ_KEYS_BYTES /
 * SZ_KEYS_INT64 (the values themselves) must be identical. */
static void check_assign(const ttype *tt, const val *rows, size_t n, const int64_t *codes,
                         size_t n_codes)
{
    int64_t *t = (int64_t *)xmalloc((n + 1) * sizeof *t);
    int64_t *ids1 = (int64_t *)xmalloc((n + 1) * sizeof *ids1);
    int64_t *ids2 = (int64_t *)xmalloc((n + 1) * sizeof *ids2);
    unsigned char *kb = (unsigned char *)xcalloc(n + 1, MAXB);
    sz_keys k1, k2;
    sz_params p;
    size_t i, s1 = 0, s2 = 0;
    sz_status a, b;
    int64_t now = 1000;
    for (i = 0; i < n; i++) {
        now += (int64_t)(rnd() % 40);
        t[i] = now - (int64_t)(rnd() % 8);  /* a log's jitter */
        memcpy(kb + i * MAXB, rows[i].b, rows[i].len);
    }
    memset(&p, 0, sizeof p);
    p.gap = 60;
    p.inclusive = (int)(rnd() & 1);
    k1.kind = SZ_KEYS_DENSE;
    k1.data = codes;
    k1.width = 0;
    k1.n_codes = n_codes;
    k2.n_codes = 0;
    if (tt->t == T_INT) {
        int64_t *iv = (int64_t *)xmalloc((n + 1) * sizeof *iv);
        for (i = 0; i < n; i++) memcpy(&iv[i], rows[i].b, 8);
        k2.kind = SZ_KEYS_INT64;
        k2.data = iv;
        k2.width = 0;
        a = sz_batch_assign(NULL, &k1, t, n, &p, ids1, &s1, NULL);
        b = sz_batch_assign(NULL, &k2, t, n, &p, ids2, &s2, NULL);
        free(iv);
    } else {
        /* zero-padded to MAXB: no test key ends in a zero byte, so distinct
         * keys stay distinct */
        k2.kind = SZ_KEYS_BYTES;
        k2.data = kb;
        k2.width = MAXB;
        a = sz_batch_assign(NULL, &k1, t, n, &p, ids1, &s1, NULL);
        b = sz_batch_assign(NULL, &k2, t, n, &p, ids2, &s2, NULL);
    }
    CHECK(a == SZ_OK && b == SZ_OK);
    CHECK(s1 == s2);
    CHECK(n == 0 || memcmp(ids1, ids2, n * sizeof *ids1) == 0);
    free(t);
    free(ids1);
    free(ids2);
    free(kb);
}

/* Factorizes rows [0, n) given as chunks cut at `cuts` (n_cuts cut points),
 * each chunk a slice of one array (sliced) or an array of its own; checks
 * against the reference.  Returns 1 when everything matched. */
static int run_chunks(const ttype *tt, const val *rows, size_t n, int own_arrays)
{
    struct ArrowSchema s;
    struct ArrowArray whole;
    sz_arrow_keys *f = NULL;
    int64_t *codes = (int64_t *)xmalloc((n + 1) * sizeof *codes);
    int64_t *rc = (int64_t *)xmalloc((n + 1) * sizeof *rc);
    int64_t *rf = (int64_t *)xmalloc((n + 1) * sizeof *rf);
    size_t at = 0, nk, pos;
    int ok = 1;
    sz_status st;
    make_schema(&s, tt);
    st = sz_arrow_keys_new(&f, &s);
    ok &= CHECK(st == SZ_OK);
    if (!own_arrays) build(&whole, tt, rows, n, (int)(rnd() & 1));
    while (st == SZ_OK && at <= n) {
        size_t len = rnd() % 4 == 0 ? 0 : (size_t)(rnd() % (n / 3 + 2));
        if (len > n - at) len = n - at;
        if (own_arrays) {
            struct ArrowArray part;
            /* a slice of its own array: built with a few rows either side */
            size_t lo = at >= 3 ? at - (size_t)(rnd() % 3) : at, hi = at + len;
            hi += (size_t)(rnd() % 3);
            if (hi > n) hi = n;
            build(&part, tt, rows + lo, hi - lo, (int)(rnd() & 1));
            {
                struct ArrowArray view = part;
                view.offset = (int64_t)(at - lo);
                view.length = (int64_t)len;
                st = sz_arrow_keys_add(f, &view, codes + at, &pos);
            }
            part.release(&part);
        } else {
            struct ArrowArray view = whole;
            view.offset = (int64_t)at;
            view.length = (int64_t)len;
            st = sz_arrow_keys_add(f, &view, len ? codes + at : NULL, &pos);
        }
        ok &= CHECK(st == SZ_OK);
        ok &= CHECK(pos == SZ_NO_POSITION);
        at += len;
        ok &= CHECK(sz_arrow_keys_rows(f) == at);
        if (at == n && rnd() % 2) break;
        if (at == n) at = n + 1;  /* and one more empty chunk was given */
    }
    if (!own_arrays) whole.release(&whole);
    nk = ref_codes(rows, n, rc, rf);
    ok &= CHECK(sz_arrow_keys_count(f) == nk);
    ok &= CHECK(n == 0 || memcmp(codes, rc, n * sizeof *rc) == 0);
    ok &= CHECK(nk == 0 ? sz_arrow_keys_first(f) == NULL
                        : memcmp(sz_arrow_keys_first(f), rf, nk * sizeof *rf) == 0);
    if (ok) check_assign(tt, rows, n, codes, nk);
    sz_arrow_keys_free(f);
    s.release(&s);
    free(codes);
    free(rc);
    free(rf);
    return ok;
}

/* Every type, integer width and dictionary combination under test. */
static size_t all_types(ttype *out)
{
    size_t k = 0;
    int t, i, d;
    for (d = 0; d < 2; d++)
        for (t = 0; t < N_T; t++) {
            int n_int = t == T_INT ? 8 : 1;
            for (i = 0; i < n_int; i++) {
                memset(&out[k], 0, sizeof out[k]);
                out[k].t = t;
                out[k].itype = t == T_INT ? int_types[i] : NANOARROW_TYPE_NA;
                out[k].width = t == T_W ? 1 + (int)(rnd() % 20) : 0;
                out[k].dict = d;
                out[k].index = d ? int_types[2 * (int)(rnd() % 4)] : NANOARROW_TYPE_NA;
                /* an int8 index holds at most 128 dictionary values */
                if (d && out[k].index == NANOARROW_TYPE_INT8) out[k].index = NANOARROW_TYPE_INT16;
                k++;
            }
        }
    return k;
}

static void test_types(void)
{
    ttype tts[64];
    size_t n_t = all_types(tts), i, r;
    static const size_t sizes[] = {0, 1, 2, 17, 300, 2500};
    long runs = 0;
    char detail[64];
    group_begin("every type, chunks and slices vs reference");
    for (i = 0; i < n_t; i++) {
        for (r = 0; r < sizeof sizes / sizeof sizes[0]; r++) {
            size_t n = sizes[r];
            size_t pool = r % 2 ? 7 : n + 1;  /* long runs of few keys, or many */
            val *rows = (val *)xmalloc((n + 1) * sizeof *rows);
            gen_rows(rows, n, &tts[i], tts[i].dict && tts[i].t != T_INT && n > 1000 ? 600 : pool);
            describe(&tts[i], "sliced");
            run_chunks(&tts[i], rows, n, 0);
            describe(&tts[i], "own arrays");
            run_chunks(&tts[i], rows, n, 1);
            runs += 2;
            free(rows);
        }
    }
    snprintf(detail, sizeof detail, "%zu types, %ld runs", n_t, runs);
    group_end(detail);
}

/* A null at the first, a middle and the last row of a chunk: SZ_ERR_NULL
 * at its global row, the factorizer unchanged (the next chunk continues
 * as if the bad one was never given). */
static void test_nulls(void)
{
    ttype tts[64];
    size_t n_t = all_types(tts), i;
    int where;
    group_begin("nulls");
    for (i = 0; i < n_t; i++) {
        for (where = 0; where < 4; where++) {
            size_t n = 40, at, bad, pos = 0;
            val rows[40], clean[40];
            struct ArrowSchema s;
            struct ArrowArray a1, a2, a3;
            sz_arrow_keys *f = NULL;
            int64_t codes[40], rc[40], rf[40];
            sz_status st;
            gen_rows(rows, n, &tts[i], 9);
            memcpy(clean, rows, sizeof rows);
            /* chunk 1: rows 0..9; chunk 2 (bad): 10..29; chunk 3: 30..39 */
            bad = where == 0 ? 10 : where == 1 ? 17 : 29;
            rows[bad].null = 1;
            if (where == 3) { /* a dictionary index to a null value: built below */
                rows[bad].null = 0;
            }
            describe(&tts[i], where == 3 ? "null dictionary value" : "null row");
            make_schema(&s, &tts[i]);
            CHECK(sz_arrow_keys_new(&f, &s) == SZ_OK);
            build(&a1, &tts[i], rows, 10, 0);
            build(&a2, &tts[i], rows + 10, 20, 1);
            build(&a3, &tts[i], rows + 30, 10, 0);
            if (where == 3) {
                /* point row 29 at the dictionary's null value */
                if (!tts[i].dict) {
                    a2.release(&a2);
                    rows[bad].null = 1;
                    build(&a2, &tts[i], rows + 10, 20, 0);
                } else {
                    int64_t k, nd = a2.dictionary->length;
                    struct ArrowArrayView v;
                    struct ArrowError err;
                    ok_or_die(ArrowArrayViewInitFromSchema(&v, &s, &err), "view");
                    ok_or_die(ArrowArrayViewSetArray(&v, &a2, &err), "view set");
                    for (k = 0; k < nd; k++)
                        if (ArrowArrayViewIsNull(v.dictionary, k)) break;
                    ArrowArrayViewReset(&v);
                    CHECK(k < nd);
                    /* the index buffer is the builder's own: write into it */
                    switch (tts[i].index) {
                    case NANOARROW_TYPE_INT16: ((int16_t *)(void *)a2.buffers[1])[19] = (int16_t)k; break;
                    case NANOARROW_TYPE_INT32: ((int32_t *)(void *)a2.buffers[1])[19] = (int32_t)k; break;
                    default: ((int64_t *)(void *)a2.buffers[1])[19] = k; break;
                    }
                }
            }
            CHECK(sz_arrow_keys_add(f, &a1, codes, &pos) == SZ_OK);
            st = sz_arrow_keys_add(f, &a2, codes + 10, &pos);
            CHECK(st == SZ_ERR_NULL);
            CHECK(pos == bad);
            CHECK(sz_arrow_keys_rows(f) == 10);
            CHECK(sz_arrow_keys_add(f, &a3, codes + 30, &pos) == SZ_OK);
            CHECK(pos == SZ_NO_POSITION);
            /* reference: chunks 1 and 3 only */
            {
                val both[20];
                int64_t got[20];
                size_t nk;
                memcpy(both, clean, 10 * sizeof *both);
                memcpy(both + 10, clean + 30, 10 * sizeof *both);
                memcpy(got, codes, 10 * sizeof *got);
                memcpy(got + 10, codes + 30, 10 * sizeof *got);
                nk = ref_codes(both, 20, rc, rf);
                CHECK(sz_arrow_keys_count(f) == nk);
                CHECK(memcmp(got, rc, 20 * sizeof *rc) == 0);
                /* first rows are global rows of the rows consumed: the
                 * refused chunk was not, so chunk 3 starts at row 10 */
                CHECK(memcmp(sz_arrow_keys_first(f), rf, nk * sizeof *rf) == 0);
                (void)at;
            }
            a1.release(&a1);
            a2.release(&a2);
            a3.release(&a3);
            s.release(&s);
            sz_arrow_keys_free(f);
        }
    }
    group_end("");
}

static void no_release(struct ArrowArray *a) { a->release = NULL; }

/* Malformed arrays: refused with SZ_ERR_ARROW_INVALID, no crash, the
 * factorizer unchanged. */
static void test_malformed(void)
{
    struct ArrowSchema s, sv, sd;
    struct ArrowArray good, a, goodv, gd;
    sz_arrow_keys *f = NULL, *fv = NULL, *fd = NULL;
    ttype tu, tv, td;
    val rows[6];
    int32_t offs[7];
    int64_t codes[8];
    const void *bufs[8];
    size_t pos, i;
    group_begin("malformed arrays");
    memset(&tu, 0, sizeof tu);
    tu.t = T_U;
    tv = tu;
    tv.t = T_VU;
    td = tu;
    td.dict = 1;
    td.index = NANOARROW_TYPE_INT32;
    for (i = 0; i < 6; i++) {
        memset(&rows[i], 0, sizeof rows[i]);
        rows[i].len = (size_t)snprintf((char *)rows[i].b, MAXB, "a-key-longer-than-12-%d", (int)i % 3);
    }
    make_schema(&s, &tu);
    make_schema(&sv, &tv);
    make_schema(&sd, &td);
    build(&good, &tu, rows, 6, 0);
    build(&goodv, &tv, rows, 6, 0);
    build(&gd, &td, rows, 6, 0);
    CHECK(sz_arrow_keys_new(&f, &s) == SZ_OK);
    CHECK(sz_arrow_keys_new(&fv, &sv) == SZ_OK);
    CHECK(sz_arrow_keys_new(&fd, &sd) == SZ_OK);
    memcpy(offs, good.buffers[1], sizeof offs);

#define BAD(arr, fac, what)                                                     \
    do {                                                                       \
        snprintf(ctx, sizeof ctx, "%s", what);                                 \
        pos = 0;                                                               \
        CHECK(sz_arrow_keys_add(fac, &(arr), codes, &pos) == SZ_ERR_ARROW_INVALID); \
        CHECK(sz_arrow_keys_count(fac) == 0 && sz_arrow_keys_rows(fac) == 0);  \
    } while (0)

    a = good; a.n_buffers = 2; BAD(a, f, "2 buffers for utf8");
    a = good; a.n_buffers = 4; BAD(a, f, "4 buffers for utf8");
    a = good; a.n_buffers = 0; BAD(a, f, "no buffers");
    a = good; a.length = -1; BAD(a, f, "negative length");
    a = good; a.offset = -2; BAD(a, f, "negative offset");
    a = good; a.n_children = 1; BAD(a, f, "a child");
    a = good; a.dictionary = &good; BAD(a, f, "a dictionary on a plain array");
    a = good; a.buffers = NULL; BAD(a, f, "buffers NULL");
    a = good; a.null_count = 1; BAD(a, f, "null count without a validity buffer");
    a = good; a.null_count = -1;  /* unknown, and no validity buffer: no nulls */
    snprintf(ctx, sizeof ctx, "null count -1 without a validity buffer");
    {
        sz_arrow_keys *g = NULL;
        CHECK(sz_arrow_keys_new(&g, &s) == SZ_OK);
        CHECK(sz_arrow_keys_add(g, &a, codes, &pos) == SZ_OK);
        CHECK(sz_arrow_keys_count(g) == 3);
        sz_arrow_keys_free(g);
    }
    memcpy(bufs, good.buffers, 3 * sizeof *bufs);
    bufs[1] = NULL;
    a = good; a.buffers = bufs; BAD(a, f, "offsets NULL");
    bufs[1] = offs;
    bufs[2] = NULL;
    a = good; a.buffers = bufs; BAD(a, f, "data NULL with bytes");
    bufs[2] = good.buffers[2];
    offs[0] = -1;
    a = good; a.buffers = bufs; BAD(a, f, "negative first offset");
    offs[0] = 0;
    offs[3] = offs[5] + 1;
    a = good; a.buffers = bufs; BAD(a, f, "non-monotonic offsets");
    offs[3] = ((const int32_t *)good.buffers[1])[3];
    offs[6] = offs[5] - 1;
    a = good; a.buffers = bufs; BAD(a, f, "last offset before the previous");
    offs[6] = ((const int32_t *)good.buffers[1])[6];
    a = good; a.buffers = bufs;
    CHECK(sz_arrow_keys_add(f, &a, codes, &pos) == SZ_OK);  /* restored: fine */

    /* views: buffer index, offset and size against the variadic sizes */
    {
        union ArrowBinaryView views[6];
        int64_t sizes[4];
        const void *vb[8];
        int64_t nb = goodv.n_buffers;
        memcpy(views, goodv.buffers[1], sizeof views);
        memcpy(vb, goodv.buffers, (size_t)nb * sizeof *vb);
        memcpy(sizes, goodv.buffers[nb - 1], (size_t)(nb - 3) * sizeof *sizes);
        vb[1] = views;
        vb[nb - 1] = sizes;
        a = goodv; a.buffers = vb;
        CHECK(nb >= 4);
        views[2].ref.buffer_index = (int32_t)(nb - 3); BAD(a, fv, "view buffer index past the end");
        views[2].ref.buffer_index = -1; BAD(a, fv, "negative view buffer index");
        views[2] = ((const union ArrowBinaryView *)goodv.buffers[1])[2];
        views[4].ref.offset = (int32_t)sizes[views[4].ref.buffer_index]; BAD(a, fv, "view past its buffer");
        views[4].ref.offset = -5; BAD(a, fv, "negative view offset");
        views[4] = ((const union ArrowBinaryView *)goodv.buffers[1])[4];
        views[5].inlined.size = -3; BAD(a, fv, "negative view size");
        views[5] = ((const union ArrowBinaryView *)goodv.buffers[1])[5];
        sizes[0] = 3; BAD(a, fv, "variadic buffer too short");
        sizes[0] = ((const int64_t *)goodv.buffers[nb - 1])[0];
        a.n_buffers = 2; BAD(a, fv, "view without its sizes buffer");
        a.n_buffers = nb;
        CHECK(sz_arrow_keys_add(fv, &a, codes, &pos) == SZ_OK);
    }

    /* dictionaries: index out of range (with its row), missing dictionary */
    {
        int32_t idx[6];
        const void *db[2];
        memcpy(idx, gd.buffers[1], sizeof idx);
        db[0] = gd.buffers[0];
        db[1] = idx;
        a = gd; a.buffers = db;
        idx[4] = (int32_t)gd.dictionary->length;
        BAD(a, fd, "index past the dictionary");
        CHECK(pos == 4);
        idx[4] = -1;
        BAD(a, fd, "negative index");
        CHECK(pos == 4);
        idx[4] = ((const int32_t *)gd.buffers[1])[4];
        a.dictionary = NULL;
        BAD(a, fd, "dictionary missing");
        a.dictionary = &goodv;  /* a view where utf8 is expected: buffer count */
        BAD(a, fd, "dictionary of the wrong layout");
        a.dictionary = &good;  /* another utf8 array as the dictionary: fine */
        CHECK(sz_arrow_keys_add(fd, &a, codes, &pos) == SZ_OK);
    }
#undef BAD

    /* released arrays and schemas, NULL arguments */
    ctx[0] = '\0';
    a = good;
    a.release = NULL;
    CHECK(sz_arrow_keys_add(f, &a, codes, &pos) == SZ_ERR_PARAM);
    CHECK(sz_arrow_keys_add(f, NULL, codes, &pos) == SZ_ERR_PARAM);
    CHECK(sz_arrow_keys_add(NULL, &good, codes, &pos) == SZ_ERR_PARAM);
    CHECK(sz_arrow_keys_add(f, &good, NULL, &pos) == SZ_ERR_PARAM);
    CHECK(sz_arrow_keys_new(NULL, &s) == SZ_ERR_PARAM);
    {
        sz_arrow_keys *g = (sz_arrow_keys *)(void *)&a;
        struct ArrowSchema r = s;
        CHECK(sz_arrow_keys_new(&g, NULL) == SZ_ERR_PARAM);
        CHECK(g == NULL);
        r.release = NULL;
        CHECK(sz_arrow_keys_new(&g, &r) == SZ_ERR_PARAM);
    }
    sz_arrow_keys_free(NULL);
    CHECK(sz_arrow_keys_count(NULL) == 0 && sz_arrow_keys_first(NULL) == NULL);
    (void)no_release;
    good.release(&good);
    goodv.release(&goodv);
    gd.release(&gd);
    s.release(&s);
    sv.release(&sv);
    sd.release(&sd);
    sz_arrow_keys_free(f);
    sz_arrow_keys_free(fv);
    sz_arrow_keys_free(fd);
    group_end("");
}

static void test_refused_types(void)
{
    static const char *fmts[] = {"f", "g", "b", "n", "+s", "tsu:UTC", "tdD", "d:10,2", "!!", ""};
    size_t i;
    group_begin("refused types");
    for (i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        struct ArrowSchema s;
        sz_arrow_keys *f = (sz_arrow_keys *)(void *)&s;
        ArrowSchemaInit(&s);
        ok_or_die(ArrowSchemaSetFormat(&s, fmts[i]), "format");
        snprintf(ctx, sizeof ctx, "format '%s'", fmts[i]);
        CHECK(sz_arrow_keys_new(&f, &s) == SZ_ERR_ARROW_TYPE);
        CHECK(f == NULL);
        s.release(&s);
    }
    {   /* a dictionary of floats */
        struct ArrowSchema s;
        sz_arrow_keys *f = NULL;
        ok_or_die(ArrowSchemaInitFromType(&s, NANOARROW_TYPE_INT32), "schema");
        ok_or_die(ArrowSchemaAllocateDictionary(&s), "dict");
        ok_or_die(ArrowSchemaInitFromType(s.dictionary, NANOARROW_TYPE_DOUBLE), "dict type");
        snprintf(ctx, sizeof ctx, "dictionary of double");
        CHECK(sz_arrow_keys_new(&f, &s) == SZ_ERR_ARROW_TYPE);
        s.release(&s);
    }
    ctx[0] = '\0';
    CHECK(strcmp(sz_strerror(SZ_ERR_ARROW_TYPE), "unsupported Arrow type") == 0);
    CHECK(strcmp(sz_strerror(SZ_ERR_ARROW_INVALID), "malformed Arrow array") == 0);
    CHECK(strcmp(sz_strerror(SZ_ERR_NULL), "null element") == 0);
    CHECK(SZ_ERR_ARROW_TYPE == 11 && SZ_ERR_ARROW_INVALID == 12 && SZ_ERR_NULL == 13);
    group_end("");
}

/* Every allocation of keys_new and of each add fails in turn: SZ_ERR_NOMEM,
 * then the same call again without failure continues cleanly, and the
 * codes at the end equal a run that never failed. */
static void test_alloc_failures(void)
{
    ttype tts[64];
    size_t n_t = all_types(tts), i;
    long points = 0;
    char detail[64];
    group_begin("allocation failures");
    for (i = 0; i < n_t; i++) {
        size_t n = 1500, c, n_chunks = 4, nk;
        val *rows = (val *)xmalloc(n * sizeof *rows);
        struct ArrowArray parts[4];
        struct ArrowSchema s;
        sz_arrow_keys *f = NULL;
        int64_t *codes = (int64_t *)xmalloc(n * sizeof *codes);
        int64_t *rc = (int64_t *)xmalloc(n * sizeof *rc);
        int64_t *rf = (int64_t *)xmalloc(n * sizeof *rf);
        long k;
        /* more than 512 keys (the table grows), long keys (the arena grows),
         * a new dictionary per chunk */
        gen_rows(rows, n, &tts[i], 900);
        make_schema(&s, &tts[i]);
        for (c = 0; c < n_chunks; c++) build(&parts[c], &tts[i], rows + c * (n / n_chunks), n / n_chunks, 0);
        describe(&tts[i], "keys_new");
        for (k = 1;; k++) {
            sz_status st;
            sz_test_fail_after(k);
            st = sz_arrow_keys_new(&f, &s);
            if (sz_test_fail_after(0) < k) {
                CHECK(st == SZ_OK);
                break;
            }
            points++;
            CHECK(st == SZ_ERR_NOMEM && f == NULL);
        }
        for (c = 0; c < n_chunks && f; c++) {
            describe(&tts[i], "keys_add");
            for (k = 1;; k++) {
                size_t pos = 0;
                sz_status st;
                sz_test_fail_after(k);
                st = sz_arrow_keys_add(f, &parts[c], codes + c * (n / n_chunks), &pos);
                if (sz_test_fail_after(0) < k) {
                    CHECK(st == SZ_OK);
                    break;
                }
                points++;
                CHECK(st == SZ_ERR_NOMEM);
                CHECK(pos == SZ_NO_POSITION);
                CHECK(sz_arrow_keys_rows(f) == c * (n / n_chunks));
                if (k > 1000) {
                    CHECK(!"allocation walk does not end");
                    break;
                }
            }
        }
        nk = ref_codes(rows, n, rc, rf);
        CHECK(sz_arrow_keys_count(f) == nk);
        CHECK(memcmp(codes, rc, n * sizeof *rc) == 0);
        CHECK(nk && memcmp(sz_arrow_keys_first(f), rf, nk * sizeof *rf) == 0);
        sz_arrow_keys_free(f);
        for (c = 0; c < n_chunks; c++) parts[c].release(&parts[c]);
        s.release(&s);
        free(rows);
        free(codes);
        free(rc);
        free(rf);
    }
    snprintf(detail, sizeof detail, "%ld failure points", points);
    group_end(detail);
}

/* The same dictionary in every chunk (by value, at different addresses),
 * and chunk boundaries inside a key's run. */
static void test_dict_reuse_and_runs(void)
{
    ttype tt;
    val rows[300];
    size_t i;
    group_begin("dictionary reuse, runs across chunks");
    memset(&tt, 0, sizeof tt);
    tt.t = T_U;
    for (i = 0; i < 300; i++) {  /* runs of 7 equal keys */
        memset(&rows[i], 0, sizeof rows[i]);
        rows[i].len = (size_t)snprintf((char *)rows[i].b, MAXB, "user-%07d", (int)(i / 7 % 13));
    }
    snprintf(ctx, sizeof ctx, "utf8 runs");
    run_chunks(&tt, rows, 300, 0);
    run_chunks(&tt, rows, 300, 1);
    tt.dict = 1;
    tt.index = NANOARROW_TYPE_INT32;
    snprintf(ctx, sizeof ctx, "dictionary runs");
    run_chunks(&tt, rows, 300, 0);
    run_chunks(&tt, rows, 300, 1);
    {   /* a dictionary [null, "x"] then ["", "x"]: same offsets, not the
         * same values (fuzz_arrow's find) */
        struct ArrowSchema s;
        struct ArrowArray a[2];
        struct ArrowError err;
        sz_arrow_keys *f = NULL;
        int64_t codes[2];
        size_t pos = 0, k;
        struct ArrowStringView x = {"x", 1}, e = {"", 0};
        make_schema(&s, &tt);
        for (k = 0; k < 2; k++) {
            ok_or_die(ArrowArrayInitFromSchema(&a[k], &s, &err), "init");
            ok_or_die(ArrowArrayStartAppending(&a[k]), "start");
            if (k == 0) ok_or_die(ArrowArrayAppendNull(a[k].dictionary, 1), "null");
            else ok_or_die(ArrowArrayAppendString(a[k].dictionary, e), "empty");
            ok_or_die(ArrowArrayAppendString(a[k].dictionary, x), "x");
            ok_or_die(ArrowArrayAppendInt(&a[k], 1), "i");
            ok_or_die(ArrowArrayAppendInt(&a[k], 0), "i");
            ok_or_die(ArrowArrayFinishBuildingDefault(&a[k], &err), "finish");
        }
        snprintf(ctx, sizeof ctx, "null then empty dictionary value");
        CHECK(sz_arrow_keys_new(&f, &s) == SZ_OK);
        CHECK(sz_arrow_keys_add(f, &a[0], codes, &pos) == SZ_ERR_NULL && pos == 1);
        CHECK(sz_arrow_keys_add(f, &a[1], codes, &pos) == SZ_OK);
        CHECK(codes[0] == 0 && codes[1] == 1 && sz_arrow_keys_count(f) == 2);
        sz_arrow_keys_free(f);
        for (k = 0; k < 2; k++) a[k].release(&a[k]);
        s.release(&s);
    }
    group_end("");
}

/* ---- the caller's byte strings (sz_arrow_keys_add_bytes) ---------------- */

/* Random byte keys (NULs, empty, long) in chunks, through the bytes
 * factorizer and a utf8 one mixing utf8 chunks: the reference's codes; then
 * every allocation failing in turn leaves the factorizer as it was. */
static void test_bytes(void)
{
    ttype tt;
    size_t n = 2000, i, c, nk, round, pos;
    val *rows = (val *)xmalloc(n * sizeof *rows);
    const char **ptrs = (const char **)xmalloc(n * sizeof *ptrs);
    size_t *lens = (size_t *)xmalloc(n * sizeof *lens);
    int64_t *codes = (int64_t *)xmalloc(n * sizeof *codes);
    int64_t *rc = (int64_t *)xmalloc(n * sizeof *rc);
    int64_t *rf = (int64_t *)xmalloc(n * sizeof *rf);
    long points = 0;
    char detail[64];
    group_begin("byte strings (add_bytes)");
    memset(&tt, 0, sizeof tt);
    tt.t = T_Z;
    gen_rows(rows, n, &tt, 700);
    rows[3].len = 0;
    for (i = 0; i < n; i++) {
        rows[i].null = 0;
        ptrs[i] = rows[i].len ? (const char *)rows[i].b : NULL;
        lens[i] = rows[i].len;
    }
    nk = ref_codes(rows, n, rc, rf);
    for (round = 0; round < 3; round++) {
        sz_arrow_keys *f = NULL;
        struct ArrowSchema s;
        struct ArrowArray part;
        size_t at = 0, step = round == 0 ? n : 1 + round * 97;
        snprintf(ctx, sizeof ctx, "round %zu", round);
        if (round == 2) {  /* a utf8 factorizer, Arrow chunks between */
            tt.t = T_U;
            make_schema(&s, &tt);
            CHECK(sz_arrow_keys_new(&f, &s) == SZ_OK);
            s.release(&s);
        } else {
            CHECK(sz_arrow_keys_new_bytes(&f) == SZ_OK);
        }
        for (c = 0; at < n; c++) {
            size_t m = n - at < step ? n - at : step;
            if (round == 2 && c % 2 == 1) {
                build(&part, &tt, rows + at, m, 0);
                CHECK(sz_arrow_keys_add(f, &part, codes + at, &pos) == SZ_OK);
                part.release(&part);
            } else {
                CHECK(sz_arrow_keys_add_bytes(f, ptrs + at, lens + at, m, codes + at, &pos)
                      == SZ_OK);
            }
            at += m;
        }
        CHECK(sz_arrow_keys_count(f) == nk && sz_arrow_keys_rows(f) == n);
        CHECK(memcmp(codes, rc, n * sizeof *rc) == 0);
        CHECK(memcmp(sz_arrow_keys_first(f), rf, nk * sizeof *rf) == 0);
        sz_arrow_keys_free(f);
    }
    {   /* refusals */
        sz_arrow_keys *f = NULL;
        const char *bad[2];
        size_t bl[2] = {1, 3};
        bad[0] = "a";
        bad[1] = NULL;
        CHECK(sz_arrow_keys_new_bytes(NULL) == SZ_ERR_PARAM);
        CHECK(sz_arrow_keys_new_bytes(&f) == SZ_OK);
        CHECK(sz_arrow_keys_add_bytes(NULL, ptrs, lens, 1, codes, &pos) == SZ_ERR_PARAM);
        CHECK(sz_arrow_keys_add_bytes(f, NULL, lens, 1, codes, &pos) == SZ_ERR_PARAM);
        CHECK(sz_arrow_keys_add_bytes(f, NULL, NULL, 0, NULL, &pos) == SZ_OK);
        CHECK(sz_arrow_keys_add_bytes(f, bad, bl, 2, codes, &pos) == SZ_ERR_NULL && pos == 1);
        CHECK(sz_arrow_keys_count(f) == 0 && sz_arrow_keys_rows(f) == 0);
        sz_arrow_keys_free(f);
        tt.t = T_INT;
        tt.itype = NANOARROW_TYPE_INT64;
        {
            struct ArrowSchema s;
            make_schema(&s, &tt);
            CHECK(sz_arrow_keys_new(&f, &s) == SZ_OK);
            s.release(&s);
        }
        CHECK(sz_arrow_keys_add_bytes(f, ptrs, lens, 1, codes, &pos) == SZ_ERR_ARROW_TYPE);
        sz_arrow_keys_free(f);
    }
    {   /* allocation failures, chunk by chunk */
        sz_arrow_keys *f = NULL;
        size_t at = 0, step = 333;
        long k;
        snprintf(ctx, sizeof ctx, "allocation failures");
        for (k = 1;; k++) {
            sz_status st;
            sz_test_fail_after(k);
            st = sz_arrow_keys_new_bytes(&f);
            if (sz_test_fail_after(0) < k) break;
            points++;
            CHECK(st == SZ_ERR_NOMEM && f == NULL);
        }
        while (at < n && f) {
            size_t m = n - at < step ? n - at : step;
            for (k = 1; k < 1000; k++) {
                sz_status st;
                sz_test_fail_after(k);
                st = sz_arrow_keys_add_bytes(f, ptrs + at, lens + at, m, codes + at, &pos);
                if (sz_test_fail_after(0) < k) {
                    CHECK(st == SZ_OK);
                    break;
                }
                points++;
                CHECK(st == SZ_ERR_NOMEM && pos == SZ_NO_POSITION);
                CHECK(sz_arrow_keys_rows(f) == at);
            }
            at += m;
        }
        CHECK(sz_arrow_keys_count(f) == nk);
        CHECK(memcmp(codes, rc, n * sizeof *rc) == 0);
        CHECK(nk && memcmp(sz_arrow_keys_first(f), rf, nk * sizeof *rf) == 0);
        sz_arrow_keys_free(f);
    }
    snprintf(detail, sizeof detail, "%ld failure points", points);
    group_end(detail);
    free(rows);
    free(ptrs);
    free(lens);
    free(codes);
    free(rc);
    free(rf);
}

/* ---- integers and times ------------------------------------------------ */

static void test_ints(void)
{
    size_t w, i;
    group_begin("integer and time columns");
    for (w = 0; w < 8; w++) {
        struct ArrowSchema s;
        struct ArrowArray a, v;
        struct ArrowError err;
        int64_t want[50], out[50];
        size_t pos = 0;
        int kind = -1, unit = -1;
        ok_or_die(ArrowSchemaInitFromType(&s, int_types[w]), "schema");
        ok_or_die(ArrowArrayInitFromSchema(&a, &s, &err), "array");
        ok_or_die(ArrowArrayStartAppending(&a), "start");
        for (i = 0; i < 50; i++) {
            val x;
            ttype tt;
            memset(&tt, 0, sizeof tt);
            tt.t = T_INT;
            tt.itype = int_types[w];
            x = rand_val(&tt, 1000);
            memcpy(&want[i], x.b, 8);
            if (int_types[w] == NANOARROW_TYPE_UINT64) want[i] &= INT64_MAX;
            if (is_unsigned(int_types[w]))
                ok_or_die(ArrowArrayAppendUInt(&a, (uint64_t)want[i]), "uint");
            else
                ok_or_die(ArrowArrayAppendInt(&a, want[i]), "int");
        }
        ok_or_die(ArrowArrayFinishBuildingDefault(&a, &err), "finish");
        snprintf(ctx, sizeof ctx, "int type %d", (int)int_types[w]);
        CHECK(sz_arrow_ints_read(&s, &a, out, 100, &pos) == SZ_OK);
        CHECK(pos == SZ_NO_POSITION);
        CHECK(memcmp(out, want, sizeof out) == 0);
        v = a;
        v.offset = 13;
        v.length = 20;
        CHECK(sz_arrow_ints_read(&s, &v, out, 100, &pos) == SZ_OK);
        CHECK(memcmp(out, want + 13, 20 * sizeof *out) == 0);
        CHECK(sz_arrow_time_type(&s, &kind, &unit, NULL, 0, NULL) == SZ_OK);
        CHECK(kind == SZ_ARROW_INTEGER && unit == SZ_UNIT_NONE);
        v.length = 0;
        CHECK(sz_arrow_ints_read(&s, &v, NULL, 0, &pos) == SZ_OK);
        a.release(&a);
        s.release(&s);
    }
    {   /* uint64 above INT64_MAX, nulls */
        struct ArrowSchema s;
        struct ArrowArray a, v;
        struct ArrowError err;
        int64_t out[10];
        size_t pos = 0;
        ok_or_die(ArrowSchemaInitFromType(&s, NANOARROW_TYPE_UINT64), "schema");
        ok_or_die(ArrowArrayInitFromSchema(&a, &s, &err), "array");
        ok_or_die(ArrowArrayStartAppending(&a), "start");
        for (i = 0; i < 10; i++)
            ok_or_die(ArrowArrayAppendUInt(&a, i == 6 ? (uint64_t)INT64_MAX + 1 : i), "u");
        ok_or_die(ArrowArrayFinishBuildingDefault(&a, &err), "finish");
        snprintf(ctx, sizeof ctx, "uint64 range");
        CHECK(sz_arrow_ints_read(&s, &a, out, 1000, &pos) == SZ_ERR_TIME_RANGE);
        CHECK(pos == 1006);
        v = a;
        v.offset = 7;
        v.length = 3;
        CHECK(sz_arrow_ints_read(&s, &v, out, 1000, &pos) == SZ_OK);
        CHECK(out[0] == 7 && out[2] == 9);
        a.release(&a);
        s.release(&s);
    }
    {
        struct ArrowSchema s;
        struct ArrowArray a;
        struct ArrowError err;
        int64_t out[10];
        size_t pos = 0, bad;
        for (bad = 0; bad < 10; bad += 4) {
            ok_or_die(ArrowSchemaInitFromType(&s, NANOARROW_TYPE_INT32), "schema");
            ok_or_die(ArrowArrayInitFromSchema(&a, &s, &err), "array");
            ok_or_die(ArrowArrayStartAppending(&a), "start");
            for (i = 0; i < 10; i++) {
                if (i == (bad == 8 ? 9 : bad))
                    ok_or_die(ArrowArrayAppendNull(&a, 1), "null");
                else
                    ok_or_die(ArrowArrayAppendInt(&a, (int64_t)i), "i");
            }
            ok_or_die(ArrowArrayFinishBuildingDefault(&a, &err), "finish");
            snprintf(ctx, sizeof ctx, "null at %zu", bad == 8 ? 9 : bad);
            CHECK(sz_arrow_ints_read(&s, &a, out, 50, &pos) == SZ_ERR_NULL);
            CHECK(pos == 50 + (bad == 8 ? 9 : bad));
            a.release(&a);
            s.release(&s);
        }
    }
    {   /* time types: kind, unit, zone; values in their own unit */
        static const struct {
            enum ArrowType type;
            enum ArrowTimeUnit unit;
            const char *tz;
            int kind, sz_unit;
        } tc[] = {
            {NANOARROW_TYPE_TIMESTAMP, NANOARROW_TIME_UNIT_SECOND, NULL, SZ_ARROW_TIMESTAMP, SZ_UNIT_S},
            {NANOARROW_TYPE_TIMESTAMP, NANOARROW_TIME_UNIT_MILLI, "UTC", SZ_ARROW_TIMESTAMP, SZ_UNIT_MS},
            {NANOARROW_TYPE_TIMESTAMP, NANOARROW_TIME_UNIT_MICRO, "Europe/Paris", SZ_ARROW_TIMESTAMP, SZ_UNIT_US},
            {NANOARROW_TYPE_TIMESTAMP, NANOARROW_TIME_UNIT_NANO, "+05:30", SZ_ARROW_TIMESTAMP, SZ_UNIT_NS},
            {NANOARROW_TYPE_DURATION, NANOARROW_TIME_UNIT_SECOND, NULL, SZ_ARROW_DURATION, SZ_UNIT_S},
            {NANOARROW_TYPE_DURATION, NANOARROW_TIME_UNIT_NANO, NULL, SZ_ARROW_DURATION, SZ_UNIT_NS},
            {NANOARROW_TYPE_DATE32, NANOARROW_TIME_UNIT_SECOND, NULL, SZ_ARROW_DATE, SZ_UNIT_DAY},
            {NANOARROW_TYPE_DATE64, NANOARROW_TIME_UNIT_SECOND, NULL, SZ_ARROW_DATE, SZ_UNIT_MS},
        };
        size_t c;
        for (c = 0; c < sizeof tc / sizeof tc[0]; c++) {
            struct ArrowSchema s;
            struct ArrowArray a;
            struct ArrowError err;
            int64_t out[5], want[5] = {-3, 0, 1700000000, -2000000000, 42};
            char tz[32];
            size_t tzl = 0, pos = 0;
            int kind = -1, unit = -1;
            ArrowSchemaInit(&s);
            if (tc[c].type == NANOARROW_TYPE_DATE32 || tc[c].type == NANOARROW_TYPE_DATE64)
                ok_or_die(ArrowSchemaSetType(&s, tc[c].type), "date");
            else
                ok_or_die(ArrowSchemaSetTypeDateTime(&s, tc[c].type, tc[c].unit, tc[c].tz), "dt");
            ok_or_die(ArrowArrayInitFromSchema(&a, &s, &err), "array");
            ok_or_die(ArrowArrayStartAppending(&a), "start");
            for (i = 0; i < 5; i++) ok_or_die(ArrowArrayAppendInt(&a, want[i]), "t");
            ok_or_die(ArrowArrayFinishBuildingDefault(&a, &err), "finish");
            snprintf(ctx, sizeof ctx, "time format %s", s.format);
            CHECK(sz_arrow_time_type(&s, &kind, &unit, tz, sizeof tz, &tzl) == SZ_OK);
            CHECK(kind == tc[c].kind && unit == tc[c].sz_unit);
            CHECK(strcmp(tz, tc[c].tz ? tc[c].tz : "") == 0 && tzl == strlen(tz));
            if (tc[c].tz) {
                CHECK(sz_arrow_time_type(&s, &kind, &unit, tz, 3, &tzl) == SZ_ERR_PARAM);
                CHECK(tzl == strlen(tc[c].tz));
            }
            CHECK(sz_arrow_ints_read(&s, &a, out, 0, &pos) == SZ_OK);
            CHECK(memcmp(out, want, sizeof out) == 0);
            a.release(&a);
            s.release(&s);
        }
    }
    {   /* refused: strings, floats, dictionaries; NULL arguments */
        struct ArrowSchema s;
        struct ArrowArray a;
        struct ArrowError err;
        int64_t out[2];
        snprintf(ctx, sizeof ctx, "refused time types");
        ok_or_die(ArrowSchemaInitFromType(&s, NANOARROW_TYPE_STRING), "s");
        ok_or_die(ArrowArrayInitFromSchema(&a, &s, &err), "a");
        ok_or_die(ArrowArrayStartAppending(&a), "start");
        ok_or_die(ArrowArrayFinishBuildingDefault(&a, &err), "finish");
        CHECK(sz_arrow_ints_read(&s, &a, out, 0, NULL) == SZ_ERR_ARROW_TYPE);
        CHECK(sz_arrow_time_type(&s, NULL, NULL, NULL, 0, NULL) == SZ_ERR_ARROW_TYPE);
        CHECK(sz_arrow_ints_read(NULL, &a, out, 0, NULL) == SZ_ERR_PARAM);
        a.release(&a);
        s.release(&s);
        ok_or_die(ArrowSchemaInitFromType(&s, NANOARROW_TYPE_INT32), "s");
        ok_or_die(ArrowSchemaAllocateDictionary(&s), "d");
        ok_or_die(ArrowSchemaInitFromType(s.dictionary, NANOARROW_TYPE_INT64), "dv");
        CHECK(sz_arrow_time_type(&s, NULL, NULL, NULL, 0, NULL) == SZ_ERR_ARROW_TYPE);
        s.release(&s);
    }
    group_end("");
}

int main(void)
{
    rng_state = RNG_SEED;
    sz_test_fail_after(0);
    test_types();
    test_dict_reuse_and_runs();
    test_nulls();
    test_malformed();
    test_refused_types();
    test_alloc_failures();
    test_bytes();
    test_ints();
    printf("%ld passed, %ld failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
