"""Slow, plainly correct models of sessions with one gap per event (issue 26).

Event i opens the window [t_i, t_i + gap_i).  Two models, over plain Python
ints (no numpy, no shared code with the C core):

    sessions_with_gaps(keys, times, gaps, *, inclusive=True,
                       max_duration=None, max_duration_mode="restart")
        -> (ids, sessions)

        The scan: per key, events in time order (ties in input order); an
        inactivity session's reach R is the running max of t_i + gap_i; an
        event at t starts a new inactivity session when t > R (t >= R when
        inclusive=False).  A cap then cuts the inactivity sessions as it cuts
        them for a scalar gap ("restart": a new session at the first event
        with t - session_start > max_duration, >= when inclusive=False;
        "fixed": blocks [s, s+max), [s+max, s+2max), ... from the inactivity
        session's first event s).  R runs on across the cuts.

        ``ids[i]`` is event i's session (row) number; ``sessions[g]`` is a
        dict with key, start, end, count, index, window_end, rows ordered by
        key (first appearance in the input) then start, as SessionTable is.
        window_end = R as of the session's last event, never beyond the cap's
        limit (start + max_duration for "restart", the block's end for
        "fixed").

    flink_merge(keys, times, gaps) -> (ids, sessions)

        Flink's MergingWindowAssigner over EventTimeSessionWindows
        .withDynamicGap, without its scan: each event's TimeWindow
        [t, t + gap), then, per key, repeatedly cover any two windows that
        intersect in TimeWindow.intersects' sense (a.start <= b.end and
        a.end >= b.start: touching windows merge) until none do.  No caps,
        and it does not look at the order of the events at all.  It must
        equal sessions_with_gaps(..., inclusive=True) without a cap.

    merge_windows(keys, times, gaps, *, touching) -> (ids, sessions)

        The same merge; touching=False merges only windows that overlap
        (Beam's strict sense), and must equal inclusive=False without a cap.

Gaps must be > 0 here (both models raise ValueError otherwise); what the
package does with a bad gap is tested separately.
"""

MODES = ("restart", "fixed")


def _check(keys, times, gaps, max_duration=None, mode="restart"):
    keys = list(keys)
    times = [int(t) for t in times]
    gaps = [int(g) for g in gaps]
    if not len(keys) == len(times) == len(gaps):
        raise ValueError("keys, times and gaps: lengths differ")
    for i, g in enumerate(gaps):
        if not g > 0:
            raise ValueError(f"gap[{i}]: must be > 0, got {g}")
    if max_duration is not None and not max_duration > 0:
        raise ValueError("max_duration: must be > 0")
    if mode not in MODES:
        raise ValueError("max_duration_mode: must be 'restart' or 'fixed'")
    return keys, times, gaps


def _positions_by_key(keys):
    """{key: [input positions]}, keys in order of first appearance."""
    positions_of = {}
    for i, k in enumerate(keys):
        positions_of.setdefault(k, []).append(i)
    return positions_of


def sessions_with_gaps(keys, times, gaps, *, inclusive=True, max_duration=None,
                       max_duration_mode="restart"):
    keys, times, gaps = _check(keys, times, gaps, max_duration, max_duration_mode)
    cap = None if max_duration is None else max_duration_mode

    ids = [None] * len(keys)
    sessions = []
    for key, positions in _positions_by_key(keys).items():
        # time order; sorted() is stable, so ties keep input order
        in_time_order = sorted(positions, key=lambda i: times[i])

        per_key = []           # this key's sessions, in time order
        current = None         # the open (capped) session
        reach = None           # R: running max of t + gap of the inactivity session
        inactivity_start = None
        for i in in_time_order:
            t = times[i]
            if current is None:
                new_inactivity = True
            elif inclusive:
                new_inactivity = t > reach
            else:
                new_inactivity = t >= reach

            if new_inactivity:
                opens = True
                inactivity_start = t
                reach = t + gaps[i]
            else:
                reach = max(reach, t + gaps[i])
                if cap is None:
                    opens = False
                elif cap == "restart":
                    since = t - current["start"]
                    opens = since > max_duration if inclusive else since >= max_duration
                else:  # fixed: the block of t against the block of the session
                    opens = ((t - inactivity_start) // max_duration
                             != (current["start"] - inactivity_start) // max_duration)

            if opens:
                if cap == "restart":
                    limit = t + max_duration
                elif cap == "fixed":
                    block = (t - inactivity_start) // max_duration
                    limit = inactivity_start + (block + 1) * max_duration
                else:
                    limit = None
                current = {"key": key, "start": t, "end": t, "count": 0,
                           "index": len(per_key), "members": [], "limit": limit}
                per_key.append(current)
            current["end"] = t
            current["count"] += 1
            current["members"].append(i)
            current["reach"] = reach   # R as of the session's last event so far

        for s in per_key:
            g = len(sessions)
            for i in s["members"]:
                ids[i] = g
            window_end = s["reach"] if s["limit"] is None else min(s["reach"], s["limit"])
            sessions.append({"key": s["key"], "start": s["start"], "end": s["end"],
                             "count": s["count"], "index": s["index"],
                             "window_end": window_end})
    return ids, sessions


def flink_merge(keys, times, gaps):
    """Flink's window merging, to a fixpoint; see the module docstring."""
    return merge_windows(keys, times, gaps, touching=True)


def merge_windows(keys, times, gaps, *, touching):
    """Merge each key's windows [t, t + gap) to a fixpoint: those that overlap,
    and with touching=True also those that touch (Flink's
    TimeWindow.intersects); touching=False is Beam's strict overlap, and must
    equal sessions_with_gaps(..., inclusive=False) without a cap."""
    keys, times, gaps = _check(keys, times, gaps)

    def intersects(a, b):
        if touching:   # TimeWindow.intersects
            return a["start"] <= b["end"] and a["end"] >= b["start"]
        return a["start"] < b["end"] and a["end"] > b["start"]

    ids = [None] * len(keys)
    sessions = []
    for key, positions in _positions_by_key(keys).items():
        # windows in input order, each with its events' times and positions
        windows = [{"start": times[i], "end": times[i] + gaps[i],
                    "members": [i]} for i in positions]
        merged = True
        while merged:
            merged = False
            for a in range(len(windows)):
                for b in range(a + 1, len(windows)):
                    if intersects(windows[a], windows[b]):
                        wa, wb = windows[a], windows[b]
                        windows[a] = {"start": min(wa["start"], wb["start"]),
                                      "end": max(wa["end"], wb["end"]),
                                      "members": wa["members"] + wb["members"]}
                        del windows[b]
                        merged = True
                        break
                if merged:
                    break
        windows.sort(key=lambda w: w["start"])
        for index, w in enumerate(windows):
            g = len(sessions)
            for i in w["members"]:
                ids[i] = g
            event_times = [times[i] for i in w["members"]]
            sessions.append({"key": key, "start": w["start"], "end": max(event_times),
                             "count": len(w["members"]), "index": index,
                             "window_end": w["end"]})
    return ids, sessions


def _self_check():
    """Hand-worked cases, so the models are not merely self-consistent."""
    def bounds(ss):
        return [(s["start"], s["end"], s["count"], s["window_end"]) for s in ss]

    # touching windows chain: [0,5) [5,8) [8,9) -> one session with inclusive
    ids, ss = sessions_with_gaps("aaa", [0, 5, 8], [5, 3, 1])
    assert ids == [0, 0, 0] and bounds(ss) == [(0, 8, 3, 9)]
    ids, ss = sessions_with_gaps("aaa", [0, 5, 8], [5, 3, 1], inclusive=False)
    assert ids == [0, 1, 2] and bounds(ss) == [(0, 0, 1, 5), (5, 5, 1, 8), (8, 8, 1, 9)]
    # a long gap keeps short-gap events open; window_end is the max, not end + gap
    ids, ss = sessions_with_gaps("aaaaa", [0, 50, 99, 100, 102], [100, 1, 1, 1, 1])
    assert ids == [0, 0, 0, 0, 1]
    assert bounds(ss) == [(0, 100, 4, 101), (102, 102, 1, 103)]
    ids, ss = sessions_with_gaps("aaaaa", [0, 50, 99, 100, 102], [100, 1, 1, 1, 1],
                                 inclusive=False)
    assert ids == [0, 0, 0, 1, 2]
    assert bounds(ss) == [(0, 99, 3, 100), (100, 100, 1, 101), (102, 102, 1, 103)]
    # ties: equal times, the bigger gap wins whatever the input order
    for order in ([0, 1, 2], [1, 0, 2], [2, 1, 0]):
        t = [[0, 0, 10][j] for j in order]
        g = [[1, 10, 1][j] for j in order]
        ids, ss = sessions_with_gaps("aaa", t, g)
        assert bounds(ss) == [(0, 10, 3, 11)]
        ids, ss = sessions_with_gaps("aaa", t, g, inclusive=False)
        assert bounds(ss) == [(0, 0, 2, 10), (10, 10, 1, 11)]
    # restart cap: R = 100 carries across the cuts; window_end = min(R, start + max)
    ids, ss = sessions_with_gaps("aaaa", [0, 5, 15, 50], [100, 1, 1, 1], max_duration=10)
    assert ids == [0, 0, 1, 2]
    assert bounds(ss) == [(0, 5, 2, 10), (15, 15, 1, 25), (50, 50, 1, 60)]
    # ... and with a short reach the cap's limit is not reached
    ids, ss = sessions_with_gaps("aaa", [0, 2, 11], [3, 1, 1], max_duration=10)
    assert ids == [0, 0, 1] and bounds(ss) == [(0, 2, 2, 3), (11, 11, 1, 12)]
    # restart at exactly max_duration: inclusive keeps it, exclusive cuts
    ids, _ = sessions_with_gaps("aa", [0, 10], [20, 1], max_duration=10)
    assert ids == [0, 0]
    ids, _ = sessions_with_gaps("aa", [0, 10], [20, 1], max_duration=10, inclusive=False)
    assert ids == [0, 1]
    # fixed cap: blocks [0,10) [10,20) [20,30) from the inactivity start 0
    ids, ss = sessions_with_gaps("aaaa", [0, 9, 10, 25], [30, 1, 1, 1], max_duration=10,
                                 max_duration_mode="fixed")
    assert ids == [0, 0, 1, 2]
    assert bounds(ss) == [(0, 9, 2, 10), (10, 10, 1, 20), (25, 25, 1, 30)]
    # fixed, window_end below the block end: R as of the session's last event
    ids, ss = sessions_with_gaps("aaa", [0, 12, 13], [13, 1, 2], max_duration=10,
                                 max_duration_mode="fixed")
    assert ids == [0, 1, 1] and bounds(ss) == [(0, 0, 1, 10), (12, 13, 2, 15)]
    # numbering: keys by first appearance, then start
    ids, ss = sessions_with_gaps(["b", "a", "b", "a"], [10, 0, 0, 100], [1, 1, 1, 1])
    assert ids == [1, 2, 0, 3]
    assert [(s["key"], s["start"], s["index"]) for s in ss] == [
        ("b", 0, 0), ("b", 10, 1), ("a", 0, 0), ("a", 100, 1)]
    # Flink's merge: the same sessions, found in any order
    assert flink_merge("aaa", [8, 0, 5], [1, 5, 3])[0] == [0, 0, 0]
    assert flink_merge("aaaaa", [102, 100, 0, 99, 50], [1, 1, 100, 1, 1])[0] == [
        1, 0, 0, 0, 0]
    # windows that only touch through a third, later-listed one still merge
    ids, ss = flink_merge("aaa", [0, 20, 10], [10, 5, 10])
    assert ids == [0, 0, 0] and bounds(ss) == [(0, 20, 3, 25)]
    assert merge_windows("aaa", [0, 20, 10], [10, 5, 10], touching=False)[0] == [0, 2, 1]


_self_check()
