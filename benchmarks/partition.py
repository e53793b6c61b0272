"""Are two answers the same partition of events into sessions?

Peers number their sessions differently (per key, globally, by first event,
by window id...), so answers are compared as partitions: two per-event
labelings a and b are the same partition iff label_a -> label_b is a
bijection consistent on every event.  Everything here is vectorized numpy.
"""

from __future__ import annotations

import numpy as np


def compare_partitions(a, b) -> str | None:
    """None when a and b (one label per event, same order) are the same
    partition; otherwise a short description of the first difference."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        return f"lengths differ ({a.shape} vs {b.shape})"
    if a.ndim != 1:
        return f"expected 1-D labels, got {a.ndim} dimensions"
    if len(a) == 0:
        return None
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    na, nb = int(ia.max()) + 1, int(ib.max()) + 1
    # a -> b is a function iff every event of an a-class has the b-class that
    # some event of it has (which one the scatter keeps does not matter).
    b_of_a = np.empty(na, dtype=ib.dtype)
    b_of_a[ia] = ib
    bad = np.flatnonzero(b_of_a[ia] != ib)
    if len(bad):
        i = int(bad[0])
        j = int(np.flatnonzero((ia == ia[i]) & (ib != ib[i]))[0])
        return (f"events {min(i, j)} and {max(i, j)} share a session in the first "
                f"answer, not in the second ({len(bad)} events disagree)")
    if na != nb:  # a -> b is onto, so it is a bijection iff na == nb
        first = np.full(nb, -1, dtype=np.int64)
        first[ib[::-1]] = np.arange(len(ib))[::-1]  # each b-class's first event
        i = int(np.flatnonzero(ia != ia[first[ib]])[0])
        j = int(first[ib[i]])
        return (f"events {j} and {i} share a session in the second answer, not in "
                f"the first ({na} sessions in the first answer, {nb} in the second)")
    return None


def same_partition(a, b) -> bool:
    return compare_partitions(a, b) is None


def check_table(table, keys, times, ids) -> str | None:
    """None when a SessionTable agrees with per-event session ids `ids`
    (row i is session i): same number of sessions, each event's key, counts,
    and start/end the first and last time of the session's events."""
    ids = np.asarray(ids)
    s = int(ids.max()) + 1 if len(ids) else 0
    if len(table) != s:
        return f"{len(table)} rows, {s} sessions in the ids"
    if not np.array_equal(np.bincount(ids, minlength=s), table.count):
        return "count differs from the ids' session sizes"
    if not np.array_equal(table.key[ids], keys):
        return "an event's key differs from its session's key"
    order = np.argsort(ids, kind="stable")
    t = times[order]
    firsts = np.concatenate(([0], np.cumsum(table.count)[:-1]))
    if not np.array_equal(np.minimum.reduceat(t, firsts), table.start):
        return "start is not the first time of the session's events"
    if not np.array_equal(np.maximum.reduceat(t, firsts), table.end):
        return "end is not the last time of the session's events"
    return None
