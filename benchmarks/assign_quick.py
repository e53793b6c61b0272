"""Side-by-side timing of sessionize.assign against the numpy and pandas idioms
and the copy floor, on one clickstream in three arrival orders.

    python benchmarks/assign_quick.py [--events 10000000] [--users 1000000]

Every peer's answer is checked to be the same partition of events into
sessions as sessionize's; a wrong answer is reported, not timed.  This is the
quick probe behind the core issue's closing note; the full harness (more
peers, plots, RESULTS.md) builds on clickstream.py.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import sessionize
from clickstream import ORDERS, clickstream

GAP_MS = 30 * 60 * 1000


def numpy_idiom(users, times):
    order = np.lexsort((times, users))
    u, t = users[order], times[order]
    new = np.empty(len(u), dtype=bool)
    new[0] = True
    new[1:] = (u[1:] != u[:-1]) | (np.diff(t) > GAP_MS)
    ids = np.empty(len(u), dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    return ids


def pandas_idiom(users, times):
    import pandas as pd

    df = pd.DataFrame({"u": users, "t": times})
    df = df.sort_values(["u", "t"], kind="stable")
    new = df.groupby("u", sort=False)["t"].diff().gt(GAP_MS) | df["u"].ne(df["u"].shift())
    ids = pd.Series(new.cumsum().to_numpy() - 1, index=df.index)
    return ids.sort_index().to_numpy()


def copy_floor(users, times):
    out = np.empty(len(users), dtype=np.int64)
    out[:] = users
    return users.copy(), times.copy(), out


def same_partition(a, b):
    pairs = np.unique(np.stack([a, b]), axis=1).shape[1]
    return pairs == len(np.unique(a)) == len(np.unique(b))


def best_of(fn, reps):
    best, result = float("inf"), None
    for _ in range(reps):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    n = args.events
    print(f"{n} events, {args.users} users, gap 30 min; best of {args.reps} (peers: of 1)")
    print(f"{'order':9} {'what':22} {'ms':>9} {'M events/s':>11} {'vs sessionize':>14}")
    for order in ORDERS:
        users, times = clickstream(n, args.users, order, seed=1)
        ours_s, ours = best_of(lambda: sessionize.assign(users, times, gap=GAP_MS), args.reps)
        rows = [("sessionize.assign", ours_s, True)]
        sess_s, _ = best_of(lambda: sessionize.sessions(users, times, gap=GAP_MS), 1)
        rows.append(("sessionize.sessions", sess_s, True))
        for name, fn in (("numpy lexsort idiom", numpy_idiom), ("pandas groupby idiom", pandas_idiom)):
            s, ids = best_of(lambda: fn(users, times), 1)
            rows.append((name, s, same_partition(ids, ours)))
        s, _ = best_of(lambda: copy_floor(users, times), args.reps)
        rows.append(("copy floor", s, True))
        for name, s, ok in rows:
            ratio = s / ours_s
            print(f"{order:9} {name:22} {s * 1e3:9.1f} {n / s / 1e6:11.1f} {ratio:13.2f}x"
                  + ("" if ok else "  WRONG ANSWER"))


if __name__ == "__main__":
    main()
