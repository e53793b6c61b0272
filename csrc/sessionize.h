/*
 * sessionize.h -- the public contract of the sessionize C core.
 *
 * The core turns events (a key and an int64 time each) into sessions: a key's
 * events in time order, cut where the gap between two events is too long and,
 * optionally, where a session grows past a maximum duration.  It has no
 * Python or numpy dependency; the CPython binding in sessionize/_core.c is one
 * client of this header, csrc/tests/ another.
 *
 * API tiers
 *   1. One-shot arrays (this header, now): sz_batch_assign() gives every event
 *      its session id; sz_batch_fill() then describes every session.
 *   2. The incremental sessionizer, sz_stream: events pushed one at a time
 *      or in chunks, a watermark, late data, update mode, snapshots.
 *   3. The search-session click-through-rate reduction: sz_ctr_run() turns
 *      events with a kind (APP_OPEN, SEARCH, ...) into one row per search;
 *      sz_ctr_fill() writes the rows.  Its streaming form, sz_ctr_stream,
 *      takes events in chunks and emits a user session's rows when the
 *      session closes, with a watermark, late events and snapshots.
 *   4. Arrow input: keys and times given through the Arrow C Data Interface
 *      (sz_arrow_keys factorizes keys over chunks into SZ_KEYS_DENSE codes;
 *      sz_arrow_ints_read() reads integer and time columns).
 *
 * Conventions
 *   - Every fallible function returns an sz_status; SZ_OK is 0.  Results go
 *     through out-parameters.  sz_strerror() names each status.
 *   - The caller owns every array it passes in and every output buffer; the
 *     core never keeps a pointer into them after a call returns.
 *   - Objects the core allocates (sz_batch) are released by their *_free(),
 *     which accepts NULL.
 *   - The core never prints, never aborts, and is reentrant: calls on
 *     different objects may run on different threads at once.
 *   - Times are int64 in any unit the caller chooses; durations (gap,
 *     max_duration) are in the same unit.
 */
#ifndef SESSIONIZE_H
#define SESSIONIZE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SZ_VERSION_MAJOR 0
#define SZ_VERSION_MINOR 1
#define SZ_VERSION_PATCH 0
#define SZ_VERSION_STRING "0.1.0"

/* Status codes.  The values are pinned: bindings and snapshots rely on them. */
typedef enum sz_status {
    SZ_OK = 0,
    SZ_ERR_NOMEM = 1,          /* an allocation failed; nothing was leaked */
    SZ_ERR_PARAM = 2,          /* a parameter is out of its domain (gap <= 0, ...) */
    SZ_ERR_TIME_NAT = 3,       /* times[i] is INT64_MIN while params.min_is_nat is set */
    SZ_ERR_TIME_OVERFLOW = 4,  /* times[i] + gap exceeds INT64_MAX */
    SZ_ERR_TOO_LARGE = 5,      /* more events in one call than SZ_MAX_EVENTS */
    SZ_ERR_KEY_RANGE = 6,      /* an SZ_KEYS_DENSE code is negative or >= n_codes */
    SZ_ERR_TIME_NAN = 7,       /* a float time is NaN */
    SZ_ERR_TIME_RANGE = 8,     /* a float time does not fit int64 after scaling */
    SZ_ERR_KIND = 9,           /* kinds[i] is not an sz_event_kind */
    SZ_ERR_SNAPSHOT = 10,      /* a stream snapshot is truncated, corrupted, of
                                  another version or of a foreign format */
    SZ_ERR_ARROW_TYPE = 11,    /* an Arrow type this call does not take */
    SZ_ERR_ARROW_INVALID = 12, /* a malformed Arrow array (buffer count,
                                  offsets, lengths, dictionary indices) */
    SZ_ERR_NULL = 13,          /* an Arrow element is null */
    SZ_ERR_GAP = 14            /* gaps[i] is zero or negative */
} sz_status;

/* The most threads one call may use: 1 runs everything on the caller's
 * thread; 0 (the default) or more lets a call over a large input (2^18
 * events or more) run its passes in two parts at once when the machine has
 * two cores or more.  Results never depend on it.  Process-wide; set it
 * before calls begin. */
void sz_set_threads(int n);

/* Returns a static, human-readable name for a status; never NULL. */
const char *sz_strerror(sz_status status);

/* Largest number of events one sz_batch_assign() call accepts.  Key ids and
 * per-key session counts are held in 32 bits inside the core (one bit of
 * the count is a flag) to halve its memory traffic; a larger data set is
 * split by key by the caller. */
#define SZ_MAX_EVENTS ((size_t)INT32_MAX)

/* How the maximum session duration cuts sessions (SPEC.md section 1). */
typedef enum sz_cap_mode {
    SZ_CAP_NONE = 0,     /* gap rule only; max_duration is ignored */
    SZ_CAP_RESTART = 1,  /* an event more than max_duration after its session's
                            start (>= when not inclusive) opens a new session */
    SZ_CAP_FIXED = 2     /* each inactivity session is cut into blocks
                            [s, s+max), [s+max, s+2max), ... from its first
                            event s; empty blocks produce nothing */
} sz_cap_mode;

typedef struct sz_params {
    int64_t gap;          /* > 0 */
    int64_t max_duration; /* > 0 unless cap_mode is SZ_CAP_NONE */
    int cap_mode;         /* an sz_cap_mode */
    int inclusive;        /* nonzero: events exactly `gap` apart share a session
                             (Flink, Spark, Bytewax >= 0.20, Kafka Streams);
                             zero: they do not (Beam).  Also applies to the
                             restart cap's comparison. */
    int min_is_nat;       /* nonzero: INT64_MIN marks a missing time (numpy's
                             NaT) and is rejected with SZ_ERR_TIME_NAT */
} sz_params;

/* Checks a parameter block; SZ_OK or SZ_ERR_PARAM. */
sz_status sz_params_check(const sz_params *params);

/* How keys are given. */
typedef enum sz_key_kind {
    SZ_KEYS_INT64 = 0,  /* int64 values, compared as values */
    SZ_KEYS_BYTES = 1,  /* fixed-width byte strings of `width` bytes each,
                           compared bytewise (numpy 'S' and 'U' arrays) */
    SZ_KEYS_DENSE = 2   /* int64 codes in [0, n_codes): the caller has already
                           factorized the keys; sessions are numbered by code */
} sz_key_kind;

typedef struct sz_keys {
    int kind;            /* an sz_key_kind */
    const void *data;    /* n items, contiguous, naturally aligned */
    size_t width;        /* SZ_KEYS_BYTES: bytes per key (>= 1) */
    size_t n_codes;      /* SZ_KEYS_DENSE: number of codes */
} sz_keys;

/* Where an element error happened: set to the offending event's position on
 * SZ_ERR_TIME_NAT, SZ_ERR_TIME_OVERFLOW, SZ_ERR_KEY_RANGE, SZ_ERR_TIME_NAN,
 * SZ_ERR_TIME_RANGE; to SZ_NO_POSITION otherwise. */
#define SZ_NO_POSITION ((size_t)-1)

/* ---------------------------------------------------------------------------
 * Tier 1: one-shot arrays
 *
 * Session ids are dense, 0..S-1, ordered by key (SZ_KEYS_INT64 and
 * SZ_KEYS_BYTES: keys in order of their first appearance in the input;
 * SZ_KEYS_DENSE: by code), then by session start.  Within a key, events are
 * taken in time order, ties in input order.
 * ------------------------------------------------------------------------- */

/* The outcome of one assignment: the number of keys and sessions and what
 * sz_batch_fill() needs to describe the sessions.  Opaque. */
typedef struct sz_batch sz_batch;

/*
 * Gives each of the n events its session id.
 *
 *   out      receives a new sz_batch on success (free with sz_batch_free), or
 *            NULL on failure.  May be NULL if the caller only wants ids.
 *   keys     the n keys.
 *   times    the n times.
 *   n        number of events, at most SZ_MAX_EVENTS.
 *   params   the session rules; checked first.
 *   ids      n int64 outputs: ids[i] is event i's session id.  Its contents
 *            are unspecified on failure.  On Linux a large `ids` is
 *            madvise()d MADV_HUGEPAGE, a hint only.
 *   n_sessions  receives S, the number of sessions (may be NULL).
 *   err_pos  receives the position of a bad element, or SZ_NO_POSITION
 *            (may be NULL).
 *
 * Returns SZ_OK, SZ_ERR_PARAM, SZ_ERR_TOO_LARGE, SZ_ERR_TIME_NAT,
 * SZ_ERR_TIME_OVERFLOW, SZ_ERR_KEY_RANGE or SZ_ERR_NOMEM.
 *
 * Cost: a single scan when the input is sorted by (key, time); one hashed
 * pass and a cheap second pass when each key's events are in time order
 * (logs, whose jitter inside a session is absorbed); keys with events out
 * of order are then redone by a stable counting sort and per-key sorts.
 * Extra memory: O(number of keys), plus 12 bytes per event of the keys that
 * needed sorting (and one key's events again, when some key needed it).
 */
sz_status sz_batch_assign(sz_batch **out, const sz_keys *keys,
                          const int64_t *times, size_t n,
                          const sz_params *params, int64_t *ids,
                          size_t *n_sessions, size_t *err_pos);

/* Number of sessions / distinct keys of an assignment. */
size_t sz_batch_sessions(const sz_batch *batch);
size_t sz_batch_keys(const sz_batch *batch);

/* How the input was processed; for benchmarks and tests. */
typedef enum sz_batch_path {
    SZ_PATH_SORTED = 0,   /* sorted by (key, time): a single scan */
    SZ_PATH_ORDERED = 1,  /* each key's events in time order: one hashed pass */
    SZ_PATH_SORTING = 2   /* the hashed pass, then the keys with events out
                             of order redone by sorting (all keys, when the
                             input is shuffled) */
} sz_batch_path;
int sz_batch_path_taken(const sz_batch *batch);

/* The per-session columns sz_batch_fill() writes, each of S elements. */
typedef struct sz_session_columns {
    int64_t *start;       /* first event time */
    int64_t *end;         /* last event time */
    int64_t *window_end;  /* end + gap, never beyond the cap's limit: the
                             moment the session can no longer grow */
    int64_t *count;       /* number of events */
    int64_t *index;       /* 0-based ordinal of the session within its key */
    int64_t *first_event; /* position of the session's first event in time
                             order (ties: input order); its key is the
                             session's key */
} sz_session_columns;

/*
 * Describes every session of an assignment.  `times` and `ids` are the same
 * n-element arrays given to and produced by sz_batch_assign().  Every column
 * pointer must hold sz_batch_sessions(batch) elements (and may be NULL only
 * when there are no sessions).
 * Returns SZ_OK or SZ_ERR_PARAM (a NULL column, or n or ids that do not
 * belong to this batch).
 */
sz_status sz_batch_fill(const sz_batch *batch, const int64_t *times,
                        const int64_t *ids, size_t n,
                        const sz_session_columns *columns);

/* Releases an assignment; accepts NULL. */
void sz_batch_free(sz_batch *batch);

/*
 * Tier 1 with a gap per event (Flink's withDynamicGap, Spark's
 * session_window over a gap column).  Event i opens the window
 * [times[i], times[i] + gaps[i]); a key's windows that overlap merge, and
 * with params->inclusive those that touch too (an event at exactly a
 * session's reach joins it; without inclusive it opens a new session, as
 * Beam's windows do).  A session's window_end is the largest times[i] +
 * gaps[i] of its events.  A cap cuts the inactivity sessions (the gap rule
 * alone) as in tier 1; an inactivity session's reach runs on across its
 * cuts, and a capped session's window_end is that reach as of its last
 * event, no later than the cap's limit.  With gaps[i] == gap for every i the
 * result is sz_batch_assign()'s with that gap.
 *
 * Arguments as sz_batch_assign()'s, plus gaps (n values > 0); params->gap
 * is not used.  Sessions are numbered as there (by key, then start).
 * Returns SZ_OK, SZ_ERR_PARAM, SZ_ERR_TOO_LARGE, SZ_ERR_TIME_NAT,
 * SZ_ERR_GAP (gaps[*err_pos] <= 0), SZ_ERR_TIME_OVERFLOW (times[i] +
 * gaps[i] exceeds INT64_MAX), SZ_ERR_KEY_RANGE or SZ_ERR_NOMEM.
 * Cost: sz_batch_assign()'s, then a counting sort of the events by
 * session and a scan; sessions whose events are out of time order in the
 * input are sorted.  Extra memory: 48 bytes per event.
 */
typedef struct sz_gapped sz_gapped;

sz_status sz_gapped_assign(sz_gapped **out, const sz_keys *keys,
                           const int64_t *times, const int64_t *gaps, size_t n,
                           const sz_params *params, int64_t *ids,
                           size_t *n_sessions, size_t *err_pos);

/* Number of sessions of a gapped assignment. */
size_t sz_gapped_sessions(const sz_gapped *gapped);

/* Writes its session columns, as sz_batch_fill() does.  SZ_OK or
 * SZ_ERR_PARAM (a NULL column). */
sz_status sz_gapped_fill(const sz_gapped *gapped, const sz_session_columns *columns);

/* Releases a gapped assignment; accepts NULL. */
void sz_gapped_free(sz_gapped *gapped);

/* ---------------------------------------------------------------------------
 * Tier 2: the incremental sessionizer (SPEC.md section 3)
 *
 * Events are pushed one at a time or in chunks, in any order.  The stream
 * keeps, per key, only the sessions still open; a session is emitted once
 * the watermark (largest time seen - delay, or what sz_stream_advance()
 * sets; it never moves back) is past the last time at which an event could
 * still join it, plus allowed_lateness.  The sessions emitted as final are
 * exactly the sessions sz_batch_assign() finds over the same events when
 * no event arrived behind the watermark (so none was late).  An event
 * behind it that is not late is judged on what the stream still holds: a
 * key forgotten (last end + 2 gaps + allowed_lateness behind the
 * watermark) no longer makes an event late that reaches its last session
 * only through sessions opened since, as Flink judges events against
 * windows it has purged; then the final sessions can differ from the
 * batch's.
 *
 * Keys are 64-bit values in a namespace (`ns`): the binding puts integer
 * keys in namespace 0 as their own value and other keys in namespace 1 as
 * handles it maps back to objects.  Values never enter the core: with
 * keep_values, each event carries a 64-bit handle that comes back with the
 * session holding it.
 *
 * Every call that can emit (push, advance, flush) first clears the output,
 * then appends records to it; read them with sz_stream_output() before the
 * next call.
 * ------------------------------------------------------------------------- */

typedef struct sz_stream sz_stream;

typedef enum sz_emit_mode {
    SZ_EMIT_FINAL = 0,  /* each session once, when final */
    SZ_EMIT_UPDATE = 1  /* when the watermark passes its last joining time,
                           then again (revision + 1) on every change until
                           final (Flink's allowed lateness) */
} sz_emit_mode;

typedef struct sz_stream_config {
    sz_params session;         /* the session rules (min_is_nat honoured) */
    int64_t delay;             /* >= 0: watermark = largest time - delay */
    int64_t allowed_lateness;  /* >= 0: how long past its last joining time
                                  a session still accepts events */
    int emit;                  /* an sz_emit_mode */
    int keep_values;           /* nonzero: report each session's handles */
    int per_event_gaps;        /* nonzero: each event brings its own gap, at
                                  most session.gap (sz_stream_push_gaps) */
} sz_stream_config;

typedef enum sz_out_kind {
    SZ_OUT_SESSION = 0,  /* a session emitted (final, or a revision) */
    SZ_OUT_LATE = 1,     /* a late event: pos, key, start (= its time) */
    SZ_OUT_RETIRED = 2,  /* update mode: a session already emitted became
                            final without changing; its handles are released */
    SZ_OUT_KEY_FREED = 3 /* the key holds nothing any more: a namespace-1
                            handle may be forgotten (none written after
                            sz_stream_set_key_freed_records(s, 0); the
                            keys are in sz_stream_freed_keys() either way) */
} sz_out_kind;

typedef struct sz_stream_out {
    int kind;               /* an sz_out_kind */
    int final;              /* SZ_OUT_SESSION: no later revision can come */
    uint32_t key_ns;
    uint64_t key;
    int64_t start, end, window_end, count;
    int64_t index;          /* ordinal of the session within its key since
                               the stream last held nothing for the key */
    int64_t revision;       /* 0 for a session's first emission */
    uint64_t id;            /* the session's id: unique within the stream,
                               kept across revisions */
    size_t pos;             /* SZ_OUT_LATE: the event's position in its call */
    size_t replaces_off, n_replaces;  /* ids of emitted sessions this one
                                         absorbed (sz_stream_output's ids) */
    size_t values_off, n_values;      /* handles, in time order */
} sz_stream_out;

/* Creates a stream.  SZ_OK, SZ_ERR_PARAM or SZ_ERR_NOMEM. */
sz_status sz_stream_new(const sz_stream_config *config, sz_stream **out);

/* Releases a stream; accepts NULL. */
void sz_stream_free(sz_stream *stream);

/* The configuration a stream was made with (or restored from). */
void sz_stream_config_get(const sz_stream *stream, sz_stream_config *config);

/*
 * Pushes n events: keys[i] in namespace ns[i] (ns NULL: all namespace 0),
 * times[i], handles[i] (NULL when keep_values is off).  Every time is
 * checked before any event is applied: a NaT or a time whose t + gap
 * overflows fails the whole call (SZ_ERR_TIME_NAT / SZ_ERR_TIME_OVERFLOW,
 * *err_pos set, nothing changed).  With stop_at_late, the call stops after
 * the first late event (reported and counted); *n_done receives how many
 * events were consumed.  SZ_ERR_NOMEM leaves a consistent stream that has
 * consumed *n_done events; that call's output is incomplete.
 */
sz_status sz_stream_push(sz_stream *stream, const uint64_t *keys,
                         const uint8_t *ns, const int64_t *times,
                         const uint64_t *handles, size_t n, int stop_at_late,
                         size_t *n_done, size_t *err_pos);

/*
 * sz_stream_push() for a stream made with per_event_gaps: event i's
 * inactivity gap is gaps[i] (Flink's withDynamicGap, Spark's gap column),
 * 1 <= gaps[i] <= session.gap; gaps NULL gives every event session.gap.
 * A session ends at the largest t + gap of its events (its window_end, no
 * later than the cap's limit), and is final once the watermark is past
 * that (the last joining time: one less when not inclusive) plus
 * allowed_lateness.  The bound is what lets a key still be forgotten:
 * nothing can reach its last final session once the watermark is past its
 * end + 2 session.gap + allowed_lateness.  A gap out of range fails the
 * whole call before anything is applied (SZ_ERR_GAP, *err_pos set).  The
 * sessions emitted as final are those sz_gapped_assign() finds over the
 * same events, on the terms above.  On a stream without per_event_gaps,
 * SZ_ERR_PARAM unless gaps is NULL.
 */
sz_status sz_stream_push_gaps(sz_stream *stream, const uint64_t *keys,
                              const uint8_t *ns, const int64_t *times,
                              const int64_t *gaps, const uint64_t *handles,
                              size_t n, int stop_at_late, size_t *n_done,
                              size_t *err_pos);

/* Whether the stream holds anything for key (k, ns). */
int sz_stream_has_key(const sz_stream *stream, uint64_t key, uint32_t ns);

/* How many keys of namespace ns the stream holds (a binding checks its
 * handles against a restored snapshot with it). */
size_t sz_stream_keys_in(const sz_stream *stream, uint32_t ns);

/* With keep_values: writes the value handle of every event the stream holds
 * to out (room for sz_stream_stats_get's open_events) and returns how many;
 * 0 without.  A binding checks its values against a restored snapshot. */
size_t sz_stream_value_handles(const sz_stream *stream, uint64_t *out);

/* Moves the watermark to max(watermark, wm) and emits what that finishes. */
sz_status sz_stream_advance(sz_stream *stream, int64_t wm);

/* End of input: every open session is emitted as final and every key
 * freed; the watermark becomes +infinity, so later events are late. */
sz_status sz_stream_flush(sz_stream *stream);

/* The records of the last push/advance/flush: *n records, and the arrays
 * their replaces_off and values_off index.  Valid until the next call. */
const sz_stream_out *sz_stream_output(const sz_stream *stream, size_t *n,
                                      const uint64_t **ids,
                                      const uint64_t **handles);

/* A key the last call freed (sz_stream_freed_keys). */
typedef struct sz_stream_key {
    uint64_t key;
    uint32_t ns;
} sz_stream_key;

/* The keys the last push/advance/flush freed, in the order of their
 * SZ_OUT_KEY_FREED records: *n of them.  Valid until the next call. */
const sz_stream_key *sz_stream_freed_keys(const sz_stream *stream, size_t *n);

/*
 * Whether a freed key also gets an SZ_OUT_KEY_FREED record in the output
 * (nonzero: the default) or is reported by sz_stream_freed_keys() alone.
 * Off, a flush of many keys writes half the records, and sorts and permutes
 * half as many.  A setting of the stream object, not of its state: a
 * snapshot does not hold it, and a restored stream has the default.
 */
void sz_stream_set_key_freed_records(sz_stream *stream, int on);

typedef struct sz_stream_stats {
    int64_t watermark;     /* INT64_MIN before any event or advance */
    uint64_t late_count;   /* late events so far */
    size_t keys;           /* keys holding state (open or remembered) */
    size_t open_sessions;  /* open inactivity sessions */
    size_t open_events;    /* events held (with keep_values or a cap) */
    size_t bytes;          /* memory held by the stream */
} sz_stream_stats;

void sz_stream_stats_get(const sz_stream *stream, sz_stream_stats *stats);

/* The watermark value past which the stream next emits a session (the
 * smallest last joining time, plus allowed_lateness, of the sessions still
 * open; in update mode also of those still to fire): advancing to it emits
 * nothing, advancing beyond it emits at least one session (in update mode,
 * or makes an emitted one final without a record).  INT64_MAX when
 * no session is open.  An engine's timer asks it when to wake the stream
 * (Bytewax's notify_at).  Costs O(keys held): meant for streams of few keys. */
int64_t sz_stream_next_due(const sz_stream *stream);

/*
 * One key's own watermark, for an engine whose clock is per key (Bytewax's
 * EventClock): emits the final sessions of key (key, ns) at watermark
 * max(wm, the stream's watermark) as sz_stream_advance() would, leaving
 * every other key and the stream's watermark as they were, and releases the
 * key once it has nothing open (SZ_OUT_KEY_FREED).  Meant for a stream
 * whose own watermark stays behind (a delay larger than any time span): the
 * caller then judges lateness, since a released key no longer can.  An
 * unknown key is SZ_OK with no output.
 */
sz_status sz_stream_advance_key(sz_stream *stream, uint64_t key, uint32_t ns, int64_t wm);

/* sz_stream_next_due() of one key (INT64_MAX when it holds no open session
 * or is unknown); O(its open sessions). */
int64_t sz_stream_key_due(const sz_stream *stream, uint64_t key, uint32_t ns);

/*
 * Snapshots: a versioned, checksummed byte string of the whole state.
 * sz_stream_snapshot_size() gives the exact length; sz_stream_snapshot()
 * writes it into the caller's buffer (SZ_ERR_PARAM if it is too small).
 * sz_stream_restore() validates everything before building anything:
 * SZ_ERR_SNAPSHOT for a truncated, corrupted, foreign or inconsistent
 * snapshot, SZ_ERR_NOMEM, or SZ_OK with a stream that continues exactly
 * as the original would have.
 */
size_t sz_stream_snapshot_size(const sz_stream *stream);
sz_status sz_stream_snapshot(const sz_stream *stream, unsigned char *buf,
                             size_t len);
sz_status sz_stream_restore(const unsigned char *buf, size_t len,
                            sz_stream **out);

/* ---------------------------------------------------------------------------
 * Tier 3: search sessions and click-through rate (SPEC.md section 4)
 *
 * Every event has a key (the user), a kind and, optionally, a time.  A key's
 * events, in time order (ties, and everything when there are no times, in
 * input order), form user sessions.  A user session ends
 *   - at an SZ_APP_CLOSE or SZ_TIMEOUT event, which belongs to it; the key's
 *     next event, of any kind, starts the next session;
 *   - by the gap rule of tier 1, when times and a gap are given: the event
 *     after the gap starts a new session.  A session whose last event is
 *     followed, anywhere in the input, by a time at which an event could no
 *     longer join it (the watermark passed it) has ended too;
 *   - at the end of the input, for the sessions still open then, if flushing;
 *     without flushing they are dropped (the Bytewax search-session
 *     tutorial's first version).
 * SZ_APP_OPEN and SZ_RESULTS change nothing (an APP_OPEN inside an open
 * session does not start a new one; the tutorial does the same).
 * Each session is split before every SZ_SEARCH; the part before its first
 * search is dropped, CLICKs included.  Each search gives one row: its input
 * position, and how many SZ_CLICK events its part holds.
 *
 * Row order: sessions in the order they closed, each one's searches in time
 * order.  A session closed by an event closes at that event's time; one
 * closed by the gap rule at the end of its window (last time + gap, which an
 * event may still join when inclusive: then it closes just after it); at
 * equal moments the gap closes come first, and then input order decides (of
 * the closing event, and of the session's last event for the gap rule).
 * Without times the moment of an event is its position.  The sessions
 * flushed at the end of input come after all of those, in the order of their
 * first search (time, then input position).  Session numbers are dense,
 * 0..S-1, in that order, counting only sessions with a search.
 * ------------------------------------------------------------------------- */

/* Event kinds: the values are pinned (the Python constants use them). */
typedef enum sz_event_kind {
    SZ_APP_OPEN = 0,
    SZ_SEARCH = 1,
    SZ_RESULTS = 2,
    SZ_CLICK = 3,
    SZ_APP_CLOSE = 4,
    SZ_TIMEOUT = 5
} sz_event_kind;

#define SZ_N_KINDS 6

typedef struct sz_ctr_params {
    int64_t gap;     /* > 0: the gap rule applies (times required); 0: it does not */
    int inclusive;   /* as in sz_params: events exactly gap apart share a session */
    int flush;       /* nonzero: sessions still open at the end of input end there */
    int min_is_nat;  /* as in sz_params */
} sz_ctr_params;

/* The rows of one reduction.  Opaque. */
typedef struct sz_ctr sz_ctr;

/*
 * Computes the search rows of n events.
 *
 *   out      receives a new sz_ctr on success (free with sz_ctr_free), NULL on
 *            failure.  Required: the rows are written by sz_ctr_fill().
 *   keys     the n keys (any sz_key_kind).
 *   kinds    n sz_event_kind values, one byte each.
 *   times    n times, or NULL: then input order is time order.
 *   n        number of events, at most SZ_MAX_EVENTS.
 *   params   the rules; gap > 0 needs times.
 *   n_rows   receives the number of rows (may be NULL).
 *   err_pos  receives the position of a bad element, or SZ_NO_POSITION
 *            (may be NULL).  A bad kind is reported before a bad time or key
 *            code that comes later in the input.
 *
 * Returns SZ_OK, SZ_ERR_PARAM (gap < 0, gap without times, a NULL array,
 * an unknown key kind), SZ_ERR_TOO_LARGE, SZ_ERR_KIND, SZ_ERR_TIME_NAT,
 * SZ_ERR_TIME_OVERFLOW (times[i] + gap, with a gap), SZ_ERR_KEY_RANGE or
 * SZ_ERR_NOMEM.
 *
 * Cost: one pass over the kinds, then one hashed pass in input order that
 * looks up only the events that can change a row (SEARCH, CLICK, APP_CLOSE,
 * TIMEOUT; every event when there is a gap).  Without times the hash table
 * holds only the keys with a search open; with times it holds every key
 * (sized from an estimate of their number) and keys whose events come out
 * of time order are redone by the batch path's stable counting sort and
 * per-key sorts.  A log ends its sessions in time order, so the rows
 * usually come out in their final order; otherwise the sessions are sorted
 * by close and their rows gathered.  Extra memory: 32 (16 without times)
 * bytes per hash slot, about 40 bytes per SEARCH, and 12 bytes per event
 * while keys out of order are redone.
 */
sz_status sz_ctr_run(sz_ctr **out, const sz_keys *keys, const uint8_t *kinds,
                     const int64_t *times, size_t n, const sz_ctr_params *params,
                     size_t *n_rows, size_t *err_pos);

/* Number of rows (searches) and of sessions with a search. */
size_t sz_ctr_rows(const sz_ctr *ctr);
size_t sz_ctr_sessions(const sz_ctr *ctr);

/* SZ_PATH_ORDERED (every key's events in time order) or SZ_PATH_SORTING
 * (some keys redone by sorting); for tests and benchmarks. */
int sz_ctr_path_taken(const sz_ctr *ctr);

/* The per-row columns sz_ctr_fill() writes, each of sz_ctr_rows() elements. */
typedef struct sz_ctr_columns {
    int64_t *session;  /* the user session's number, 0..S-1 in close order */
    int64_t *search;   /* input position of the SEARCH event */
    uint8_t *clicked;  /* 1 when clicks > 0, else 0 */
    int64_t *clicks;   /* CLICK events between this search and the next one
                          (or the end of its session) */
} sz_ctr_columns;

/* Writes the rows.  Every column must hold sz_ctr_rows() elements; a column
 * may be NULL (not written).  Returns SZ_OK or SZ_ERR_PARAM (ctr NULL). */
sz_status sz_ctr_fill(const sz_ctr *ctr, const sz_ctr_columns *columns);

/* Releases a reduction; accepts NULL. */
void sz_ctr_free(sz_ctr *ctr);

/* ---------------------------------------------------------------------------
 * Tier 3, streaming: sz_ctr_stream
 *
 * The same rule as sz_ctr_run() (sz_ctr.h holds its one definition), over
 * events pushed in chunks.  Each event gets an ordinal: its arrival number
 * since the stream was created, counting every pushed event, late ones too
 * (so pushing a batch input in order gives the batch's input positions).
 *
 * Times: with config.times, every event has one; the watermark is the
 * largest time seen minus `delay`, or what sz_ctr_stream_advance() sets,
 * and never moves back.  Without times, an event's time is its ordinal:
 * every event is processed as it arrives, and there is no gap rule.
 *   - An event with t < watermark is late: counted, reported (SZ_CTR_OUT_LATE)
 *     and otherwise ignored.  An event with t >= watermark is never late.
 *   - Per key, the events with t <= watermark form an immutable prefix that
 *     the rule has consumed, in (t, ordinal) order; the events after the
 *     watermark wait in a small per-key buffer and enter the prefix when
 *     the watermark reaches them.
 *   - A user session closes, and its rows are emitted, at its APP_CLOSE or
 *     TIMEOUT once that event is in the prefix; by the gap rule once the
 *     watermark is a gap past its last event; and at sz_ctr_stream_flush().
 * A key with no search open and nothing buffered holds no memory.
 *
 * Every call that can emit (push, advance, flush) first clears the output,
 * then fills it: the rows of the sessions the call closed, in close order
 * (as sz_ctr_run() orders them: close moment, then gap closes before or
 * after event closes as `inclusive` says, then the ordinal of the closing
 * (or, for a gap close, the last) event; flushed sessions last, by their
 * first search), each session's searches in time order; then the late
 * events and freed keys, in the order they happened.
 * ------------------------------------------------------------------------- */

typedef struct sz_ctr_stream sz_ctr_stream;

typedef struct sz_ctr_stream_config {
    int64_t gap;     /* > 0: the gap rule (needs times); 0: none */
    int inclusive;   /* as in sz_ctr_params */
    int times;       /* nonzero: every event has a time; zero: arrival order
                        is time order */
    int64_t delay;   /* >= 0 (0 without times): watermark = largest time - delay */
    int min_is_nat;  /* as in sz_params */
} sz_ctr_stream_config;

typedef enum sz_ctr_out_kind {
    SZ_CTR_OUT_ROW = 0,       /* a search of a closed session */
    SZ_CTR_OUT_LATE = 1,      /* a late event: pos, key, time, search (its
                                 ordinal), clicks (its kind) */
    SZ_CTR_OUT_KEY_FREED = 2  /* a key of namespace != 0 holds nothing any
                                 more: its handle may be forgotten */
} sz_ctr_out_kind;

typedef struct sz_ctr_stream_out {
    int kind;          /* an sz_ctr_out_kind */
    uint32_t key_ns;
    uint64_t key;
    uint64_t session;  /* ROW: the session's number, 0, 1, ... in emission
                          order over the stream's life */
    uint64_t search;   /* ROW: the SEARCH event's ordinal; LATE: the event's */
    int64_t time;      /* ROW: the SEARCH's time; LATE: the event's (ordinals
                          without times) */
    int64_t clicks;    /* ROW: CLICKs in the search's part; LATE: the kind */
    size_t pos;        /* LATE: the event's position in its call */
} sz_ctr_stream_out;

/* Creates a stream.  SZ_OK, SZ_ERR_PARAM (gap < 0, delay < 0, a gap or a
 * delay without times) or SZ_ERR_NOMEM. */
sz_status sz_ctr_stream_new(const sz_ctr_stream_config *config,
                            sz_ctr_stream **out);

/* Releases a stream; accepts NULL. */
void sz_ctr_stream_free(sz_ctr_stream *stream);

void sz_ctr_stream_config_get(const sz_ctr_stream *stream,
                              sz_ctr_stream_config *config);

/*
 * Pushes n events (one or a chunk): keys[i] in namespace ns[i] (ns NULL:
 * all namespace 0), kinds[i] an sz_event_kind, times[i] (NULL exactly when
 * the stream has no times).  Every kind and time is checked before any
 * event is applied: SZ_ERR_KIND, SZ_ERR_TIME_NAT or SZ_ERR_TIME_OVERFLOW
 * (times[i] + gap) fail the whole call with *err_pos set and nothing
 * changed.  With stop_at_late, the call stops after the first late event
 * (reported and counted).  *n_done receives how many events were consumed.
 * SZ_ERR_NOMEM leaves a consistent stream that has consumed *n_done events;
 * the output holds everything those events emitted.
 */
sz_status sz_ctr_stream_push(sz_ctr_stream *stream, const uint64_t *keys,
                             const uint8_t *ns, const uint8_t *kinds,
                             const int64_t *times, size_t n, int stop_at_late,
                             size_t *n_done, size_t *err_pos);

/* Whether the stream holds anything for key (k, ns). */
int sz_ctr_stream_has_key(const sz_ctr_stream *stream, uint64_t key, uint32_t ns);

/* How many keys of namespace ns the stream holds (a binding checks its
 * handles against a restored snapshot with it). */
size_t sz_ctr_stream_keys_in(const sz_ctr_stream *stream, uint32_t ns);

/* Moves the watermark to max(watermark, wm) and emits what that closes.
 * SZ_ERR_PARAM without times; SZ_ERR_NOMEM as for push. */
sz_status sz_ctr_stream_advance(sz_ctr_stream *stream, int64_t wm);

/* End of input: the buffered events enter (as an advance to the largest
 * time seen would take them), the sessions that time has passed close by
 * the gap rule, and every session still open closes, after those, in the
 * order of their first search; sz_ctr_run(flush=1) does the same.  The
 * watermark becomes +infinity: every later event is late. */
sz_status sz_ctr_stream_flush(sz_ctr_stream *stream);

/* The records of the last push/advance/flush; valid until the next call. */
const sz_ctr_stream_out *sz_ctr_stream_output(const sz_ctr_stream *stream,
                                              size_t *n);

typedef struct sz_ctr_stream_stats {
    int64_t watermark;     /* INT64_MIN before any event or advance;
                              INT64_MAX after a flush */
    uint64_t late_count;   /* late events so far */
    uint64_t events;       /* events pushed so far (the next ordinal) */
    uint64_t sessions;     /* sessions emitted so far (the next number) */
    size_t keys;           /* keys holding state */
    size_t open_sessions;  /* keys with a search open */
    size_t open_searches;  /* searches of those sessions */
    size_t buffered;       /* events waiting for the watermark */
    size_t bytes;          /* memory held by the stream */
} sz_ctr_stream_stats;

void sz_ctr_stream_stats_get(const sz_ctr_stream *stream,
                             sz_ctr_stream_stats *stats);

/* Snapshots, as sz_stream's: versioned ("SZCTRSTR" 1), checksummed; the
 * restore validates everything (SZ_ERR_SNAPSHOT) before returning a stream
 * that continues exactly as the original would have. */
size_t sz_ctr_stream_snapshot_size(const sz_ctr_stream *stream);
sz_status sz_ctr_stream_snapshot(const sz_ctr_stream *stream, unsigned char *buf,
                                 size_t len);
sz_status sz_ctr_stream_restore(const unsigned char *buf, size_t len,
                                sz_ctr_stream **out);

/* ---------------------------------------------------------------------------
 * Time conversion helpers
 * ------------------------------------------------------------------------- */

/*
 * Converts float seconds to int64 microseconds the way Apache Beam's Python
 * Timestamp.of() does: micros = trunc(seconds * 1e6).  out may alias nothing
 * in `seconds`.  Returns SZ_OK, SZ_ERR_TIME_NAN (NaN) or SZ_ERR_TIME_RANGE
 * (+-inf or out of int64), with *err_pos set to the element.
 */
sz_status sz_seconds_to_micros(const double *seconds, size_t n, int64_t *out,
                               size_t *err_pos);

/* ---------------------------------------------------------------------------
 * Tier 4: Arrow input (arrow.c), through the Arrow C Data Interface
 *
 * Keys and times given as Arrow arrays (one or many chunks, e.g. from
 * __arrow_c_array__ / __arrow_c_stream__ capsules) are read in C, with no
 * object per event.  The structs are those of the Arrow C Data Interface
 * (https://arrow.apache.org/docs/format/CDataInterface.html); this header
 * only names them.  The caller keeps ownership of every schema and array:
 * nothing here releases, moves or keeps them (no pointer into them survives
 * a call; dictionaries are recognised again by value, not by address).
 *
 * Every array is validated before any element is read: buffer count,
 * offset and length >= 0, required buffers present, offsets in range and
 * non-decreasing, binary views inside their buffers, dictionary indices
 * inside the dictionary (nanoarrow's full validation plus the view checks
 * it lacks); a malformed array is SZ_ERR_ARROW_INVALID.  Sliced arrays
 * (offset != 0) are read from their offset.  Buffers must be as long as the
 * C Data Interface requires for offset + length (the interface carries no
 * buffer sizes, so that part cannot be checked).
 *
 * Positions (err_pos, sz_arrow_keys_first) are global rows: counted over
 * all chunks given so far, from 0.
 * ------------------------------------------------------------------------- */

struct ArrowSchema;
struct ArrowArray;

/* A factorizer of Arrow keys over chunks.  Opaque. */
typedef struct sz_arrow_keys sz_arrow_keys;

/*
 * Creates a factorizer for keys of the type `schema` describes:
 *   utf8 "u", large_utf8 "U", utf8_view "vu", binary "z", large_binary "Z",
 *   binary_view "vz", fixed_size_binary "w:N" (compared bytewise);
 *   int8..int64 and uint8..uint64 "c" "C" "s" "S" "i" "I" "l" "L" (compared
 *   as values; uint64 above INT64_MAX are keys like any other);
 *   a dictionary of any of those, with any integer index type.
 *
 *   out     receives the factorizer (free with sz_arrow_keys_free), or NULL
 *           on failure.
 *   schema  read during the call only.
 *
 * Returns SZ_OK, SZ_ERR_PARAM (out or schema NULL, or a released schema),
 * SZ_ERR_ARROW_TYPE (a format nanoarrow cannot parse, or a type not listed)
 * or SZ_ERR_NOMEM.
 */
sz_status sz_arrow_keys_new(sz_arrow_keys **out, const struct ArrowSchema *schema);

/*
 * Factorizes one chunk: writes codes[i], the key code of the chunk's row i,
 * for its array->length rows.  Codes are dense int64 values numbered in
 * order of first appearance over all chunks so far (0 is the first key
 * seen), so they are the keys sz_batch_assign() takes as SZ_KEYS_DENSE
 * (with n_codes = sz_arrow_keys_count()), numbering sessions exactly as the
 * same keys given as SZ_KEYS_BYTES or SZ_KEYS_INT64 would.
 *
 *   f        the factorizer; array must be of the type it was made for.
 *   array    one chunk (read during the call only).  A dictionary chunk's
 *            dictionary may differ from the previous chunk's: each distinct
 *            dictionary is hashed once, equal values in it share one code.
 *   codes    array->length outputs (may be NULL when the chunk is empty);
 *            unspecified on failure.
 *   err_pos  receives the global row of a bad element, or SZ_NO_POSITION
 *            (may be NULL).
 *
 * Returns SZ_OK; SZ_ERR_PARAM (f or array NULL, a released array, codes
 * NULL for a non-empty chunk); SZ_ERR_ARROW_INVALID (a malformed array;
 * *err_pos is set for a dictionary index out of range); SZ_ERR_NULL (the
 * first null key, at *err_pos; a dictionary index to a null value is one);
 * SZ_ERR_TOO_LARGE (2^32 - 1 distinct keys, or a key of 4 GiB or more);
 * SZ_ERR_NOMEM.  On any failure the factorizer is as it was before the
 * call: the chunk may be given again (or skipped).
 *
 * Cost: one hashed lookup per row, pipelined with prefetches.  A
 * dictionary chunk: one array read per row, plus, for each dictionary not
 * equal by value to the previous chunk's, one hash of each of its values
 * (and one lookup when keys are known already) and one insertion of each
 * value the previous dictionary gave a code; a repeated dictionary costs
 * one comparison of its values.  Memory: 32 bytes per hash slot (at most
 * two slots per key), 8 bytes per key (first rows), keys longer than 16
 * bytes copied once, and 12 bytes (16 when it repeats a value) per value
 * of the last dictionary plus its bytes.
 */
sz_status sz_arrow_keys_add(sz_arrow_keys *f, const struct ArrowArray *array,
                            int64_t *codes, size_t *err_pos);

/* Number of distinct keys so far (the SZ_KEYS_DENSE n_codes); 0 for NULL. */
size_t sz_arrow_keys_count(const sz_arrow_keys *f);

/* Rows consumed so far (the global row of the next chunk's row 0). */
size_t sz_arrow_keys_rows(const sz_arrow_keys *f);

/* sz_arrow_keys_count() int64 values: element c is the global row of key
 * c's first occurrence (increasing), so the caller can take the key values
 * from its own arrays.  Owned by f, valid until its next add or free; NULL
 * when there are no keys. */
const int64_t *sz_arrow_keys_first(const sz_arrow_keys *f);

/* Releases a factorizer; accepts NULL. */
void sz_arrow_keys_free(sz_arrow_keys *f);

/*
 * Creates a factorizer of byte strings held by the caller (no Arrow
 * array): the keys of sz_arrow_keys_add_bytes(), compared bytewise with the
 * same hash table as utf8 keys.  It also takes chunks of a binary or utf8
 * column as sz_arrow_keys_add() would for a factorizer made for "z".
 *
 *   out  receives the factorizer (free with sz_arrow_keys_free), or NULL on
 *        failure.
 *
 * Returns SZ_OK, SZ_ERR_PARAM (out NULL) or SZ_ERR_NOMEM.
 */
sz_status sz_arrow_keys_new_bytes(sz_arrow_keys **out);

/*
 * Factorizes n byte strings as one more chunk: key i is the len[i] bytes
 * at ptrs[i] (ptrs[i] may be NULL when lens[i] is 0), and codes[i]
 * receives its code, numbered in order of first appearance over all chunks
 * so far exactly as sz_arrow_keys_add() numbers them (equal bytes, equal
 * code; rows and sz_arrow_keys_first() count these rows too).  The bytes
 * are read during the call only (keys longer than 16 bytes are copied).
 *
 *   f        a factorizer of byte keys: from sz_arrow_keys_new_bytes() or
 *            sz_arrow_keys_new() for a utf8, binary, view or fixed-size
 *            binary type (not integers, not a dictionary).
 *   ptrs     n pointers (may be NULL when n is 0).
 *   lens     n lengths (may be NULL when n is 0).
 *   codes    n outputs (may be NULL when n is 0); unspecified on failure.
 *   err_pos  receives the global row of a bad key, or SZ_NO_POSITION (may
 *            be NULL).
 *
 * Returns SZ_OK; SZ_ERR_PARAM (f NULL, or a NULL array for n > 0);
 * SZ_ERR_ARROW_TYPE (f is for integer or dictionary keys); SZ_ERR_NULL (a
 * NULL pointer with a nonzero length, at *err_pos); SZ_ERR_TOO_LARGE
 * (2^32 - 1 distinct keys, or a key of 4 GiB or more); SZ_ERR_NOMEM.  On
 * failure the factorizer is as it was before the call.
 *
 * Cost: one hashed lookup per key, pipelined as for Arrow chunks.
 */
sz_status sz_arrow_keys_add_bytes(sz_arrow_keys *f, const char *const *ptrs,
                                  const size_t *lens, size_t n, int64_t *codes,
                                  size_t *err_pos);

/* What an Arrow integer-like column holds (sz_arrow_time_type). */
typedef enum sz_arrow_kind {
    SZ_ARROW_INTEGER = 0,    /* a plain integer of any width */
    SZ_ARROW_TIMESTAMP = 1,  /* "tss:" .. "tsn:", with or without a zone */
    SZ_ARROW_DATE = 2,       /* date32 "tdD" (days) or date64 "tdm" (ms) */
    SZ_ARROW_DURATION = 3    /* "tDs" .. "tDn" */
} sz_arrow_kind;

/* The unit of the values sz_arrow_ints_read() writes. */
typedef enum sz_arrow_unit {
    SZ_UNIT_NONE = 0,  /* plain integers */
    SZ_UNIT_S = 1,
    SZ_UNIT_MS = 2,
    SZ_UNIT_US = 3,
    SZ_UNIT_NS = 4,
    SZ_UNIT_DAY = 5    /* date32 */
} sz_arrow_unit;

/*
 * Describes a time (or integer) column's type, so the binding can convert
 * units or zones.
 *
 *   schema  the column's schema.
 *   kind    receives an sz_arrow_kind (may be NULL).
 *   unit    receives an sz_arrow_unit (may be NULL).
 *   tz      receives the timestamp's zone, NUL-terminated ("" when none or
 *           not a timestamp); may be NULL when tz_cap is 0.
 *   tz_cap  bytes at tz.
 *   tz_len  receives the zone's length without the NUL (may be NULL).
 *
 * Returns SZ_OK; SZ_ERR_PARAM (schema NULL or released, or tz_cap <=
 * *tz_len while tz is not NULL: *tz_len is set, call again); or
 * SZ_ERR_ARROW_TYPE (not an integer, timestamp, date or duration; a
 * dictionary).
 */
sz_status sz_arrow_time_type(const struct ArrowSchema *schema, int *kind,
                             int *unit, char *tz, size_t tz_cap, size_t *tz_len);

/*
 * Reads a chunk of an integer, timestamp, date32, date64 or duration
 * column into int64 values in the column's own unit (see
 * sz_arrow_time_type; no conversion).
 *
 *   schema, array  the chunk and its type (read during the call only).
 *   out       array->length outputs (may be NULL for an empty chunk);
 *             unspecified on failure.
 *   row_base  the global row of the chunk's row 0, added to *err_pos.
 *   err_pos   receives row_base + the row of a bad element, or
 *             SZ_NO_POSITION (may be NULL).
 *
 * Returns SZ_OK; SZ_ERR_PARAM (a NULL or released argument, out NULL for a
 * non-empty chunk); SZ_ERR_ARROW_TYPE (another type, a dictionary);
 * SZ_ERR_ARROW_INVALID; SZ_ERR_NULL or SZ_ERR_TIME_RANGE (a uint64 value
 * above INT64_MAX), at the first such row.
 */
sz_status sz_arrow_ints_read(const struct ArrowSchema *schema,
                             const struct ArrowArray *array, int64_t *out,
                             size_t row_base, size_t *err_pos);

#ifdef __cplusplus
}
#endif

#endif /* SESSIONIZE_H */
