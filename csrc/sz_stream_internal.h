/*
 * sz_stream_internal.h -- the incremental sessionizer's state, shared by
 * stream.c (the logic) and stream_snapshot.c (serialization); not installed.
 * stream.c's header comment explains the design.
 */
#ifndef SZ_STREAM_INTERNAL_H
#define SZ_STREAM_INTERNAL_H

#include "sz_keytab.h"

typedef struct sz__ev {
    int64_t t;
    uint64_t h;
} sz__ev;

/* An emitted, not yet final session (update mode). */
typedef struct sz__fired {
    uint64_t id;
    int64_t start, end, count, window_end, revision;
} sz__fired;

typedef struct sz__unit {
    int64_t start, end, count;  /* of the events still held */
    int64_t origin;             /* SZ_CAP_FIXED: the inactivity session's
                                   first event, which blocks count from */
    uint32_t next;              /* the key's next unit in time order */
    uint32_t n_ev, off, cap_ev; /* ev[off .. off + n_ev) */
    uint32_t n_fired, cap_fired;
    sz__ev *ev;         /* per_event: followed by the reach slots */
    sz__fired *fired;
} sz__unit;

/*
 * per_event_gaps only: a unit's buffer holds cap_ev events and then
 * cap_ev + 1 reach slots (no field more in every unit: the scalar streams'
 * units stay as they were).  sz__held_reach(u)[i] is the largest t + gap of
 * u's events up to held event i, the dropped ones included: the running
 * reach of its inactivity session, where the session it is in ends so far.
 * sz__held_reach(u)[-1] is that of the events before held event 0 (the
 * "carry"; INT64_MIN when none count): dropping events from the front
 * leaves the last dropped one's reach there.
 */
SZ_INLINE int64_t *sz__held_reach(const sz__unit *u)
{
    return (int64_t *)(void *)(u->ev + u->cap_ev) + u->off + 1;
}

typedef struct sz__key {
    uint64_t key;
    uint64_t seq;        /* creation order: ties in emission order */
    uint32_t ns;
    uint32_t head;       /* first open unit, or NIL */
    uint32_t heap_pos;
    uint32_t has_final;  /* frozen, last_end, origin are meaningful */
    int64_t frozen, last_end, origin;
    int64_t next_index;
} sz__key;

/* One capped session of a unit, as the cutter finds it. */
typedef struct sz__cs {
    int64_t start, end, count, window_end, lastjoin;
    uint32_t first;  /* events ev[off + first .. off + first + count) */
} sz__cs;

typedef struct sz__emit_key {  /* sort key of an output record */
    int64_t lastjoin;
    uint64_t seq;
    int64_t start;
} sz__emit_key;

typedef struct sz__forget {
    int64_t due;   /* the key's sz__key_expiry when queued */
    uint64_t seq;  /* the key's seq: a reused slot is another key */
    uint32_t k;
} sz__forget;

/* heap_pos of a live key waiting in the forget queue, not in the heap */
#define SZ_FORGETTING (NIL - 2)

struct sz_stream {
    sz_stream_config cfg;
    sz_rule rule;
    int keep_events;
    int per_event;      /* cfg.per_event_gaps: units carry their reach */
    int64_t *key_reach; /* per_event: per key record, the reach of its last
                           final session's inactivity session */
    int64_t join_span;  /* gap_thr - 1: last joinable time is end + this */
    int64_t wm, max_seen;
    int seen_any;
    uint64_t late_count, next_id, next_seq;

    sz__key *keys;
    uint32_t n_keys_cap, free_key, live_keys;
    sz__unit *units;
    uint32_t n_units_cap, free_unit, live_units;
    size_t open_events;

    sz__keytab tab;
    sz__heap heap;
    /* Keys with no open unit, waiting to be forgotten (sz__key_expiry),
     * out of the heap, in order of that time: entries [forget_head,
     * forget_head + forget_n).  An entry whose key has moved on (an event
     * opened a unit, the slot was reused: heap_pos, seq or the time differ)
     * is skipped when it comes first. */
    sz__forget *forget;
    size_t forget_head, forget_n, forget_cap;

    sz_stream_out *out;
    sz__emit_key *out_key;
    size_t out_n, out_cap;
    uint64_t *out_perm;  /* 3 entries a record, grown with out so the
                            emission sort cannot fail: its keys and their
                            scratch (2), its two index arrays (uint32_t,
                            1); or a comparator sort's order and scratch
                            (size_t, 2) */
    size_t perm_cap;
    uint64_t *out_ids;
    size_t ids_n, ids_cap;
    uint64_t *out_h;
    size_t h_n, h_cap;
    int freed_records;     /* KEY_FREED records too (the default) */
    sz_stream_key *freed;  /* the keys the call freed, in record order */
    size_t freed_n, freed_cap;

    sz__ev *scratch;
    size_t scratch_cap;

    uint64_t *due_keys;  /* 3 entries a heap entry: the keys one watermark
                            step finishes, sorted by creation order as
                            sz__out_sort's records are (seq keys and
                            scratch, then uint32_t key indices and
                            scratch) */
    size_t due_cap;
};


/* stream.c's pieces that stream_snapshot.c rebuilds a stream with. */
sz_status sz__stream_key_new(sz_stream *s, uint64_t key, uint32_t ns,
                             uint32_t *out, int *created);
uint32_t sz__stream_unit_new(sz_stream *s);
sz_status sz__stream_unit_grow(sz_stream *s, sz__unit *u, size_t need);
sz_status sz__stream_heap_add(sz_stream *s, uint32_t k);
int sz__stream_within_gap(const sz_stream *s, int64_t a, int64_t b);
int64_t sz__stream_key_due(const sz_stream *s, const sz__key *k);

#ifdef SZ_TESTING
/* Test builds: checks the stream's invariants (stream_check.c); NULL when
 * they hold, else what is broken.  `settled`: the last call returned SZ_OK,
 * so nothing may be left due. */
const char *sz__stream_check(const sz_stream *s, int settled);
#endif

#endif /* SZ_STREAM_INTERNAL_H */
