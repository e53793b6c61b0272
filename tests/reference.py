"""A slow, plainly correct model of SPEC.md section 1 (batch sessions).

Written from the SPEC text alone, over plain Python ints and lists: no numpy,
no cleverness, no shared code with the C core.  The property tests compare
the package against it.

    reference_sessions(keys, times, gap, max_duration=None, mode="restart",
                       inclusive=True) -> (ids, sessions)

``keys`` is a sequence of hashable values and ``times`` a sequence of ints of
the same length; ``gap`` and ``max_duration`` are ints in the unit of the
times.  ``ids[i]`` is the session id of event ``i`` (input order), and
``sessions[g]`` is a dict describing session ``g``:

    key         the key, as the first event of that key in the input holds it
    start       time of the session's first event
    end         time of the session's last event
    count       number of events
    index       0-based ordinal of the session within its key (time order)
    window_end  end + gap, never beyond start + max_duration (restart) or
                the end of the session's block (fixed)

Times are Python ints, so nothing here can overflow; the caller keeps them in
int64 and keeps ``t + gap`` in int64 (SPEC section 2 makes that an error).
"""

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

MODES = ("restart", "fixed")


def _gap_opens(prev_t, t, gap, inclusive):
    """Gap rule: does an event at t, after one at prev_t, open a new session?"""
    if inclusive:
        return t - prev_t > gap
    return t - prev_t >= gap


def _restart_opens(session_start, t, max_duration, inclusive):
    """Restart cap: does an event at t break the session begun at session_start?"""
    if inclusive:
        return t - session_start > max_duration
    return t - session_start >= max_duration


def _block_of(inactivity_start, t, max_duration):
    """Fixed cap: which block [s + k*max, s + (k+1)*max) holds t (k >= 0)."""
    return (t - inactivity_start) // max_duration


def reference_sessions(keys, times, gap, max_duration=None, mode="restart",
                       inclusive=True):
    keys = list(keys)
    times = [int(t) for t in times]
    if len(keys) != len(times):
        raise ValueError("keys and times: lengths differ")
    if not gap > 0:
        raise ValueError("gap: must be > 0")
    if max_duration is not None and not max_duration > 0:
        raise ValueError("max_duration: must be > 0")
    if mode not in MODES:
        raise ValueError("max_duration_mode: must be 'restart' or 'fixed'")
    cap = None if max_duration is None else mode

    # Keys in order of first appearance (dicts keep insertion order); each
    # key's events as input positions.
    positions_of = {}
    for i, k in enumerate(keys):
        positions_of.setdefault(k, []).append(i)

    ids = [None] * len(keys)
    sessions = []
    for key, positions in positions_of.items():
        # Time order; sorted() is stable, so ties keep input order.
        in_time_order = sorted(positions, key=lambda i: times[i])

        per_key = []          # this key's sessions, in time order
        current = None        # the open session (a dict)
        prev_t = None         # time of the key's previous event
        inactivity_start = None  # fixed mode: first event of the gap-only session
        for i in in_time_order:
            t = times[i]
            if current is None:
                opens = True
                new_inactivity = True
            else:
                gap_break = _gap_opens(prev_t, t, gap, inclusive)
                new_inactivity = gap_break
                if cap is None:
                    opens = gap_break
                elif cap == "restart":
                    opens = gap_break or _restart_opens(
                        current["start"], t, max_duration, inclusive)
                else:  # fixed
                    opens = gap_break or (
                        _block_of(inactivity_start, t, max_duration)
                        != _block_of(inactivity_start, prev_t, max_duration))
            if new_inactivity:
                inactivity_start = t
            if opens:
                current = {
                    "key": key,
                    "start": t,
                    "end": t,
                    "count": 0,
                    "index": len(per_key),
                    "members": [],
                    "inactivity_start": inactivity_start,
                }
                per_key.append(current)
            current["end"] = t
            current["count"] += 1
            current["members"].append(i)
            prev_t = t

        # Sessions of one key are numbered by start; they were opened in time
        # order and each starts after the previous one's last event.
        for s in per_key:
            g = len(sessions)
            for i in s["members"]:
                ids[i] = g
            window_end = s["end"] + gap
            if cap == "restart":
                window_end = min(window_end, s["start"] + max_duration)
            elif cap == "fixed":
                k = _block_of(s["inactivity_start"], s["start"], max_duration)
                block_end = s["inactivity_start"] + (k + 1) * max_duration
                window_end = min(window_end, block_end)
            sessions.append({
                "key": s["key"],
                "start": s["start"],
                "end": s["end"],
                "count": s["count"],
                "index": s["index"],
                "window_end": window_end,
            })
    return ids, sessions


def partition(ids):
    """A canonical form of a partition of events: for each event, the
    smallest position of an event in its session.  Two id lists describe the
    same sessions exactly when their partitions are equal."""
    smallest = {}
    for i, g in enumerate(ids):
        smallest.setdefault(g, i)
    return [smallest[g] for g in ids]


def _self_check():
    """A few hand-worked cases, so the model is not merely self-consistent."""
    # gap rule, both senses
    ids, ss = reference_sessions(["a"] * 3, [0, 5, 10], gap=5)
    assert ids == [0, 0, 0] and ss[0]["window_end"] == 15
    ids, ss = reference_sessions(["a"] * 3, [0, 5, 10], gap=5, inclusive=False)
    assert ids == [0, 1, 2]
    # restart cap: 0,2,4 | 6 (6 - 0 > 5), window_end capped at start + max
    ids, ss = reference_sessions(["a"] * 4, [0, 2, 4, 6], gap=3, max_duration=5)
    assert ids == [0, 0, 0, 1]
    assert ss[0]["window_end"] == 5 and ss[1]["window_end"] == 9
    ids, _ = reference_sessions(["a"] * 2, [0, 5], gap=9, max_duration=5)
    assert ids == [0, 0]
    ids, _ = reference_sessions(["a"] * 2, [0, 5], gap=9, max_duration=5,
                                inclusive=False)
    assert ids == [0, 1]
    # fixed cap: blocks [0,5) [5,10) [10,15); the event at 5 is in block 2;
    # inclusive does not move the block bounds
    for inc in (True, False):
        ids, ss = reference_sessions(["a"] * 5, [0, 4, 5, 9, 13], gap=4,
                                     max_duration=5, mode="fixed",
                                     inclusive=inc)
        if inc:
            assert ids == [0, 0, 1, 1, 2]
            assert [s["window_end"] for s in ss] == [5, 10, 15]
        else:  # 4 apart is a gap break too: 0 | 4 5 | 9 | 13
            assert ids == [0, 1, 1, 2, 3]
    # restart differs from fixed: 0,3,6,9 gap 3 max 5 -> restart 0,3 | 6,9
    ids, _ = reference_sessions(["a"] * 4, [0, 3, 6, 9], gap=3, max_duration=5)
    assert ids == [0, 0, 1, 1]
    ids, _ = reference_sessions(["a"] * 4, [0, 3, 6, 9], gap=3, max_duration=5,
                                mode="fixed")
    assert ids == [0, 0, 1, 1]
    ids, _ = reference_sessions(["a"] * 4, [0, 4, 7, 10], gap=4, max_duration=5)
    assert ids == [0, 0, 1, 1]  # 7 - 0 > 5: restart at 7; 10 - 7 <= 5
    ids, _ = reference_sessions(["a"] * 4, [0, 4, 7, 10], gap=4, max_duration=5,
                                mode="fixed")
    assert ids == [0, 0, 1, 2]  # blocks [0,5) [5,10) [10,15)
    # numbering: keys by first appearance, then start; ties keep input order
    ids, ss = reference_sessions(["b", "a", "b", "a"], [10, 0, 0, 100], gap=1)
    assert ids == [1, 2, 0, 3]
    assert [(s["key"], s["start"], s["index"]) for s in ss] == [
        ("b", 0, 0), ("b", 10, 1), ("a", 0, 0), ("a", 100, 1)]


_self_check()
