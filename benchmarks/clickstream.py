"""Deterministic, realistic clickstreams for the benchmarks.

Each user gets a heavy-tailed number of events; within a user, gaps are
mostly seconds to minutes (in-session clicks) and sometimes hours (between
visits), so sessions have realistic sizes.  Three arrival orders:

    "log"       time order with small jitter, users interleaved (a log file)
    "sorted"    sorted by (user, time)
    "shuffled"  random order
"""

from __future__ import annotations

import numpy as np

ORDERS = ("log", "sorted", "shuffled")
START_MS = 1_790_870_400_000  # 2026-10-01, epoch milliseconds


def clickstream(n_events: int, n_users: int, order: str = "log", seed: int = 0):
    """Returns (user ids int64, times int64 epoch ms), n_events long."""
    if order not in ORDERS:
        raise ValueError(f"order: one of {ORDERS}, got {order!r}")
    rng = np.random.default_rng(seed)
    # events per user: heavy-tailed, every user has at least one
    weights = rng.pareto(1.5, n_users) + 1.0
    counts = np.maximum(1, np.floor(weights / weights.sum() * n_events)).astype(np.int64)
    diff = n_events - int(counts.sum())
    if diff > 0:
        np.add.at(counts, rng.integers(0, n_users, diff), 1)
    elif diff < 0:  # take surplus from the heaviest users
        for u in np.argsort(-counts):
            take = min(-diff, int(counts[u]) - 1)
            counts[u] -= take
            diff += take
            if diff == 0:
                break
    users = np.repeat(np.arange(n_users, dtype=np.int64), counts)
    # gaps within a user: 90% clicks (exponential, mean 40 s), 10% new visits
    # (log-uniform between 35 minutes and 2 days)
    visit = rng.random(n_events) < 0.10
    gaps = np.where(
        visit,
        np.exp(rng.uniform(np.log(35 * 60e3), np.log(2 * 86400e3), n_events)),
        rng.exponential(40e3, n_events),
    ).astype(np.int64)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    gaps[first] = rng.integers(0, 7 * 86400_000, n_users)  # each user's first event
    times = START_MS + np.cumsum(gaps)
    # restart the cumulative clock at each user's first event
    base = np.repeat(times[first] - START_MS - gaps[first], counts)
    times = times - base
    if order == "sorted":
        return users, times
    if order == "shuffled":
        p = rng.permutation(n_events)
        return users[p], times[p]
    # log: by time, with up to 2 s of jitter in arrival order
    arrival = times + rng.integers(0, 2000, n_events)
    p = np.argsort(arrival, kind="stable")
    return users[p], times[p]
