"""A gap per event (issue 26, dynamic gaps) against one gap, and the peers.

    python benchmarks/gaps_case.py [--events 1000000] [--users 100000] [--reps 3]
                                   [--json FILE]

The package's clickstream ("log" order, int64 user ids, int64 epoch ms),
sessionized by ``sessions()``:

1. ``gap=30 min`` as one int: the scalar path (the reference for ratios);
2. ``gap=np.full(n, 30 min)``: a constant per-event array, which must give
   exactly the sessions of 1 (window_end too);
3. ``gap=gaps``: mixed per-event gaps, 30 min for most events, 60 min for
   ~10% ("checkout"), 10 min for ~30% ("page view"), from a seeded RNG;

then the streaming Sessionizer (``columnar=True``, delay 5 s, chunks of
100,000 events pushed with ``push_many``, flushed at the end), whose final
sessions must be those of the batch rows with the same gaps:

4. ``Sessionizer(30 min)``: the scalar stream;
5. ``Sessionizer(60 min, per_event_gaps=True)`` with ``gaps=`` 30 min for
   every event: the per-event stream on the scalar gap's sessions (it
   keeps each open event to cut sessions by their gaps, as a cap does);
6. the same with the mixed gaps;

and the peers computing the sessions of 3 (key, start, end, count,
window_end) from the same three columns:

7. DuckDB: per key ordered by (t, row), ``prev = MAX(t + g) OVER (ROWS
   BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)``, a new session where
   ``prev IS NULL OR t > prev``, ``SUM`` of those flags OVER the same window
   numbers the sessions, then GROUP BY;
8. polars: sort by (key, t) keeping input order on ties,
   ``(t + g).cum_max().shift(1).over(key)``, the flag, ``cum_sum``, group_by;
9. pandas: stable sort, groupby ``cummax`` then groupby ``shift(1)``, the
   flag, ``cumsum``, groupby agg.

Why the peers' "max over all the key's previous events" is the running
reach of the current session (the definition keeps a reach per session):
within a key, t is non-decreasing in (t, row) order.  Say every event
before a session's first event s has t_i + g_i < t_s (true for the first
session).  The session before s ended with reach R < t_s and every one of
its events has t_i + g_i <= R; the ones before it have t_i + g_i < its own
start <= R; so all events before s have t_i + g_i < t_s, and by induction
this holds at every session start.  Then for an event k of the session
started at s, the max over the key's earlier events is max(something < t_s
<= t_k, the session's reach so far): it is >= t_k exactly when the
session's reach is.  So "t > max of all previous t_i + g_i" is "t > the
current session's reach", and window_end = max(t_i + g_i) over the
session.  `_check_formulation` also tests it against a direct loop over
the definition on random small inputs (ties, gaps from 1 unit) before
anything is timed.

Every peer's table is checked to equal ours (same number of sessions, and
each session's key, start, end, count and window_end, sorted) before its
time counts.  One process, best of --reps.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import sessionize  # noqa: E402
from clickstream import clickstream  # noqa: E402
from stream_case import best_of  # noqa: E402

MIN_MS = 60 * 1000
GAP_MS = 30 * MIN_MS
CHECKOUT_MS = 60 * MIN_MS  # ~10% of events
PAGE_VIEW_MS = 10 * MIN_MS  # ~30% of events
COLS = ("key", "start", "end", "count", "window_end")


def _data(n: int, users: int):
    ids, ms = clickstream(n, users, "log", seed=0)
    u = np.random.default_rng(26).random(n)
    gaps = np.where(u < 0.10, CHECKOUT_MS, np.where(u < 0.40, PAGE_VIEW_MS, GAP_MS))
    return ids.astype(np.int64), ms.astype(np.int64), gaps.astype(np.int64)


def _sorted(cols: dict) -> dict:
    """The five columns as int64 numpy arrays, sessions ordered by (key, start)
    (a key's sessions never share a start)."""
    c = {name: np.asarray(cols[name]).astype(np.int64, copy=False) for name in COLS}
    order = np.lexsort((c["start"], c["key"]))
    return {name: v[order] for name, v in c.items()}


def _ours(table) -> dict:
    return _sorted({name: getattr(table, name) for name in COLS})


def _same(a: dict, b: dict) -> bool:
    return all(len(a[c]) == len(b[c]) and np.array_equal(a[c], b[c]) for c in COLS)


# --- the streams: final sessions of chunked push_many -------------------------

CHUNK = 100_000
DELAY_MS = 5_000


def stream_run(ids, ms, gaps, bound):
    """The final sessions' columns of a columnar Sessionizer fed in chunks
    (gaps None: the scalar gap `bound`)."""
    if gaps is None:
        z = sessionize.Sessionizer(bound, delay=DELAY_MS, columnar=True)
    else:
        z = sessionize.Sessionizer(bound, per_event_gaps=True, delay=DELAY_MS, columnar=True)
    parts = []
    for at in range(0, len(ids), CHUNK):
        sl = slice(at, at + CHUNK)
        out = z.push_many(ids[sl], ms[sl]) if gaps is None else \
            z.push_many(ids[sl], ms[sl], gaps=gaps[sl])
        assert len(out.late) == 0
        parts.append(out.sessions)
    parts.append(z.flush().sessions)
    return {c: np.concatenate([np.asarray(getattr(p, c)) for p in parts]) for c in COLS}


# --- the peers: each returns the sessions' columns, in any order -------------

def duckdb_run(ids, ms, gaps):
    import duckdb

    con = duckdb.connect()
    try:
        con.register("ev", {"k": ids, "t": ms, "g": gaps, "i": np.arange(len(ids))})
        r = con.sql("""
            SELECT k AS key, MIN(t) AS "start", MAX(t) AS "end", COUNT(*) AS "count",
                   MAX(r) AS window_end
            FROM (
              SELECT k, t, r, SUM(CASE WHEN prev IS NULL OR t > prev THEN 1 ELSE 0 END)
                                OVER (PARTITION BY k ORDER BY t, i
                                      ROWS UNBOUNDED PRECEDING) AS s
              FROM (
                SELECT k, t, i, t + g AS r,
                       MAX(t + g) OVER (PARTITION BY k ORDER BY t, i
                                        ROWS BETWEEN UNBOUNDED PRECEDING
                                                 AND 1 PRECEDING) AS prev
                FROM ev))
            GROUP BY k, s
        """).fetchnumpy()
    finally:
        con.close()
    return r


def polars_run(ids, ms, gaps):
    import polars as pl

    df = pl.DataFrame({"k": ids, "t": ms, "g": gaps})
    out = (df.sort("k", "t", maintain_order=True)
           .with_columns(r=pl.col("t") + pl.col("g"))
           .with_columns(prev=pl.col("r").cum_max().shift(1).over("k"))
           .with_columns(s=(pl.col("prev").is_null() | (pl.col("t") > pl.col("prev")))
                         .cum_sum())
           .group_by("s")
           .agg(key=pl.col("k").first(), start=pl.col("t").min(), end=pl.col("t").max(),
                count=pl.len(), window_end=pl.col("r").max()))
    return {name: out[name].to_numpy() for name in COLS}


def pandas_run(ids, ms, gaps):
    import pandas as pd

    df = pd.DataFrame({"k": ids, "t": ms, "g": gaps})
    df = df.sort_values(["k", "t"], kind="stable")
    df["r"] = df["t"] + df["g"]
    by = df.groupby("k", sort=False)
    prev = by["r"].cummax().groupby(df["k"], sort=False).shift(1)
    df["s"] = (prev.isna() | (df["t"] > prev)).cumsum()
    out = df.groupby("s", sort=False).agg(
        key=("k", "first"), start=("t", "min"), end=("t", "max"), count=("t", "size"),
        window_end=("r", "max"))
    return {name: out[name].to_numpy() for name in COLS}


# --- the formulation, checked against the definition --------------------------

def _by_definition(ids, ms, gaps) -> dict:
    """A direct loop over the definition: per key, events in (t, input) order;
    an event joins the current session if t <= reach, else opens one."""
    order = np.lexsort((np.arange(len(ids)), ms, ids))
    rows, cur = [], None  # cur: [key, start, end, count, reach]
    for j in order.tolist():
        k, t, g = int(ids[j]), int(ms[j]), int(gaps[j])
        if cur is not None and cur[0] == k and t <= cur[4]:
            cur[2], cur[3], cur[4] = t, cur[3] + 1, max(cur[4], t + g)
        else:
            if cur is not None:
                rows.append(cur)
            cur = [k, t, t, 1, t + g]
    if cur is not None:
        rows.append(cur)
    a = np.array(rows, dtype=np.int64).reshape(-1, 5)
    return _sorted(dict(zip(COLS, a.T)))


def _by_formulation(ids, ms, gaps) -> dict:
    """The peers' formulation in numpy: new session where t > the max of
    t_i + g_i over all the key's previous events."""
    order = np.lexsort((np.arange(len(ids)), ms, ids))
    k, t, r = ids[order], ms[order], (ms + gaps)[order]
    first = np.r_[True, k[1:] != k[:-1]]
    new = first.copy()
    prev = None
    for j in range(len(k)):  # small inputs: a plain loop is clear enough
        if first[j]:
            prev = r[j]
            continue
        new[j] = t[j] > prev
        prev = max(prev, r[j])
    s = np.cumsum(new) - 1
    m = s.max() + 1
    cols = {"key": k[new], "start": t[new], "end": np.zeros(m, np.int64),
            "count": np.bincount(s, minlength=m), "window_end": np.zeros(m, np.int64)}
    np.maximum.at(cols["end"], s, t)
    cols["window_end"][:] = np.iinfo(np.int64).min
    np.maximum.at(cols["window_end"], s, r)
    return _sorted(cols)


def _check_formulation() -> None:
    """The formulation equals the definition, and so do ours and the peers'."""
    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(1, 300))
        ids = rng.integers(0, int(rng.integers(1, 8)), n).astype(np.int64)
        ms = rng.integers(0, int(rng.integers(1, 200)), n).astype(np.int64)
        gaps = rng.integers(1, int(rng.integers(2, 40)), n).astype(np.int64)
        want = _by_definition(ids, ms, gaps)
        assert _same(_by_formulation(ids, ms, gaps), want), f"formulation, trial {trial}"
        assert _same(_ours(sessionize.sessions(ids, ms, gap=gaps)), want), \
            f"sessionize, trial {trial}"
        if trial % 20 == 0:
            for name, f in (("DuckDB", duckdb_run), ("polars", polars_run),
                            ("pandas", pandas_run)):
                assert _same(_sorted(f(ids, ms, gaps)), want), f"{name}, trial {trial}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args(argv)

    _check_formulation()
    ids, ms, gaps = _data(a.events, a.users)
    n = len(ids)
    const = np.full(n, GAP_MS, dtype=np.int64)

    runs = [
        ("sessions, gap=30 min (scalar)", lambda: sessionize.sessions(ids, ms, gap=GAP_MS)),
        ("sessions, gap=np.full(n, 30 min)", lambda: sessionize.sessions(ids, ms, gap=const)),
        ("sessions, gap=mixed per-event gaps", lambda: sessionize.sessions(ids, ms, gap=gaps)),
        ("stream, gap=30 min (scalar)", lambda: stream_run(ids, ms, None, GAP_MS)),
        ("stream, per-event, all 30 min", lambda: stream_run(ids, ms, const, CHECKOUT_MS)),
        ("stream, per-event, mixed", lambda: stream_run(ids, ms, gaps, CHECKOUT_MS)),
        ("DuckDB (MAX OVER ... 1 PRECEDING, SUM OVER)", lambda: duckdb_run(ids, ms, gaps)),
        ("polars (cum_max().shift(1).over, cum_sum)", lambda: polars_run(ids, ms, gaps)),
        ("pandas (groupby cummax, shift, cumsum)", lambda: pandas_run(ids, ms, gaps)),
    ]
    seconds, counts, checks = {}, {}, {}
    want = None
    scalar = None
    for name, fn in runs:
        try:
            secs, out = best_of(a.reps, fn)
        except ImportError as e:
            print(f"{name}: skipped ({e})")
            continue
        got = _ours(out) if isinstance(out, sessionize.SessionTable) else _sorted(out)
        if scalar is None:
            scalar = got
        elif name.startswith("stream,"):
            ref = want if "mixed" in name else scalar
            checks[f"{name} == sessions()"] = _same(got, ref)
            assert _same(got, ref), f"{name}: not the batch sessions"
        elif "np.full" in name:
            checks["constant array == scalar"] = _same(got, scalar)
            assert checks["constant array == scalar"], f"{name}: not the scalar path's sessions"
        elif want is None:
            want = got
        else:
            checks[f"{name.split()[0]} == sessions(gap=gaps)"] = _same(got, want)
            assert _same(got, want), f"{name}: different sessions"
        seconds[name], counts[name] = secs, len(got["key"])
        del out

    base = seconds[runs[0][0]]
    load = os.getloadavg()
    print(f"{n:,} events of {a.users:,} users (int64 ids, int64 ms), best of {a.reps}, "
          f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"mixed gaps: {np.mean(gaps == GAP_MS):.1%} 30 min, {np.mean(gaps == CHECKOUT_MS):.1%} "
          f"60 min, {np.mean(gaps == PAGE_VIEW_MS):.1%} 10 min; sessions: scalar "
          f"{counts[runs[0][0]]:,}, mixed {counts[runs[2][0]]:,}")
    print(f"{'':<46}{'seconds':>9}{'x row 1':>9}{'M ev/s':>9}")
    for i, (name, t) in enumerate(seconds.items(), 1):
        print(f"{i}. {name:<43}{t:9.3f}{t / base:9.2f}{n / t / 1e6:9.1f}")
    for what, ok in checks.items():
        print(f"{what}: {'identical' if ok else 'DIFFERENT'}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"events": n, "users": a.users, "reps": a.reps, "load": load,
                       "seconds": seconds, "sessions": counts, "checks": checks}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
