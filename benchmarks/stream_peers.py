"""The streaming API as benchmark peers: Sessionizer.push and push_many.

A stream arrives in time order, give or take its jitter, so both feed the
events in time order (the log's own order; the sorted and shuffled inputs
are put in time order first, untimed) with a watermark delay of 5 s, which
covers the log's jitter, and collect every session the calls
emit plus what flush() emits, and are checked like every other peer: each
event is mapped to the emitted session of its key whose [start, end] holds
it (a key's sessions are disjoint), which gives per-event labels.
"""

from __future__ import annotations

import numpy as np

DELAY_MS = 5_000
CHUNK = 100_000


def _setup():
    import sessionize  # noqa: F401


def prepare_arrays(users, times, gap):
    """The events as a stream delivers them: in time order (stable, so a
    log keeps its own order), plus the original arrays for labels()."""
    order = np.argsort(times, kind="stable")
    return users[order], times[order], gap, users, times


def prepare_lists(users, times, gap):
    u, t, gap, users, times = prepare_arrays(users, times, gap)
    return u.tolist(), t.tolist(), gap, users, times


def stream_push(state):
    """One event per call, as a consumer loop or an engine's step does."""
    import sessionize

    users, times, gap, orig_users, orig_times = state
    sz = sessionize.Sessionizer(gap, delay=DELAY_MS)
    push = sz.push
    out = []
    extend = out.extend
    for u, t in zip(users, times):
        r = push(u, t)
        if r:
            extend(r)
    out.extend(sz.flush())
    return out, orig_users, orig_times


def stream_push_many(state):
    """Chunks of 100,000 events, the core running with the GIL released."""
    import sessionize

    users, times, gap, orig_users, orig_times = state
    sz = sessionize.Sessionizer(gap, delay=DELAY_MS)
    out = []
    for i in range(0, len(users), CHUNK):
        out.extend(sz.push_many(users[i:i + CHUNK], times[i:i + CHUNK]))
    out.extend(sz.flush())
    return out, orig_users, orig_times


def labels(result, n) -> np.ndarray:
    """Per-event labels: the index of the emitted session holding each event
    (-1 where none does, which the partition check then reports)."""
    result, users, times = result
    if any(not hasattr(s, "start") for s in result):
        raise AssertionError("a late event in a stream that should have none")
    key = np.array([s.key for s in result], dtype=np.int64)
    start = np.array([s.start for s in result], dtype=np.int64)
    end = np.array([s.end for s in result], dtype=np.int64)
    order = np.lexsort((start, key))
    key, start, end = key[order], start[order], end[order]
    u = np.asarray(users, dtype=np.int64)
    t = np.asarray(times, dtype=np.int64)
    # the last session of the event's key starting at or before it
    pos = np.searchsorted(
        np.rec.fromarrays([key, start]), np.rec.fromarrays([u, t]), side="right") - 1
    ok = pos >= 0
    safe = np.where(ok, pos, 0)
    ok &= (key[safe] == u) & (start[safe] <= t) & (t <= end[safe])
    return np.where(ok, order[safe], -1)
