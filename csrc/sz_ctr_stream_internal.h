/*
 * sz_ctr_stream_internal.h -- the search-CTR stream's state, shared by
 * ctr_stream.c (the logic) and ctr_stream_snapshot.c (serialization); not
 * installed.  ctr_stream.c's header comment explains the design.
 */
#ifndef SZ_CTR_STREAM_INTERNAL_H
#define SZ_CTR_STREAM_INTERNAL_H

#include "sz_ctr.h"
#include "sz_keytab.h"

/* A search of a key's open session. */
typedef struct sz__csearch {
    uint64_t ord;    /* the SEARCH event's ordinal */
    int64_t t;       /* its time */
    int64_t clicks;
} sz__csearch;

/* An event waiting for the watermark. */
typedef struct sz__cev {
    int64_t t;
    uint64_t ord;
    uint32_t kind;
} sz__cev;

typedef struct sz__ckey {
    uint64_t key;
    uint32_t ns;
    uint32_t heap_pos;   /* NIL: not in the heap */
    uint32_t live;       /* in the table (else on the free list) */
    uint32_t next_free;
    sz_ctr_state st;     /* the rule's state; st.search: NONE or the open
                            search's index in rows[] */
    uint64_t last_ord;   /* ordinal of the key's last prefix event */
    sz__csearch *rows;   /* the open session's searches, in time order */
    uint32_t n_rows, cap_rows;
    sz__cev *buf;        /* buf[off .. off + n_buf), by (t, ord) */
    uint32_t off, n_buf, cap_buf;
} sz__ckey;

/* A session closed during the current call: its rows are pend[row, row+n). */
typedef struct sz__cclose {
    uint32_t cls;      /* 0: closed by an event or the gap; 1: flushed */
    uint32_t rank;     /* ties at one moment: 0 first */
    int64_t moment;
    uint64_t ord;
    uint64_t key;
    uint32_t ns;
    size_t row, n;
} sz__cclose;

struct sz_ctr_stream {
    sz_ctr_stream_config cfg;
    sz_rule rule;
    int have_gap;
    uint32_t rank_event, rank_gap;
    int64_t wm, max_seen;
    int seen_any;
    uint64_t late_count, n_events, next_session;

    sz__ckey *keys;
    uint32_t n_keys_cap, free_key, live_keys, open_keys;
    size_t open_rows, buffered;
    sz__keytab tab;
    sz__heap heap;

    /* the current call's output, built in three parts: the closes and
     * their rows, then the late and freed-key records; finished into out */
    sz__cclose *closes;
    size_t n_closes, cap_closes;
    size_t *order;     /* 2 entries a close: their sort's order and its
                          scratch, grown with closes so it cannot fail */
    size_t cap_order;
    sz__csearch *pend;
    size_t n_pend, cap_pend;
    sz_ctr_stream_out *misc;
    size_t n_misc, cap_misc;
    sz_ctr_stream_out *out;
    size_t n_out, cap_out;
};

/* ctr_stream.c's pieces that ctr_stream_snapshot.c rebuilds a stream with. */
sz_status sz__cstream_key_new(sz_ctr_stream *s, uint64_t key, uint32_t ns,
                              uint32_t *ki);
sz_status sz__cstream_settle(sz_ctr_stream *s, uint32_t ki);

#endif /* SZ_CTR_STREAM_INTERNAL_H */
