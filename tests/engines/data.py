"""Boundary-heavy events and sessions in one comparable shape.

Times are integer *ticks* (a second, a microsecond, 1/8 s: each test says
which).  Most consecutive events of a key are exactly `gap` ticks apart, many
`gap - 1` or `gap + 1`, a few tied, the rest well inside or well past the gap:
the boundary is the point.

Every engine's sessions and sessionize's are brought to one shape, a sorted
list of rows ``(key, start_us, end_us, ids)``: the key, the session's start
and end in integer microseconds, and the sorted ids of its events (an event's
id is its position in time order).  Equal lists mean the same partition of the
events into sessions and the same bounds.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import numpy as np

import sessionize

SEEDS = (11, 22, 33, 44)
CASES = ("handmade",) + tuple(f"seed{s}" for s in SEEDS)


@dataclass(frozen=True)
class Events:
    """Events in time order; event i has id i."""

    keys: tuple[str, ...]
    ticks: tuple[int, ...]
    gap: int  # ticks

    def __len__(self) -> int:
        return len(self.ticks)

    def shuffled_ids(self, seed: int) -> list[int]:
        """All ids in a seeded random order (engines must not care)."""
        ids = list(range(len(self)))
        random.Random(seed).shuffle(ids)
        return ids


def _in_time_order(rows: list[tuple[int, str]], gap: int) -> Events:
    rows = sorted(rows, key=lambda r: r[0])  # stable: ties keep generation order
    return Events(tuple(k for _, k in rows), tuple(t for t, _ in rows), gap)


def boundary_events(seed: int, gap: int, origin: int, n_keys: int = 3,
                    n: int | None = None) -> Events:
    """40-80 events (or `n`) over `n_keys` keys, most steps exactly `gap` apart."""
    if gap < 4:
        raise ValueError("gap must be >= 4 ticks")
    rng = random.Random(seed)
    if n is None:
        n = rng.randint(40, 80)
    names = [f"user{i}" for i in range(n_keys)]
    now = {k: origin + rng.randrange(0, 3 * gap) for k in names}
    seen: set[str] = set()
    rows = []
    for _ in range(n):
        k = rng.choice(names)
        if k in seen:
            r = rng.random()
            if r < 0.45:
                step = gap
            elif r < 0.60:
                step = gap - 1
            elif r < 0.75:
                step = gap + 1
            elif r < 0.80:
                step = 0
            elif r < 0.90:
                step = rng.randint(1, gap - 2)
            else:
                step = rng.randint(gap + 2, 4 * gap)
            now[k] += step
        seen.add(k)
        rows.append((now[k], k))
    return _in_time_order(rows, gap)


def handmade_events(gap: int, origin: int) -> Events:
    """A small readable case: chains of exact gaps, gap - 1, gap + 1 and a tie."""
    g = gap
    a = [0, g, 2 * g, 3 * g + 1, 4 * g + 1]   # exact, exact, +1, exact
    b = [0, g - 1, 2 * g]                     # -1, +1
    c = [5, 5, 5 + g, 5 + 3 * g]              # tie, exact, far
    rows = [(origin + t, "a") for t in a] + [(origin + t, "b") for t in b] + \
        [(origin + t, "c") for t in c]
    return _in_time_order(rows, gap)


def case_events(case: str, gap: int, origin: int) -> Events:
    if case == "handmade":
        return handmade_events(gap, origin)
    return boundary_events(int(case.removeprefix("seed")), gap, origin)


def step_profile(keys, ticks, gap) -> Counter:
    """How many consecutive same-key steps are exactly gap, gap-1, gap+1 ticks."""
    last: dict = {}
    out: Counter = Counter()
    for k, t in sorted(zip(keys, ticks), key=lambda kt: kt[1]):
        if k in last:
            d = t - last[k]
            out["gap"] += d == gap
            out["gap-1"] += d == gap - 1
            out["gap+1"] += d == gap + 1
        last[k] = t
    return out


def assert_boundary_heavy(keys, ticks, gap, case: str) -> None:
    """The data exercise the boundary (in the engine's own ticks)."""
    p = step_profile(keys, ticks, gap)
    need = 2 if case == "handmade" else 5
    assert p["gap"] >= need and p["gap-1"] >= 1 and p["gap+1"] >= 1, (case, p)


def sessionize_rows(ids, keys, times, *, gap, inclusive, to_us, end):
    """sessionize's sessions as sorted (key, start_us, end_us, ids) rows.

    `end` is the column the engine reports as a session's end: "window_end"
    (Beam, Spark) or "end" (Bytewax's close_time).
    """
    ids = np.asarray(ids)
    sid = sessionize.assign(keys, times, gap=gap, inclusive=inclusive)
    table = sessionize.sessions(keys, times, gap=gap, inclusive=inclusive)
    members: list[list[int]] = [[] for _ in range(len(table))]
    for i, s in zip(ids.tolist(), sid.tolist()):
        members[s].append(i)
    assert [len(m) for m in members] == table.count.tolist()
    starts, ends = to_us(table.start), to_us(table[end])
    return sorted(
        (str(table.key[s]), int(starts[s]), int(ends[s]), tuple(sorted(members[s])))
        for s in range(len(table))
    )


def micros_of_seconds(a) -> np.ndarray:
    """Float seconds (sessionize gives micros / 1e6) back to integer micros."""
    return np.rint(np.asarray(a, dtype=np.float64) * 1e6).astype(np.int64)


def micros_of_datetime64(a) -> np.ndarray:
    return np.asarray(a).astype("datetime64[us]").astype(np.int64)


def describe_mismatch(engine: str, got, want, setting: str, limit: int = 8) -> str:
    """Rows only one side has, for an assertion message."""
    g, w = set(got), set(want)
    only_engine, only_ours = sorted(g - w), sorted(w - g)
    lines = [f"{engine} and sessionize({setting}) disagree: "
             f"{len(got)} vs {len(want)} sessions (key, start_us, end_us, event ids)"]
    lines += [f"  only {engine}:    {r}" for r in only_engine[:limit]]
    lines += [f"  only sessionize: {r}" for r in only_ours[:limit]]
    return "\n".join(lines)
