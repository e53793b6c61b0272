"""The peers: every way of sessionizing the benchmark compares, in one registry.

Each peer sessionizes integer user ids and integer epoch-millisecond times with
an inactivity gap in milliseconds, and its answer is checked against
sessionize's (same partition of events into sessions, see partition.py).

A peer is three functions:

    prepare(users, times, gap_ms) -> state   untimed: what a user of that tool
                                             would already hold (Python lists,
                                             event tuples); most peers take the
                                             numpy arrays as they are
    run(state) -> result                     timed: the sessionization, from the
                                             prepared input to an answer a user
                                             can use (labels in input order, or
                                             the engine's own output)
    labels(result, n) -> int64[n]            untimed: one session label per
                                             event, in input order, to compare

`inclusive` is the sessionize setting the peer must agree with (Beam starts a
new session at exactly `gap`: inclusive=False).  `max_n` bounds the sizes a
peer runs on; above it its per-event cost is extrapolated from its largest
run (and the tables say so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class Peer:
    run: Callable[[Any], Any]
    prepare: Callable[[np.ndarray, np.ndarray, int], Any] = lambda u, t, gap: (u, t, gap)
    labels: Callable[[Any, int], np.ndarray] = lambda result, n: np.asarray(result)
    max_n: int | None = None          # larger sizes: extrapolated from the largest run
    inclusive: bool = True            # the sessionize setting it must match
    kind: str = "labels"              # "labels" | "table" | "floor"
    threads: str = "1"                # how many cores it uses
    setup: Callable[[], None] = lambda: None  # untimed imports, before any measurement
    note: str = ""
    # --quick only: peers naming the same engine here share one worker
    # process, so an engine starts once (Spark's JVM: 15 s of each start)
    engine: str = ""


# ---------------------------------------------------------------- sessionize

def _sessionize_setup():
    import sessionize  # noqa: F401


def sessionize_assign(state):
    import sessionize

    users, times, gap = state
    return sessionize.assign(users, times, gap=gap)


def sessionize_sessions(state):
    import sessionize

    users, times, gap = state
    return sessionize.sessions(users, times, gap=gap)


# ------------------------------------------------------------ the copy floor

def copy_floor(state):
    """Copy both inputs into freshly allocated arrays (first touch included)."""
    users, times, _ = state
    u = np.empty(len(users), dtype=users.dtype)
    t = np.empty(len(times), dtype=times.dtype)
    np.copyto(u, users)
    np.copyto(t, times)
    return u, t


# ------------------------------------------------------- plain Python dicts

def _as_lists(users, times, gap):
    return users.tolist(), times.tolist(), gap


def dict_loop(state):
    """What a notebook does without a library: group by key in a dict, sort
    each key's events by time (ties keep input order), then scan."""
    users, times, gap = state
    by_key = {}
    for i, (u, t) in enumerate(zip(users, times)):
        events = by_key.get(u)
        if events is None:
            by_key[u] = events = []
        events.append((t, i))
    labels = [0] * len(users)
    sid = -1
    for events in by_key.values():
        events.sort()
        prev = None
        for t, i in events:
            if prev is None or t - prev > gap:
                sid += 1
            labels[i] = sid
            prev = t
    return labels


def _list_labels(result, n):
    return np.array(result, dtype=np.int64)


# --------------------------------------------------------------------- numpy

def numpy_idiom(state):
    """lexsort by (user, time), diff, cumsum, scatter back to input order."""
    users, times, gap = state
    order = np.lexsort((times, users))
    u, t = users[order], times[order]
    new = np.empty(len(u), dtype=bool)
    new[:1] = True
    new[1:] = (u[1:] != u[:-1]) | (np.diff(t) > gap)
    ids = np.empty(len(u), dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    return ids


# -------------------------------------------------------------------- pandas

def _pandas_setup():
    import pandas  # noqa: F401


def pandas_idiom(state):
    """sort_values by (user, time), groupby diff, cumsum, back to input order."""
    import pandas as pd

    users, times, gap = state
    df = pd.DataFrame({"u": users, "t": times})
    df = df.sort_values(["u", "t"], kind="stable")
    new = df.groupby("u", sort=False)["t"].diff().gt(gap) | df["u"].ne(df["u"].shift())
    ids = pd.Series(new.cumsum().to_numpy() - 1, index=df.index)
    return ids.sort_index().to_numpy()


# -------------------------------------------------------------------- polars

def _polars_setup():
    import polars  # noqa: F401


def polars_idiom(state):
    """sort by (user, time), shift/diff, cum_sum; polars on all cores.
    Scattering back to input order with numpy was faster than polars'
    sort by row index (1.7 s vs 2.0 s at 10 M events)."""
    import polars as pl

    users, times, gap = state
    df = pl.DataFrame({"u": users, "t": times})
    out = (
        df.with_row_index("i")
        .sort("u", "t")
        .select(
            "i",
            ((pl.col("u") != pl.col("u").shift()) | (pl.col("t").diff() > gap))
            .fill_null(True)
            .cum_sum()
            .alias("s"),
        )
    )
    ids = np.empty(len(users), dtype=np.int64)
    ids[out["i"].to_numpy()] = out["s"].to_numpy()
    return ids


# -------------------------------------------------------------------- DuckDB

def _duckdb_setup():
    import duckdb  # noqa: F401
    import pyarrow  # noqa: F401


DUCKDB_SQL = """
SELECT i, u, SUM(new) OVER w AS s
FROM (
    SELECT i, u, t,
           CASE WHEN t - LAG(t) OVER (PARTITION BY u ORDER BY t, i) <= {gap}
                THEN 0 ELSE 1 END AS new
    FROM ev
)
WINDOW w AS (PARTITION BY u ORDER BY t, i ROWS UNBOUNDED PRECEDING)
"""


def duckdb_sql(state):
    """LAG + SUM OVER, per user; the input is an Arrow table over the numpy
    arrays (zero-copy) plus a row-number column; the result comes back with
    fetchnumpy and is scattered to input order.  (Fetching it as Arrow was
    2x slower; ORDER BY i in SQL 1.7x slower.)  The label is the pair
    (user, the session's ordinal within its user), one row per event: a
    single int64 such as user * 2**32 + ordinal overflows on 64-bit ids."""
    import duckdb
    import pyarrow as pa

    users, times, gap = state
    con = duckdb.connect()
    try:
        con.register("ev", pa.table({"i": np.arange(len(users)), "u": users, "t": times}))
        r = con.sql(DUCKDB_SQL.format(gap=int(gap))).fetchnumpy()
    finally:
        con.close()
    pairs = np.empty((len(users), 2), dtype=np.int64)
    i = np.asarray(r["i"])
    pairs[i, 0] = np.asarray(r["u"])
    pairs[i, 1] = np.asarray(r["s"])
    return pairs


def _pair_labels(pairs, n):
    """One int64 label per distinct (user, ordinal) row (not timed)."""
    return np.unique(pairs, axis=0, return_inverse=True)[1].reshape(n)


# --------------------------------------------------------- the registry

def _registry() -> dict[str, Peer]:
    import engine_peers
    import stream_peers

    return {
        "sessionize assign": Peer(run=sessionize_assign, setup=_sessionize_setup),
        "sessionize sessions": Peer(run=sessionize_sessions, setup=_sessionize_setup,
                                    kind="table", note="the SessionTable"),
        # the streaming API, fed in arrival order (stream_peers.py)
        "sessionize push": Peer(run=stream_peers.stream_push, labels=stream_peers.labels,
                                prepare=stream_peers.prepare_lists, setup=_sessionize_setup,
                                max_n=1_000_000, note="Sessionizer.push per event, delay 5 s"),
        "sessionize push_many": Peer(run=stream_peers.stream_push_many,
                                     labels=stream_peers.labels, setup=_sessionize_setup,
                                     prepare=stream_peers.prepare_arrays,
                                     note="Sessionizer.push_many, chunks of 100 k"),
        "copy floor": Peer(run=copy_floor, kind="floor",
                           note="copy both inputs into fresh arrays"),
        "numpy": Peer(run=numpy_idiom, note="lexsort, diff, cumsum"),
        "pandas": Peer(run=pandas_idiom, setup=_pandas_setup,
                       note="sort_values, groupby diff, cumsum"),
        "polars": Peer(run=polars_idiom, setup=_polars_setup, threads="all",
                       note="sort, shift/diff, cum_sum"),
        "duckdb": Peer(run=duckdb_sql, labels=_pair_labels, setup=_duckdb_setup, threads="all",
                       note="LAG + SUM OVER (PARTITION BY user)"),
        "dict loop": Peer(run=dict_loop, prepare=_as_lists, labels=_list_labels,
                          max_n=1_000_000, note="plain Python, input as lists"),
        "bytewax": engine_peers.BYTEWAX,
        "bytewax no wake-ups": engine_peers.BYTEWAX_NO_WAKE_UPS,
        "bytewax + sessionize": engine_peers.BYTEWAX_SESSIONIZE,
        "beam": engine_peers.BEAM,
        "beam + sessionize": engine_peers.BEAM_SESSIONIZE,
        "spark": engine_peers.SPARK,
        "spark + sessionize": engine_peers.SPARK_SESSIONIZE,
        "spark + sessionize per key": engine_peers.SPARK_SESSIONIZE_PER_KEY,
    }


PEERS: dict[str, Peer] = _registry()
