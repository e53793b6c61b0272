"""`python -m sessionize demo`: the main job on the samples shipped inside
the package, with the Spark Structured Streaming sessionization pipeline's rules (30 minutes of inactivity ends a
session, 2 hours caps it), then the Bytewax search-session tutorial's click-through rate on a
search log.  Needs only numpy: no pandas, pyarrow or polars.  With
matplotlib (`pip install 'sessionize[plot]'`) it also writes the sessions'
plots to a PNG, and says where; without it, how to get them."""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from importlib import resources

import numpy as np

from .. import search_ctr, sessions


def _sample(name: str):
    return resources.files("sessionize").joinpath(f"data/{name}").open()


def load_clicks():
    keys, times = [], []
    with _sample("sample_clicks.csv") as f:
        for row in csv.DictReader(f):
            keys.append(row["uuid"])
            times.append(int(row["event_timestamp"]))  # epoch ms, sent as strings
    return np.array(keys), np.array(times, dtype="datetime64[ms]")


def load_searches():
    users, kinds, times = [], [], []
    with _sample("sample_searches.jsonl") as f:
        for line in f:
            e = json.loads(line)
            users.append(e["user"])
            kinds.append(e["type"])
            times.append(e["time"])
    return np.array(users), kinds, np.array(times, dtype="datetime64[ms]")


def _bar(n: int, most: int, width: int = 40) -> str:
    return "#" * max(1, round(width * n / most)) if n else ""


def _histogram(out, title, labels, counts, unit):
    print(title, file=out)
    most = max(counts) if len(counts) else 0
    for label, n in zip(labels, counts):
        print(f"  {label:>11} {n:5d} {unit} {_bar(n, most)}", file=out)


def default_png() -> str:
    return os.path.join(tempfile.gettempdir(), "sessionize-demo.png")


def _plots(out, t, keys, times, png) -> None:
    """The PNG of sessionize.plot's four plots, when matplotlib is there."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("plots: pip install 'sessionize[plot]' (matplotlib) and run the demo again "
              "for a PNG of them", file=out)
        return
    from ..plot import demo_figure

    demo_figure(t, keys, times, png)
    print(f"plots (session length, events per session, sessions per user, a user's "
          f"timeline): {png}", file=out)


def demo(out=None, png: str | None = "") -> int:
    """``png``: the plots' path ("" for the default, None for none)."""
    out = out or sys.stdout  # looked up at the call: pytest's capsys replaces it
    keys, times = load_clicks()
    restart = sessions(keys, times, gap="30min", max_duration="2h", max_duration_mode="restart")
    t = sessions(keys, times, gap="30min", max_duration="2h", max_duration_mode="fixed")
    users = len(np.unique(t.key))
    print(f"sample clickstream: {len(keys)} events, {users} users", file=out)
    print(f"rules: 30 min inactivity, 2 h cap (fixed mode) -> {len(t)} sessions, "
          f"{len(t) / users:.2f} per user, {np.mean(t.count):.1f} events each", file=out)

    per_user = np.unique(t.key, return_counts=True)[1]
    most = int(per_user.max())
    edges = [1, 2, 3, 4, 6, 9, max(13, most + 1)]
    hist, _ = np.histogram(per_user, bins=edges)
    labels = [f"{lo}" if hi - lo == 1 else f"{lo}-{hi - 1}" for lo, hi in zip(edges, edges[1:])]
    _histogram(out, "sessions per user:", labels, hist, "users")

    minutes = (t.end - t.start) / np.timedelta64(1, "m")
    edges = [0, 1, 5, 15, 30, 60, 90, 120.001]
    hist, _ = np.histogram(minutes, bins=edges)
    labels = [f"{lo:g} - {min(hi, 120):g}" for lo, hi in zip(edges, edges[1:])]
    _histogram(out, "session duration (minutes):", labels, hist, "sessions")

    print("first sessions, as the Spark sessionization pipeline writes them:", file=out)
    ms = lambda v: int(v.astype("datetime64[ms]").astype(np.int64))  # noqa: E731
    for i in range(3):
        row = {"uuid": str(t.key[i]), "session_id": f"{t.key[i]}_session_{t.index[i] + 1}",
               "session_start_time_ms": ms(t.start[i]), "session_end_time_ms": ms(t.end[i]),
               "session_duration_seconds": (ms(t.end[i]) - ms(t.start[i])) / 1000,
               "event_count": int(t.count[i])}
        print("  " + json.dumps(row), file=out)
    uncapped = sessions(keys, times, gap="30min")
    print(f"without the cap: {len(uncapped)} sessions; the 2 h cap makes {len(t)} in fixed "
          f"mode (the Spark pipeline's batch job), {len(restart)} in restart mode (its streaming job)",
          file=out)
    if png is not None:
        _plots(out, t, keys, times, png or default_png())

    users_s, kinds, stimes = load_searches()
    c = search_ctr(users_s, kinds, stimes, gap="30min")
    by_key = c.by_key()
    print(f"\nsample search log: {len(kinds)} events, {len(np.unique(users_s))} users, "
          f"{len(c)} searches in {len(np.unique(c.session))} search sessions", file=out)
    print(f"click-through rate: {c.ctr:.3f} of searches got a click "
          f"({c.clicks_per_search:.2f} clicks per search); per user from "
          f"{np.nanmin(by_key.ctr):.2f} to {np.nanmax(by_key.ctr):.2f}", file=out)
    print("\nnext: python -m sessionize generate -o clicks.jsonl && python -m sessionize "
          "sessions clicks.jsonl --key uuid --time event_timestamp --gap 30min", file=out)
    return 0


def run(args) -> int:
    return demo(png=None if args.no_png else (args.png or ""))
