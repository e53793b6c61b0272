# pyright: strict
"""Misuses of the engine adapters that type checkers must catch: every line
marked ``# error: <mypy code>`` is an error for mypy --strict (with that
code) and for pyright, and no other line is (tests/test_typing.py, where
Apache Beam and Bytewax are installed; PyFlink need not be, its adapter is
typed without it).

Never run: some of these calls would raise.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bytewax.dataflow import Stream
from pyspark.sql import DataFrame

import sessionize.bytewax as szb
from sessionize.beam import CTRCombineFn, SearchCTR, Sessionize
from sessionize.flink import SessionWindowFunction  # checked without PyFlink too
from sessionize.spark import stream_sessions


def ts_of(visit: tuple[str, datetime]) -> datetime:
    return visit[1]


def add_one(n: int, _visit: object) -> int:
    return n + 1


gap = timedelta(minutes=30)


def misuses(keyed: Stream[tuple[str, tuple[str, datetime]]], live: DataFrame) -> None:
    stream_sessions(live, key="u", time="t", gap="30min", on_bad="skip")  # error: arg-type
    Sessionize(gap=1800, max_duration=3600, max_duration_mode="fixd")  # error: arg-type
    SearchCTR(gap=5, time="events")  # error: arg-type
    szb.collect_window("w", keyed, gap=1800, ts_getter=ts_of)  # error: call-overload
    szb.fold_window("f", keyed, gap=gap, ts_getter=ts_of, builder=int, folder=add_one,
                    shards=16, max_duration_mode="restarts")  # error: arg-type
    szb.search_ctr("ctr", keyed).rows.sessions  # error: attr-defined
    CTRCombineFn().extract_output((1, 0, 0)).rate  # error: attr-defined
    SessionWindowFunction(gap=timedelta(minutes=10), emit="all")  # error: arg-type
    SessionWindowFunction(gap=0.5)  # error: arg-type
