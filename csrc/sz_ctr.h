/*
 * sz_ctr.h -- the search-session rule of tier 3, one key at a time (internal).
 *
 * The one definition of what an event does to its key's user session and
 * search (SPEC.md section 4), shared by the batch reduction (ctr.c) and meant
 * for the streaming one.  The rule keeps no storage of its own: it reads
 * what the caller knows about the key (is a search open in its session?
 * when and where was its last event?) and says what the event does; the
 * caller keeps the rows wherever suits it (the batch: a row array and a
 * per-key slot; a stream: per-key lists of open rows).
 *
 *     sz_ctr_state st;
 *     sz__ctr_init(&st, t);                         the key's first event
 *     for each event of the key, in time order:
 *         unsigned what = sz__ctr_rule(&st, &rule, have_gap, kind, t);
 *         if (what & SZ_CTR_GAP)    the open session ended by the gap rule
 *                                   before this event (its last event:
 *                                   st.last, st.last_pos); no search is
 *                                   open any more
 *         if (what & SZ_CTR_FIRST)  a SEARCH: a session's first search, a
 *                                   new row; st.search = the caller's handle
 *         if (what & SZ_CTR_NEXT)   a SEARCH after another one of the same
 *                                   session: the open row ends, a new one
 *                                   begins; st.search = its handle
 *         if (what & SZ_CTR_CLICK)  a CLICK for the open row st.search
 *         if (what & SZ_CTR_CLOSE)  an APP_CLOSE or TIMEOUT ending a session
 *                                   with a search; st.search = SZ_CTR_NONE
 *         sz__ctr_seen(&st, t, pos);
 *     at the end of input: if st.search != SZ_CTR_NONE the session is still
 *     open; it has ended by the gap rule if sz__ctr_gap_passed() says so for
 *     the input's largest time, else it is flushed or dropped.
 *
 * Only sessions with a search are reported: one without is indistinguishable
 * from no session at all, which is why there is no "open" flag (after
 * APP_CLOSE the key's next event simply finds no search open).  APP_OPEN and
 * RESULTS never do anything but move st.last.
 */
#ifndef SZ_CTR_H
#define SZ_CTR_H

#include "sz_internal.h"

/* No search open (a handle never has this value). */
#define SZ_CTR_NONE UINT32_MAX

typedef struct sz_ctr_state {
    int64_t last;       /* time of the key's last event (its position when
                           there are no times) */
    uint32_t last_pos;  /* that event's input position */
    uint32_t search;    /* the caller's handle of the open search of the
                           key's session, or SZ_CTR_NONE */
} sz_ctr_state;

#define SZ_CTR_GAP 1u
#define SZ_CTR_FIRST 2u
#define SZ_CTR_NEXT 4u
#define SZ_CTR_CLICK 8u
#define SZ_CTR_CLOSE 16u

/* The state of a key before its first event, at time t. */
SZ_INLINE void sz__ctr_init(sz_ctr_state *st, int64_t t)
{
    st->last = t;
    st->last_pos = 0;
    st->search = SZ_CTR_NONE;
}

/*
 * What an event (kind < SZ_N_KINDS, at time t >= st->last) does; nothing is
 * changed.  `have_gap` (the gap rule applies: r->gap_thr is set) is passed
 * separately so callers can make it a compile-time constant.  Branch-free
 * but for the gap test: a table by (search open?, kind).
 */
SZ_INLINE unsigned sz__ctr_rule(const sz_ctr_state *st, const sz_rule *r,
                                int have_gap, unsigned kind, int64_t t)
{
    static const unsigned char effect[2][SZ_N_KINDS] = {
        /* no search open: only a SEARCH does something */
        {0, SZ_CTR_FIRST, 0, 0, 0, 0},
        /* a search open */
        {0, SZ_CTR_NEXT, 0, SZ_CTR_CLICK, SZ_CTR_CLOSE, SZ_CTR_CLOSE},
    };
    int open = st->search != SZ_CTR_NONE;
    unsigned gap = 0;
    if (have_gap && open && (uint64_t)t - (uint64_t)st->last >= r->gap_thr) {
        gap = SZ_CTR_GAP;
        open = 0;
    }
    return gap | effect[open][kind];
}

/* Records the event at (t, pos) as the key's last. */
SZ_INLINE void sz__ctr_seen(sz_ctr_state *st, int64_t t, uint32_t pos)
{
    st->last = t;
    st->last_pos = pos;
}

/* Whether a session whose last event is at `last` has ended by the gap rule
 * once some event at `watermark` (>= last) has been seen. */
SZ_INLINE int sz__ctr_gap_passed(const sz_rule *r, int64_t last, int64_t watermark)
{
    return (uint64_t)watermark - (uint64_t)last >= r->gap_thr;
}

#endif /* SZ_CTR_H */
