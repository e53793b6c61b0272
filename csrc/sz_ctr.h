/*
 * sz_ctr.h -- the search-session rule of tier 3, one key at a time (internal).
 *
 * The one definition of what an event does to its key's user session and
 * search (SPEC.md section 4), shared by the batch reduction (ctr.c) and meant
 * for the streaming one: a small per-key state and a step function that
 * reports what happened, leaving it to the caller where rows and sessions go.
 *
 *     sz_ctr_state st;
 *     sz__ctr_init(&st, t);                      the key's first event
 *     for each event of the key, in time order:
 *         unsigned what = sz__ctr_step(&st, &rule, have_gap, kind, t, pos, &e);
 *         if (what & SZ_CTR_ROW)   row (e.search, e.clicks) ends, in st.sess
 *         if (what & SZ_CTR_GAP)   session st.sess ended by the gap rule:
 *                                  its last event was (e.last, e.last_pos)
 *         if (what & SZ_CTR_CLOSE) session st.sess ended at this event
 *         if (what & SZ_CTR_FIRST) a session with a search begins: the caller
 *                                  sets st.sess to its own handle for it
 *     at the end:  if (st.search != SZ_CTR_NONE)  the last row (st.search,
 *                  st.clicks) ends, and session st.sess with it
 *
 * Handle the bits in that order: a gap close comes before what the event
 * itself does.  Only sessions with a search are reported; one without is
 * indistinguishable from no session at all, which is why the state needs no
 * "open" flag: after APP_CLOSE, the next event simply finds no search.
 */
#ifndef SZ_CTR_H
#define SZ_CTR_H

#include "sz_internal.h"

/* No search yet in the open session (a position never has this value:
 * positions are below SZ_MAX_EVENTS). */
#define SZ_CTR_NONE UINT32_MAX

typedef struct sz_ctr_state {
    int64_t last;       /* time of the key's last event (its position when
                           there are no times) */
    uint32_t last_pos;  /* that event's input position */
    uint32_t search;    /* position of the open session's current SEARCH,
                           or SZ_CTR_NONE before its first */
    uint32_t clicks;    /* CLICKs since that search */
    uint32_t sess;      /* the caller's handle of the open session; the rule
                           never reads it (the batch keeps flags in its top
                           bit) */
} sz_ctr_state;

/* The state before a step: what a row or session that the step ended was. */
typedef struct sz_ctr_ended {
    uint32_t search;    /* SZ_CTR_ROW: the search whose row ended */
    uint32_t clicks;    /* and its clicks */
    int64_t last;       /* SZ_CTR_GAP: the ended session's last event time */
    uint32_t last_pos;  /* and position */
} sz_ctr_ended;

#define SZ_CTR_ROW 1u
#define SZ_CTR_GAP 2u
#define SZ_CTR_CLOSE 4u
#define SZ_CTR_FIRST 8u

/* The state of a key before its first event at time t. */
SZ_INLINE void sz__ctr_init(sz_ctr_state *st, int64_t t)
{
    st->last = t;
    st->last_pos = 0;
    st->search = SZ_CTR_NONE;
    st->clicks = 0;
}

/*
 * Applies one event (kind < SZ_N_KINDS, time t >= st->last, position pos) to
 * its key's state.  `have_gap` (the gap rule applies, r->gap_thr set) is
 * passed separately so callers can make it a compile-time constant.
 * Returns the SZ_CTR_* bits of what ended or began; fills *e for them.
 */
SZ_INLINE unsigned sz__ctr_step(sz_ctr_state *st, const sz_rule *r, int have_gap,
                                unsigned kind, int64_t t, uint32_t pos,
                                sz_ctr_ended *e)
{
    unsigned what = 0;
    /* At most one row ends per step: after a gap close there is no search
     * for the event to end. */
    e->search = st->search;
    e->clicks = st->clicks;
    e->last = st->last;
    e->last_pos = st->last_pos;
    if (have_gap && st->search != SZ_CTR_NONE
        && (uint64_t)t - (uint64_t)st->last >= r->gap_thr) {
        st->search = SZ_CTR_NONE;
        what = SZ_CTR_ROW | SZ_CTR_GAP;
    }
    st->last = t;
    st->last_pos = pos;
    switch (kind) {
    case SZ_SEARCH:
        what |= st->search == SZ_CTR_NONE ? SZ_CTR_FIRST : SZ_CTR_ROW;
        st->search = pos;
        st->clicks = 0;
        break;
    case SZ_CLICK:
        /* before the session's first search: dropped with that part */
        if (st->search != SZ_CTR_NONE) st->clicks++;
        break;
    case SZ_APP_CLOSE:
    case SZ_TIMEOUT:
        if (st->search != SZ_CTR_NONE) {
            st->search = SZ_CTR_NONE;
            what |= SZ_CTR_ROW | SZ_CTR_CLOSE;
        }
        break;
    default: /* SZ_APP_OPEN, SZ_RESULTS */
        break;
    }
    return what;
}

/* Whether a session whose last event is at `last` has ended by the gap rule
 * once some event at `watermark` (>= last) has been seen. */
SZ_INLINE int sz__ctr_gap_passed(const sz_rule *r, int64_t last, int64_t watermark)
{
    return (uint64_t)watermark - (uint64_t)last >= r->gap_thr;
}

#endif /* SZ_CTR_H */
