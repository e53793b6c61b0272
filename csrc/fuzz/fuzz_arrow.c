/*
 * fuzz_arrow.c -- libFuzzer target: the Arrow key factorizer (and the
 * integer reader) on ArrowSchema/ArrowArray structs built from fuzz bytes,
 * malformed ones included, checked against a plain oracle.
 *
 * Every buffer is allocated exactly as long as the C Data Interface
 * requires for the array's declared offset + length (and the buffers list
 * exactly n_buffers long), so ASan catches any read the declared array does
 * not allow; what the bytes put in the buffers (offsets, view positions,
 * dictionary indices, validity) is arbitrary.
 *
 * Input layout (fuzz_input.h readers):
 *   u8 type   bits 0-3 value kind (utf8, large utf8, utf8 view, binary,
 *             large binary, binary view, fixed-size binary w:1..4, then the
 *             8 integer types), bit 4 dictionary, bits 5-6 index type
 *             (int8, int16, int32, int64)
 *   u8 n_chunks (1..4)
 *   each chunk: u8 length (% 24), u8 offset (% 5), u8 mode (0-7: well
 *             formed; else one corruption), u8 validity (bit 0: a validity
 *             buffer, its bytes follow), then the buffers' contents
 * The oracle: a chunk built well formed with no null must be accepted; an
 * accepted chunk's codes must equal the first-appearance factorization (by
 * linear search) of the rows of every accepted chunk so far, as the fuzzer
 * itself reads them; a refused chunk must leave the factorizer unchanged,
 * and SZ_ERR_NULL must name the first null row.
 */
#include "../sessionize.h"
#include "../sz_internal.h"
#include "../vendor/nanoarrow/nanoarrow.h"
#include "fuzz_input.h"

#define MAXLEN 24
#define MAXKEYS 4 * MAXLEN

enum { K_U, K_UU, K_VU, K_Z, K_ZZ, K_VZ, K_W, K_INT0 };
static const enum ArrowType int_types[8] = {
    NANOARROW_TYPE_INT8, NANOARROW_TYPE_UINT8, NANOARROW_TYPE_INT16, NANOARROW_TYPE_UINT16,
    NANOARROW_TYPE_INT32, NANOARROW_TYPE_UINT32, NANOARROW_TYPE_INT64, NANOARROW_TYPE_UINT64};
static const int int_bytes[8] = {1, 1, 2, 2, 4, 4, 8, 8};

/* What the fuzzer built: owned allocations of one array (and its
 * dictionary), freed after the call. */
typedef struct built {
    struct ArrowArray a;
    const void **bufs;
    void *mem[8];
    int n_mem;
    struct built *dict;
    int well_formed;
} built;

static void *fz_alloc(built *b, size_t n)
{
    void *p = malloc(n ? n : 1);
    if (b->n_mem < 8) b->mem[b->n_mem++] = p;
    return p;
}

static void fill(fz *f, unsigned char *p, size_t n, int alphabet)
{
    size_t i;
    for (i = 0; i < n; i++) p[i] = alphabet ? (unsigned char)('a' + fz_u8(f) % 3) : fz_u8(f);
}

static void no_release(struct ArrowArray *a) { a->release = NULL; }

/* Builds one array of value kind `kind` (or, idx_bytes > 0, the indices of
 * a dictionary array, whose dictionary the caller adds). */
static void build(fz *f, built *b, int kind, int width, int idx_bytes, int len_cap)
{
    int64_t len = fz_u8(f) % len_cap, off = fz_u8(f) % 5, n = len + off, i;
    int mode = fz_u8(f) % 16, has_valid = fz_u8(f) & 1, n_bufs, k;
    const void *bp[8] = {0};
    memset(b, 0, sizeof *b);
    b->well_formed = mode < 8;
    if (has_valid) {
        unsigned char *v = (unsigned char *)fz_alloc(b, (size_t)(n + 7) / 8);
        fill(f, v, (size_t)(n + 7) / 8, 0);
        bp[0] = v;
    }
    if (idx_bytes || kind >= K_INT0 || kind == K_W) {
        int w = idx_bytes ? idx_bytes : kind == K_W ? width : int_bytes[kind - K_INT0];
        unsigned char *d = (unsigned char *)fz_alloc(b, (size_t)(n * w));
        fill(f, d, (size_t)(n * w), 0);
        if (idx_bytes) /* mostly small indices: into the dictionary or just past */
            for (i = 0; i < n; i++) {
                memset(d + i * w, 0, (size_t)w);
                d[i * w] = (unsigned char)(fz_u8(f) % 8);
                if (d[i * w] == 7) memset(d + i * w, 0xFF, (size_t)w);  /* -1 */
            }
        else if (kind == K_W)
            for (i = 0; i < n * w; i++) d[i] = (unsigned char)('a' + d[i] % 2);
        else
            for (i = 0; i < n * w; i++)  /* small values; now and then a top bit */
                d[i] = (unsigned char)(i % w == 0 ? d[i] % 5
                                       : i % w == w - 1 && d[i] > 250 ? 0x80 : 0);
        bp[1] = d;
        n_bufs = 2;
    } else if (kind == K_U || kind == K_Z || kind == K_UU || kind == K_ZZ) {
        int big = kind == K_UU || kind == K_ZZ;
        int64_t *o = (int64_t *)malloc((size_t)(n + 1) * sizeof *o), last;
        unsigned char *data;
        o[0] = 0;
        for (i = 1; i <= n; i++) o[i] = o[i - 1] + fz_u8(f) % 4;
        if (mode == 8 && n > 0) o[fz_u8(f) % (n + 1)] -= 1 + fz_u8(f) % 3;  /* non-monotonic */
        if (mode == 9 && n > 0) o[off] = -1 - fz_u8(f) % 3;                  /* negative */
        last = o[n] < 0 ? 0 : o[n];
        data = (unsigned char *)fz_alloc(b, (size_t)last);
        fill(f, data, (size_t)last, 1);
        if (big) {
            int64_t *ob = (int64_t *)fz_alloc(b, (size_t)(n + 1) * 8);
            memcpy(ob, o, (size_t)(n + 1) * 8);
            bp[1] = ob;
        } else {
            int32_t *os = (int32_t *)fz_alloc(b, (size_t)(n + 1) * 4);
            for (i = 0; i <= n; i++) os[i] = (int32_t)o[i];
            bp[1] = os;
        }
        free(o);
        bp[2] = data;
        n_bufs = 3;
    } else {  /* views */
        int nv = fz_u8(f) % 3;
        union ArrowBinaryView *v = (union ArrowBinaryView *)fz_alloc(b, (size_t)n * 16);
        int64_t *sizes = (int64_t *)fz_alloc(b, (size_t)(nv ? nv : 1) * 8);
        memset(v, 0, (size_t)n * 16);
        for (k = 0; k < nv; k++) {
            sizes[k] = fz_u8(f) % 40;
            bp[2 + k] = fz_alloc(b, (size_t)sizes[k]);
            fill(f, (unsigned char *)(void *)bp[2 + k], (size_t)sizes[k], 1);
        }
        for (i = 0; i < n; i++) {
            int32_t size = (int32_t)(fz_u8(f) % 20);
            v[i].inlined.size = size;
            if (size <= 12) {
                fill(f, v[i].inlined.data, (size_t)size, 1);
            } else {
                int32_t bi = nv ? (int32_t)(fz_u8(f) % nv) : 0;
                int32_t maxo = nv && sizes[bi] >= size ? (int32_t)(sizes[bi] - size) : 0;
                v[i].ref.buffer_index = bi;
                v[i].ref.offset = (int32_t)(fz_u8(f) % (maxo + 1));
                if (nv == 0 || sizes[bi] < size) b->well_formed = 0;
                if (nv && sizes[bi] >= size) memcpy(v[i].ref.prefix, (const unsigned char *)bp[2 + bi] + v[i].ref.offset, 4);
            }
            if (mode == 10 && i == n - 1) v[i].ref.buffer_index = nv;       /* past the end */
            if (mode == 11 && i == n - 1) v[i].inlined.size = -1;           /* negative */
        }
        bp[1] = v;
        bp[2 + nv] = sizes;
        n_bufs = 3 + nv;
    }
    /* wrong n_buffers.  A view array one buffer short is not made: it reads
     * as a view array with one variadic buffer fewer whose last data buffer
     * is the sizes buffer, a lie about buffer contents the interface cannot
     * reveal (like a data buffer shorter than its offsets say). */
    if (mode == 12) n_bufs += (fz_u8(f) & 1) || kind == K_VU || kind == K_VZ ? 1 : -1;
    if (mode == 13 && n > 0) bp[1] = NULL;            /* a required buffer missing */
    if (mode == 14) off = -1;
    b->bufs = (const void **)fz_alloc(b, (size_t)(n_bufs > 0 ? n_bufs : 1) * sizeof *b->bufs);
    for (k = 0; k < n_bufs; k++) b->bufs[k] = bp[k];
    b->a.length = len;
    b->a.offset = off;
    b->a.null_count = has_valid ? -1 : 0;
    b->a.n_buffers = n_bufs;
    b->a.buffers = b->bufs;
    b->a.release = no_release;
    if (mode == 15) b->a.length = -1;
}

static void unbuild(built *b)
{
    int i;
    for (i = 0; i < b->n_mem; i++) free(b->mem[i]);
    if (b->dict) {
        unbuild(b->dict);
        free(b->dict);
    }
}

/* The fuzzer's own reading of row i (valid arrays only): null, or the key
 * bytes (integers: the widened value's 8 bytes). */
typedef struct key {
    int null;
    size_t len;
    unsigned char b[40];
} key;

static int row_null(const struct ArrowArray *a, int64_t i)
{
    int64_t j = a->offset + i;
    const uint8_t *valid = (const uint8_t *)a->buffers[0];
    return valid && a->null_count != 0 && !((valid[j >> 3] >> (j & 7)) & 1);
}

static key read_row(const struct ArrowArray *a, int kind, int width, int64_t i)
{
    key k;
    int64_t j = a->offset + i;
    memset(&k, 0, sizeof k);
    if (row_null(a, i)) {
        k.null = 1;
        return k;
    }
    if (kind >= K_INT0) {
        int t = kind - K_INT0, w = int_bytes[t];
        uint64_t u = 0;
        memcpy(&u, (const unsigned char *)a->buffers[1] + j * w, (size_t)w);
        if (!(t & 1) && w < 8 && (u >> (8 * w - 1)) & 1) u |= ~0ULL << (8 * w);  /* sign */
        memcpy(k.b, &u, 8);
        k.len = 8;
    } else if (kind == K_W) {
        k.len = (size_t)width;
        memcpy(k.b, (const unsigned char *)a->buffers[1] + j * width, k.len);
    } else if (kind == K_U || kind == K_Z) {
        const int32_t *o = (const int32_t *)a->buffers[1];
        k.len = (size_t)(o[j + 1] - o[j]);
        FZ_CHECK(k.len <= sizeof k.b);
        memcpy(k.b, (const unsigned char *)a->buffers[2] + o[j], k.len);
    } else if (kind == K_UU || kind == K_ZZ) {
        const int64_t *o = (const int64_t *)a->buffers[1];
        k.len = (size_t)(o[j + 1] - o[j]);
        FZ_CHECK(k.len <= sizeof k.b);
        memcpy(k.b, (const unsigned char *)a->buffers[2] + o[j], k.len);
    } else {
        const union ArrowBinaryView *v = &((const union ArrowBinaryView *)a->buffers[1])[j];
        k.len = (size_t)v->inlined.size;
        FZ_CHECK(k.len <= sizeof k.b);
        if (v->inlined.size <= 12)
            memcpy(k.b, v->inlined.data, k.len);
        else
            memcpy(k.b, (const unsigned char *)a->buffers[2 + v->ref.buffer_index] + v->ref.offset,
                   k.len);
    }
    return k;
}

static int64_t index_at(const struct ArrowArray *a, int idx_bytes, int64_t i)
{
    int64_t j = a->offset + i, v = 0;
    const unsigned char *d = (const unsigned char *)a->buffers[1] + j * idx_bytes;
    switch (idx_bytes) {
    case 1: v = (int8_t)d[0]; break;
    case 2: { int16_t x; memcpy(&x, d, 2); v = x; break; }
    case 4: { int32_t x; memcpy(&x, d, 4); v = x; break; }
    default: memcpy(&v, d, 8); break;
    }
    return v;
}

static key keys[MAXKEYS];
static int64_t firsts[MAXKEYS];
static size_t n_keys;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f;
    uint8_t tb;
    int kind, dict, idx_bytes, width, n_chunks, c;
    struct ArrowSchema schema;
    sz_arrow_keys *fac = NULL;
    size_t rows = 0;
    sz_status st;
    fz_init(&f, data, size);
    tb = fz_u8(&f);
    kind = (tb & 15) % 15;
    dict = (tb >> 4) & 1;
    idx_bytes = 1 << ((tb >> 5) & 3);
    width = 1 + (tb >> 5) % 4;
    n_chunks = 1 + fz_u8(&f) % 4;
    n_keys = 0;

    {   /* the schema */
        enum ArrowType vt = kind >= K_INT0 ? int_types[kind - K_INT0]
                            : kind == K_U ? NANOARROW_TYPE_STRING
                            : kind == K_UU ? NANOARROW_TYPE_LARGE_STRING
                            : kind == K_VU ? NANOARROW_TYPE_STRING_VIEW
                            : kind == K_Z ? NANOARROW_TYPE_BINARY
                            : kind == K_ZZ ? NANOARROW_TYPE_LARGE_BINARY
                                           : NANOARROW_TYPE_BINARY_VIEW;
        struct ArrowSchema *vs = &schema;
        if (dict) {
            enum ArrowType it = idx_bytes == 1 ? NANOARROW_TYPE_INT8
                                : idx_bytes == 2 ? NANOARROW_TYPE_INT16
                                : idx_bytes == 4 ? NANOARROW_TYPE_INT32
                                                 : NANOARROW_TYPE_INT64;
            FZ_CHECK(ArrowSchemaInitFromType(&schema, it) == NANOARROW_OK);
            FZ_CHECK(ArrowSchemaAllocateDictionary(&schema) == NANOARROW_OK);
            vs = schema.dictionary;
        }
        if (kind == K_W) {
            ArrowSchemaInit(vs);
            FZ_CHECK(ArrowSchemaSetTypeFixedSize(vs, NANOARROW_TYPE_FIXED_SIZE_BINARY, width)
                     == NANOARROW_OK);
        } else {
            FZ_CHECK(ArrowSchemaInitFromType(vs, vt) == NANOARROW_OK);
        }
    }
    st = sz_arrow_keys_new(&fac, &schema);
    FZ_CHECK(st == SZ_OK);

    for (c = 0; c < n_chunks; c++) {
        built b;
        int64_t codes[MAXLEN + 8], i;
        size_t pos = 0, count0 = sz_arrow_keys_count(fac);
        int expect_ok;
        build(&f, &b, kind, width, dict ? idx_bytes : 0, MAXLEN);
        if (dict) {
            b.dict = (built *)calloc(1, sizeof *b.dict);
            build(&f, b.dict, kind, width, 0, 8);
            b.a.dictionary = &b.dict->a;
        }
        expect_ok = b.well_formed && (!dict || b.dict->well_formed);
        st = sz_arrow_keys_add(fac, &b.a, codes, &pos);
        /* a well-formed chunk is refused only for a null (or a dictionary
         * index out of range, which the builder makes on purpose) */
        if (expect_ok && st != SZ_OK)
            FZ_CHECK(st == SZ_ERR_NULL || (dict && st == SZ_ERR_ARROW_INVALID));
        if (st != SZ_OK) {
            FZ_CHECK(st == SZ_ERR_NULL || st == SZ_ERR_ARROW_INVALID);
            FZ_CHECK(sz_arrow_keys_count(fac) == count0 && sz_arrow_keys_rows(fac) == rows);
            if (st == SZ_ERR_NULL) {  /* the first null row, as we read it */
                FZ_CHECK(pos >= rows && pos < rows + (size_t)b.a.length);
                for (i = 0; i < b.a.length; i++) {
                    key k;
                    if (dict) {
                        int64_t x;
                        memset(&k, 0, sizeof k);
                        k.null = row_null(&b.a, i);
                        if (!k.null) {
                            x = index_at(&b.a, idx_bytes, i);
                            FZ_CHECK(x >= 0 && x < b.dict->a.length);
                            k = read_row(&b.dict->a, kind, width, x);
                        }
                    } else {
                        k = read_row(&b.a, kind, width, i);
                    }
                    if (k.null) break;
                }
                FZ_CHECK((size_t)i == pos - rows);
            }
        } else {
            FZ_CHECK(pos == SZ_NO_POSITION);
            for (i = 0; i < b.a.length; i++) {
                key k;
                size_t j;
                if (dict) {
                    int64_t x = index_at(&b.a, idx_bytes, i);
                    FZ_CHECK(x >= 0 && x < b.dict->a.length);
                    k = read_row(&b.dict->a, kind, width, x);
                } else {
                    k = read_row(&b.a, kind, width, i);
                }
                FZ_CHECK(!k.null);
                for (j = 0; j < n_keys; j++)
                    if (keys[j].len == k.len && memcmp(keys[j].b, k.b, k.len) == 0) break;
                if (j == n_keys) {
                    FZ_CHECK(n_keys < MAXKEYS);
                    keys[n_keys] = k;
                    firsts[n_keys++] = (int64_t)(rows + (size_t)i);
                }
                if (codes[i] != (int64_t)j)
                    FZ_FAIL("chunk %d row %lld: code %lld, reference %zu", c, (long long)i,
                            (long long)codes[i], j);
            }
            rows += (size_t)b.a.length;
            FZ_CHECK(sz_arrow_keys_rows(fac) == rows);
            FZ_CHECK(sz_arrow_keys_count(fac) == n_keys);
            FZ_CHECK(n_keys == 0
                     || memcmp(sz_arrow_keys_first(fac), firsts, n_keys * sizeof *firsts) == 0);
        }
        /* the integer reader on the same chunk, when it is of integers */
        if (!dict && kind >= K_INT0) {
            int64_t out[MAXLEN + 8];
            size_t p2 = 0;
            sz_status s2 = sz_arrow_ints_read(&schema, &b.a, out, 1000, &p2);
            if (st == SZ_OK) {
                FZ_CHECK(s2 == SZ_OK || (s2 == SZ_ERR_TIME_RANGE && kind == K_INT0 + 7));
                for (i = 0; s2 == SZ_OK && i < b.a.length; i++) {
                    key k = read_row(&b.a, kind, width, i);
                    FZ_CHECK(memcmp(&out[i], k.b, 8) == 0);
                }
            } else if (st == SZ_ERR_NULL) {  /* or a uint64 too large before it */
                FZ_CHECK(s2 == SZ_ERR_NULL || (s2 == SZ_ERR_TIME_RANGE && kind == K_INT0 + 7));
                FZ_CHECK(p2 - 1000 <= pos - rows);
            } else {
                FZ_CHECK(s2 == st);
            }
        }
        unbuild(&b);
    }
    sz_arrow_keys_free(fac);
    schema.release(&schema);
    return 0;
}
