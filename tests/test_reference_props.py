"""Properties: sessionize's result equals the pure-Python reference.

Each property draws events (a key and a time each), the session parameters,
and an input order, then compares ``assign`` and ``sessions`` with
``reference.reference_sessions`` (see ``session_check.check``).  The orders
are chosen to steer the core down each of its paths: sorted by (key, time)
(one scan), time-ordered with keys interleaved (one hashed pass), and
anything else (sort), plus orders that start looking sorted and break late.
"""
import datetime as dt
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reference import INT64_MAX, INT64_MIN
import sessionize
from session_check import check

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])

# SESSIONIZE_EXAMPLES_SCALE=20 for a long soak; the default run stays short.
SCALE = float(os.environ.get("SESSIONIZE_EXAMPLES_SCALE", "1"))


def examples(n):
    return max(1, int(n * SCALE))

CAPS = [None, "restart", "fixed"]

# ---------------------------------------------------------------------------
# parameters


@st.composite
def int_params(draw, big=True):
    """gap, max_duration (or None), mode, inclusive, as ints."""
    small = st.sampled_from([1, 2, 3, 5, 10])
    if big:
        gap = draw(st.one_of(
            small, small, st.integers(1, 2**62),
            st.sampled_from([2**62, INT64_MAX // 2, INT64_MAX - 1, INT64_MAX])))
    else:
        gap = draw(st.one_of(small, st.integers(1, 10**6)))
    cap = draw(st.sampled_from(CAPS))
    max_duration = None
    if cap is not None:
        related = [gap, 2 * gap, 3 * gap, gap + 1, max(gap - 1, 1), 1]
        related = [m for m in related if m <= INT64_MAX]
        choices = [st.sampled_from(related), st.sampled_from(related)]
        if big:
            choices += [st.integers(1, INT64_MAX), st.just(INT64_MAX)]
        else:
            choices += [st.integers(1, 10**7)]
        max_duration = draw(st.one_of(*choices))
    inclusive = draw(st.booleans())
    return gap, max_duration, cap or "restart", inclusive


def kwargs_of(gap, max_duration, mode, inclusive):
    kw = dict(gap=gap, inclusive=inclusive)
    if max_duration is not None:
        kw.update(max_duration=max_duration, max_duration_mode=mode)
    elif mode != "restart":
        kw.update(max_duration_mode=mode)
    return kw


# ---------------------------------------------------------------------------
# events


@st.composite
def int_times(draw, n_keys, gap, max_duration, lo, hi, n_max=40):
    """(key_index, time) pairs with many ties and differences of exactly
    gap and max_duration between a key's consecutive events."""
    n = draw(st.integers(0, n_max))
    key_idx = draw(st.lists(st.integers(0, n_keys - 1), min_size=n, max_size=n))
    style = draw(st.sampled_from(["walk", "walk", "uniform", "extremes"]))
    m = max_duration or gap
    specials = sorted({lo, hi, min(lo + 1, hi), max(hi - 1, lo), 0, -1,
                       min(lo + gap, hi), max(hi - gap, lo),
                       min(lo + m, hi), max(hi - m, lo)})
    specials = [t for t in specials if lo <= t <= hi]
    times = []
    if style == "walk":
        steps = st.one_of(
            st.sampled_from([0, 0, 1, gap - 1, gap, gap, gap + 1, 2 * gap,
                             m - 1, m, m, m + 1, m - gap]),
            st.integers(-3 * gap, 3 * gap))
        bases = [draw(st.one_of(st.sampled_from(specials),
                                st.integers(lo, hi))) for _ in range(n_keys)]
        current = list(bases)
        for k in key_idx:
            t = current[k] + draw(steps)
            t = min(max(t, lo), hi)
            current[k] = t
            times.append(t)
    elif style == "uniform":
        times = [draw(st.integers(lo, hi)) for _ in key_idx]
    else:
        times = [draw(st.sampled_from(specials)) for _ in key_idx]
    return key_idx, times


def apply_order(draw, key_vals, times, raw_key=None):
    """Reorders the events.  ``raw_key(k)`` gives the order the core's scan
    checks (int64 value or the raw fixed-width bytes); None for keys with no
    natural order (object keys), for which "sorted" means grouped by first
    appearance."""
    n = len(times)
    idx = list(range(n))
    first = {}
    for i, k in enumerate(key_vals):
        first.setdefault(k, i)
    order = draw(st.sampled_from([
        "as_drawn", "sorted", "sorted_swap", "sorted_desc_keys", "grouped",
        "time", "shuffled", "reversed"]))
    if raw_key is None:
        rk = lambda i: first[key_vals[i]]
    else:
        rk = lambda i: raw_key(key_vals[i])
    if order == "sorted":
        idx.sort(key=lambda i: (rk(i), times[i]))
    elif order == "sorted_swap":
        idx.sort(key=lambda i: (rk(i), times[i]))
        if n >= 2:
            a = draw(st.integers(0, n - 1))
            b = draw(st.integers(0, n - 1))
            idx[a], idx[b] = idx[b], idx[a]
    elif order == "sorted_desc_keys":
        idx.sort(key=lambda i: times[i])
        idx.sort(key=lambda i: rk(i), reverse=True)  # stable: times stay asc
    elif order == "grouped":
        idx.sort(key=lambda i: (first[key_vals[i]], times[i]))
    elif order == "time":
        idx.sort(key=lambda i: times[i])
    elif order == "shuffled":
        idx = draw(st.permutations(idx))
    elif order == "reversed":
        idx.reverse()
    return idx


def to_object_array(values):
    a = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        a[i] = v
    return a


# ---------------------------------------------------------------------------
# integer times


INT_KEY_DTYPES = ["int64", "int32", "uint16", "int8", "uint64", "uint8"]


@st.composite
def int_key_pool(draw, dtype):
    info = np.iinfo(dtype)
    specials = [v for v in (0, 1, -1, info.min, info.max, info.max - 1, 7, 2**63)
                if info.min <= v <= info.max]
    pool = draw(st.lists(st.one_of(st.sampled_from(specials),
                                   st.integers(info.min, info.max)),
                         min_size=1, max_size=6, unique=True))
    return pool


@settings(max_examples=examples(400), **SETTINGS)
@given(data=st.data(), params=int_params(),
       key_dtype=st.sampled_from(INT_KEY_DTYPES))
def test_int_keys_int_times(data, params, key_dtype):
    gap, max_duration, mode, inclusive = params
    pool = data.draw(int_key_pool(key_dtype))
    lo, hi = INT64_MIN + 1, INT64_MAX - gap
    key_idx, times = data.draw(int_times(len(pool), gap, max_duration, lo, hi))
    key_vals = [pool[k] for k in key_idx]
    dtype = np.dtype(key_dtype)
    # the scan compares keys as int64 values
    raw = lambda k: int(np.array([k], dtype=dtype).astype(np.int64)[0])
    idx = apply_order(data.draw, key_vals, times, raw)
    keys = np.array([key_vals[i] for i in idx], dtype=dtype)
    t = np.array([times[i] for i in idx], dtype=np.int64)
    check(keys, t, keys.tolist(), t.tolist(), "int", ref_gap=gap,
          ref_max=max_duration, **kwargs_of(*params))


@settings(max_examples=examples(150), **SETTINGS)
@given(data=st.data(), params=int_params(big=False),
       time_dtype=st.sampled_from(["int32", "uint32", "int16", "uint8"]))
def test_narrow_int_times(data, params, time_dtype):
    """Integer times of any width: outputs are int64 in the same unit."""
    gap, max_duration, mode, inclusive = params
    info = np.iinfo(time_dtype)
    key_idx, times = data.draw(int_times(3, gap, max_duration,
                                         int(info.min), int(info.max)))
    idx = apply_order(data.draw, key_idx, times, lambda k: k)
    keys = np.array([key_idx[i] for i in idx], dtype=np.int64)
    t = np.array([times[i] for i in idx], dtype=time_dtype)
    check(keys, t, keys.tolist(), t.tolist(), "int", ref_gap=gap,
          ref_max=max_duration, **kwargs_of(*params))


# ---------------------------------------------------------------------------
# string, bytes and object keys

U_ALPHABET = "ab\u0101\u20ac\U0001F600 "
S_ALPHABET = [b"a", b"b", b"\x00", b"\xff", b"\x80", b" "]


def ucs4_le(s, width):
    return s.encode("utf-32-le").ljust(4 * width, b"\x00")


@settings(max_examples=examples(250), **SETTINGS)
@given(data=st.data(), params=int_params(big=False),
       pool=st.lists(st.text(U_ALPHABET, max_size=4), min_size=1, max_size=6,
                     unique=True))
def test_str_keys(data, params, pool):
    gap, max_duration, mode, inclusive = params
    key_idx, times = data.draw(int_times(len(pool), gap, max_duration,
                                         -10**9, 10**9))
    key_vals = [pool[k] for k in key_idx]
    width = max([len(s) for s in pool] + [1])
    natural = data.draw(st.booleans())
    raw = (lambda k: k) if natural else (lambda k: ucs4_le(k, width))
    idx = apply_order(data.draw, key_vals, times, raw)
    keys = np.array([key_vals[i] for i in idx], dtype=f"U{width}")
    t = np.array([times[i] for i in idx], dtype=np.int64)
    check(keys, t, keys.tolist(), t.tolist(), "int", ref_gap=gap,
          ref_max=max_duration, **kwargs_of(*params))


@settings(max_examples=examples(250), **SETTINGS)
@given(data=st.data(), params=int_params(big=False),
       pool=st.lists(st.lists(st.sampled_from(S_ALPHABET), max_size=9)
                     .map(b"".join), min_size=1, max_size=6, unique=True))
def test_bytes_keys(data, params, pool):
    """numpy 'S' keys, widths across the 8-byte hashing steps; trailing NULs
    are not part of a numpy bytes value, so keys come from the array."""
    gap, max_duration, mode, inclusive = params
    key_idx, times = data.draw(int_times(len(pool), gap, max_duration,
                                         -10**9, 10**9))
    key_vals = [pool[k] for k in key_idx]
    width = max([len(s) for s in pool] + [1])
    raw = lambda k: k.ljust(width, b"\x00")
    idx = apply_order(data.draw, key_vals, times, raw)
    keys = np.array([key_vals[i] for i in idx], dtype=f"S{width}")
    t = np.array([times[i] for i in idx], dtype=np.int64)
    check(keys, t, keys.tolist(), t.tolist(), "int", ref_gap=gap,
          ref_max=max_duration, **kwargs_of(*params))


def object_pool():
    """Hashables of mixed types, no two of different types equal."""
    atoms = st.one_of(
        st.integers(-5, 5), st.sampled_from([2**70, -2**64, 2**63, INT64_MIN]),
        st.text("ab\u0101", max_size=3), st.binary(max_size=3),
        st.just(None), st.sampled_from([0.5, -2.5, 1e300]),
        st.frozensets(st.integers(0, 2), max_size=2))
    tuples = st.tuples(atoms, atoms) | st.tuples(atoms) | st.just(())
    return st.lists(atoms | tuples, min_size=1, max_size=6, unique=True)


@settings(max_examples=examples(300), **SETTINGS)
@given(data=st.data(), params=int_params(), pool=object_pool(),
       container=st.sampled_from(["list", "object_array"]))
def test_object_keys(data, params, pool, container):
    """Lists and object arrays of hashables: the key column is an object
    array holding the caller's own objects."""
    gap, max_duration, mode, inclusive = params
    lo, hi = INT64_MIN + 1, INT64_MAX - gap
    key_idx, times = data.draw(int_times(len(pool), gap, max_duration, lo, hi))
    key_vals = [pool[k] for k in key_idx]
    idx = apply_order(data.draw, key_vals, times, None)
    ordered = [key_vals[i] for i in idx]
    keys = ordered if container == "list" else to_object_array(ordered)
    t = np.array([times[i] for i in idx], dtype=np.int64)
    check(keys, t, list(ordered), t.tolist(), "int", ref_gap=gap,
          ref_max=max_duration, **kwargs_of(*params))


@settings(max_examples=examples(100), **SETTINGS)
@given(data=st.data(), params=int_params(big=False))
def test_equal_but_distinct_key_objects(data, params):
    """Equal keys that are different objects are one key; the key column
    holds one of the caller's objects equal to it."""
    gap, max_duration, mode, inclusive = params
    key_idx, times = data.draw(int_times(3, gap, max_duration, -1000, 1000))
    # a fresh tuple (holding a fresh str) per event
    key_vals = [("user", "".join(["u", str(k)])) for k in key_idx]
    assert len({id(k) for k in key_vals}) == len(key_vals)
    t = np.array(times, dtype=np.int64)
    check(key_vals, t, key_vals, times, "int", ref_gap=gap,
          ref_max=max_duration, **kwargs_of(*params))


# ---------------------------------------------------------------------------
# empty and one-event inputs


@pytest.mark.parametrize("cap", CAPS)
@pytest.mark.parametrize("inclusive", [True, False])
@pytest.mark.parametrize("kind", ["int64", "U3", "S3", "list", "object"])
def test_empty_input(cap, inclusive, kind):
    kw = dict(gap=5, inclusive=inclusive)
    if cap:
        kw.update(max_duration=7, max_duration_mode=cap)
    if kind == "list":
        keys = []
    elif kind == "object":
        keys = np.empty(0, dtype=object)
    else:
        keys = np.empty(0, dtype=kind)
    ids, table = check(keys, np.empty(0, dtype=np.int64), [], [], "int",
                       ref_gap=5, ref_max=kw.get("max_duration"), **kw)
    assert len(ids) == 0 and len(table) == 0


@pytest.mark.parametrize("cap", CAPS)
@pytest.mark.parametrize("t", [INT64_MIN + 1, -1, 0, INT64_MAX - 5])
def test_one_event(cap, t):
    kw = dict(gap=5)
    if cap:
        kw.update(max_duration=3, max_duration_mode=cap)
    _, table = check(["k"], np.array([t]), ["k"], [t], "int", ref_gap=5,
                     ref_max=kw.get("max_duration"), **kw)
    assert table.window_end.tolist() == [t + (3 if cap else 5)]


# ---------------------------------------------------------------------------
# datetime64

UNIT_NS = {"ns": 1, "us": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
           "h": 3600 * 10**9, "D": 86400 * 10**9}
UNITS = list(UNIT_NS)
STRING_SUFFIX = {"ms": "ms", "s": "s", "m": "min", "h": "h", "D": "d"}
TIMEDELTA_ARG = {"us": "microseconds", "ms": "milliseconds", "s": "seconds",
                 "m": "minutes", "h": "hours", "D": "days"}


@st.composite
def duration_in(draw, unit, big):
    """A duration given the ways a user gives one (timedelta,
    numpy.timedelta64, string), as (object, value in `unit`)."""
    coarser = [u for u in UNITS if UNIT_NS[u] >= UNIT_NS[unit]]
    du = draw(st.sampled_from(coarser))
    ratio = UNIT_NS[du] // UNIT_NS[unit]
    limit = max(1, (2**62 if big else 10**12) // ratio)
    count = draw(st.one_of(st.integers(1, 10), st.integers(1, limit)))
    forms = ["timedelta64"]
    if du in TIMEDELTA_ARG and count * UNIT_NS[du] // 1000 < 10**17:
        forms.append("timedelta")
    if du in STRING_SUFFIX and count <= 10**9:
        forms.append("string")
    form = draw(st.sampled_from(forms))
    if form == "timedelta64":
        obj = np.timedelta64(count, du)
    elif form == "timedelta":
        obj = dt.timedelta(**{TIMEDELTA_ARG[du]: count})
    else:
        obj = f"{count}{STRING_SUFFIX[du]}"
    return obj, count * ratio


@settings(max_examples=examples(300), **SETTINGS)
@given(data=st.data(), unit=st.sampled_from(UNITS),
       cap=st.sampled_from(CAPS), inclusive=st.booleans(),
       near_limits=st.booleans())
def test_datetime64(data, unit, cap, inclusive, near_limits):
    gap_obj, gap = data.draw(duration_in(unit, near_limits))
    kw = dict(gap=gap_obj, inclusive=inclusive)
    max_duration = None
    if cap:
        if data.draw(st.booleans()):  # a multiple of gap, to hit exact limits
            mult = data.draw(st.integers(1, 3))
            max_duration = gap * mult if gap * mult <= INT64_MAX else gap
            max_obj = np.timedelta64(max_duration, unit)
        else:
            max_obj, max_duration = data.draw(duration_in(unit, near_limits))
        kw.update(max_duration=max_obj, max_duration_mode=cap)
    if near_limits:
        lo, hi = INT64_MIN + 1, INT64_MAX - gap
    else:  # around today
        now = 1_700_000_000 * 10**9 // UNIT_NS[unit]
        lo = max(now - 10**6 * gap, INT64_MIN + 1)
        hi = min(now + 10**6 * gap, INT64_MAX - gap)
    key_idx, times = data.draw(int_times(3, gap, max_duration, lo, hi))
    key_vals = ["abc"[k] for k in key_idx]
    idx = apply_order(data.draw, key_vals, times, lambda k: ucs4_le(k, 1))
    keys = np.array([key_vals[i] for i in idx], dtype="U1")
    t = np.array([times[i] for i in idx], dtype=np.int64).view(f"M8[{unit}]")
    check(keys, t, keys.tolist(), t.view(np.int64).tolist(), f"M8[{unit}]",
          ref_gap=gap, ref_max=max_duration, **kw)


# ---------------------------------------------------------------------------
# float seconds


@st.composite
def float_gap(draw):
    """(gap as the user gives it, gap in microseconds)."""
    form = draw(st.sampled_from(["int", "float", "timedelta", "string"]))
    if form == "int":
        s = draw(st.integers(1, 3600))
        return s, s * 10**6
    if form == "float":
        s = draw(st.sampled_from([0.5, 0.25, 0.125, 1.5, 2.0, 5.0, 1800.0]))
        return s, int(s * 1000000)
    if form == "timedelta":
        ms = draw(st.integers(1, 10**7))
        return dt.timedelta(milliseconds=ms), ms * 1000
    ms = draw(st.integers(1, 10**7))
    return f"{ms}ms", ms * 1000


@settings(max_examples=examples(300), **SETTINGS)
@given(data=st.data(), gap=float_gap(), cap=st.sampled_from(CAPS),
       inclusive=st.booleans())
def test_float_seconds(data, gap, cap, inclusive):
    """Float seconds become int64 microseconds exactly as Beam's Timestamp
    does (int(seconds * 1000000)); output times are micros / 1e6."""
    gap_obj, gap_us = gap
    kw = dict(gap=gap_obj, inclusive=inclusive)
    max_us = None
    if cap:
        max_obj, max_us = data.draw(float_gap())
        kw.update(max_duration=max_obj, max_duration_mode=cap)
    n = data.draw(st.integers(0, 40))
    t0 = data.draw(st.sampled_from([1554117322.904395, 1554203777.904395,
                                    0.0, -1000.25, 1.7e9, 1e-7]))
    step = gap_us / 1e6
    offsets = st.one_of(
        st.integers(-20, 20).map(lambda k: k * step),
        st.integers(-40, 40).map(lambda k: k * 0.5),
        st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
        st.sampled_from([0.0, 1e-6, -1e-6, 1e-7, 0.1 + 0.2]))
    seconds = [t0 + data.draw(offsets) for _ in range(n)]
    if data.draw(st.booleans()):
        seconds = [data.draw(st.floats(-1e12, 1e12, allow_nan=False))
                   for _ in range(n)]
    key_idx = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    key_vals = [["Thanos", "Groot", "Rocket"][k] for k in key_idx]
    micros = [int(s * 1000000) for s in seconds]
    idx = apply_order(data.draw, key_vals, micros, lambda k: k)
    keys = [key_vals[i] for i in idx]
    t = np.array([seconds[i] for i in idx], dtype=np.float64)
    check(keys, t, keys, [micros[i] for i in idx], "float", ref_gap=gap_us,
          ref_max=max_us, **kw)


@settings(max_examples=examples(100), **SETTINGS)
@given(data=st.data(),
       unit=st.sampled_from([(10, "ms"), (15, "s"), (250, "us"), (2, "h")]),
       cap=st.sampled_from(CAPS), inclusive=st.booleans())
def test_datetime64_multiple_units(data, unit, cap, inclusive):
    """datetime64[10ms] and the like: durations count in that unit."""
    count, base = unit
    gap_n = data.draw(st.integers(1, 50))
    gap = np.timedelta64(gap_n * count, base)
    kw = dict(gap=gap, inclusive=inclusive)
    max_n = None
    if cap:
        max_n = data.draw(st.sampled_from([gap_n, 2 * gap_n, 3]))
        kw.update(max_duration=np.timedelta64(max_n * count, base),
                  max_duration_mode=cap)
    key_idx, times = data.draw(int_times(2, gap_n, max_n, -10**6, 10**6))
    idx = apply_order(data.draw, key_idx, times, lambda k: k)
    keys = np.array([key_idx[i] for i in idx], dtype=np.int64)
    dtype = f"M8[{count}{base}]"
    t = np.array([times[i] for i in idx], dtype=np.int64).view(dtype)
    check(keys, t, keys.tolist(), t.view(np.int64).tolist(), dtype,
          ref_gap=gap_n, ref_max=max_n, **kw)


@pytest.mark.parametrize("mode", ["restart", "fixed"])
def test_mode_without_max_duration_is_gap_only(mode):
    keys = [1, 1, 1, 1, 2]
    times = np.array([0, 5, 10, 16, 0])
    check(keys, times, keys, times.tolist(), "int", ref_gap=5,
          max_duration_mode=mode)
    assert sessionize.assign(keys, times, gap=5,
                             max_duration_mode=mode).tolist() == [0, 0, 0, 1, 2]
