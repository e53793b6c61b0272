/*
 * arrow.c -- tier 4: keys and times read from the Arrow C Data Interface.
 *
 * nanoarrow (vendor/nanoarrow) parses formats and validates arrays; only its
 * non-allocating calls are used, so every byte taken here still goes through
 * sz__malloc (and the tests' failure injection).  Values are then read from
 * the buffers directly, by loops specialised per layout.
 *
 * The key table: open addressing, linear probing, 32-byte slots holding the
 * full 64-bit hash, the code, the length and the first 16 bytes of the key,
 * so a key of at most 16 bytes (`user-0001234`, every integer) is found or
 * refused with one cache line; longer keys are copied once into an arena
 * and compared there.  A table of a million keys is far larger than the
 * cache, and a log's consecutive events are of different keys, so the
 * lookups are pipelined: the hash of the row AK_AHEAD rows on is computed and
 * its slot prefetched while the current row is looked up.
 */
#include "sz_internal.h"
#include "vendor/nanoarrow/nanoarrow.h"

/* ---- reading values ------------------------------------------------------ */

/* How a column's values are laid out. */
enum {
    AK_BIN32 = 0,  /* utf8, binary: int32 offsets */
    AK_BIN64 = 1,  /* large_utf8, large_binary: int64 offsets */
    AK_VIEW = 2,   /* utf8_view, binary_view */
    AK_FIXED = 3,  /* fixed_size_binary */
    AK_INT = 4,    /* integers of any width */
    AK_PTRS = 5    /* the caller's byte strings (sz_arrow_keys_add_bytes) */
};

/* A validated column, read from row `offset` on. */
typedef struct ak_src {
    int kind;
    enum ArrowType type;             /* AK_INT: the integer type */
    int64_t offset, length;
    const uint8_t *validity;         /* NULL when there are no nulls */
    const unsigned char *data;       /* values (ints, fixed), bytes (bin) */
    const int32_t *off32;
    const int64_t *off64;
    const union ArrowBinaryView *views;
    const void *const *vbufs;        /* AK_VIEW: the variadic buffers */
    size_t width;                    /* AK_FIXED */
    const char *const *ptrs;         /* AK_PTRS: each key's bytes */
    const size_t *lens;              /* AK_PTRS: and length */
} ak_src;

SZ_INLINE int ak_is_null(const ak_src *s, int64_t i)
{
    int64_t j = s->offset + i;
    return s->validity != NULL && !((s->validity[j >> 3] >> (j & 7)) & 1);
}

/* Integer value of row i, as the bits of its int64 (signed types) or
 * uint64 (unsigned) widening. */
SZ_INLINE uint64_t ak_int(const ak_src *s, enum ArrowType type, int64_t i)
{
    int64_t j = s->offset + i;
    const unsigned char *d = s->data;
    switch (type) {
    case NANOARROW_TYPE_INT8: return (uint64_t)(int64_t)((const int8_t *)(const void *)d)[j];
    case NANOARROW_TYPE_UINT8: return (uint64_t)d[j];
    case NANOARROW_TYPE_INT16: return (uint64_t)(int64_t)((const int16_t *)(const void *)d)[j];
    case NANOARROW_TYPE_UINT16: return (uint64_t)((const uint16_t *)(const void *)d)[j];
    case NANOARROW_TYPE_INT32: return (uint64_t)(int64_t)((const int32_t *)(const void *)d)[j];
    case NANOARROW_TYPE_UINT32: return (uint64_t)((const uint32_t *)(const void *)d)[j];
    case NANOARROW_TYPE_INT64: return (uint64_t)((const int64_t *)(const void *)d)[j];
    default: return ((const uint64_t *)(const void *)d)[j];
    }
}

/* The bytes of row i of a byte column (kind != AK_INT). */
SZ_INLINE const unsigned char *ak_bytes(const ak_src *s, int kind, int64_t i, size_t *len)
{
    int64_t j = s->offset + i;
    if (kind == AK_BIN32) {
        *len = (size_t)(s->off32[j + 1] - s->off32[j]);
        return s->data + s->off32[j];
    }
    if (kind == AK_BIN64) {
        *len = (size_t)(s->off64[j + 1] - s->off64[j]);
        return s->data + s->off64[j];
    }
    if (kind == AK_FIXED) {
        *len = s->width;
        return s->data + (size_t)j * s->width;
    }
    if (kind == AK_PTRS) {
        *len = s->lens[j];
        return (const unsigned char *)s->ptrs[j];
    }
    {
        const union ArrowBinaryView *v = &s->views[j];
        *len = (size_t)v->inlined.size;
        if (v->inlined.size <= NANOARROW_BINARY_VIEW_INLINE_SIZE) return v->inlined.data;
        return (const unsigned char *)s->vbufs[v->ref.buffer_index] + v->ref.offset;
    }
}

/* Row i as a key: its bytes, or an integer's 8 bytes in *tmp. */
SZ_INLINE const unsigned char *ak_key(const ak_src *s, int kind, enum ArrowType type,
                                      int64_t i, size_t *len, uint64_t *tmp)
{
    if (kind == AK_INT) {
        *tmp = ak_int(s, type, i);
        *len = 8;
        return (const unsigned char *)tmp;
    }
    return ak_bytes(s, kind, i, len);
}

/* The bytes' hash: sz__hash_bytes's mixing, with the tail read by two
 * overlapping loads instead of a memcpy of variable length (which compiles
 * to a call and a store-forwarding stall: a fifth of the time of a 12-byte
 * key).  Only compared within one factorizer, never stored. */
SZ_INLINE uint64_t ak_hash_bytes(const unsigned char *p, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)len, tail;
    size_t i = 0, r;
    for (; i + 8 <= len; i += 8) {
        h = (h ^ sz__load_u64(p + i)) * 0xff51afd7ed558ccdULL;
        h ^= h >> 29;
    }
    r = len - i;
    if (r) {
        if (len >= 8) {
            tail = sz__load_u64(p + len - 8) >> (8 * (8 - r));
        } else if (r >= 4) {
            uint32_t a, b;
            memcpy(&a, p, 4);
            memcpy(&b, p + r - 4, 4);
            tail = (uint64_t)a | (uint64_t)b << 32;
        } else {
            tail = (uint64_t)p[0] | (uint64_t)p[r / 2] << 8 | (uint64_t)p[r - 1] << 16;
        }
        h = (h ^ tail) * 0xff51afd7ed558ccdULL;
    }
    return sz__hash_u64(h);
}

SZ_INLINE uint64_t ak_hash(int kind, const unsigned char *p, size_t len)
{
    if (kind == AK_INT) return sz__hash_u64(sz__load_u64(p));
    return ak_hash_bytes(p, len);
}

/* a[0..len) == b[0..len) for len <= 16, without a call. */
SZ_INLINE int ak_eq16(const unsigned char *a, const unsigned char *b, size_t len)
{
    if (len >= 8)
        return sz__load_u64(a) == sz__load_u64(b)
               && sz__load_u64(a + len - 8) == sz__load_u64(b + len - 8);
    if (len >= 4) {
        uint32_t x0, x1, y0, y1;
        memcpy(&x0, a, 4);
        memcpy(&y0, b, 4);
        memcpy(&x1, a + len - 4, 4);
        memcpy(&y1, b + len - 4, 4);
        return x0 == y0 && x1 == y1;
    }
    return len == 0
           || (a[0] == b[0] && a[len / 2] == b[len / 2] && a[len - 1] == b[len - 1]);
}

/* The first null row of s, or -1. */
static int64_t ak_first_null(const ak_src *s)
{
    int64_t i = 0;
    if (s->validity == NULL) return -1;
    while (i < s->length) {
        int64_t j = s->offset + i;
        if ((j & 7) == 0 && i + 8 <= s->length && s->validity[j >> 3] == 0xFF) {
            i += 8;
            continue;
        }
        if (!((s->validity[j >> 3] >> (j & 7)) & 1)) return i;
        i++;
    }
    return -1;
}

/* A parsed, supported type: what is kept of a schema (no pointer into it). */
typedef struct ak_type {
    enum ArrowType storage;
    struct ArrowLayout layout;
    int kind;          /* AK_* */
    size_t width;      /* AK_FIXED */
} ak_type;

/* Fills t from a schema view of a key value type; SZ_ERR_ARROW_TYPE when
 * it is not one. */
static sz_status ak_type_of(const struct ArrowSchemaView *sv, ak_type *t)
{
    sz_status st = SZ_OK;
    t->storage = sv->storage_type;
    t->layout = sv->layout;
    t->width = 0;
    switch (sv->type) {
    case NANOARROW_TYPE_STRING:
    case NANOARROW_TYPE_BINARY: t->kind = AK_BIN32; break;
    case NANOARROW_TYPE_LARGE_STRING:
    case NANOARROW_TYPE_LARGE_BINARY: t->kind = AK_BIN64; break;
    case NANOARROW_TYPE_STRING_VIEW:
    case NANOARROW_TYPE_BINARY_VIEW: t->kind = AK_VIEW; break;
    case NANOARROW_TYPE_FIXED_SIZE_BINARY:
        t->kind = AK_FIXED;
        if (sv->fixed_size < 0) st = SZ_ERR_ARROW_TYPE;
        t->width = (size_t)(sv->fixed_size < 0 ? 0 : sv->fixed_size);
        break;
    case NANOARROW_TYPE_INT8: case NANOARROW_TYPE_UINT8:
    case NANOARROW_TYPE_INT16: case NANOARROW_TYPE_UINT16:
    case NANOARROW_TYPE_INT32: case NANOARROW_TYPE_UINT32:
    case NANOARROW_TYPE_INT64: case NANOARROW_TYPE_UINT64:
        t->kind = AK_INT;
        break;
    default: st = SZ_ERR_ARROW_TYPE; break;
    }
    return st;
}

static int ak_is_int(enum ArrowType type)
{
    return type == NANOARROW_TYPE_INT8 || type == NANOARROW_TYPE_UINT8
           || type == NANOARROW_TYPE_INT16 || type == NANOARROW_TYPE_UINT16
           || type == NANOARROW_TYPE_INT32 || type == NANOARROW_TYPE_UINT32
           || type == NANOARROW_TYPE_INT64 || type == NANOARROW_TYPE_UINT64;
}

/* Parses a schema; SZ_ERR_PARAM for NULL or released, SZ_ERR_ARROW_TYPE
 * for a format nanoarrow cannot parse. */
static sz_status ak_schema_view(const struct ArrowSchema *schema, struct ArrowSchemaView *sv)
{
    struct ArrowError err;
    if (schema == NULL || schema->release == NULL) return SZ_ERR_PARAM;
    if (ArrowSchemaViewInit(sv, schema, &err) != NANOARROW_OK) return SZ_ERR_ARROW_TYPE;
    return SZ_OK;
}

/*
 * Validates one level of an array (no children, no dictionary: the caller
 * validates a dictionary apart) against type t and describes it in *s.
 * The buffer count is checked before nanoarrow reads the buffer list.
 */
static sz_status ak_validate(const ak_type *t, int kind, const struct ArrowArray *a,
                             int allow_dict, ak_src *s)
{
    struct ArrowArrayView v;
    struct ArrowArray shallow;
    struct ArrowError err;
    int64_t want = 0, k, i;
    sz_status st = SZ_ERR_ARROW_INVALID;

    if (a->n_buffers < 0 || a->n_children != 0 || (a->n_buffers > 0 && a->buffers == NULL)
        || (a->dictionary != NULL && !allow_dict))
        goto fail;
    for (k = 0; k < NANOARROW_MAX_FIXED_BUFFERS; k++)
        if (t->layout.buffer_type[k] != NANOARROW_BUFFER_TYPE_NONE) want++;
    if (kind == AK_VIEW ? a->n_buffers < 3 : a->n_buffers != want) goto fail;
    shallow = *a;
    shallow.dictionary = NULL;
    /* "unknown" null count without a validity buffer: no nulls (nanoarrow
     * would ask for a bitmap) */
    if (shallow.n_buffers > 0 && shallow.buffers[0] == NULL && shallow.null_count == -1)
        shallow.null_count = 0;
    ArrowArrayViewInitFromType(&v, t->storage);
    v.layout = t->layout;
    if (ArrowArrayViewSetArray(&v, &shallow, &err) != NANOARROW_OK) goto fail;
    if (ArrowArrayViewValidate(&v, NANOARROW_VALIDATION_LEVEL_FULL, &err) != NANOARROW_OK)
        goto fail;

    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->type = t->storage;
    s->offset = v.offset;
    s->length = v.length;
    s->validity = shallow.null_count != 0 ? v.buffer_views[0].data.as_uint8 : NULL;
    s->width = t->width;
    switch (kind) {
    case AK_BIN32:
        s->off32 = v.buffer_views[1].data.as_int32;
        s->data = v.buffer_views[2].data.as_uint8;
        break;
    case AK_BIN64:
        s->off64 = v.buffer_views[1].data.as_int64;
        s->data = v.buffer_views[2].data.as_uint8;
        break;
    case AK_VIEW:
        s->views = v.buffer_views[1].data.as_binary_view;
        s->vbufs = (const void *const *)v.variadic_buffers;
        break;
    default:
        s->data = v.buffer_views[1].data.as_uint8;
        break;
    }
    /* nanoarrow checks neither the variadic buffers nor where a view points */
    if (kind == AK_VIEW && s->length > 0) {
        int64_t nv = v.n_variadic_buffers;
        const int64_t *sizes = v.variadic_buffer_sizes;
        if (nv > 0 && sizes == NULL) goto fail;
        for (k = 0; k < nv; k++)
            if (sizes[k] < 0 || (s->vbufs[k] == NULL && sizes[k] != 0)) goto fail;
        for (i = 0; i < s->length; i++) {
            const union ArrowBinaryView *bv = &s->views[s->offset + i];
            if (ak_is_null(s, i)) continue;
            if (bv->inlined.size < 0) goto fail;
            if (bv->inlined.size <= NANOARROW_BINARY_VIEW_INLINE_SIZE) continue;
            if (bv->ref.buffer_index < 0 || bv->ref.buffer_index >= nv || bv->ref.offset < 0
                || (int64_t)bv->ref.offset + bv->ref.size > sizes[bv->ref.buffer_index])
                goto fail;
        }
    }
    st = SZ_OK;
fail:
    return st;
}

/* ---- the factorizer -------------------------------------------------------- */

/* Prefetch into every cache level (locality 3): the slot is read soon and
 * once; measured faster than SZ_PREFETCH_R's locality 1 here. */
#if defined(__GNUC__) || defined(__clang__)
#define AK_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#else
#define AK_PREFETCH(p) SZ_PREFETCH_R(p)
#endif

#define AK_INLINE 16   /* key bytes held in the slot */
#define AK_AHEAD 32    /* rows between a prefetch and its lookup */
#define AK_PENDING UINT32_MAX        /* dictionary value not yet seen in a row */
#define AK_NULLVAL (UINT32_MAX - 1)  /* dictionary value that is null */

typedef struct ak_slot {
    uint64_t hash;
    uint32_t idx;   /* code + 1; 0: empty */
    uint32_t len;
    unsigned char b[AK_INLINE];  /* the key (len <= 16), or its first 8
                                    bytes and its arena offset */
} ak_slot;

struct sz_arrow_keys {
    ak_type val;          /* the keys' (or the dictionary values') type */
    int dict;             /* nonzero: dictionary-encoded */
    ak_type idx;          /* dict: the index type */

    ak_slot *slots;       /* 64-byte aligned: a slot never straddles two
                             cache lines, so one prefetch brings all of it */
    void *slots_mem;      /* the allocation slots lies in */
    size_t n_slots;       /* a power of two, or 0 */
    uint32_t count;       /* keys */
    int64_t *first;       /* count: global row of each key's first row */
    size_t first_cap;
    unsigned char *arena; /* keys longer than AK_INLINE */
    size_t arena_len, arena_cap;
    size_t rows;          /* rows consumed */

    /* The last dictionary, by value, and its values' codes.  Codes given
     * to a dictionary's values are put in the hash table only when another
     * dictionary comes (ak_dict_flush): until then dict_code alone knows
     * them, so the rows of a dictionary chunk cost one array read each and
     * a dictionary that never changes is never put in the table. */
    int dict_ok;          /* nonzero: the fields below describe one */
    size_t dict_n;
    uint64_t *dict_off;   /* dict_n + 1: value i is dict_bytes[off[i],
                             off[i + 1]); a null is empty */
    uint32_t *dict_code;  /* dict_n: code, AK_PENDING or AK_NULLVAL */
    uint32_t *dict_alias; /* dict_n: the first index of an equal value (a
                             dictionary may repeat a value), or NULL when
                             none repeats */
    int dict_nulls;       /* nonzero: some value of it is null */
    unsigned char *dict_bytes;
    size_t dict_bytes_len, dict_cap, dict_bytes_cap;
    uint32_t hashed;      /* codes below this are in the table; the rest
                             (up to count) are in dict_code only */
};

SZ_INLINE int ak_slot_eq(const sz_arrow_keys *f, const ak_slot *sl, uint64_t h,
                         const unsigned char *p, size_t len)
{
    uint64_t off;
    if (sl->hash != h || sl->len != len) return 0;
    if (len <= AK_INLINE) return ak_eq16(sl->b, p, len);
    memcpy(&off, sl->b + 8, sizeof off);
    return memcmp(sl->b, p, 8) == 0 && memcmp(f->arena + off, p, len) == 0;
}

/* The code of key (h, p, len), or -1. */
SZ_INLINE int64_t ak_find(const sz_arrow_keys *f, uint64_t h, const unsigned char *p, size_t len)
{
    size_t mask = f->n_slots - 1, i;
    if (f->n_slots == 0) return -1;
    for (i = (size_t)h & mask;; i = (i + 1) & mask) {
        const ak_slot *sl = &f->slots[i];
        if (sl->idx == 0) return -1;
        if (ak_slot_eq(f, sl, h, p, len)) return (int64_t)sl->idx - 1;
    }
}

/* Rehashes into a table of n slots (a power of two, more than the keys);
 * SZ_ERR_NOMEM leaves it. */
static sz_status ak_resize_table(sz_arrow_keys *f, size_t n)
{
    size_t i, mask = n - 1;
    ak_slot *ns;
    void *mem;
    sz_status st = SZ_ERR_NOMEM;
    if (n > SIZE_MAX / sizeof *ns - 2) goto fail;
    mem = SZ_CALLOC(n + 2, sizeof *ns);
    if (mem == NULL) goto fail;
    ns = (ak_slot *)(void *)((unsigned char *)mem + ((64 - (uintptr_t)mem % 64) % 64));
    for (i = 0; i < f->n_slots; i++) {
        const ak_slot *sl = &f->slots[i];
        size_t j;
        if (sl->idx == 0) continue;
        for (j = (size_t)sl->hash & mask; ns[j].idx != 0; j = (j + 1) & mask) {}
        ns[j] = *sl;
    }
    SZ_FREE(f->slots_mem);
    f->slots_mem = mem;
    f->slots = ns;
    f->n_slots = n;
    st = SZ_OK;
fail:
    return st;
}

/* Doubles the table (or makes its first one); SZ_ERR_NOMEM leaves it. */
static sz_status ak_grow_table(sz_arrow_keys *f)
{
    return ak_resize_table(f, f->n_slots ? f->n_slots * 2 : 1024);
}

/* Puts key (h, p, len) with `code` in the table; the key must be absent,
 * the table at most half full after it and the arena big enough. */
static void ak_put(sz_arrow_keys *f, uint64_t h, const unsigned char *p, size_t len,
                   uint32_t code)
{
    size_t mask = f->n_slots - 1, i;
    ak_slot *sl;
    for (i = (size_t)h & mask; f->slots[i].idx != 0; i = (i + 1) & mask) {}
    sl = &f->slots[i];
    sl->hash = h;
    sl->len = (uint32_t)len;
    memset(sl->b, 0, sizeof sl->b);
    if (len <= AK_INLINE) {
        if (len) memcpy(sl->b, p, len);
    } else {
        uint64_t off = (uint64_t)f->arena_len;
        memcpy(sl->b, p, 8);
        memcpy(sl->b + 8, &off, sizeof off);
        memcpy(f->arena + f->arena_len, p, len);
        f->arena_len += len;
    }
    sl->idx = code + 1;
}

/* Room in the arena for `more` bytes; SZ_ERR_NOMEM leaves it. */
static sz_status ak_reserve_arena(sz_arrow_keys *f, size_t more)
{
    size_t cap = f->arena_cap ? f->arena_cap : 4096;
    unsigned char *na;
    sz_status st = SZ_OK;
    if (f->arena_cap - f->arena_len >= more) goto fail;
    st = SZ_ERR_NOMEM;
    while (cap - f->arena_len < more) {
        if (cap > SIZE_MAX / 2) goto fail;
        cap *= 2;
    }
    na = (unsigned char *)SZ_REALLOC(f->arena, cap);
    if (na == NULL) goto fail;
    f->arena = na;
    f->arena_cap = cap;
    st = SZ_OK;
fail:
    return st;
}

/* Room in `first` for one more key; SZ_ERR_NOMEM leaves it. */
static sz_status ak_reserve_first(sz_arrow_keys *f)
{
    size_t cap = f->first_cap ? f->first_cap * 2 : 256;
    int64_t *nf;
    sz_status st = SZ_OK;
    if (f->count < f->first_cap) goto fail;
    st = SZ_ERR_NOMEM;
    nf = (int64_t *)SZ_REALLOC(f->first, sz__mul_size(cap, sizeof *nf));
    if (nf == NULL) goto fail;
    f->first = nf;
    f->first_cap = cap;
    st = SZ_OK;
fail:
    return st;
}

/*
 * The code of key (h, p, len), inserting it with a new code (first seen at
 * global row `row`) when it is new.  SZ_OK, SZ_ERR_NOMEM or SZ_ERR_TOO_LARGE
 * (nothing inserted on failure).
 */
static sz_status ak_find_or_add(sz_arrow_keys *f, uint64_t h, const unsigned char *p,
                                size_t len, size_t row, int64_t *code)
{
    sz_status st = SZ_OK;
    int64_t c = ak_find(f, h, p, len);
    if (c >= 0) {
        *code = c;
        goto fail;  /* found: the one exit */
    }
    st = SZ_ERR_TOO_LARGE;
    if (f->count >= UINT32_MAX - 1 || len > UINT32_MAX) goto fail;
    if (((size_t)f->count + 1) * 2 > f->n_slots) {
        st = ak_grow_table(f);
        if (st != SZ_OK) goto fail;
    }
    st = ak_reserve_first(f);
    if (st != SZ_OK) goto fail;
    if (len > AK_INLINE) {
        st = ak_reserve_arena(f, len);
        if (st != SZ_OK) goto fail;
    }
    ak_put(f, h, p, len, f->count);
    f->first[f->count] = (int64_t)row;
    *code = (int64_t)f->count;
    f->count++;
    f->hashed = f->count;
    st = SZ_OK;
fail:
    return st;
}

/* Removes the slot at i by shifting its cluster back (linear probing's
 * deletion, Knuth's algorithm R). */
static void ak_delete_at(sz_arrow_keys *f, size_t i)
{
    size_t mask = f->n_slots - 1, j = i;
    f->slots[i].idx = 0;
    for (;;) {
        size_t k;
        j = (j + 1) & mask;
        if (f->slots[j].idx == 0) break;
        k = (size_t)f->slots[j].hash & mask;
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
        f->slots[i] = f->slots[j];
        f->slots[j].idx = 0;
        i = j;
    }
}

/* Forgets every key numbered c0 or more (a failed add's), in the table
 * and in the dictionary cache.  The arena is cut back to arena0: the caller
 * passes where it stood before anything of the failed add was put in it. */
static void ak_rollback(sz_arrow_keys *f, uint32_t c0, size_t arena0)
{
    size_t i;
    for (i = 0; i < f->n_slots; i++)
        while (f->slots[i].idx > c0) ak_delete_at(f, i);
    if (f->dict_ok)
        for (i = 0; i < f->dict_n; i++)
            if (f->dict_code[i] >= c0 && f->dict_code[i] < AK_NULLVAL)
                f->dict_code[i] = AK_PENDING;
    f->count = c0;
    if (f->hashed > c0) f->hashed = c0;
    f->arena_len = arena0;
}

sz_status sz_arrow_keys_new(sz_arrow_keys **out, const struct ArrowSchema *schema)
{
    struct ArrowSchemaView sv, dv;
    sz_arrow_keys *f = NULL;
    sz_status st = SZ_ERR_PARAM;
    if (out == NULL) goto fail;
    *out = NULL;
    st = ak_schema_view(schema, &sv);
    if (st != SZ_OK) goto fail;
    st = SZ_ERR_NOMEM;
    f = (sz_arrow_keys *)SZ_CALLOC(1, sizeof *f);
    if (f == NULL) goto fail;
    if (sv.type == NANOARROW_TYPE_DICTIONARY) {
        st = SZ_ERR_ARROW_TYPE;
        if (!ak_is_int(sv.storage_type)) goto fail;
        f->dict = 1;
        f->idx.storage = sv.storage_type;
        f->idx.layout = sv.layout;
        f->idx.kind = AK_INT;
        st = ak_schema_view(schema->dictionary, &dv);
        if (st == SZ_ERR_PARAM) st = SZ_ERR_ARROW_TYPE;
        if (st != SZ_OK) goto fail;
        st = ak_type_of(&dv, &f->val);
    } else {
        st = ak_type_of(&sv, &f->val);
    }
    if (st != SZ_OK) goto fail;
    *out = f;
    f = NULL;
fail:
    sz_arrow_keys_free(f);
    return st;
}

void sz_arrow_keys_free(sz_arrow_keys *f)
{
    if (f == NULL) return;
    SZ_FREE(f->slots_mem);
    SZ_FREE(f->first);
    SZ_FREE(f->arena);
    SZ_FREE(f->dict_off);
    SZ_FREE(f->dict_code);
    SZ_FREE(f->dict_alias);
    SZ_FREE(f->dict_bytes);
    SZ_FREE(f);
}

size_t sz_arrow_keys_count(const sz_arrow_keys *f) { return f ? f->count : 0; }

size_t sz_arrow_keys_rows(const sz_arrow_keys *f) { return f ? f->rows : 0; }

const int64_t *sz_arrow_keys_first(const sz_arrow_keys *f)
{
    return f && f->count ? f->first : NULL;
}

/* Codes of the n rows of s (no nulls), pipelined: row i + AK_AHEAD is
 * hashed and its slot prefetched while row i is looked up.  `kind` and
 * `type` are constants in each caller, so each layout gets its own loop. */
SZ_INLINE sz_status ak_codes(sz_arrow_keys *f, const ak_src *s, int kind, enum ArrowType type,
                             int64_t *codes)
{
    uint64_t ring[AK_AHEAD], tmp;
    int64_t n = s->length, i;
    sz_status st = SZ_OK;
    for (i = 0; i < n && i < AK_AHEAD; i++) {
        size_t len;
        const unsigned char *p = ak_key(s, kind, type, i, &len, &tmp);
        ring[i] = ak_hash(kind, p, len);
        if (f->n_slots) AK_PREFETCH(&f->slots[(size_t)ring[i] & (f->n_slots - 1)]);
    }
    for (i = 0; i < n; i++) {
        size_t len;
        const unsigned char *p;
        uint64_t h = ring[i % AK_AHEAD];
        if (i + AK_AHEAD < n) {
            uint64_t h2;
            p = ak_key(s, kind, type, i + AK_AHEAD, &len, &tmp);
            h2 = ak_hash(kind, p, len);
            ring[i % AK_AHEAD] = h2;
            AK_PREFETCH(&f->slots[(size_t)h2 & (f->n_slots - 1)]);
        }
        p = ak_key(s, kind, type, i, &len, &tmp);
        {   /* the common case, a key already known, inline */
            size_t mask = f->n_slots - 1, j;
            for (j = (size_t)h & mask;; j = (j + 1) & mask) {
                const ak_slot *sl = &f->slots[j];
                if (sl->idx == 0) break;
                if (ak_slot_eq(f, sl, h, p, len)) {
                    codes[i] = (int64_t)sl->idx - 1;
                    goto next;
                }
            }
        }
        st = ak_find_or_add(f, h, p, len, f->rows + (size_t)i, &codes[i]);
        if (st != SZ_OK) goto fail;
    next:;
    }
fail:
    return st;
}

static sz_status ak_codes_any(sz_arrow_keys *f, const ak_src *s, int64_t *codes)
{
    switch (s->kind) {
    case AK_BIN32: return ak_codes(f, s, AK_BIN32, s->type, codes);
    case AK_BIN64: return ak_codes(f, s, AK_BIN64, s->type, codes);
    case AK_VIEW: return ak_codes(f, s, AK_VIEW, s->type, codes);
    case AK_FIXED: return ak_codes(f, s, AK_FIXED, s->type, codes);
    default: break;
    }
    switch (s->type) {
    case NANOARROW_TYPE_INT8: return ak_codes(f, s, AK_INT, NANOARROW_TYPE_INT8, codes);
    case NANOARROW_TYPE_UINT8: return ak_codes(f, s, AK_INT, NANOARROW_TYPE_UINT8, codes);
    case NANOARROW_TYPE_INT16: return ak_codes(f, s, AK_INT, NANOARROW_TYPE_INT16, codes);
    case NANOARROW_TYPE_UINT16: return ak_codes(f, s, AK_INT, NANOARROW_TYPE_UINT16, codes);
    case NANOARROW_TYPE_INT32: return ak_codes(f, s, AK_INT, NANOARROW_TYPE_INT32, codes);
    case NANOARROW_TYPE_UINT32: return ak_codes(f, s, AK_INT, NANOARROW_TYPE_UINT32, codes);
    case NANOARROW_TYPE_INT64: return ak_codes(f, s, AK_INT, NANOARROW_TYPE_INT64, codes);
    default: return ak_codes(f, s, AK_INT, NANOARROW_TYPE_UINT64, codes);
    }
}

/* Whether dictionary d holds exactly the values of the cached one.  A
 * binary column without nulls (the usual dictionary) is compared as its
 * lengths, then its bytes in one memcmp. */
static int ak_dict_same(const sz_arrow_keys *f, const ak_src *d)
{
    int64_t i;
    uint64_t tmp;
    if (!f->dict_ok || f->dict_n != (size_t)d->length) return 0;
    if ((d->kind == AK_BIN32 || d->kind == AK_BIN64) && d->validity == NULL
        && !f->dict_nulls) {  /* else a null and an empty value look alike */
        const uint64_t *off = f->dict_off;
        int64_t j = d->offset, base;
        uint64_t total;
        if (d->kind == AK_BIN32) {
            const int32_t *o = d->off32 + j;
            base = o[0];
            for (i = 0; i <= d->length; i++)
                if ((uint64_t)(o[i] - base) != off[i]) return 0;
        } else {
            const int64_t *o = d->off64 + j;
            base = o[0];
            for (i = 0; i <= d->length; i++)
                if ((uint64_t)(o[i] - base) != off[i]) return 0;
        }
        total = off[d->length];
        return total == 0 || memcmp(f->dict_bytes, d->data + base, (size_t)total) == 0;
    }
    for (i = 0; i < d->length; i++) {
        size_t len;
        const unsigned char *p;
        uint64_t at = f->dict_off[i];
        if (ak_is_null(d, i)) {
            if (f->dict_code[i] != AK_NULLVAL) return 0;
            continue;
        }
        if (f->dict_code[i] == AK_NULLVAL) return 0;
        p = ak_key(d, d->kind, d->type, i, &len, &tmp);
        if (f->dict_off[i + 1] - at != (uint64_t)len
            || (len && memcmp(f->dict_bytes + at, p, len) != 0))
            return 0;
    }
    return 1;
}

/* Value i of the cached dictionary. */
SZ_INLINE const unsigned char *ak_dict_val(const sz_arrow_keys *f, size_t i, size_t *len)
{
    *len = (size_t)(f->dict_off[i + 1] - f->dict_off[i]);
    return *len ? f->dict_bytes + f->dict_off[i] : (const unsigned char *)"";
}

/* Whether the cached dictionary's index i holds a code that only the cache
 * knows (to be put in the table), counting each code once. */
SZ_INLINE int ak_dict_unhashed(const sz_arrow_keys *f, size_t i)
{
    uint32_t c = f->dict_code[i];
    return c >= f->hashed && c < AK_NULLVAL
           && (f->dict_alias == NULL || f->dict_alias[i] == (uint32_t)i);
}

/* Puts the codes only the cached dictionary knows in the table, before
 * the cache is replaced: room is made first, so either all go in or, on
 * SZ_ERR_NOMEM, none (the cache stays valid). */
static sz_status ak_dict_flush(sz_arrow_keys *f)
{
    size_t i, more = 0, n = f->n_slots ? f->n_slots : 1024;
    uint64_t ring[AK_AHEAD];
    sz_status st = SZ_OK;
    if (!f->dict_ok || f->hashed >= f->count) goto fail;
    for (i = 0; i < f->dict_n; i++) {
        size_t len = (size_t)(f->dict_off[i + 1] - f->dict_off[i]);
        if (len > AK_INLINE && ak_dict_unhashed(f, i)) more += len;  /* <= dict bytes */
    }
    while (n / 2 < (size_t)f->count) n *= 2;
    if (n != f->n_slots) {
        st = ak_resize_table(f, n);
        if (st != SZ_OK) goto fail;
    }
    st = ak_reserve_arena(f, more);
    if (st != SZ_OK) goto fail;
    /* pipelined: the slot of the value AK_AHEAD on is prefetched */
    for (i = 0; i < f->dict_n + AK_AHEAD; i++) {
        size_t len;
        const unsigned char *p;
        if (i >= AK_AHEAD && ak_dict_unhashed(f, i - AK_AHEAD)) {
            size_t k = i - AK_AHEAD;
            p = ak_dict_val(f, k, &len);
            ak_put(f, ring[k % AK_AHEAD], p, len, f->dict_code[k]);
        }
        if (i < f->dict_n && f->dict_code[i] != AK_NULLVAL) {  /* after: it takes
                                                                   the entry just used */
            p = ak_dict_val(f, i, &len);
            ring[i % AK_AHEAD] = ak_hash(f->val.kind, p, len);
            AK_PREFETCH(&f->slots[(size_t)ring[i % AK_AHEAD] & (f->n_slots - 1)]);
        }
    }
    f->hashed = f->count;
fail:
    return st;
}

/* Value k (not null, hash h) of the dictionary being loaded: a repeat of
 * an earlier value (tab: the earlier values' indices + 1 by hash) takes
 * its code and alias, else it goes in tab and takes its code in the table
 * if it has one.  SZ_ERR_NOMEM (the alias array) or SZ_OK. */
static sz_status ak_dict_value(sz_arrow_keys *f, size_t k, uint64_t h, uint32_t *tab,
                               size_t n_tab)
{
    size_t len, j, m, n = (size_t)(f->dict_cap);
    const unsigned char *p = ak_dict_val(f, k, &len);
    sz_status st = SZ_OK;
    for (j = (size_t)h & (n_tab - 1); tab[j] != 0; j = (j + 1) & (n_tab - 1)) {
        size_t len2;
        const unsigned char *q = ak_dict_val(f, tab[j] - 1, &len2);
        if (len2 == len && (len == 0 || memcmp(p, q, len) == 0)) break;
    }
    if (tab[j] != 0) {  /* a repeat of value tab[j] - 1 */
        if (f->dict_alias == NULL) {
            st = SZ_ERR_NOMEM;
            f->dict_alias = (uint32_t *)SZ_MALLOC(sz__mul_size(n, sizeof(uint32_t)));
            if (f->dict_alias == NULL) goto fail;
            for (m = 0; m < n; m++) f->dict_alias[m] = (uint32_t)m;
        }
        f->dict_alias[k] = tab[j] - 1;
        f->dict_code[k] = f->dict_code[tab[j] - 1];
        st = SZ_OK;
        goto fail;
    }
    tab[j] = (uint32_t)k + 1;
    if (f->count > 0) {
        int64_t c = ak_find(f, h, p, len);
        if (c >= 0) f->dict_code[k] = (uint32_t)c;
    }
fail:
    return st;
}

/* Makes dictionary d the cached one: copies its values, finds repeated
 * values (a small table of indices) and looks each up in the table (no
 * insertion: codes are given at a value's first row).  SZ_ERR_NOMEM leaves
 * no cache; every code is in the table then (flushed first). */
static sz_status ak_dict_load(sz_arrow_keys *f, const ak_src *d)
{
    size_t n = (size_t)d->length, bytes = 0, n_tab = 16, i;
    uint32_t *tab = NULL;
    uint64_t ring[AK_AHEAD], tmp;
    sz_status st = ak_dict_flush(f);
    if (st != SZ_OK) goto fail;
    st = SZ_ERR_NOMEM;
    f->dict_ok = 0;
    SZ_FREE(f->dict_alias);
    f->dict_alias = NULL;
    for (i = 0; i < n; i++) {
        size_t len;
        if (ak_is_null(d, (int64_t)i)) continue;
        (void)ak_key(d, d->kind, d->type, (int64_t)i, &len, &tmp);
        if (len > SIZE_MAX - bytes) goto fail;
        bytes += len;
    }
    if (n > f->dict_cap) {
        uint64_t *no;
        uint32_t *nc;
        SZ_FREE(f->dict_off);
        SZ_FREE(f->dict_code);
        f->dict_off = NULL;
        f->dict_code = NULL;
        f->dict_cap = 0;
        no = (uint64_t *)SZ_MALLOC(sz__mul_size(n + 1, sizeof *no));
        if (no == NULL) goto fail;
        f->dict_off = no;
        nc = (uint32_t *)SZ_MALLOC(sz__mul_size(n, sizeof *nc));
        if (nc == NULL) goto fail;
        f->dict_code = nc;
        f->dict_cap = n;
    }
    if (bytes > f->dict_bytes_cap) {
        unsigned char *nb;
        SZ_FREE(f->dict_bytes);
        f->dict_bytes = NULL;
        f->dict_bytes_cap = 0;
        nb = (unsigned char *)SZ_MALLOC(bytes);
        if (nb == NULL) goto fail;
        f->dict_bytes = nb;
        f->dict_bytes_cap = bytes;
    }
    if (f->dict_off == NULL) {  /* an empty dictionary, never one before */
        f->dict_off = (uint64_t *)SZ_MALLOC(sizeof *f->dict_off);
        if (f->dict_off == NULL) goto fail;
    }
    while (n_tab / 2 < n) n_tab *= 2;
    tab = (uint32_t *)SZ_CALLOC(n_tab, sizeof *tab);  /* index + 1; 0: empty */
    if (tab == NULL) goto fail;
    bytes = 0;
    f->dict_off[0] = 0;
    f->dict_nulls = 0;
    for (i = 0; i < n; i++) {
        size_t len = 0;
        const unsigned char *p;
        f->dict_code[i] = AK_NULLVAL;
        if (ak_is_null(d, (int64_t)i)) {
            f->dict_nulls = 1;
        } else {
            p = ak_key(d, d->kind, d->type, (int64_t)i, &len, &tmp);
            if (len) memcpy(f->dict_bytes + bytes, p, len);
            f->dict_code[i] = AK_PENDING;
        }
        bytes += len;
        f->dict_off[i + 1] = bytes;
    }
    /* each value: repeated (alias) or looked up, pipelined */
    for (i = 0; i < n + AK_AHEAD; i++) {
        size_t len;
        const unsigned char *p;
        uint64_t h;
        if (i >= AK_AHEAD && f->dict_code[i - AK_AHEAD] != AK_NULLVAL) {
            st = ak_dict_value(f, i - AK_AHEAD, ring[(i - AK_AHEAD) % AK_AHEAD], tab, n_tab);
            if (st != SZ_OK) goto fail;
        }
        if (i < n && f->dict_code[i] != AK_NULLVAL) {  /* after: it takes the
                                                           ring entry just used */
            p = ak_dict_val(f, i, &len);
            ring[i % AK_AHEAD] = h = ak_hash(f->val.kind, p, len);
            AK_PREFETCH(&tab[(size_t)h & (n_tab - 1)]);
            if (f->n_slots) AK_PREFETCH(&f->slots[(size_t)h & (f->n_slots - 1)]);
        }
    }
    f->dict_n = n;
    f->dict_bytes_len = bytes;
    f->dict_ok = 1;
    st = SZ_OK;
fail:
    SZ_FREE(tab);
    return st;
}

/* A dictionary chunk of index type `type` (a constant in each caller):
 * indices s into the cached dictionary.  One pass: an index's code is
 * read from dict_code, and a value seen for the first time is given the
 * next code there (the table learns it at the next flush).  On failure the
 * caller rolls back the codes given. */
SZ_INLINE sz_status ak_dict_codes_t(sz_arrow_keys *f, const ak_src *s, enum ArrowType type,
                                    int64_t *codes, size_t *err_pos)
{
    int64_t i, n = s->length;
    uint64_t dn = (uint64_t)f->dict_n;
    uint32_t *map = f->dict_code;
    sz_status st = SZ_OK;
    for (i = 0; i < n; i++) {
        uint64_t k = ak_int(s, type, i);  /* a negative one wraps: too big */
        uint32_t c;
        if (SZ_UNLIKELY(s->validity != NULL) && ak_is_null(s, i)) {
            st = SZ_ERR_NULL;
            break;
        }
        if (SZ_UNLIKELY(k >= dn)) {
            st = SZ_ERR_ARROW_INVALID;
            break;
        }
        c = map[k];
        if (SZ_UNLIKELY(c >= AK_NULLVAL)) {
            size_t a = f->dict_alias ? f->dict_alias[k] : (size_t)k;
            if (c == AK_NULLVAL) {
                st = SZ_ERR_NULL;
                break;
            }
            c = map[a];
            if (c == AK_PENDING) {
                st = SZ_ERR_TOO_LARGE;
                if (f->count >= UINT32_MAX - 1) break;
                st = ak_reserve_first(f);
                if (st != SZ_OK) goto fail;  /* not a row's fault */
                c = f->count++;
                f->first[c] = (int64_t)(f->rows + (size_t)i);
                map[a] = c;
            }
            map[k] = c;
        }
        codes[i] = (int64_t)c;
    }
    if (st != SZ_OK && st != SZ_ERR_TOO_LARGE) *err_pos = f->rows + (size_t)i;
fail:
    return st;
}

static sz_status ak_dict_codes(sz_arrow_keys *f, const ak_src *s, int64_t *codes,
                               size_t *err_pos)
{
    switch (s->type) {
    case NANOARROW_TYPE_INT8: return ak_dict_codes_t(f, s, NANOARROW_TYPE_INT8, codes, err_pos);
    case NANOARROW_TYPE_UINT8: return ak_dict_codes_t(f, s, NANOARROW_TYPE_UINT8, codes, err_pos);
    case NANOARROW_TYPE_INT16: return ak_dict_codes_t(f, s, NANOARROW_TYPE_INT16, codes, err_pos);
    case NANOARROW_TYPE_UINT16:
        return ak_dict_codes_t(f, s, NANOARROW_TYPE_UINT16, codes, err_pos);
    case NANOARROW_TYPE_INT32: return ak_dict_codes_t(f, s, NANOARROW_TYPE_INT32, codes, err_pos);
    case NANOARROW_TYPE_UINT32:
        return ak_dict_codes_t(f, s, NANOARROW_TYPE_UINT32, codes, err_pos);
    case NANOARROW_TYPE_INT64: return ak_dict_codes_t(f, s, NANOARROW_TYPE_INT64, codes, err_pos);
    default: return ak_dict_codes_t(f, s, NANOARROW_TYPE_UINT64, codes, err_pos);
    }
}

sz_status sz_arrow_keys_add(sz_arrow_keys *f, const struct ArrowArray *array,
                            int64_t *codes, size_t *err_pos)
{
    ak_src s, d;
    uint32_t c0 = 0;
    size_t arena0 = 0, pos = SZ_NO_POSITION;
    int changed = 0;
    sz_status st = SZ_ERR_PARAM;
    if (f == NULL || array == NULL || array->release == NULL) goto fail;
    c0 = f->count;
    arena0 = f->arena_len;
    st = ak_validate(f->dict ? &f->idx : &f->val, f->dict ? AK_INT : f->val.kind, array,
                     f->dict, &s);
    if (st != SZ_OK) goto fail;
    st = SZ_ERR_ARROW_INVALID;
    if ((array->dictionary != NULL) != (f->dict != 0)) goto fail;
    if (f->dict) {
        st = ak_validate(&f->val, f->val.kind, array->dictionary, 0, &d);
        if (st != SZ_OK) goto fail;
    }
    st = SZ_ERR_TOO_LARGE;
    if ((uint64_t)s.length > (uint64_t)(SIZE_MAX - f->rows)) goto fail;
    st = SZ_ERR_PARAM;
    if (s.length > 0 && codes == NULL) goto fail;
    if (f->dict) {
        if (!ak_dict_same(f, &d)) {
            st = ak_dict_load(f, &d);
            if (st != SZ_OK) goto fail;
        }
        changed = 1;
        arena0 = f->arena_len;  /* the flush's keys stay: they are older */
        st = ak_dict_codes(f, &s, codes, &pos);
    } else {
        int64_t nul = ak_first_null(&s);
        st = SZ_ERR_NULL;
        if (nul >= 0) {
            pos = f->rows + (size_t)nul;
            goto fail;
        }
        if (f->n_slots == 0) {
            st = ak_grow_table(f);
            if (st != SZ_OK) goto fail;
        }
        changed = 1;
        st = ak_codes_any(f, &s, codes);
    }
    if (st != SZ_OK) goto fail;
    f->rows += (size_t)s.length;
fail:
    if (st != SZ_OK && changed) ak_rollback(f, c0, arena0);
    if (err_pos) *err_pos = pos;
    return st;
}

sz_status sz_arrow_keys_new_bytes(sz_arrow_keys **out)
{
    sz_arrow_keys *f = NULL;
    sz_status st = SZ_ERR_PARAM;
    if (out == NULL) goto fail;
    *out = NULL;
    st = SZ_ERR_NOMEM;
    f = (sz_arrow_keys *)SZ_CALLOC(1, sizeof *f);
    if (f == NULL) goto fail;
    f->val.storage = NANOARROW_TYPE_BINARY;
    f->val.kind = AK_BIN32;
    *out = f;
    st = SZ_OK;
fail:
    return st;
}

sz_status sz_arrow_keys_add_bytes(sz_arrow_keys *f, const char *const *ptrs,
                                  const size_t *lens, size_t n, int64_t *codes,
                                  size_t *err_pos)
{
    ak_src s;
    uint32_t c0 = 0;
    size_t arena0 = 0, pos = SZ_NO_POSITION, i;
    int changed = 0;
    sz_status st = SZ_ERR_PARAM;
    if (f == NULL || (n > 0 && (ptrs == NULL || lens == NULL || codes == NULL))) goto fail;
    st = SZ_ERR_ARROW_TYPE;
    if (f->dict || f->val.kind == AK_INT) goto fail;
    c0 = f->count;
    arena0 = f->arena_len;
    st = SZ_ERR_TOO_LARGE;
    if (n > (size_t)INT64_MAX || n > SIZE_MAX - f->rows) goto fail;
    st = SZ_ERR_NULL;
    for (i = 0; i < n; i++)
        if (ptrs[i] == NULL && lens[i] != 0) {
            pos = f->rows + i;
            goto fail;
        }
    if (f->n_slots == 0) {
        st = ak_grow_table(f);
        if (st != SZ_OK) goto fail;
    }
    memset(&s, 0, sizeof s);
    s.kind = AK_PTRS;
    s.length = (int64_t)n;
    s.ptrs = ptrs;
    s.lens = lens;
    changed = 1;
    st = ak_codes(f, &s, AK_PTRS, NANOARROW_TYPE_NA, codes);
    if (st != SZ_OK) goto fail;
    f->rows += n;
fail:
    if (st != SZ_OK && changed) ak_rollback(f, c0, arena0);
    if (err_pos) *err_pos = pos;
    return st;
}

/* ---- integer and time columns ------------------------------------------------ */

sz_status sz_arrow_time_type(const struct ArrowSchema *schema, int *kind, int *unit,
                             char *tz, size_t tz_cap, size_t *tz_len)
{
    struct ArrowSchemaView sv;
    const char *zone = "";
    int k = SZ_ARROW_INTEGER, u = SZ_UNIT_NONE;
    size_t len;
    sz_status st = ak_schema_view(schema, &sv);
    if (st != SZ_OK) goto fail;
    st = SZ_ERR_ARROW_TYPE;
    switch (sv.type) {
    case NANOARROW_TYPE_TIMESTAMP:
    case NANOARROW_TYPE_DURATION:
        k = sv.type == NANOARROW_TYPE_TIMESTAMP ? SZ_ARROW_TIMESTAMP : SZ_ARROW_DURATION;
        u = sv.time_unit == NANOARROW_TIME_UNIT_SECOND ? SZ_UNIT_S
            : sv.time_unit == NANOARROW_TIME_UNIT_MILLI ? SZ_UNIT_MS
            : sv.time_unit == NANOARROW_TIME_UNIT_MICRO ? SZ_UNIT_US
                                                        : SZ_UNIT_NS;
        if (sv.type == NANOARROW_TYPE_TIMESTAMP && sv.timezone != NULL) zone = sv.timezone;
        break;
    case NANOARROW_TYPE_DATE32: k = SZ_ARROW_DATE; u = SZ_UNIT_DAY; break;
    case NANOARROW_TYPE_DATE64: k = SZ_ARROW_DATE; u = SZ_UNIT_MS; break;
    default:
        if (!ak_is_int(sv.type)) goto fail;
        break;
    }
    len = strlen(zone);
    if (tz_len) *tz_len = len;
    st = SZ_ERR_PARAM;
    if (tz != NULL && tz_cap <= len) goto fail;
    if (tz != NULL) memcpy(tz, zone, len + 1);
    if (kind) *kind = k;
    if (unit) *unit = u;
    st = SZ_OK;
fail:
    return st;
}

/* out[i] for the n rows of s (integer type `type`); the first null or
 * uint64 above INT64_MAX stops it (*bad its row). */
SZ_INLINE sz_status ak_ints(const ak_src *s, enum ArrowType type, int64_t *out, int64_t *bad)
{
    int64_t i;
    sz_status st = SZ_OK;
    for (i = 0; i < s->length; i++) {
        uint64_t v = ak_int(s, type, i);
        if (SZ_UNLIKELY(s->validity != NULL) && ak_is_null(s, i)) {
            st = SZ_ERR_NULL;
            break;
        }
        if (type == NANOARROW_TYPE_UINT64 && v > (uint64_t)INT64_MAX) {
            st = SZ_ERR_TIME_RANGE;
            break;
        }
        out[i] = (int64_t)v;
    }
    *bad = i;
    return st;
}

sz_status sz_arrow_ints_read(const struct ArrowSchema *schema, const struct ArrowArray *array,
                             int64_t *out, size_t row_base, size_t *err_pos)
{
    struct ArrowSchemaView sv;
    ak_type t;
    ak_src s;
    int64_t bad = 0;
    size_t pos = SZ_NO_POSITION;
    sz_status st = ak_schema_view(schema, &sv);
    if (st != SZ_OK) goto fail;
    st = SZ_ERR_PARAM;
    if (array == NULL || array->release == NULL) goto fail;
    st = SZ_ERR_ARROW_TYPE;
    if (sv.type != NANOARROW_TYPE_TIMESTAMP && sv.type != NANOARROW_TYPE_DURATION
        && sv.type != NANOARROW_TYPE_DATE32 && sv.type != NANOARROW_TYPE_DATE64
        && !ak_is_int(sv.type))
        goto fail;
    if (!ak_is_int(sv.storage_type)) goto fail;
    t.storage = sv.storage_type;
    t.layout = sv.layout;
    t.kind = AK_INT;
    t.width = 0;
    st = ak_validate(&t, AK_INT, array, 0, &s);
    if (st != SZ_OK) goto fail;
    st = SZ_ERR_PARAM;
    if (s.length > 0 && out == NULL) goto fail;
    switch (s.type) {
    case NANOARROW_TYPE_INT8: st = ak_ints(&s, NANOARROW_TYPE_INT8, out, &bad); break;
    case NANOARROW_TYPE_UINT8: st = ak_ints(&s, NANOARROW_TYPE_UINT8, out, &bad); break;
    case NANOARROW_TYPE_INT16: st = ak_ints(&s, NANOARROW_TYPE_INT16, out, &bad); break;
    case NANOARROW_TYPE_UINT16: st = ak_ints(&s, NANOARROW_TYPE_UINT16, out, &bad); break;
    case NANOARROW_TYPE_INT32: st = ak_ints(&s, NANOARROW_TYPE_INT32, out, &bad); break;
    case NANOARROW_TYPE_UINT32: st = ak_ints(&s, NANOARROW_TYPE_UINT32, out, &bad); break;
    case NANOARROW_TYPE_INT64: st = ak_ints(&s, NANOARROW_TYPE_INT64, out, &bad); break;
    default: st = ak_ints(&s, NANOARROW_TYPE_UINT64, out, &bad); break;
    }
    if (st != SZ_OK) pos = row_base + (size_t)bad;
fail:
    if (err_pos) *err_pos = pos;
    return st;
}
