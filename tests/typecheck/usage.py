# pyright: strict
"""The public API as the README uses it, for type checkers: mypy --strict and
pyright (strict) must find no error here, and assert_type pins what the
results are, so a signature that drifts to Any or to a wrong type fails the
check (.ci/run, tests/test_typing.py).  It also runs: tests/test_typing.py
executes it, so every call here is a real one.

Not a test module (pytest collects test_*.py only): run it with
``python tests/typecheck/usage.py``.
"""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from typing_extensions import assert_type

import sessionize
import sessionize.frame
from sessionize import (
    AggregatedSessionTable, LateEvent, ListColumn, SearchTable, Session, SessionTable,
    StreamBatch, StreamSearchRow, StreamSearchTable, StreamSession, StreamSessionTable,
)
from sessionize.events import AppClose, AppOpen, ClickResult, Results, Search

users = np.array(["ann", "bob", "ann", "ann", "bob", "ann"])
times = np.array(["2026-11-21T09:00", "2026-11-21T09:05", "2026-11-21T09:20",
                  "2026-11-21T10:30", "2026-11-21T09:50", "2026-11-21T10:40"],
                 dtype="datetime64[s]")

# ---- arrays ----------------------------------------------------------------

ids = sessionize.assign(users, times, gap="30min")
assert_type(ids, npt.NDArray[np.int64])

t = sessionize.sessions(users, times, gap="30min")
assert_type(t, SessionTable)
assert_type(t.count, npt.NDArray[np.int64])
assert_type(t.index, npt.NDArray[np.int64])
assert_type(t.start, npt.NDArray[Any])
n: int = len(t)
first = next(t.rows())
assert_type(first, Session)
assert_type(first.count, int)

# one time model: ISO strings, epoch integers with their unit
iso = sessionize.sessions(users[:3], ["2026-10-01T09:00:00Z", "2026-10-01T09:05:00Z",
                                      "2026-10-01T09:20:00Z"], gap="30min")
assert_type(iso, SessionTable)
epoch = sessionize.sessions(users[:3], np.array([0, 300_000, 1_200_000]), gap="30min",
                            time_unit="ms")
assert_type(epoch.start, npt.NDArray[Any])
# a gap per event (Flink's withDynamicGap), bad ones dropped as Spark does
dyn = sessionize.sessions(users[:3], np.array([0, 300, 1_200]), gap=np.array([600, 60, 60]),
                          on_bad_gap="drop")
assert_type(dyn, SessionTable)
bad_gaps: sessionize.OnBadGap = "raise"
unit: sessionize.TimeUnit = "us"
sessionize.Sessionizer("30min", time_unit=unit)

capped = sessionize.sessions(users, times, gap=datetime.timedelta(minutes=30),
                             max_duration="2h", max_duration_mode="fixed")
mode: sessionize.MaxDurationMode = "restart"
sessionize.assign(users, times, gap=np.timedelta64(30, "m"), max_duration="2h",
                  max_duration_mode=mode, inclusive=False)

pages = np.array(["home", "home", "cart", "home", None, "pay"], dtype=object)
price = np.array([0.0, 1.5, np.nan, 2.0, 3.0, 4.0])
agg = sessionize.sessions(users, times, gap="30min",
                          values={"page": pages, "price": price},
                          agg={"pages_visited": ("page", "list"),
                               "revenue": ("price", "sum"),
                               "spent": (price, "mean")})
assert_type(agg, AggregatedSessionTable)
# a spec kept in a variable needs its type, or its hows widen to str
spec: sessionize.AggSpec = {"revenue": ("price", "sum")}
assert_type(sessionize.sessions(users, times, gap="30min", values={"price": price}, agg=spec),
            AggregatedSessionTable)
visited = agg.aggregates["pages_visited"]
assert_type(visited, npt.NDArray[Any] | ListColumn)
assert isinstance(visited, ListColumn)
assert_type(visited[0], tuple[Any, ...])

# ---- search sessions and CTR -------------------------------------------------

events = [AppOpen(user=1), Search(user=1, query="dogs"), Results(1, ["fido", "rover"]),
          ClickResult(1, "rover"), AppClose(1)]
ctr = sessionize.search_ctr(events, flush=False)
assert_type(ctr, SearchTable)
assert_type(ctr.ctr, float)
assert_type(ctr.clicked, npt.NDArray[np.bool_])
assert_type(ctr.by_key().ctr, npt.NDArray[np.float64])

# ---- streaming -------------------------------------------------------------

sz = sessionize.Sessionizer("30min", delay="20s", collect=True, on_late="return")
out = sz.push("ann", np.datetime64("2026-11-21T09:00", "s"), "home")
assert_type(out, list[StreamSession | LateEvent])
for item in sz.flush():
    if isinstance(item, StreamSession):
        assert_type(item.replaces, tuple[int, ...])
    else:
        assert_type(item, LateEvent)
# whether a snapshot is columnar is in its bytes: the caller says which it holds
Objects = sessionize.Sessionizer[list[StreamSession | LateEvent]]
restored = Objects.from_bytes(sz.to_bytes())
assert_type(restored.flush(), list[StreamSession | LateEvent])

columnar = sessionize.Sessionizer(30, columnar=True)
batch = columnar.push_many(np.array([1, 1, 2]), np.array([0, 10, 100]))
assert_type(batch, StreamBatch[StreamSessionTable])
assert_type(batch.sessions.start, npt.NDArray[Any])
assert_type(batch.sessions.replaces, ListColumn)
assert_type(columnar.flush().late.position, npt.NDArray[np.int64])

flag = bool(len(ids) % 2)  # columnar known only at run time: either kind of result
assert_type(sessionize.Sessionizer(30, columnar=flag), sessionize.Sessionizer[Any])
assert_type(sessionize.SearchSessionizer(columnar=flag), sessionize.SearchSessionizer[Any])

for s in sessionize.stream([{"user": "ann", "ts": 0.0}], key="user", time="ts", gap=1800):
    assert_type(s, StreamSession | LateEvent)

search = sessionize.SearchSessionizer(gap="30min")
rows = search.push_events([AppOpen(1, np.datetime64("2026-11-21T09:00", "s"))])
assert_type(rows, list[StreamSearchRow | LateEvent])
search_batch = sessionize.SearchSessionizer(columnar=True).push(1, "APP_OPEN")
assert_type(search_batch, StreamBatch[StreamSearchTable])

# ---- frames ----------------------------------------------------------------

# (polars takes datetime64 in ms, us or ns)
df = pl.DataFrame({"user": users, "ts": times.astype("datetime64[ms]"), "price": price})
assert_type(sessionize.frame.assign(df, key="user", time="ts", gap="30min"), pl.DataFrame)
frame_sessions = sessionize.frame.sessions(df, key="user", time="ts", gap="30min",
                                           agg={"revenue": ("price", "sum")})
assert_type(frame_sessions, pl.DataFrame)
assert_type(t.to_polars(), pl.DataFrame)
