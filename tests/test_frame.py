"""sessionize.frame: pandas, polars and arrow streams in, the same library
out, datetime units and time zones kept, results equal to the array API
(and to the pure-Python reference model) on random data."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import sessionize
from sessionize import frame

from engines.require import optional
from reference import reference_sessions

pd = optional("pandas", extra="frame")
pl = optional("polars", extra="frame")
pa = optional("pyarrow", extra="frame")

ZONES = [None, "UTC", "Europe/Paris", "Asia/Kolkata", "America/St_Johns"]
UNIT_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def _events(rng, n, n_keys, unit):
    keys = rng.choice([f"u{i}" for i in range(n_keys)], n)
    # minutes apart, in the unit: gaps around the 30-minute rule
    steps = rng.exponential(12 * 60, n).astype(np.int64) * (10**9 // UNIT_NS[unit])
    times = np.datetime64("2026-10-01T00:00:00", unit).astype(np.int64) + \
        rng.permutation(np.cumsum(steps))
    return keys, times.astype(f"M8[{unit}]")


def _pandas(keys, times, tz):
    s = pd.Series(times)
    if tz is not None:
        s = s.dt.tz_localize("UTC").dt.tz_convert(tz)
    return pd.DataFrame({"user": keys, "ts": s})


def _polars(keys, times, tz):
    unit = np.datetime_data(times.dtype)[0]
    s = pl.Series("ts", times.view(np.int64)).cast(pl.Datetime(unit, tz))
    return pl.DataFrame([pl.Series("user", keys.tolist()), s])


def _arrow(keys, times, tz):
    unit = np.datetime_data(times.dtype)[0]
    return pa.table({"user": pa.array(keys.tolist()),
                     "ts": pa.array(times.view(np.int64)).cast(pa.timestamp(unit, tz))})


def _instants(col, unit):
    """A frame's time column as int64 instants (UTC) in `unit`."""
    if isinstance(col, pd.Series):
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            return np.asarray(col.array.asi8)
        return col.to_numpy().view(np.int64)
    if isinstance(col, pl.Series):
        return col.to_physical().to_numpy()
    return col.cast(pa.int64()).to_numpy()


def _col(out, name):
    return out.column(name) if isinstance(out, pa.Table) else out[name]


def _dtype_of(out, name):
    if isinstance(out, pa.Table):
        return out.schema.field(name).type
    return out[name].dtype


LIBS = {"pandas": (_pandas, ("s", "ms", "us", "ns")), "polars": (_polars, ("ms", "us", "ns")),
        "arrow": (_arrow, ("s", "ms", "us", "ns"))}
CASES = [(lib, unit, tz) for lib, (_, units) in LIBS.items() for unit in units for tz in ZONES]


@pytest.mark.parametrize("lib,unit,tz", CASES)
def test_every_unit_and_zone_is_kept_and_results_equal_the_array_api(lib, unit, tz):
    rng = np.random.default_rng(zlib.crc32(f"{lib} {unit} {tz}".encode()))
    keys, times = _events(rng, 400, 7, unit)
    df = LIBS[lib][0](keys, times, tz)
    settings = dict(gap="30min", max_duration="2h", max_duration_mode="fixed")

    ids = frame.assign(df, key="user", time="ts", **settings)
    assert type(ids) is type(df) or (lib == "arrow" and isinstance(ids, pa.Table))
    want_ids = sessionize.assign(keys, times, **settings)
    assert np.asarray(_col(ids, "session_id")).tolist() == want_ids.tolist()
    assert _dtype_of(ids, "ts") == _dtype_of(df, "ts")  # the input's columns untouched

    t = frame.sessions(df, key="user", time="ts", **settings)
    want = sessionize.sessions(keys, times, **settings)
    assert np.asarray(_col(t, "user")).tolist() == want.key.tolist()
    for c in ("start", "end", "window_end"):
        assert _dtype_of(t, c) == _dtype_of(df, "ts")  # unit and zone
        assert _instants(_col(t, c), unit).tolist() == want[c].view(np.int64).tolist()
    assert np.asarray(_col(t, "count")).tolist() == want.count.tolist()
    assert np.asarray(_col(t, "index")).tolist() == want.index.tolist()


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 200)),
                    min_size=0, max_size=60),
    gap=st.integers(1, 40),
    cap=st.one_of(st.none(), st.integers(1, 80)),
    mode=st.sampled_from(["restart", "fixed"]),
    inclusive=st.booleans(),
    lib=st.sampled_from(["pandas", "polars", "arrow"]),
)
def test_integer_times_against_the_reference_model(events, gap, cap, mode, inclusive, lib):
    keys = [k for k, _ in events]
    times = [t for _, t in events]
    if lib == "pandas":
        df = pd.DataFrame({"user": pd.Series(keys, dtype=object), "ts": pd.Series(times, dtype="int64")})
    elif lib == "polars":
        df = pl.DataFrame({"user": pl.Series(keys, dtype=pl.String),
                           "ts": pl.Series(times, dtype=pl.Int64)})
    else:
        df = pa.table({"user": pa.array(keys, pa.string()), "ts": pa.array(times, pa.int64())})
    opts = dict(gap=gap, max_duration=cap, max_duration_mode=mode, inclusive=inclusive)
    ref_ids, ref = reference_sessions(keys, times, gap, cap, mode, inclusive)
    got = frame.assign(df, key="user", time="ts", **opts)
    assert np.asarray(_col(got, "session_id")).tolist() == list(ref_ids)
    t = frame.sessions(df, key="user", time="ts", **opts)
    assert np.asarray(_col(t, "start")).tolist() == [s["start"] for s in ref]
    assert np.asarray(_col(t, "end")).tolist() == [s["end"] for s in ref]
    assert np.asarray(_col(t, "window_end")).tolist() == [s["window_end"] for s in ref]
    assert np.asarray(_col(t, "user")).tolist() == [s["key"] for s in ref]


def test_duckdb_relation_and_record_batch_reader():
    duckdb = optional("duckdb", extra="bench")
    rel = duckdb.sql("select 'u' || (i % 5) as user, "
                     "TIMESTAMPTZ '2026-10-01 00:00:00+00' + i * INTERVAL 7 MINUTE as ts, "
                     "i as extra from range(300) t(i)")
    arrow_ref = pa.RecordBatchReader.from_stream(rel).read_all()
    keys = np.array(arrow_ref.column("user").to_pylist())
    times = arrow_ref.column("ts").cast(pa.int64()).to_numpy().view("M8[us]")
    t = frame.sessions(rel, key="user", time="ts", gap="30min")
    want = sessionize.sessions(keys, times, gap="30min")
    assert isinstance(t, pa.Table) and t.num_rows == len(want)
    assert t.schema.field("start").type == arrow_ref.schema.field("ts").type
    assert t.column("count").to_pylist() == want.count.tolist()
    a = frame.assign(pa.RecordBatchReader.from_batches(arrow_ref.schema, arrow_ref.to_batches()),
                     key="user", time="ts", gap="30min", column="sid")
    assert a.column_names == ["user", "ts", "extra", "sid"]
    assert a.column("sid").to_pylist() == sessionize.assign(keys, times, gap="30min").tolist()


def test_float_seconds_and_categorical_keys():
    df = pd.DataFrame({"user": pd.Categorical(["x", "y", "x", "x"]),
                       "ts": [0.5, 1.0, 10.25, 100.0]})
    t = frame.sessions(df, key="user", time="ts", gap=20)
    assert t["start"].tolist() == [0.5, 100.0, 1.0]
    assert t["user"].dtype == df["user"].dtype
    p = pl.from_pandas(df)
    assert frame.assign(p, key="user", time="ts", gap=20)["session_id"].to_list() == [0, 2, 0, 1]


@pytest.mark.parametrize("lib", ["pandas", "polars", "arrow"])
def test_missing_values_name_the_column_and_row(lib):
    keys = ["a", None, "b"]
    ts = [1, 2, 3]
    if lib == "pandas":
        df, df2 = pd.DataFrame({"u": keys, "t": ts}), pd.DataFrame({"u": ["a"] * 3,
                                                                     "t": pd.array([1, None, 3], dtype="Int64")})
    elif lib == "polars":
        df, df2 = pl.DataFrame({"u": keys, "t": ts}), pl.DataFrame({"u": ["a"] * 3, "t": [1, None, 3]})
    else:
        df, df2 = pa.table({"u": keys, "t": ts}), pa.table({"u": ["a"] * 3, "t": [1, None, 3]})
    with pytest.raises(sessionize.SessionizeError, match=r"key\[1\]: missing key in column 'u'"):
        frame.sessions(df, key="u", time="t", gap=5)
    with pytest.raises(sessionize.SessionizeError, match=r"time\[1\]: missing time in column 't'"):
        frame.assign(df2, key="u", time="t", gap=5)


def test_wrong_inputs():
    with pytest.raises(TypeError, match="df: expected a pandas or polars DataFrame"):
        frame.assign({"u": [1]}, key="u", time="t", gap=1)
    with pytest.raises(KeyError, match="time: no column 'when'"):
        frame.sessions(pd.DataFrame({"u": [1], "t": [1]}), key="u", time="when", gap=1)
