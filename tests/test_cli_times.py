"""The command line's time fields (sessionize/cli/timefields.py) against
Python's own datetime arithmetic, and its refusals."""

from __future__ import annotations

import datetime

import numpy as np
from hypothesis import given, strategies as st

from sessionize.cli import timefields

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


@given(st.datetimes(min_value=datetime.datetime(1900, 1, 1),
                    max_value=datetime.datetime(2200, 1, 1)),
       st.integers(-14 * 60, 14 * 60), st.sampled_from(["T", " "]), st.booleans())
def test_iso_times_are_the_instants_datetime_gives(dt, offset_min, sep, colon):
    tz = datetime.timezone(datetime.timedelta(minutes=offset_min))
    aware = dt.replace(tzinfo=tz)
    sign = "-" if offset_min < 0 else "+"
    h, m = divmod(abs(offset_min), 60)
    text = dt.isoformat(sep=sep) + (f"{sign}{h:02d}:{m:02d}" if colon else f"{sign}{h:02d}{m:02d}")
    want = (aware - EPOCH) // datetime.timedelta(microseconds=1) * 1000
    got, bad = timefields.parse([text], "ms")
    assert bad == [] and int(got[0]) == want
    naive, bad = timefields.parse([dt.isoformat() + "Z", dt.isoformat()], "s")
    utc = (dt.replace(tzinfo=datetime.timezone.utc) - EPOCH) // datetime.timedelta(microseconds=1)
    assert bad == [] and naive.tolist() == [utc * 1000, utc * 1000]


@given(st.lists(st.integers(-(2**33), 2**33), max_size=50), st.sampled_from(["s", "ms", "us", "ns"]))
def test_numbers_and_numeric_strings_in_every_unit(values, unit):
    factor = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[unit]
    want = [v * factor for v in values]
    for raw in (values, [str(v) for v in values], [float(v) if abs(v) < 2**52 else v
                                                   for v in values]):  # 2**33 s fits int64 ns
        got, bad = timefields.parse(raw, unit)
        assert bad == [] and got.tolist() == want


def test_decimal_strings_are_exact_and_refusals_say_why():
    got, bad = timefields.parse(["1790875556.25", "1.5e3"], "s")
    assert bad == [] and got.tolist() == [1790875556250000000, 1500 * 10**9]
    raw = [True, None, "", "soon", "0.0000000001", 10**19, [1], float("nan"), "2026-13-01"]
    got, bad = timefields.parse(raw, "s")
    why = dict(bad)
    assert sorted(why) == list(range(len(raw)))
    assert "boolean" in why[0] and "missing" in why[1] and "empty" in why[2]
    assert "neither a number nor an ISO-8601" in why[3]
    assert "finer than a nanosecond" in why[4] and "out of range" in why[5]
    assert "type list" in why[6] and "not a time" in why[7]
    assert np.all(got == 0)


def test_iso_digits_past_the_nanosecond_are_refused_unless_zeros():
    got, bad = timefields.parse(["2026-10-01T16:00:00.1234567890Z",
                                 "2026-10-01 16:00:00.123456789000",
                                 "2026-10-01T16:00:00.1234567891+02:00"], "ms")
    assert [i for i, _ in bad] == [2] and "finer than a nanosecond" in bad[0][1]
    assert got[0] == got[1] == int(np.datetime64("2026-10-01T16:00:00.123456789", "ns")
                                   .astype(np.int64))
