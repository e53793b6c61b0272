/*
 * stream_check.c -- the incremental sessionizer's invariants, checked
 * (test builds only: -DSZ_TESTING).
 *
 * The C tests and the fuzzers (csrc/fuzz/) call sz__stream_check() after
 * every operation, so a state that a later call would misread (a unit
 * outside its key's list, a key missing from the table or the heap, events
 * out of order, a count that drifted) is caught where it was made, not
 * sessions later.  stream.c's header comment explains the state.
 */
#include "sz_stream_internal.h"

/* Outside test builds the file is empty but for the header, which keeps it
 * a valid translation unit: ISO C forbids an empty one (-Wpedantic). */
#ifdef SZ_TESTING

#include <stdlib.h>

#define FAIL(msg)             \
    do {                      \
        result = (msg);       \
        goto done;            \
    } while (0)

const char *sz__stream_check(const sz_stream *s, int settled)
{
    const char *result = NULL;
    unsigned char *key_seen = NULL, *unit_seen = NULL, *queued = NULL;
    uint32_t i, n, live_keys = 0, live_units = 0, waiting = 0;
    size_t open_events = 0, slots_used = 0;

    if (s->n_keys_cap > 0) {
        key_seen = (unsigned char *)calloc(s->n_keys_cap, 1);
        queued = (unsigned char *)calloc(s->n_keys_cap, 1);
        if (key_seen == NULL || queued == NULL) {  /* cannot check: not a failure */
            free(key_seen);
            free(queued);
            return NULL;
        }
    }
    if (s->n_units_cap > 0) {
        unit_seen = (unsigned char *)calloc(s->n_units_cap, 1);
        if (unit_seen == NULL) {
            free(key_seen);
            return NULL;
        }
    }

    /* the free lists: distinct records, in range; every other record live */
    n = 0;
    for (i = s->free_key; i != NIL; i = s->keys[i].head) {
        if (i >= s->n_keys_cap) FAIL("free key index out of range");
        if (key_seen[i]) FAIL("free key list has a cycle");
        if (s->keys[i].heap_pos != NIL) FAIL("free key still in the heap");
        key_seen[i] = 1;
        n++;
    }
    if (s->n_keys_cap - n != s->live_keys) FAIL("live_keys differs from the key pool");
    n = 0;
    for (i = s->free_unit; i != NIL; i = s->units[i].next) {
        if (i >= s->n_units_cap) FAIL("free unit index out of range");
        if (unit_seen[i]) FAIL("free unit list has a cycle");
        unit_seen[i] = 2;
        n++;
    }
    if (s->n_units_cap - n != s->live_units) FAIL("live_units differs from the unit pool");

    /* the key table: a power of two, at most half full, one slot per live
     * key, each slot naming its key */
    if (s->tab.n_slots == 0 || (s->tab.n_slots & (s->tab.n_slots - 1)) != 0)
        FAIL("key table size is not a power of two");
    for (i = 0; i < s->tab.n_slots; i++) {
        const sz__slot *sl = &s->tab.slots[i];
        if (sl->idx == NIL) continue;
        slots_used++;
        if (sl->idx >= s->n_keys_cap || key_seen[sl->idx]) FAIL("table slot names a free key");
        if (s->keys[sl->idx].key != sl->key || s->keys[sl->idx].ns != sl->ns)
            FAIL("table slot and key record disagree");
    }
    if (slots_used != s->live_keys) FAIL("key table holds another number of keys");
    if (slots_used * 2 > s->tab.n_slots) FAIL("key table more than half full");

    /* the heap: a min-heap by due whose entries know their positions */
    if (s->heap.n > s->heap.cap) FAIL("heap larger than its capacity");
    if (s->heap.a != NULL && (uintptr_t)(s->heap.a + 1) % 64 != 0)
        FAIL("heap's sibling groups straddle cache lines");
    for (i = 0; i < s->heap.n; i++) {
        uint32_t k = s->heap.a[i].k;
        if (k >= s->n_keys_cap || key_seen[k]) FAIL("heap entry names a free key");
        if (s->keys[k].heap_pos != i) FAIL("key's heap position is stale");
        if (i > 0 && s->heap.a[sz__heap_parent(i)].due > s->heap.a[i].due)
            FAIL("heap order broken");
    }

    /* the forget queue: within its room, in order of due; the keys whose
     * own entry it is (waiting, same seq, that expiry) marked */
    if (s->forget_n > 0 && s->forget_head + s->forget_n > s->forget_cap)
        FAIL("forget queue beyond its room");
    for (n = 0; n < s->forget_n; n++) {
        const sz__forget *e = &s->forget[s->forget_head + n];
        if (n > 0 && e[-1].due > e->due) FAIL("forget queue out of order");
        if (e->k >= s->n_keys_cap) FAIL("forget queue entry out of range");
        if (key_seen[e->k] || s->keys[e->k].heap_pos != SZ_FORGETTING
            || s->keys[e->k].seq != e->seq)
            continue;  /* stale: skipped when it comes first */
        if (s->keys[e->k].head == NIL && sz__stream_key_due(s, &s->keys[e->k]) == e->due)
            queued[e->k] = 1;
    }

    /* each live key */
    for (i = 0; i < s->n_keys_cap; i++) {
        const sz__key *k = &s->keys[i];
        uint32_t u, prev = NIL;
        int64_t due;
        if (key_seen[i]) continue;
        live_keys++;
        if (sz__keytab_find(&s->tab, k->key, k->ns) != i) FAIL("live key not found in the table");
        if (k->seq >= s->next_seq) FAIL("key creation number from the future");
        if (k->head == NIL && !k->has_final) FAIL("key holds nothing yet is live");
        /* a final session may lie past the watermark (sz_stream_advance_key
         * took its key further): push judges events into it late */
        if (k->has_final && k->last_end > k->frozen)
            FAIL("a final session's last joining time before its end");
        if (s->per_event && k->has_final
            && (s->key_reach[i] <= k->last_end
                || (uint64_t)s->key_reach[i] - (uint64_t)k->last_end > (uint64_t)s->rule.gap
                || k->frozen > s->key_reach[i]))
            FAIL("a final session's reach is not within the bound past its end");
        for (u = k->head; u != NIL; u = s->units[u].next) {
            const sz__unit *x;
            if (u >= s->n_units_cap) FAIL("unit index out of range");
            if (unit_seen[u] == 2) FAIL("a key's unit is on the free list");
            if (unit_seen[u] == 1) FAIL("a unit belongs to two lists, or a list has a cycle");
            unit_seen[u] = 1;
            live_units++;
            x = &s->units[u];
            if (x->count <= 0) FAIL("open unit without events");
            if (x->start > x->end) FAIL("unit starts after it ends");
            /* an event at or before frozen is late: open units come after */
            if (k->has_final && x->start <= k->frozen && s->cfg.emit == SZ_EMIT_FINAL
                && s->cfg.allowed_lateness == 0)
                FAIL("open unit reaches back into a final session");
            if (prev != NIL) {
                const sz__unit *p = &s->units[prev];
                /* in time order and apart by more than the gap, or the
                 * two would be one inactivity session */
                if (p->end >= x->start) FAIL("a key's units overlap or are out of order");
                if (sz__stream_within_gap(s, p->end, x->start))
                    FAIL("two units within the gap were not merged");
            }
            if (x->n_fired > x->cap_fired) FAIL("more fired records than room");
            if (x->n_fired > 0 && s->cfg.emit != SZ_EMIT_UPDATE)
                FAIL("fired records outside update mode");
            {
                uint32_t f;
                for (f = 0; f < x->n_fired; f++)
                    if (x->fired[f].id >= s->next_id) FAIL("fired record id from the future");
            }
            if (s->keep_events) {
                uint32_t e;
                const sz__ev *ev = x->ev + x->off;
                if ((size_t)x->off + x->n_ev > x->cap_ev) FAIL("unit events past their buffer");
                if ((int64_t)x->n_ev != x->count) FAIL("unit count differs from its events");
                if (ev[0].t != x->start || ev[x->n_ev - 1].t != x->end)
                    FAIL("unit start or end differs from its events");
                for (e = 1; e < x->n_ev; e++) {
                    if (ev[e - 1].t > ev[e].t) FAIL("unit events out of time order");
                    if (!sz__stream_within_gap(s, ev[e - 1].t, ev[e].t))
                        FAIL("a gap inside a unit");
                }
                if (s->per_event) {  /* a running maximum of t + gap */
                    const int64_t *reach = sz__held_reach(x);
                    for (e = 0; e < x->n_ev; e++) {
                        if (reach[e] <= ev[e].t
                            || (uint64_t)reach[e] - (uint64_t)ev[e].t > (uint64_t)s->rule.gap)
                            FAIL("an event's reach is not within its gap bound");
                        if (reach[e] < reach[(int64_t)e - 1]) FAIL("a unit's reach goes down");
                    }
                }
                open_events += x->n_ev;
            } else if (x->n_ev != 0) {
                FAIL("events kept where none should be");
            }
            prev = u;
        }
        /* (after the walk above: the due walks the units too, and must not
         * loop on a damaged list) every live key waits for its due: in the
         * heap, whose due is a lower bound of it (never late), or, with no
         * open unit, in the forget queue under an entry of its own */
        due = sz__stream_key_due(s, k);
        if (k->heap_pos == SZ_FORGETTING) {  /* or waits in the forget queue */
            if (k->head != NIL) FAIL("a key with an open unit waits to be forgotten");
            if (!queued[i]) FAIL("a waiting key has no entry of its own in the queue");
            waiting++;
        } else {
            if (k->heap_pos >= s->heap.n) FAIL("live key missing from the heap");
            if (s->heap.a[k->heap_pos].due > due) FAIL("heap due later than the key's due");
        }
        /* after a call that succeeded nothing is left due */
        if (settled && due < s->wm) FAIL("a key is due but was not processed");
    }
    if (live_keys != s->live_keys) FAIL("live key count drifted");
    if (live_units != s->live_units) FAIL("a live unit belongs to no key");
    if (open_events != s->open_events) FAIL("open_events drifted");
    if (s->heap.n + waiting != s->live_keys) FAIL("heap holds another number of keys");

done:
    free(queued);
    free(key_seen);
    free(unit_seen);
    return result;
}

#endif /* SZ_TESTING */
