"""Closing many sessions at once: Sessionizer.flush() and advance() of k open
sessions, against sessions() on the same events.

    python benchmarks/flush_case.py [--sessions 1000000] [--reps 3]

k keys with one event each (all open: nothing is final until the flush), then
flush(); and the same events pushed, then advance() past every session.  The
emission sorts the k records of a call (SPEC section 3's order) in
O(k log k); before, an insertion sort made it quadratic (80 k sessions: 9 s).
Both modes: the default (a StreamSession per session) and columnar=True
(numpy columns).  Target (issue 20): flush of 1 M open sessions <= 1 s and
within 3x of sessions() on those events.  Every flushed session is checked
against sessions().
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import sessionize


def run(k: int, reps: int) -> dict:
    keys = np.arange(k, dtype=np.int64)[::-1].copy()  # keys not in id order
    times = (np.arange(k, dtype=np.int64) * 7) % 1000
    want = sessionize.sessions(keys, times, gap=10)
    out = {"sessions": k}
    expected = sorted(zip(want.key.tolist(), want.start.tolist(), want.count.tolist()))
    for columnar in (False, True):
        for step in ("flush", "advance"):
            best = float("inf")
            for _ in range(reps):
                z = sessionize.Sessionizer(gap=10, delay=10**6, columnar=columnar)
                z.push_many(keys, times)
                t0 = time.perf_counter()
                got = z.flush() if step == "flush" else z.advance(10**7)
                best = min(best, time.perf_counter() - t0)
                if columnar:
                    t = got.sessions
                    rows = zip(t.key.tolist(), t.start.tolist(), t.count.tolist())
                else:
                    rows = ((s.key, s.start, s.count) for s in got)
                assert sorted(rows) == expected
                del got, z
            out[step + (" columnar" if columnar else "")] = best
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        sessionize.sessions(keys, times, gap=10)
        best = min(best, time.perf_counter() - t0)
    out["sessions()"] = best
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args(argv)
    r = run(a.sessions, a.reps)
    ref = r["sessions()"]
    print(f"{a.sessions:,} open sessions, one event each")
    for name in ("flush", "advance", "flush columnar", "advance columnar", "sessions()"):
        print(f"{name:<18}{r[name]:9.3f} s  {r[name] / ref:6.1f}x sessions()")
    return 0


if __name__ == "__main__":
    sys.exit(main())
