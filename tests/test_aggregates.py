"""Named per-session aggregates (sessions(..., agg=...), and
sessionize.frame.sessions(..., agg=...)): every aggregate against pandas'
groupby on the same events, for integer and string keys, integer and
datetime64 times, with nulls (NaN, None, NaT, pandas NA) and time ties."""

from __future__ import annotations

import datetime
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import sessionize
from sessionize import frame

from engines.require import optional

pd = optional("pandas", extra="frame")

HOWS = ("count", "sum", "min", "max", "mean", "first", "last", "n_unique", "list")
PANDAS_HOW = {"n_unique": "nunique", "list": list}
NUMERIC = {"f", "i", "I", "b"}  # the value columns sum and mean take


def _is_null(x) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    if isinstance(x, (float, np.floating)):
        return math.isnan(x)
    if isinstance(x, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(x))
    return False


def _plain(x):
    """A value compared across pandas and sessionize: one null, Python
    scalars, datetimes as int64 nanoseconds, sequences as lists."""
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_plain(v) for v in x]
    if _is_null(x):
        return None
    if isinstance(x, (pd.Timestamp, datetime.datetime)):
        return pd.Timestamp(x).value  # nanoseconds, whatever the unit
    if isinstance(x, np.datetime64):
        return int(x.astype("M8[ns]").astype(np.int64))
    if isinstance(x, np.generic):
        return x.item()
    return x


def _same(ours, theirs, how, where):
    assert len(ours) == len(theirs), where
    for i, (a, b) in enumerate(zip(ours, theirs)):
        a, b = _plain(a), _plain(b)
        if how == "mean" or (how == "sum" and isinstance(b, float)):
            if a is None or b is None:
                assert a is None and b is None, (where, i, a, b)
            else:
                assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (where, i, a, b)
        else:
            assert a == b, (where, i, a, b)


def _events(rng, n, key_kind, time_kind):
    n_keys = max(1, n // 8)
    if key_kind == "int":
        keys = rng.integers(0, n_keys, n).astype(np.int64) * 7 - 3
    elif key_kind == "str":
        keys = np.array([f"user{i}" for i in range(n_keys)])[rng.integers(0, n_keys, n)]
    elif key_kind == "object":  # mixed str and int keys, as lists of hashables come
        pool = np.empty(n_keys, dtype=object)
        pool[:] = [f"k{i}" if i % 2 else i for i in range(n_keys)]
        keys = pool[rng.integers(0, n_keys, n)]
    else:  # arrow strings, read by the core through the C Data Interface
        pa = optional("pyarrow", extra="frame")
        keys = pa.array([f"user{i}" for i in rng.integers(0, n_keys, n)])
    # small steps on a coarse grid: many ties, and gaps either side of 10
    t = rng.integers(0, 4 * n, n) // 3 * 3
    if time_kind == "int":
        times = t
    elif time_kind == "datetime64":
        times = (np.datetime64("2026-11-21T09:00", "s") + t * np.timedelta64(1, "s"))
    elif time_kind == "float":  # float seconds
        times = 1.7e9 + t.astype(np.float64)
    else:  # an arrow timestamp with a zone
        pa = optional("pyarrow", extra="frame")
        times = pa.array(t * 1000).cast(pa.timestamp("ms", "Asia/Kolkata"))
    return keys, times


def _values(rng, n, null_rate):
    """One column of each kind, `null_rate` of each nullable one null."""
    nulls = rng.random(n) < null_rate
    f = rng.normal(0, 100, n).round(2)
    f[nulls] = np.nan
    i = rng.integers(-50, 50, n)
    nullable = pd.array(rng.integers(-5, 5, n), dtype="Int64")
    nullable[rng.random(n) < null_rate] = pd.NA
    words = np.array(["home", "search", "cart", "pay", "help"])
    s = words[rng.integers(0, len(words), n)].astype(object)
    s[rng.random(n) < null_rate] = None
    b = rng.random(n) < 0.5
    d = np.datetime64("2026-01-01", "ms") + rng.integers(0, 10**6, n).astype("m8[ms]")
    d[rng.random(n) < null_rate] = np.datetime64("NaT", "ms")
    u = words[rng.integers(0, len(words), n)]  # numpy str, no null
    return {"f": f, "i": i, "I": nullable, "s": s, "b": b, "d": d, "u": u}


def _applicable(col, how):
    return how not in ("sum", "mean") or col in NUMERIC


def _expected(keys, times, values, gap, col, how):
    """pandas: the events sorted by (session, time, input order), grouped by
    session id."""
    ids = sessionize.assign(keys, times, gap=gap)
    tkey = np.asarray(times) if not hasattr(times, "to_numpy") else \
        times.to_numpy(zero_copy_only=False)
    df = pd.DataFrame({"sid": ids, "t": tkey, "v": values[col]})
    df = df.iloc[np.lexsort((tkey, ids))]
    g = df.groupby("sid", sort=True)["v"]
    if how in ("min", "max") and df["v"].dtype == object:
        # pandas >= 3 skips an object column's nulls here; 2.x (Python 3.10's
        # numpy 1.23 pins it) raises on them: the same rule, group by group
        return g.agg(lambda x: getattr(x.dropna(), how)() if x.notna().any()
                     else np.nan).tolist()
    return g.agg(PANDAS_HOW.get(how, how)).tolist()


@pytest.mark.parametrize("key_kind", ["int", "str", "object", "arrow"])
@pytest.mark.parametrize("time_kind", ["int", "datetime64", "float", "arrow"])
@pytest.mark.parametrize("seed", [0, 1])
def test_every_aggregate_equals_pandas_groupby(key_kind, time_kind, seed):
    rng = np.random.default_rng(seed)
    n = 400
    keys, times = _events(rng, n, key_kind, time_kind)
    values = _values(rng, n, null_rate=0.35)
    gap = {"int": 10, "datetime64": "10s", "float": 10.0, "arrow": "10s"}[time_kind]
    agg = {f"{c}_{h}": (c, h) for c in values for h in HOWS if _applicable(c, h)}
    t = sessionize.sessions(keys, times, gap=gap, values=values, agg=agg)
    assert t.columns[6:] == tuple(agg)
    for name, (col, how) in agg.items():
        _same(t[name], _expected(keys, times, values, gap, col, how), how, name)


@pytest.mark.parametrize("null_rate", [0.0, 0.9, 1.0])
def test_no_nulls_and_all_nulls(null_rate):
    rng = np.random.default_rng(7)
    keys, times = _events(rng, 200, "str", "int")
    values = _values(rng, 200, null_rate)
    agg = {f"{c}_{h}": (c, h) for c in values for h in HOWS if _applicable(c, h)}
    t = sessionize.sessions(keys, times, gap=10, values=values, agg=agg)
    for name, (col, how) in agg.items():
        _same(t[name], _expected(keys, times, values, 10, col, how), how, name)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 30),
                          st.one_of(st.none(), st.floats(-5, 5, allow_nan=False),
                                    st.just(float("nan")))),
                min_size=0, max_size=40),
       st.integers(1, 6))
def test_property_float_values(events, gap):
    keys = np.array([e[0] for e in events], dtype=np.int64)
    times = np.array([e[1] for e in events], dtype=np.int64)
    v = np.array([np.nan if e[2] is None else e[2] for e in events], dtype=np.float64)
    values = {"v": v}
    agg = {f"v_{h}": ("v", h) for h in HOWS}
    t = sessionize.sessions(keys, times, gap=gap, values=values, agg=agg)
    if not len(events):
        assert len(t) == 0 and all(len(t[n]) == 0 for n in agg)
        return
    for how in HOWS:
        _same(t[f"v_{how}"], _expected(keys, times, values, gap, "v", how), how, how)


def test_ties_keep_input_order():
    keys = np.array([1, 1, 1, 2, 1])
    times = np.array([5, 5, 3, 5, 5])
    pages = np.array(["b", "c", "a", "x", "d"])
    t = sessionize.sessions(keys, times, gap=10,
                            agg={"pages": (pages, "list"), "first": (pages, "first"),
                                 "last": (pages, "last")})
    assert t.pages.tolist() == [("a", "b", "c", "d"), ("x",)]
    assert t.first.tolist() == ["a", "x"] and t["last"].tolist() == ["d", "x"]


def test_arrays_in_the_spec_or_names_in_values():
    keys, times = np.array([1, 1, 2]), np.array([0, 1, 0])
    price = np.array([1.5, 2.0, 4.0])
    a = sessionize.sessions(keys, times, gap=5, agg={"revenue": (price, "sum")})
    b = sessionize.sessions(keys, times, gap=5, values={"price": price},
                            agg={"revenue": ("price", "sum")})
    assert a.revenue.tolist() == b.revenue.tolist() == [3.5, 4.0]
    assert isinstance(a, sessionize.SessionTable)
    assert type(sessionize.sessions(keys, times, gap=5)) is sessionize.SessionTable


def test_result_types():
    keys, times = np.array([1, 1, 2, 3]), np.array([0, 1, 0, 0])
    i = np.array([3, 4, 5, 6], dtype=np.int32)
    nullable = pd.array([3, None, None, 1], dtype="Int64")
    t = sessionize.sessions(keys, times, gap=5, agg={
        "n": (i, "count"), "s": (i, "sum"), "lo": (i, "min"), "m": (i, "mean"),
        "u": (i, "n_unique"), "nlo": (nullable, "min"), "ns": (nullable, "sum")})
    assert t.n.dtype == np.int64 and t.u.dtype == np.int64 and t.s.dtype == np.int64
    assert t.lo.dtype == np.int32 and t.lo.tolist() == [3, 5, 6]
    assert t.m.dtype == np.float64
    # integers that held a null: float64 with NaN, as pandas' numpy columns
    assert t.nlo.dtype == np.float64 and _plain(t.nlo) == [3.0, None, 1.0]
    assert t.ns.tolist() == [3, 0, 1]


def test_value_kinds_from_arrow_and_polars_equal_numpy():
    pa = optional("pyarrow", extra="frame")
    pl = optional("polars", extra="frame")
    rng = np.random.default_rng(3)
    keys, times = _events(rng, 300, "int", "int")
    f = rng.normal(size=300)
    f[rng.random(300) < 0.3] = np.nan
    s = np.array(["a", "b", "c"], dtype=object)[rng.integers(0, 3, 300)]
    s[rng.random(300) < 0.3] = None
    fa = pa.array(f, from_pandas=True)  # NaN -> null
    agg_np = {f"f{h}": (f, h) for h in HOWS} | {f"s{h}": (s, h) for h in HOWS
                                          if h not in ("sum", "mean")}
    want = sessionize.sessions(keys, times, gap=10, agg=agg_np)
    for fv, sv in [(fa, pa.array(s)), (pl.Series(fa), pl.Series(s.tolist())),
                   (pa.chunked_array([fa[:100], fa[100:]]), pa.array(s).dictionary_encode()),
                   (pd.Series(f, dtype="Float64"), pd.Series(s, dtype="string"))]:
        agg = {f"f{h}": (fv, h) for h in HOWS} | {f"s{h}": (sv, h) for h in HOWS
                                            if h not in ("sum", "mean")}
        got = sessionize.sessions(keys, times, gap=10, agg=agg)
        for name in agg:
            _same(got[name], want[name], agg_np[name][1], f"{type(fv).__name__} {name}")


def test_masked_array_values():
    keys, times = np.array([1, 1, 2]), np.array([0, 1, 0])
    v = np.ma.array([5, 6, 7], mask=[False, True, True])
    t = sessionize.sessions(keys, times, gap=5,
                            agg={"c": (v, "count"), "lo": (v, "min"), "l": (v, "list")})
    assert t.c.tolist() == [1, 0]
    assert _plain(t.lo) == [5, None]
    assert t.l.tolist() == [(5, None), (None,)]


def test_table_exports_and_pickle():
    pa = optional("pyarrow", extra="frame")
    pl = optional("polars", extra="frame")
    keys, times = np.array(["a", "a", "b"]), np.array([0, 1, 0])
    pages = np.array(["x", None, "z"], dtype=object)
    t = sessionize.sessions(keys, times, gap=5,
                            agg={"pages": (pages, "list"), "n": (pages, "count")})
    assert isinstance(t, sessionize.AggregatedSessionTable)
    assert len(t) == 2 and t.columns[-2:] == ("pages", "n")
    assert list(t.rows())[0].pages == ("x", None)
    assert t.to_arrow().column("pages").to_pylist() == [["x", None], ["z"]]
    assert t.to_polars()["n"].to_list() == [1, 1]
    assert t.to_pandas()["n"].tolist() == [1, 1]
    assert pa.table(t).num_columns == 8
    assert pl.DataFrame(t).columns[-1] == "n"
    u = pickle.loads(pickle.dumps(t))
    assert u.columns == t.columns and u.pages.tolist() == t.pages.tolist()


@pytest.mark.parametrize("agg, values, exc, text", [
    ({"x": ("v", "median")}, {"v": [1, 2, 3]}, sessionize.SessionizeError,
     "agg['x']: unknown aggregate 'median'"),
    ({"x": "v"}, {"v": [1, 2, 3]}, TypeError, "agg['x']: expected a (values, how) pair"),
    ({"x": ("w", "sum")}, {"v": [1, 2, 3]}, KeyError, "agg['x']: no column 'w' in values"),
    ({"x": ("v", "sum")}, None, sessionize.SessionizeError, "agg['x']: 'v' names a column"),
    ({"x": ([1, 2], "sum")}, None, sessionize.SessionizeError,
     "agg['x']: 2 values for 3 events"),
    ({"x": (np.array(["a", "b", "c"]), "sum")}, None, TypeError,
     "agg['x']: 'sum' needs numbers or bools (or timedelta64), got str values"),
    ({"x": (np.array(["a", "b", "c"]), "mean")}, None, TypeError, "agg['x']: 'mean' needs"),
    ({"start": ("v", "sum")}, {"v": [1, 2, 3]}, sessionize.SessionizeError,
     "agg['start']: clashes with the sessions' own column 'start'"),
    ({"rows": ("v", "sum")}, {"v": [1, 2, 3]}, sessionize.SessionizeError,
     "agg['rows']: clashes with the table's own attribute 'rows'"),
    ({"x": (np.zeros((3, 1)), "sum")}, None, TypeError, "agg['x']: expected a 1-D array"),
    ({"x": (np.array([1, "a", 2.0], dtype=object), "min")}, None, TypeError,
     "agg['x']: 'min' needs values that order"),
    ([("v", "sum")], None, TypeError, "agg: expected a dict"),
])
def test_bad_specs_name_the_aggregate(agg, values, exc, text):
    with pytest.raises(exc) as e:
        sessionize.sessions([1, 1, 2], [0, 1, 2], gap=5, values=values, agg=agg)
    assert text in str(e.value)


def test_large_input_is_vectorized():
    """A million events, 200 k sessions: the kernels run in numpy (a loop per
    session would take many seconds here)."""
    import time

    rng = np.random.default_rng(0)
    n = 1_000_000
    keys = rng.integers(0, 50_000, n)
    times = rng.integers(0, 10**6, n)
    price = rng.random(n)
    page = rng.integers(0, 100, n)
    started = time.perf_counter()
    t = sessionize.sessions(keys, times, gap=60, agg={
        f"v_{h}": (price if h in ("sum", "mean") else page, h) for h in HOWS})
    assert len(t) > 100_000
    assert int(t.count.sum()) == n == int(t["v_count"].sum())
    assert int(t["v_list"].offsets[-1]) == n
    assert time.perf_counter() - started < 30


# ---- frames -------------------------------------------------------------

FRAME_AGG = {"pages": ("page", "list"), "first_page": ("page", "first"),
             "last_page": ("page", "last"), "n_pages": ("page", "n_unique"),
             "page_events": ("page", "count"), "revenue": ("price", "sum"),
             "avg": ("price", "mean"), "lo": ("price", "min"), "hi": ("price", "max"),
             "qty": ("n", "sum"), "qmax": ("n", "max"), "first_ts": ("ts", "first")}


def _frame_data(seed, n=300):
    rng = np.random.default_rng(seed)
    keys, t = _events(rng, n, "str", "int")
    ts = pd.Series(pd.to_datetime(t, unit="s")).dt.tz_localize("UTC").dt.tz_convert(
        "Europe/Paris")
    page = np.array(["home", "search", "cart", "pay"], dtype=object)[rng.integers(0, 4, n)]
    page[rng.random(n) < 0.3] = None
    price = rng.normal(20, 5, n).round(2)
    price[rng.random(n) < 0.3] = np.nan
    qty = pd.array(rng.integers(0, 5, n), dtype="Int64")
    qty[rng.random(n) < 0.3] = pd.NA
    return pd.DataFrame({"user": keys, "ts": ts, "page": page, "price": price, "n": qty})


def _frame_expected(df, gap):
    ids = sessionize.frame.assign(df, key="user", time="ts", gap=gap)["session_id"]
    d = df.assign(sid=ids.to_numpy()).iloc[np.lexsort((df["ts"].array.asi8, ids))]
    g = d.groupby("sid", sort=True)
    return {out: g[c].agg(PANDAS_HOW.get(h, h)).tolist() for out, (c, h) in FRAME_AGG.items()}


@pytest.mark.parametrize("lib", ["pandas", "polars", "arrow"])
def test_frame_aggregates_equal_pandas_groupby(lib):
    df = _frame_data(5)
    want = _frame_expected(df, "10s")
    if lib == "polars":
        pl = optional("polars", extra="frame")
        src = pl.from_pandas(df)
    elif lib == "arrow":
        pa = optional("pyarrow", extra="frame")
        src = pa.table(df)
    else:
        src = df
    out = frame.sessions(src, key="user", time="ts", gap="10s", agg=FRAME_AGG)
    names = list(out.columns) if lib != "arrow" else out.column_names
    assert names == ["user", "start", "end", "count", "index", "window_end", *FRAME_AGG]
    for name, (_, how) in FRAME_AGG.items():
        col = out[name] if lib != "arrow" else out.column(name)
        got = col.to_list() if lib == "polars" else (
            col.to_pylist() if lib == "arrow" else col.tolist())
        if name == "first_ts":  # a zone-aware datetime: compare the instants
            got = [None if _is_null(x) else pd.Timestamp(x).value for x in got]
        _same(got, want[name], how, f"{lib} {name}")


def test_frame_keeps_column_types():
    pl = optional("polars", extra="frame")
    pa = optional("pyarrow", extra="frame")
    df = _frame_data(6)
    p = frame.sessions(df, key="user", time="ts", gap="10s", agg=FRAME_AGG)
    assert str(p["qmax"].dtype) == "Int64" and str(p["qty"].dtype) == "Int64"
    assert p["first_ts"].dtype == df["ts"].dtype
    assert p["pages"].dtype == object and isinstance(p["pages"][0], list)
    src = pl.from_pandas(df)
    q = frame.sessions(src, key="user", time="ts", gap="10s", agg=FRAME_AGG)
    assert q["qmax"].dtype == pl.Int64 and q["first_ts"].dtype == src["ts"].dtype
    assert src["ts"].dtype.time_zone == "Europe/Paris"
    assert q["pages"].dtype == pl.List(pl.String)
    a = frame.sessions(pa.table(df), key="user", time="ts", gap="10s", agg=FRAME_AGG)
    assert a.schema.field("first_ts").type == pa.table(df).schema.field("ts").type
    assert pa.types.is_list(a.schema.field("pages").type)


def test_frame_agg_errors():
    df = _frame_data(1, n=20)
    with pytest.raises(KeyError, match=r"agg\['x'\]: no column 'nope'"):
        frame.sessions(df, key="user", time="ts", gap="10s", agg={"x": ("nope", "sum")})
    with pytest.raises(sessionize.SessionizeError, match=r"agg\['user'\]: clashes"):
        frame.sessions(df, key="user", time="ts", gap="10s", agg={"user": ("page", "count")})
    with pytest.raises(sessionize.SessionizeError, match=r"agg\['end'\]: clashes"):
        frame.sessions(df, key="user", time="ts", gap="10s", agg={"end": ("page", "count")})
    with pytest.raises(TypeError, match=r"agg\['x'\]: expected a \(column name, how\)"):
        frame.sessions(df, key="user", time="ts", gap="10s", agg={"x": (df["page"], "count")})
    with pytest.raises(TypeError, match=r"agg\['x'\]: 'sum' needs"):
        frame.sessions(df, key="user", time="ts", gap="10s", agg={"x": ("page", "sum")})
    two = pd.concat([df, df[["page"]]], axis=1)
    with pytest.raises(sessionize.SessionizeError, match="2 columns named 'page'"):
        frame.sessions(two, key="user", time="ts", gap="10s", agg={"x": ("page", "count")})


def test_arrow_stream_reads_only_named_columns():
    pa = optional("pyarrow", extra="frame")
    df = _frame_data(2, n=50)
    table = pa.table(df)
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=7))
    out = frame.sessions(reader, key="user", time="ts", gap="10s",
                         agg={"revenue": ("price", "sum"), "pages": ("page", "list")})
    want = frame.sessions(df, key="user", time="ts", gap="10s",
                          agg={"revenue": ("price", "sum"), "pages": ("page", "list")})
    assert out.column("revenue").to_pylist() == pytest.approx(want["revenue"].tolist())
    assert out.column("pages").to_pylist() == want["pages"].tolist()


def test_readme_frame_example_pages_visited_in_one_call():
    """The frames guide's example (docs/guides/frames.md): the Spark
    Structured Streaming sessionization pipeline's pages_visited."""
    import pathlib
    import re
    import textwrap

    page = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "guides" / "frames.md").read_text()
    block = next(textwrap.dedent(b) for b in
                 re.findall(r"```python\n(.*?)```", page, flags=re.S)
                 if "pages_visited" in b and "clicks = pd.DataFrame" in textwrap.dedent(b))
    ns: dict = {}
    exec(block.replace("print(", "(lambda *a: None)("), ns)
    assert ns["s"]["pages_visited"].tolist() == [["home", "cart"], ["home"], ["home"]]
    assert "[['home', 'cart'], ['home'], ['home']]\n" in page


# ---- the command line: --collect FIELD --agg NAME=HOW ----------------------

def _cli(*args):
    import os
    import subprocess
    import sys

    parent = os.path.dirname(os.path.dirname(os.path.abspath(sessionize.__file__)))
    return subprocess.run([sys.executable, "-m", "sessionize", *map(str, args)],
                          capture_output=True, env={**os.environ, "PYTHONPATH": parent})


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_cli_agg_equals_the_array_api(tmp_path, fmt):
    """--agg runs the array API's kernels over each closed session's collected
    values: its rows equal sessions(agg=...) on the same events."""
    import json

    if fmt == "parquet":
        optional("pyarrow.parquet", extra="parquet")
    rng = np.random.default_rng(11)
    n = 2000
    keys = [f"u{i}" for i in rng.integers(0, 60, n)]
    ms = np.sort(rng.integers(0, 6 * 3600 * 1000, n))  # in time order, many ties
    ms = ms // 60000 * 60000
    pages = [None if rng.random() < 0.2 else str(p) for p in
             np.array(["home", "search", "cart", "pay"])[rng.integers(0, 4, n)]]
    prices = [None if rng.random() < 0.3 else float(round(x, 2))
              for x in rng.normal(10, 3, n)]
    src = tmp_path / "e.jsonl"
    src.write_text("".join(json.dumps({"uuid": k, "ts": int(t), "page": p, "price": x}) + "\n"
                           for k, t, p, x in zip(keys, ms, pages, prices)))
    keys_o = np.empty(n, dtype=object)
    keys_o[:] = keys
    times = ms.astype("datetime64[ms]")
    page_o = np.empty(n, dtype=object)
    page_o[:] = pages
    price_f = np.array([np.nan if x is None else x for x in prices])
    for field, hows in (("page", ("first", "last", "n_unique", "count", "min", "list")),
                        ("price", ("sum", "mean", "min", "max", "count"))):
        out = tmp_path / f"o_{field}.{fmt}"
        args = [a for h in hows for a in ("--agg", f"{field}_{h}={h}")]
        p = _cli("sessions", src, "-o", out, "--key", "uuid", "--time", "ts", "--gap", "10min",
                 "--collect", field, *args, "-q")
        assert p.returncode == 0, p.stderr.decode()
        values = {"page": page_o, "price": price_f}
        t = sessionize.sessions(keys_o, times, gap="10min", values=values,
                                agg={f"{field}_{h}": (field, h) for h in hows})
        want = {}
        for g in range(len(t)):
            want[(t.key[g], int(t.start[g].astype(np.int64)))] = {
                f"{field}_{h}": _plain(t[f"{field}_{h}"][g]) for h in hows}
        if fmt == "jsonl":
            rows = [json.loads(line) for line in out.read_text().splitlines()]
        elif fmt == "csv":
            import csv

            with open(out, newline="") as f:
                rows = list(csv.DictReader(f))
            for r in rows:
                r["session_start_time_ms"] = int(r["session_start_time_ms"])
                for h in hows:
                    v = r[f"{field}_{h}"]
                    r[f"{field}_{h}"] = (None if v == "" else json.loads(v)
                                         if h in ("list", "count", "n_unique", "sum", "mean")
                                         or field == "price" else v)
        else:
            import pyarrow.parquet as pq

            rows = pq.read_table(out).to_pylist()
        assert len(rows) == len(t)
        for r in rows:
            w = want[(r["uuid"], r["session_start_time_ms"])]
            for h in hows:
                _same([r[f"{field}_{h}"]], [w[f"{field}_{h}"]], h, f"{fmt} {field} {h}")


def test_cli_agg_errors(tmp_path):
    src = tmp_path / "e.jsonl"
    src.write_text('{"u": "a", "t": 0, "p": "x"}\n')
    base = ["sessions", src, "--key", "u", "--time", "t", "--gap", "30min", "-q"]
    for extra, text in [
        (["--agg", "x=first"], "--agg: aggregates the --collect field; give --collect FIELD"),
        (["--collect", "p", "--agg", "first"], "--agg first: expected NAME=HOW"),
        (["--collect", "p", "--agg", "x=median"], "--agg x=median: unknown aggregate 'median'"),
        (["--collect", "p", "--agg", "event_count=count"],
         "--agg event_count=count: the row already has a column 'event_count'"),
        (["--collect", "p", "--agg", "s=sum"], "--agg s=sum: 'sum' needs numbers"),
    ]:
        p = _cli(*base, *extra)
        assert p.returncode == 2 and text in p.stderr.decode(), (extra, p.stderr.decode())


def test_readme_aggregate_example_gives_what_it_shows():
    import pathlib
    import re

    # the arrays guide (docs/guides/arrays.md), where the README's example went
    page = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "guides" / "arrays.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    notebook = next(b for b in blocks if "users = np.array" in b)
    example = next(b for b in blocks if '"pages_visited": ("page", "list")' in b)
    ns: dict = {"print": lambda *a: None}
    exec(notebook, ns)
    exec(example, ns)
    t = ns["t"]
    assert t.pages_visited[0] == ("home", "cart")
    assert repr(t["revenue"]) == "array([0. , 6. , 1.5, 3. ])"
    assert "('home', 'cart') [0.  6.  1.5 3. ] ['home' 'home' 'home' None]" in page
    assert t.first_page.tolist() == ["home", "home", "home", None]
    assert list(t.to_pandas().columns[-3:]) == ["pages_visited", "first_page", "revenue"]


def test_empty_input_and_empty_agg():
    t = sessionize.sessions(np.array([], dtype=np.int64), np.array([], dtype=np.int64), gap=5,
                            agg={f"v_{h}": (np.array([], dtype=np.float64), h) for h in HOWS})
    assert len(t) == 0 and all(len(t[f"v_{h}"]) == 0 for h in HOWS)
    e = sessionize.sessions([1, 1], [0, 1], gap=5, agg={})
    assert isinstance(e, sessionize.AggregatedSessionTable) and e.columns == \
        sessionize.SessionTable.columns


def test_frame_arrow_duplicate_value_column():
    pa = optional("pyarrow", extra="frame")
    table = pa.table([pa.array(["a", "a"]), pa.array([0, 1]), pa.array([1, 2]),
                      pa.array([3, 4])], names=["u", "t", "p", "p"])
    with pytest.raises(sessionize.SessionizeError, match="2 columns named 'p'"):
        frame.sessions(table, key="u", time="t", gap=5, agg={"x": ("p", "sum")})


def test_lists_of_numbers_with_none_sum_as_pandas():
    keys, times = [1, 1, 2, 2, 3], [0, 1, 0, 1, 0]
    for v in ([1, None, 3, 4, None], [1.5, None, 2, True, None], [None] * 5):
        t = sessionize.sessions(keys, times, gap=5,
                                agg={"s": (v, "sum"), "m": (v, "mean"), "c": (v, "count")})
        want = pd.DataFrame({"k": keys, "v": pd.Series(v, dtype=object)}).groupby("k")["v"]
        _same(t.s, want.sum().tolist(), "sum", f"sum {v}")
        _same(t.m, want.agg(lambda s: s.dropna().astype(float).mean()).tolist(), "mean", "m")
        assert t.c.tolist() == want.count().tolist()
    with pytest.raises(TypeError, match=r"agg\['s'\]: 'sum' needs numbers"):
        sessionize.sessions(keys, times, gap=5, agg={"s": (["a", None, 1, 2, 3], "sum")})


def test_values_without_agg_is_refused():
    with pytest.raises(TypeError, match="values: given without agg"):
        sessionize.sessions([1, 1], [1, 2], gap=5, values={"price": [1.0, 2.0]})
