"""One time model: the same instants given as ISO strings (with and without
offsets), zoned pandas, Arrow and datetime values, epoch integers with a
time_unit, datetime64 and float seconds make the same sessions in the array
API, the frames, the streaming API (object and columnar, chunked and event
by event) and the command line, and come back in the type and zone they
came in."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import zoneinfo

import numpy as np
import pytest

import sessionize
from sessionize import SessionizeError

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")

GAP_S = 1800
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def _events(seed: int, n: int = 300, users: int = 12):
    """Keys and UTC epoch milliseconds, out of order, with ties and gaps of
    exactly GAP_S (the inclusive boundary).  Multiples of 125 ms, so that
    float seconds hold them exactly (a float's binary fraction is a time of
    its own: float seconds are held in whole microseconds, as Beam does)."""
    rng = np.random.default_rng(seed)
    keys = np.array([f"u{i}" for i in rng.integers(0, users, n)])
    steps = rng.choice([0, 125, 60_000, GAP_S * 1000, GAP_S * 1000 + 125, 4 * 3600_000], n)
    ms = 1_790_000_000_000 + np.cumsum(steps)
    order = rng.permutation(n)
    return keys[order], ms[order].astype(np.int64)


def _reference(keys, ms):
    """(key, start ms, end ms, count) of every session, from integer times."""
    t = sessionize.sessions(keys, ms, gap=GAP_S * 1000)
    return sorted(zip(t.key.tolist(), t.start.tolist(), t.end.tolist(), t.count.tolist()))


def _iso(ms, fmt):
    """ISO strings of the instants: 'Z', '+02:00' or naive (wall clock = UTC)."""
    out = []
    for m in ms.tolist():
        d = EPOCH + dt.timedelta(milliseconds=m)
        if fmt == "Z":
            out.append(d.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
        elif fmt == "+02:00":
            out.append(d.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat())
        else:
            out.append(d.replace(tzinfo=None).isoformat(sep=" "))
    return out


# name -> (times made from ms, extra kwargs, the zone results carry)
def _inputs(ms):
    aware = [EPOCH + dt.timedelta(milliseconds=m) for m in ms.tolist()]
    return {
        "iso Z list": (_iso(ms, "Z"), {}, "UTC"),
        "iso +02:00 numpy": (np.array(_iso(ms, "+02:00")), {}, "+02:00"),
        "iso naive arrow": (pa.array(_iso(ms, "naive")), {}, ""),
        "iso Z arrow chunked": (pa.chunked_array([_iso(ms[:7], "Z"), _iso(ms[7:], "Z")]),
                                {}, "UTC"),
        "zoned pandas": (pd.Series(pd.to_datetime(ms, unit="ms", utc=True)).dt.tz_convert(PARIS),
                         {}, "Europe/Paris"),
        "zoned arrow": (pa.array(ms, pa.timestamp("ms", "Europe/Paris")), {}, "Europe/Paris"),
        "aware datetimes": ([d.astimezone(PARIS) for d in aware], {}, "Europe/Paris"),
        "epoch ms, time_unit": (ms, {"time_unit": "ms"}, ""),
        "epoch s, time_unit": (ms * 1000, {"time_unit": "us"}, ""),
        "datetime64[ms]": (ms.view("M8[ms]"), {}, ""),
        "float seconds": (ms / 1000.0, {}, ""),
    }


def _to_ms(values) -> list[int]:
    """Any time column a front gives back, as UTC epoch ms."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = values.to_pandas() if not pa.types.is_integer(values.type) else \
            values.to_numpy()
    if type(values).__module__.startswith("polars"):
        values = values.to_pandas()
    if isinstance(values, pd.Series):
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        values = values.to_numpy()
    if isinstance(values, pd.arrays.DatetimeArray):
        values = values.tz_convert("UTC").tz_localize(None).to_numpy()
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        return arr.astype("M8[ms]").astype(np.int64).tolist()
    if arr.dtype.kind == "f":
        return np.round(arr * 1000).astype(np.int64).tolist()
    if arr.dtype.kind == "O":
        return [(v.astimezone(UTC) - EPOCH) // dt.timedelta(milliseconds=1)
                if v.tzinfo else
                (v.replace(tzinfo=UTC) - EPOCH) // dt.timedelta(milliseconds=1)
                for v in arr]
    return arr.astype(np.int64).tolist()


def _scale(name):
    """The factor from ms to what the input's integers are."""
    return 1000 if name == "epoch s, time_unit" else 1


@pytest.mark.parametrize("seed", [0, 1])
def test_array_api_gives_the_same_sessions_and_keeps_type_and_zone(seed):
    keys, ms = _events(seed)
    want = _reference(keys, ms)
    for name, (times, kw, zone) in _inputs(ms).items():
        t = sessionize.sessions(keys, times, gap="30min", **kw)
        k = _scale(name)
        got = sorted(zip(t.key.tolist(), [v // k for v in _to_ms(t.start)],
                         [v // k for v in _to_ms(t.end)], t.count.tolist()))
        if kw:  # integers stay integers in their own unit
            assert t.start.dtype == np.int64, name
            got = sorted(zip(t.key.tolist(), (t.start // k).tolist(), (t.end // k).tolist(),
                             t.count.tolist()))
        assert got == want, name
        assert t.time_zone == zone, name
        if zone:  # to_pandas and to_arrow carry the zone
            # pandas names a fixed offset "UTC+02:00"
            assert str(t.to_pandas()["start"].dt.tz) in (zone, "UTC" + zone), name
            assert t.to_arrow().schema.field("start").type.tz == zone, name
        ids = sessionize.assign(keys, times, gap="30min", **kw)
        assert ids.tolist() == sessionize.assign(keys, ms, gap=GAP_S * 1000).tolist(), name


def _frame_time_columns(ms):
    """Frame time columns of each library for the same instants: name ->
    (column, kwargs, zone)."""
    import polars as pl

    cols = {
        "pandas iso Z": ("pandas", pd.Series(_iso(ms, "Z"), dtype=object), {}, "UTC"),
        "pandas iso +02:00 str[pyarrow]": ("pandas", pd.Series(_iso(ms, "+02:00"),
                                                               dtype="string[pyarrow]"),
                                           {}, "+02:00"),
        "pandas iso naive": ("pandas", pd.Series(_iso(ms, "naive")), {}, None),
        "pandas epoch ms": ("pandas", pd.Series(ms), {"time_unit": "ms"}, None),
        "polars iso Z": ("polars", pl.Series(_iso(ms, "Z")), {}, "UTC"),
        "polars epoch ms": ("polars", pl.Series(ms), {"time_unit": "ms"}, None),
        "arrow iso +02:00": ("arrow", pa.array(_iso(ms, "+02:00")), {}, "+02:00"),
        "arrow epoch ms": ("arrow", pa.array(ms), {"time_unit": "ms"}, None),
    }
    return cols


def test_frames_take_iso_strings_and_epoch_integers_with_a_unit():
    pytest.importorskip("polars")
    import polars as pl

    from sessionize import frame

    keys, ms = _events(3)
    want = _reference(keys, ms)
    for name, (lib, col, kw, zone) in _frame_time_columns(ms).items():
        if lib == "pandas":
            df = pd.DataFrame({"user": keys, "ts": col})
        elif lib == "polars":
            df = pl.DataFrame({"user": keys, "ts": col})
        else:
            df = pa.table({"user": keys, "ts": col})
        out = frame.sessions(df, key="user", time="ts", gap="30min", **kw)
        start, end = out["start"], out["end"]
        got = sorted(zip(_to_list(out["user"]), _to_ms(start), _to_ms(end),
                         _to_list(out["count"])))
        assert got == want, name
        if kw:
            assert _kind(start) == "int", name
        else:
            assert _kind(start) == "datetime", name
            assert _zone(start) == zone, name
        ids = frame.assign(df, key="user", time="ts", gap="30min", **kw)["session_id"]
        assert _to_list(ids) == sessionize.assign(keys, ms, gap=GAP_S * 1000).tolist(), name


def _to_list(col):
    if hasattr(col, "to_pylist"):
        return col.to_pylist()
    return list(col.to_list() if hasattr(col, "to_list") else col)


def _kind(col) -> str:
    if isinstance(col, pd.Series):
        return "datetime" if col.dtype.kind == "M" else "int"
    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        return "datetime" if pa.types.is_timestamp(col.type) else "int"
    return "datetime" if col.dtype.is_temporal() else "int"


def _zone(col):
    if isinstance(col, pd.Series):
        tz = getattr(col.dtype, "tz", None)
        return None if tz is None else str(tz).removeprefix("UTC") or "UTC"
    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        return col.type.tz
    return col.dtype.time_zone


@pytest.mark.parametrize("columnar", [False, True])
def test_streaming_takes_the_same_inputs(columnar):
    keys, ms = _events(4, n=200)
    order = np.argsort(ms, kind="stable")  # time order: nothing late with delay 0
    keys, ms = keys[order], ms[order]
    want = _reference(keys, ms)
    for name, (times, kw, zone) in _inputs(ms).items():
        if name == "zoned pandas":
            chunks = [times.iloc[:50], times.iloc[50:]]
        elif isinstance(times, pa.ChunkedArray):
            chunks = [times]
        else:
            chunks = [times[:50], times[50:]]
        sz = sessionize.Sessionizer("30min", columnar=columnar, **kw)
        out = []
        pos = 0
        for c in chunks:
            n = len(c)
            out.append(sz.push_many(keys[pos:pos + n], c))
            pos += n
        out.append(sz.flush())
        got = _stream_rows(out, columnar, _scale(name))
        assert sorted(got) == want, name
        if columnar:
            zones = {b.sessions.time_zone for b in out if len(b.sessions)}
            assert zones == {zone}, name


def _stream_rows(out, columnar, scale):
    rows = []
    for b in out:
        if columnar:
            t = b.sessions
            if not len(t):
                continue
            starts, ends = t["start"], t["end"]
            if starts.dtype.kind in "iu":
                s_ms, e_ms = (starts // scale).tolist(), (ends // scale).tolist()
            else:
                s_ms, e_ms = _to_ms(starts), _to_ms(ends)
            rows += list(zip(t["key"].tolist(), s_ms, e_ms, t["count"].tolist()))
        else:
            for s in b:
                st, en = s.start, s.end
                if isinstance(st, (int, np.integer)):
                    rows.append((s.key, int(st) // scale, int(en) // scale, s.count))
                else:
                    rows.append((s.key, _to_ms([st])[0], _to_ms([en])[0], s.count))
    return rows


def test_streaming_event_by_event_takes_iso_strings_and_epoch_units():
    keys, ms = _events(5, n=150)
    order = np.argsort(ms, kind="stable")
    keys, ms = keys[order], ms[order]
    want = _reference(keys, ms)
    for fmt, kw in (("Z", {}), ("+02:00", {}), ("naive", {}), (None, {"time_unit": "ms"})):
        sz = sessionize.Sessionizer("30min", **kw)
        times = _iso(ms, fmt) if fmt else ms.tolist()
        out = []
        for i, (k, t) in enumerate(zip(keys.tolist(), times)):
            if i == len(times) // 2:
                # a snapshot keeps the time kind (zone, unit): the restored
                # stream goes on with the same strings or integers
                sz = sessionize.Sessionizer.from_bytes(sz.to_bytes())
            out += sz.push(k, t)
        out += sz.flush()
        got = _stream_rows([out], False, 1)
        assert sorted(got) == want, fmt


def test_cli_reads_the_same_times(tmp_path):
    keys, ms = _events(6, n=200)
    want = [(k, s, e, c) for k, s, e, c in _reference(keys, ms)]
    cases = {
        "iso Z": (_iso(ms, "Z"), []),
        "iso +02:00": (_iso(ms, "+02:00"), []),
        "epoch ms": (ms.tolist(), ["--time-unit", "ms"]),
        "epoch s float": ((ms / 1000).tolist(), ["--time-unit", "s"]),
    }
    for name, (times, args) in cases.items():
        src = tmp_path / "events.jsonl"
        src.write_text("".join(json.dumps({"user": k, "ts": t}) + "\n"
                               for k, t in zip(keys.tolist(), times)))
        r = subprocess.run([sys.executable, "-m", "sessionize", "sessions", str(src),
                            "--key", "user", "--time", "ts", "--gap", "30min",
                            "--delay", "all", "-q", *args],
                           capture_output=True, text=True, check=True)
        rows = [json.loads(line) for line in r.stdout.splitlines()]
        got = sorted((r["user"], r["session_start_time_ms"], r["session_end_time_ms"],
                      r["event_count"]) for r in rows)
        assert got == want, name


def test_cli_reads_float_seconds_as_the_decimal_written(tmp_path):
    src = tmp_path / "events.jsonl"
    src.write_text('{"user": "a", "ts": 1790000000.123}\n{"user": "a", "ts": 1790001800.123}\n')
    r = subprocess.run([sys.executable, "-m", "sessionize", "sessions", str(src), "--key",
                        "user", "--time", "ts", "--gap", "30min", "--time-unit", "s", "-q"],
                       capture_output=True, text=True, check=True)
    (row,) = [json.loads(line) for line in r.stdout.splitlines()]
    assert row["session_start_time_ms"] == 1790000000123 and row["event_count"] == 2


def test_time_unit_is_checked_and_only_for_integers():
    keys = ["a", "a"]
    with pytest.raises(SessionizeError, match=r"^time_unit: must be one of"):
        sessionize.sessions(keys, [0, 1], gap=1, time_unit="minutes")
    with pytest.raises(SessionizeError, match=r"^time_unit: 'ms' is for integer epoch times"):
        sessionize.sessions(keys, np.array([0, 1], "M8[s]"), gap="1min", time_unit="ms")
    with pytest.raises(SessionizeError, match=r"^time_unit: 'ms' is for integer epoch times"):
        sessionize.sessions(keys, ["2026-01-01", "2026-01-02"], gap="1min", time_unit="ms")
    with pytest.raises(SessionizeError, match=r"^time_unit: must be one of"):
        sessionize.Sessionizer("30min", time_unit="m")
    with pytest.raises(SessionizeError, match=r"^time_unit: 's' is for integer epoch times"):
        sessionize.Sessionizer("30min", time_unit="s").push("a", 1.5)
    # without a unit, a duration with one is refused for integers, and says how
    with pytest.raises(SessionizeError, match="time_unit='s', 'ms', 'us' or 'ns'"):
        sessionize.sessions(keys, [0, 1], gap="30min")
    # "500ms" is not a whole number of seconds
    with pytest.raises(SessionizeError, match="gap"):
        sessionize.sessions(keys, [0, 1], gap="500ms", time_unit="s")


def test_bad_iso_strings_name_their_position():
    with pytest.raises(SessionizeError, match=r"^times\[2\]: time 'nope' is not an ISO-8601"):
        sessionize.sessions(["a"] * 3, ["2026-01-01", "2026-01-02", "nope"], gap="1h")
    with pytest.raises(SessionizeError, match=r"^times\[1\]: missing time \(None\)"):
        sessionize.sessions(["a"] * 3, ["2026-01-01", None, "2026-01-03"], gap="1h")
    with pytest.raises(SessionizeError, match=r"^times\[1\]: '2026-01-02' has no UTC offset, "
                                              r"unlike times\[0\]"):
        sessionize.sessions(["a"] * 2, ["2026-01-01T00:00Z", "2026-01-02"], gap="1h")
    with pytest.raises(SessionizeError, match=r"finer than a nanosecond"):
        sessionize.sessions(["a"], ["2026-01-01T00:00:00.0000000001"], gap="1h")
    with pytest.raises(TypeError, match=r"^times\[1\]: cannot mix naive and timezone-aware"):
        sessionize.sessions(["a"] * 2, [dt.datetime(2026, 1, 1),
                                        dt.datetime(2026, 1, 1, tzinfo=UTC)], gap="1h")
    sz = sessionize.Sessionizer("1h")
    sz.push("a", "2026-01-01T00:00:00Z")
    with pytest.raises(SessionizeError, match=r"^time: '2026-01-01T01:00' has no UTC offset"):
        sz.push("a", "2026-01-01T01:00")
    from sessionize import frame

    df = pd.DataFrame({"u": ["a", "b"], "ts": ["2026-01-01", "later"]})
    with pytest.raises(SessionizeError, match=r"^time\[1\]: time 'later' is not an ISO-8601 "
                                              r"time .* in column 'ts'"):
        frame.sessions(df, key="u", time="ts", gap="1h")


def test_differing_offsets_are_instants_shown_in_utc():
    t = sessionize.sessions(["a", "a"], ["2026-01-01T10:00:00+02:00",
                                         "2026-01-01T08:20:00Z"], gap="30min")
    assert t.time_zone == "UTC"
    assert len(t) == 1 and t.count.tolist() == [2]
    assert t.start[0] == np.datetime64("2026-01-01T08:00:00")


def test_one_offset_written_two_ways_is_one_zone():
    t = sessionize.sessions(["a", "a"], ["2026-01-01T00:00:00+01:00",
                                         "2026-01-01T00:10:00+0100"], gap="1h")
    assert t.time_zone == "+01:00" and t.count.tolist() == [2]
    assert t.start[0] == np.datetime64("2025-12-31T23:00:00")


def test_without_pyarrow_numpy_parses_wall_clock_strings():
    """The parser used when pyarrow is not installed: naive strings in C,
    anything else left to the one-by-one reader, which names what is bad."""
    from sessionize import _iso

    strs = np.array(["2026-01-01", "2026-01-01 10:00:00.5", "2026-01-01T10:00"])
    ns, zone = _iso._fast_numpy(strs)
    assert zone is None
    assert ns.tolist() == np.array(["2026-01-01", "2026-01-01T10:00:00.5",
                                    "2026-01-01T10:00"], "M8[ns]").view(np.int64).tolist()
    assert _iso._fast_numpy(np.array(["2026-01-01T00:00Z"])) is None
    assert _iso._fast_numpy(np.array(["NaT"])) is None
    ns, zone = _iso._one_by_one(["2026-01-01T00:00+01:00"], "times")
    assert zone == "+01:00"
    assert ns.tolist() == [int(np.datetime64("2025-12-31T23:00", "ns").astype(np.int64))]
