/*
 * sz_snapshot.h -- the byte writer and bounds-checked reader both stream
 * snapshots use (stream_snapshot.c, ctr_stream_snapshot.c), and the frame
 * they share: magic, version, byte-order mark, ..., checksum; internal.
 * Native byte order: each snapshot records it in its header.
 */
#ifndef SZ_SNAPSHOT_H
#define SZ_SNAPSHOT_H

#include "sz_internal.h"

/* The largest counter (events, keys, ids, revisions) a restore accepts.  A
 * stream counts on from it by one an event, and reaches 2^62 never; a
 * forged snapshot can hold anything, and a counter near INT64_MAX would
 * overflow on the next event. */
#define SZ__COUNTER_MAX ((uint64_t)INT64_MAX / 2)

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

/* ---- the frame ------------------------------------------------------------ */

/* Written in native order: a snapshot read on a machine of the other byte
 * order fails this check instead of loading nonsense. */
#define SZ_BOM 0x01020304u

/* The head every snapshot starts with: its 8-byte magic, its format
 * version and the byte-order mark (16 bytes). */
static inline void w_head(sz__w *w, const char magic[8], uint32_t version)
{
    w_bytes(w, magic, 8);
    w_u32(w, version);
    w_u32(w, SZ_BOM);
}

/* The trailer: a checksum of everything written since buf. */
static inline void w_sum(sz__w *w, const unsigned char *buf)
{
    uint64_t sum = sz__hash_bytes(buf, (size_t)(w->p - buf));
    w_u64(w, sum);
}

/* Opens buf[0..len) for reading: checks the length against the smallest
 * snapshot (min_len, trailer included), the head and the checksum, and
 * sets r to read what follows the head, up to the trailer.  0 when all is
 * well, -1 when it is not this kind of snapshot (or is corrupted). */
static inline int r_open(sz__r *r, const unsigned char *buf, size_t len,
                         size_t min_len, const char magic[8], uint32_t version)
{
    char m[8];
    uint64_t sum;
    if (len < min_len) return -1;
    memcpy(&sum, buf + len - 8, 8);
    r->p = buf;
    r->end = buf + len - 8;
    r->bad = 0;
    r_bytes(r, m, 8);
    if (memcmp(m, magic, 8) != 0 || r_u32(r) != version || r_u32(r) != SZ_BOM
        || sz__hash_bytes(buf, len - 8) != sum)
        return -1;
    return 0;
}

#endif /* SZ_SNAPSHOT_H */
