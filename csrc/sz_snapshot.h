/*
 * sz_snapshot.h -- the byte writer and bounds-checked reader both stream
 * snapshots use (stream_snapshot.c, ctr_stream_snapshot.c); internal.
 * Native byte order: each snapshot records it in its header.
 */
#ifndef SZ_SNAPSHOT_H
#define SZ_SNAPSHOT_H

#include "sz_internal.h"

typedef struct sz__w {
    unsigned char *p;
} sz__w;

static inline void w_bytes(sz__w *w, const void *v, size_t n)
{
    memcpy(w->p, v, n);
    w->p += n;
}
static inline void w_u32(sz__w *w, uint32_t v) { w_bytes(w, &v, 4); }
static inline void w_i32(sz__w *w, int32_t v) { w_bytes(w, &v, 4); }
static inline void w_u64(sz__w *w, uint64_t v) { w_bytes(w, &v, 8); }
static inline void w_i64(sz__w *w, int64_t v) { w_bytes(w, &v, 8); }

/* A read past the end sets `bad` (for good) and yields zeros, so a loader
 * checks once per record instead of once per field. */
typedef struct sz__r {
    const unsigned char *p, *end;
    int bad;
} sz__r;

static inline void r_bytes(sz__r *r, void *v, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        memset(v, 0, n);
        return;
    }
    memcpy(v, r->p, n);
    r->p += n;
}
static inline uint32_t r_u32(sz__r *r) { uint32_t v; r_bytes(r, &v, 4); return v; }
static inline int32_t r_i32(sz__r *r) { int32_t v; r_bytes(r, &v, 4); return v; }
static inline uint64_t r_u64(sz__r *r) { uint64_t v; r_bytes(r, &v, 8); return v; }
static inline int64_t r_i64(sz__r *r) { int64_t v; r_bytes(r, &v, 8); return v; }

#endif /* SZ_SNAPSHOT_H */
