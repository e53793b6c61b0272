"""Results out as Arrow: SessionTable.to_arrow(), to_polars() and the
PyCapsule stream interface that pyarrow, polars and DuckDB read; the same
values as the numpy columns, numeric columns shared without a copy."""

from __future__ import annotations

import numpy as np
import pytest

import sessionize
from engines.require import optional

USERS = np.array(["ann", "bob", "ann", "ann", "bob", "ann"])
TIMES = np.array(["2026-11-21T09:00", "2026-11-21T09:05", "2026-11-21T09:20",
                  "2026-11-21T10:30", "2026-11-21T09:50", "2026-11-21T10:40"],
                 dtype="datetime64[s]")


def _tables():
    yield "U keys, datetime64[s]", sessionize.sessions(USERS, TIMES, gap="30min")
    ints = np.array([7, 3, 7, 7, 3, 7], dtype=np.int32)
    yield "int32 keys, int times", sessionize.sessions(ints, TIMES.astype(np.int64), gap=1800)
    yield "object keys, float seconds", sessionize.sessions(
        list(USERS), TIMES.astype(np.int64).astype(float), gap=1800.0)
    yield "bytes keys, max_duration", sessionize.sessions(
        USERS.astype("S"), TIMES, gap="30min", max_duration="1h")
    yield "empty", sessionize.sessions(np.array([], dtype="U1"),
                                       np.array([], dtype="M8[ms]"), gap="1s")


@pytest.mark.parametrize("name,t", list(_tables()), ids=[n for n, _ in _tables()])
def test_to_arrow_has_the_numpy_columns(name, t):
    pa = optional("pyarrow", extra="frame")
    a = t.to_arrow()
    assert a.column_names == list(t.columns)
    assert a.num_rows == len(t)
    for c in t.columns:
        got = a.column(c).to_pylist()
        want = t[c].astype(object).tolist() if t[c].dtype.kind == "M" else t[c].tolist()
        assert got == want, c
    assert a.schema.field("count").type == pa.int64()
    if t.start.dtype.kind == "M":
        assert a.schema.field("start").type == pa.timestamp(np.datetime_data(t.start.dtype)[0])


def test_numeric_columns_are_shared_not_copied():
    optional("pyarrow", extra="frame")
    t = sessionize.sessions(USERS, TIMES, gap="30min")
    a = t.to_arrow()
    for c in ("count", "index"):
        assert np.shares_memory(a.column(c).chunk(0).to_numpy(), t[c])
    start = a.column("start").chunk(0).to_numpy()
    assert np.shares_memory(start, t.start)


def test_capsule_stream_reads_in_pyarrow_polars_and_duckdb():
    pa = optional("pyarrow", extra="frame")
    pl = optional("polars", extra="frame")
    duckdb = optional("duckdb", extra="bench")
    t = sessionize.sessions(USERS, TIMES, gap="30min")
    assert pa.table(t).equals(t.to_arrow())
    df = pl.DataFrame(t)  # polars reads any __arrow_c_stream__ object as a frame
    assert df["key"].to_list() == t.key.tolist()
    assert df["count"].to_list() == t.count.tolist()
    rows = duckdb.sql("select key, sum(count) from t group by key order by key").fetchall()
    assert rows == [("ann", 4), ("bob", 2)]


def test_to_polars_keeps_rows_and_values():
    pl = optional("polars", extra="frame")
    t = sessionize.sessions(USERS, TIMES, gap="30min")
    df = t.to_polars()
    assert isinstance(df, pl.DataFrame)
    assert df.columns == list(t.columns)
    assert df["index"].to_list() == t.index.tolist()
    assert [v.replace(tzinfo=None) for v in df["window_end"].to_list()] == \
        t.window_end.astype(object).tolist()


def test_search_tables_export_too():
    optional("pyarrow", extra="frame")
    from sessionize.events import AppClose, AppOpen, ClickResult, Search
    r = sessionize.search_ctr([AppOpen(1), Search(1, "q"), ClickResult(1, "x"), AppClose(1)])
    a = r.to_arrow()
    assert a.column("clicked").to_pylist() == [True]
    assert a.column("key").to_pylist() == [1]
