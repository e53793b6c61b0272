# pyright: strict
"""The engine adapters as the documentation's Apache Beam and Bytewax pages
use them, for type checkers: mypy --strict and pyright (strict) must find no
error here, and assert_type pins what the adapters' results are
(tests/test_typing.py, .ci/run).  It also runs, where Apache Beam and
Bytewax are installed (tests/test_typing.py skips it otherwise): every call
here is a real one.  usage.py is the rest of the public API, without them.

Not a test module: run it with ``python tests/typecheck/usage_engines.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable, cast

import apache_beam as beam
import bytewax.operators as op  # pyright: ignore[reportMissingTypeStubs]
from apache_beam.transforms import window
from apache_beam.utils.timestamp import Timestamp
from bytewax.dataflow import Dataflow, Stream
from bytewax.operators.windowing import WindowOut  # pyright: ignore[reportMissingTypeStubs]
from bytewax.testing import TestingSink, TestingSource
from bytewax.testing import run_main as _run_main  # pyright: ignore[reportUnknownVariableType]
from typing_extensions import assert_type

import sessionize
import sessionize.bytewax as szb
from sessionize.beam import (
    CTR, BeamSession, CTRCombineFn, OverallCTR, SearchCTR, SearchCTRRow, Sessionize,
)
from sessionize.events import AppClose, AppOpen, ClickResult, Search

# The engines' own entry points that are unannotated (Beam's Create and Map,
# Bytewax's run_main), typed here once: the adapters' types are the point.
Create = cast(Callable[..., Any], beam.Create)  # pyright: ignore[reportUnknownMemberType]
Map = cast(Callable[..., Any], beam.Map)  # pyright: ignore[reportUnknownMemberType]
run_main = cast(Callable[[Dataflow], None], _run_main)

# ---- Apache Beam -----------------------------------------------------------

events = [("ann", 0), ("bob", 300), ("ann", 1200), ("ann", 3000)]  # seconds


def describe(element: tuple[str, BeamSession]) -> str:
    user, s = element
    assert_type(s.start, Timestamp)
    assert_type(s.count, int)
    assert_type(s.values, list[Any] | None)
    return f"{user} [{s.start}, {s.window_end}) {s.count}"


transform = Sessionize(gap=1800, max_duration="2h", max_duration_mode="fixed")
assert_type(transform, Sessionize)
mode: sessionize.MaxDurationMode = "restart"


def stamped(e: tuple[str, int]) -> window.TimestampedValue[tuple[str, int]]:
    return window.TimestampedValue(e, e[1])


with beam.Pipeline() as p:
    _ = (p | Create(events)
           | Map(stamped)
           | Sessionize(timedelta(minutes=30), max_duration_mode=mode, collect=False)
           | Map(describe))

Click = AppOpen | Search | ClickResult | AppClose
clicks: list[Click] = [AppOpen(1, time=0), Search(1, "dogs", time=1), ClickResult(1, "rover", time=2),
          AppClose(1, time=4)]
with beam.Pipeline() as p:
    _ = (p | Create([(e.user, e) for e in clicks])
           | SearchCTR(gap=5, time="event")
           | OverallCTR()
           | Map(print))

combine = CTRCombineFn()
acc = combine.add_input(combine.create_accumulator(),
                        SearchCTRRow(1, 0, Search(1, "dogs"), 1, True, 1))
assert_type(combine.extract_output(acc), CTR)
assert_type(combine.extract_output(acc).ctr, float)

# ---- Bytewax ---------------------------------------------------------------

t0 = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)
visits = [(user, t0 + timedelta(minutes=m)) for user, m in [("ann", 0), ("bob", 5), ("ann", 20)]]


def ts_of(visit: tuple[str, datetime]) -> datetime:
    return visit[1]


flow = Dataflow("sessions")
keyed = op.key_on("key", op.input("in", flow, TestingSource(visits)), lambda e: e[0])
collected = szb.collect_window("w", keyed, gap=timedelta(minutes=30), ts_getter=ts_of,
                               wait=timedelta(0), max_duration_mode="fixed")
assert_type(collected, WindowOut[tuple[str, datetime], list[tuple[str, datetime]]])
as_sets = szb.collect_window("s", keyed, gap=timedelta(minutes=30), ts_getter=ts_of, into=set)
assert_type(as_sets, WindowOut[tuple[str, datetime], set[tuple[str, datetime]]])
counts = szb.fold_window("f", keyed, gap=timedelta(minutes=30), ts_getter=ts_of,
                         builder=lambda: 0, folder=lambda n, _v: n + 1)
assert_type(counts, WindowOut[tuple[str, datetime], int])
out: list[tuple[str, tuple[int, list[tuple[str, datetime]]]]] = []
op.output("out", collected.down, TestingSink(out))



def user_of(e: Click) -> str:
    return str(e.user)


searches = op.key_on("by_user", op.input("clicks", flow, TestingSource[Click](clicks)), user_of)
ctr = szb.search_ctr("ctr", searches, gap=5)  # the events' times are ints
assert_type(ctr.rows, Stream[tuple[str, sessionize.StreamSearchRow]])
assert_type(ctr.late, Stream[tuple[str, sessionize.LateEvent]])
ctr_rows: list[tuple[str, sessionize.StreamSearchRow]] = []
op.output("ctr_out", ctr.rows, TestingSink(ctr_rows))
run_main(flow)
assert [window_id for _user, (window_id, _visits) in sorted(out)] == [0, 0]
assert [row.clicked for _user, row in ctr_rows] == [True]

# ---- PyFlink (typed without it; run where it is installed) -------------------

try:
    from sessionize.flink import SESSION_TYPE, SessionWindowFunction
except ImportError:  # PyFlink lives in its own venv (it pins an older Beam)
    pass
else:
    function = SessionWindowFunction(gap=timedelta(minutes=10),
                                     allowed_lateness=timedelta(minutes=15),
                                     emit="final", max_duration_mode="fixed",
                                     max_duration=3_600_000)
    assert_type(function, SessionWindowFunction)
    print(SESSION_TYPE)

# ---- Spark (typed; not started here: the Spark page's examples run a job) -----

from pyspark.sql import DataFrame  # noqa: E402

import sessionize.spark as szs  # noqa: E402
from sessionize.spark_iceberg import IcebergSink  # noqa: E402


def spark_job(events: DataFrame, live: DataFrame) -> None:
    """The batch and streaming calls of the Spark pages, typed (never called
    here: they would start a JVM)."""
    batch = szs.sessions(events, key="uuid", time="event_time", gap="30 minutes",
                         max_duration="2 hours", max_duration_mode="fixed")
    assert_type(batch, DataFrame)
    assert_type(szs.assign(events, key="uuid", time="event_time", gap="30min"), DataFrame)
    stream = szs.stream_sessions(live, key="user", time="ts", gap="30 minutes",
                                 max_duration="2 hours", on_bad="keep")
    assert_type(stream, DataFrame)
    per_row = szs.stream_sessions(live, key="user", time="ts", gap=live["timeout"],
                                  max_gap="2 hours", on_bad_gap="drop")
    assert_type(per_row, DataFrame)
    sink = IcebergSink("/tmp/warehouse", table="clicks.sessions", job="clicks")
    sink(stream, 0)
