"""Bad input raises the documented error (SPEC sections 2, 3 and 6): the
one table of every bad input, batch and streaming, and of damaged snapshots.

Every message starts with the argument's name and, for a bad element, with
``name[i]``; each case below also looks for one word of the reason.  Both
``assign`` and ``sessions`` are checked, and the inputs must come out
unchanged.
"""
import copy
import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sessionize
from reference import INT64_MAX, INT64_MIN

E = sessionize.SessionizeError
NAT = np.datetime64("NaT")


def ns(values):
    return np.array(values, dtype="M8[ns]")


def secs(values):
    return np.array(values, dtype="M8[s]")


I5 = np.arange(5)
T5 = np.arange(5, dtype=np.int64) * 10

# (id, keys, times, keyword arguments, exception type(s), anchored pattern)
CASES = [
    # bad elements of times
    ("nan", [1, 2, 3], np.array([0.0, 1.0, np.nan]), dict(gap=1), E,
     r"^times\[2\]: .*NaN"),
    ("nan_first", [1, 2, 3], np.array([np.nan, 1.0, 2.0]), dict(gap=1), E,
     r"^times\[0\]: .*NaN"),
    ("inf", [1, 2, 3], np.array([0.0, np.inf, 2.0]), dict(gap=1), E,
     r"^times\[1\]: (?i:.*(inf|range|overflow|finite))"),
    ("float_out_of_int64", [1, 2], np.array([0.0, 1e13]), dict(gap=1), E,
     r"^times\[1\]: (?i:.*(range|overflow|int64))"),
    ("nat_ns", I5, ns([0, 1, 2, NAT, 4]), dict(gap="1s"), E,
     r"^times\[3\]: (?=.*(NaT|missing))"),
    ("nat_s_first", I5, secs([NAT, 1, 2, 3, 4]), dict(gap="1s"), E,
     r"^times\[0\]: (?=.*(NaT|missing))"),
    ("overflow_int", [1, 1, 1], np.array([0, 1, INT64_MAX]), dict(gap=1), E,
     r"^times\[2\]: time \+ gap overflows int64"),
    ("overflow_int_boundary", [1, 2], np.array([0, INT64_MAX - 9]),
     dict(gap=10), E, r"^times\[1\]: time \+ gap overflows int64"),
    ("overflow_huge_gap", [1, 2], np.array([-5, 1]), dict(gap=INT64_MAX), E,
     r"^times\[1\]: time \+ gap overflows int64"),
    ("overflow_datetime", I5,
     np.array([0, 1, 2, 3, INT64_MAX - 10], dtype="M8[ns]"), dict(gap="1d"),
     E, r"^times\[4\]: time \+ gap overflows int64"),
    ("overflow_float", [1, 2], np.array([0.0, 9.2233e12]), dict(gap=10**8),
     E,
     r"^times\[1\]: (?i:.*(overflow|range))"),
    # messages that must say what is wrong, not merely something true
    ("gap_too_big_int", [1], np.array([0]), dict(gap=2**63), E,
     r"^gap: 9223372036854775808 does not fit int64$"),
    ("gap_below_a_microsecond", [1], np.array([0.5]), dict(gap=1e-7), E,
     r"^gap: 1e-07 s is less than one microsecond"),
    ("gap_nat", [1], secs([0]), dict(gap=np.timedelta64("NaT")), E,
     r"^gap: missing duration \(NaT\)"),
    ("keys_set", {1, 2}, np.array([0, 0]), dict(gap=5),
     TypeError, r"^keys: expected an array, list or tuple of keys, got set"),
    # shapes and lengths
    ("lengths", I5, np.arange(4), dict(gap=1), E,
     r"^keys and times: lengths differ \(5 vs 4\)"),
    ("lengths_list", [1, 2, 3], np.arange(4), dict(gap=1), E,
     r"^keys and times: lengths differ \(3 vs 4\)"),
    ("times_2d", np.arange(4), np.arange(4).reshape(2, 2), dict(gap=1), E,
     r"^times: expected a 1-D array, got 2 dimensions"),
    ("times_2d_datetime", np.arange(4), ns(range(4)).reshape(2, 2),
     dict(gap="1s"), E, r"^times: expected a 1-D array, got 2 dimensions"),
    ("times_2d_float", np.arange(4), np.zeros((2, 2)), dict(gap=1), E,
     r"^times: expected a 1-D array, got 2 dimensions"),
    ("keys_2d", np.arange(4).reshape(2, 2), np.arange(4), dict(gap=1), E,
     r"^keys: expected a 1-D array, got 2 dimensions"),
    ("keys_2d_str", np.array([["a", "b"], ["c", "d"]]), np.arange(4),
     dict(gap=1), E, r"^keys: expected a 1-D array, got 2 dimensions"),
    ("keys_3d", np.zeros((1, 2, 2), dtype=np.int64), np.arange(4),
     dict(gap=1), E, r"^keys: expected a 1-D array, got 3 dimensions"),
    ("times_0d", np.arange(1), np.int64(5), dict(gap=1), (E, TypeError),
     r"^times: "),
    # gap
    ("gap_zero", I5, T5, dict(gap=0), E, r"^gap: must be > 0, got 0"),
    ("gap_negative", I5, T5, dict(gap=-1), E, r"^gap: must be > 0, got -1"),
    ("gap_zero_timedelta", I5, ns(range(5)), dict(gap=dt.timedelta(0)), E,
     r"^gap: must be > 0"),
    ("gap_negative_timedelta64", I5, ns(range(5)),
     dict(gap=np.timedelta64(-1, "s")), E, r"^gap: must be > 0"),
    ("gap_zero_string", I5, ns(range(5)), dict(gap="0s"), E,
     r"^gap: must be > 0"),
    ("gap_negative_float_seconds", [1, 2], np.array([0.5, 1.5]),
     dict(gap=-1.5), E, r"^gap: must be > 0"),
    ("gap_below_a_microsecond", [1, 2], np.array([0.5, 1.5]),
     dict(gap=1e-7), E, r"^gap: "),
    ("gap_none", I5, T5, dict(gap=None), TypeError, r"^gap: "),
    ("gap_bool", I5, T5, dict(gap=True), TypeError, r"^gap: "),
    ("gap_beyond_int64", I5, T5, dict(gap=2**63), E, r"^gap: .*int64"),
    ("gap_seconds_beyond_int64_micros", [1, 2], np.array([0.0, 1.0]),
     dict(gap=10**13), E, r"^gap: .*int64"),
    ("gap_nan_seconds", [1, 2], np.array([0.0, 1.0]), dict(gap=float("nan")),
     E, r"^gap: "),
    ("gap_unknown_unit", I5, ns(range(5)), dict(gap="5 parsecs"), E,
     r"^gap: unknown unit"),
    ("gap_unknown_unit_x", I5, ns(range(5)), dict(gap="5x"), E,
     r"^gap: unknown unit"),
    ("gap_garbage_string", I5, ns(range(5)), dict(gap="soon"), E,
     r"^gap: "),
    ("gap_500ms_in_seconds", I5, secs(range(5)), dict(gap="500ms"), E,
     r"^gap: (?i:.*(represent|unit|exact|resolution|precision|multiple))"),
    ("gap_timedelta64_ms_in_seconds", I5, secs(range(5)),
     dict(gap=np.timedelta64(500, "ms")), E,
     r"^gap: (?i:.*(represent|unit|exact|resolution|precision|multiple))"),
    ("gap_timedelta_ms_in_seconds", I5, secs(range(5)),
     dict(gap=dt.timedelta(milliseconds=1500)), E,
     r"^gap: (?i:.*(represent|unit|exact|resolution|precision|multiple))"),
    ("gap_string_with_int_times", I5, T5, dict(gap="30min"), (E, TypeError),
     r"^gap: "),
    ("gap_timedelta_with_int_times", I5, T5,
     dict(gap=dt.timedelta(minutes=30)), (E, TypeError), r"^gap: "),
    # max_duration and its mode
    ("max_beyond_int64", I5, T5, dict(gap=1, max_duration=2**70), E,
     r"^max_duration: .*int64"),
    ("max_zero", I5, T5, dict(gap=1, max_duration=0), E,
     r"^max_duration: must be > 0, got 0"),
    ("max_negative", I5, T5, dict(gap=1, max_duration=-1), E,
     r"^max_duration: must be > 0, got -1"),
    ("max_negative_fixed", I5, T5,
     dict(gap=1, max_duration=-1, max_duration_mode="fixed"), E,
     r"^max_duration: must be > 0, got -1"),
    ("max_zero_timedelta", I5, ns(range(5)),
     dict(gap="1s", max_duration=dt.timedelta(0)), E,
     r"^max_duration: must be > 0"),
    ("max_500ms_in_seconds", I5, secs(range(5)),
     dict(gap="1s", max_duration="500ms"), E,
     r"^max_duration: (?i:.*(represent|unit|exact|resolution|precision|multiple))"),
    ("max_unknown_unit", I5, ns(range(5)),
     dict(gap="1s", max_duration="2 fortnights"), E,
     r"^max_duration: unknown unit"),
    ("mode_bad", I5, T5, dict(gap=1, max_duration=5, max_duration_mode="x"),
     E, r"^max_duration_mode: must be 'restart' or 'fixed', got 'x'"),
    ("mode_case", I5, T5,
     dict(gap=1, max_duration=5, max_duration_mode="Fixed"), E,
     r"^max_duration_mode: must be 'restart' or 'fixed', got 'Fixed'"),
    # keys
    ("unhashable_list", [1, [2], 3], np.arange(3), dict(gap=1), TypeError,
     r"^keys\[1\]: unhashable type: 'list'"),
    ("unhashable_dict_last", ["a", "b", {}], np.arange(3), dict(gap=1),
     TypeError, r"^keys\[2\]: unhashable type: 'dict'"),
    ("unhashable_in_tuple", [(1, 2), (1, [2])], np.arange(2), dict(gap=1),
     TypeError, r"^keys\[1\]: unhashable type: 'list'"),
    ("unhashable_object_array",
     np.array([1, "a", None, set()], dtype=object), np.arange(4),
     dict(gap=1), TypeError, r"^keys\[3\]: unhashable type: 'set'"),
    ("keys_scalar", 5, np.arange(1), dict(gap=1), (E, TypeError), r"^keys: "),
    ("times_strings", I5, np.array(list("abcde")), dict(gap=1),
     E, r"^times\[0\]: time 'a' is not an ISO-8601 time"),
]


def snapshot(x):
    return x.copy() if isinstance(x, np.ndarray) else copy.deepcopy(x)


def same(a, b):
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=a.dtype.kind in "fcmM"))
    return a == b


@pytest.mark.parametrize("fn", ["assign", "sessions"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, fn):
    _, keys, times, kwargs, exc, pattern = case
    keys0, times0 = snapshot(keys), snapshot(times)
    with pytest.raises(exc, match=pattern):
        getattr(sessionize, fn)(keys, times, **kwargs)
    assert same(keys, keys0) and same(times, times0)


@pytest.mark.parametrize("fn", ["assign", "sessions"])
def test_generators_are_refused_by_name(fn):
    # The array API needs lengths up front; a generator is the iterator API's.
    with pytest.raises(TypeError, match=r"^keys: expected an array, list or tuple of keys, got generator"):
        getattr(sessionize, fn)((k for k in [1, 2]), np.array([0, 0]), gap=5)
    with pytest.raises(TypeError, match=r"^times: expected an array, list or tuple of times, got generator"):
        getattr(sessionize, fn)([1, 2], (x for x in [0, 0]), gap=5)


def test_error_family():
    assert issubclass(sessionize.SessionizeError, ValueError)
    with pytest.raises(ValueError):
        sessionize.assign([1], np.array([0]), gap=0)


def test_bad_mode_without_cap_is_still_checked():
    """A misspelt mode is a mistake whether or not max_duration is given."""
    with pytest.raises(E, match=r"^max_duration_mode: must be 'restart' or "
                                r"'fixed', got 'restrat'"):
        sessionize.assign([1], np.array([0]), gap=1,
                          max_duration_mode="restrat")


def test_gap_is_keyword_only():
    with pytest.raises(TypeError):
        sessionize.assign([1], np.array([0]), 5)


# The position in a message is the input position, whatever path the core
# takes: plant one bad element anywhere in sorted, time-ordered or shuffled
# input.

@st.composite
def planted(draw):
    n = draw(st.integers(1, 60))
    keys = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    times = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n))
    order = draw(st.sampled_from(["sorted", "time", "shuffled"]))
    idx = list(range(n))
    if order == "sorted":
        idx.sort(key=lambda i: (keys[i], times[i]))
    elif order == "time":
        idx.sort(key=lambda i: times[i])
    else:
        idx = draw(st.permutations(idx))
    keys = [keys[i] for i in idx]
    times = [times[i] for i in idx]
    pos = draw(st.integers(0, n - 1))
    return keys, times, pos


@settings(max_examples=150, deadline=None)
@given(planted(), st.sampled_from(["overflow", "nan", "nat", "unhashable"]))
def test_bad_element_position(ev, kind):
    keys, times, pos = ev
    if kind == "overflow":
        t = np.array(times, dtype=np.int64)
        t[pos] = INT64_MAX - 2
        args, exc, pat = (np.array(keys), t), E, "overflows int64"
    elif kind == "nan":
        t = np.array(times, dtype=np.float64)
        t[pos] = np.nan
        args, exc, pat = (np.array(keys), t), E, "NaN"
    elif kind == "nat":
        t = np.array(times, dtype="M8[ms]")
        t[pos] = NAT
        args, exc, pat = (np.array(keys), t), E, "(NaT|missing)"
    else:
        k = list(keys)
        k[pos] = [k[pos]]
        args, exc, pat = (k, np.array(times)), TypeError, "unhashable"
    gap = 3 if kind in ("overflow", "unhashable", "nan") else "3ms"
    with pytest.raises(exc, match=rf"^(times|keys)\[{pos}\]: .*{pat}"):
        sessionize.assign(*args, gap=gap)


def test_int64_min_time_is_not_nat_for_integer_times():
    """NaT is a datetime64 notion; INT64_MIN is either a valid integer time
    or a clear error naming it, never a silent drop."""
    try:
        ids = sessionize.assign([1, 1], np.array([INT64_MIN, INT64_MIN + 1]),
                                gap=1)
    except (E, TypeError) as e:
        assert str(e).startswith("times[0]")
    else:
        assert ids.tolist() == [0, 0]


# ---------------------------------------------------------------------------
# search_ctr (SPEC section 4): keys, kinds, times

from sessionize.events import AppOpen, ClickResult, Search  # noqa: E402

K3 = [1, 1, 2]
KIND3 = ["APP_OPEN", "SEARCH", "CLICK"]

# (id, keys, kinds, times, keyword arguments, exception type(s), anchored pattern)
CTR_CASES = [
    ("kind_unknown_name", K3, ["APP_OPEN", "SEARCH", "CLIK"], None, {}, E,
     r"^kinds\[2\]: unknown event kind 'CLIK' \(expected 0-5 or a name"),
    ("kind_unknown_name_U", K3, np.array(["SEARCH", "search", "Surch"]), None, {}, E,
     r"^kinds\[2\]: unknown event kind 'Surch'"),
    ("kind_unknown_name_S", K3, np.array([b"SEARCH", b"nope", b"CLICK"]), None, {}, E,
     r"^kinds\[1\]: unknown event kind b'nope'"),
    ("kind_unknown_code_list", K3, [0, 1, 6], None, {}, E,
     r"^kinds\[2\]: unknown event kind 6 \(expected 0-5"),
    ("kind_unknown_code_int64", K3, np.array([0, 9, 1]), None, {}, E,
     r"^kinds\[1\]: unknown event kind 9 \(expected 0-5"),
    ("kind_negative_int8", K3, np.array([0, 1, -1], dtype=np.int8), None, {}, E,
     r"^kinds\[2\]: unknown event kind -1 \(expected 0-5"),
    ("kind_unknown_code_uint8", K3, np.array([0, 200, 1], dtype=np.uint8), None, {}, E,
     r"^kinds\[1\]: unknown event kind 200 \(expected 0-5"),
    ("kind_float_array", K3, np.array([0.0, 1.0, 3.0]), None, {}, TypeError,
     r"^kinds: unsupported dtype float64"),
    ("kind_float_element", K3, [0, 1.0, 3], None, {}, TypeError,
     r"^kinds\[1\]: expected an event kind \(an int 0-5 or a name\), got float"),
    ("kind_none_element", K3, [0, 1, None], None, {}, TypeError,
     r"^kinds\[2\]: expected an event kind .*got NoneType"),
    ("kind_bool_element", K3, [0, True, 3], None, {}, TypeError,
     r"^kinds\[1\]: expected an event kind"),
    ("kind_unhashable_element", K3, [0, [1], 3], None, {}, TypeError,
     r"^kinds\[1\]: unhashable type: 'list'"),
    ("kinds_2d", [1, 1, 2, 2], np.zeros((2, 2), dtype=np.uint8), None, {}, E,
     r"^kinds: expected a 1-D array, got 2 dimensions"),
    ("kinds_scalar", K3, 1, None, {}, TypeError, r"^kinds: expected an array"),
    ("lengths_keys_kinds", K3, ["SEARCH", "CLICK"], None, {}, E,
     r"^keys and kinds: lengths differ \(3 vs 2\)"),
    ("lengths_kinds_times", [1, 1], ["SEARCH", "CLICK"], np.arange(3), {}, E,
     r"^kinds and times: lengths differ \(2 vs 3\)"),
    ("gap_without_times", K3, KIND3, None, dict(gap=5), E,
     r"^gap: the gap rule needs times"),
    ("gap_zero", K3, KIND3, np.arange(3), dict(gap=0), E, r"^gap: must be > 0, got 0"),
    ("gap_unit_with_int_times", K3, KIND3, np.arange(3), dict(gap="5s"), E, r"^gap: "),
    ("time_nat", K3, KIND3, ns([0, NAT, 2]), {}, E, r"^times\[1\]: missing time \(NaT\)"),
    ("time_nan", K3, KIND3, np.array([0.0, 1.0, np.nan]), {}, E, r"^times\[2\]: .*NaN"),
    ("time_overflow_with_gap", K3, KIND3, np.array([0, INT64_MAX - 2, 5]), dict(gap=3), E,
     r"^times\[1\]: time \+ gap overflows int64"),
    ("times_2d", [1, 1], ["SEARCH", "CLICK"], np.zeros((1, 2), dtype=np.int64), {}, E,
     r"^times: expected a 1-D array"),
    ("key_unhashable", [1, [2], 3], KIND3, None, {}, TypeError,
     r"^keys\[1\]: unhashable type: 'list'"),
    ("keys_float", np.array([1.0, 2.0, 3.0]), KIND3, None, {}, TypeError,
     r"^keys: unsupported dtype float64"),
    ("flush_not_bool", K3, KIND3, None, dict(flush="no"), TypeError,
     r"^flush: expected a bool, got str"),
    ("inclusive_not_bool", K3, KIND3, None, dict(inclusive=1), TypeError,
     r"^inclusive: expected a bool, got int"),
]


@pytest.mark.parametrize("case", CTR_CASES, ids=[c[0] for c in CTR_CASES])
def test_search_ctr_bad_input(case):
    _, keys, kinds, times, kwargs, exc, pattern = case
    before = [snapshot(x) for x in (keys, kinds, times)]
    with pytest.raises(exc, match=pattern):
        sessionize.search_ctr(keys, kinds, times, **kwargs)
    assert all(same(a, b) for a, b in zip((keys, kinds, times), before))


class Foreign:
    user = 1


class _NoUser:
    pass


_NoUser.__name__ = "Search"  # the right name, but no user

# (id, events, keyword arguments, exception type(s), anchored pattern)
CTR_EVENT_CASES = [
    ("no_user", [AppOpen(1), Search(None, "q")], {}, E,
     r"^events\[1\]: event without a user \(user is None\)"),
    ("not_an_event", [AppOpen(1), "SEARCH"], {}, TypeError,
     r"^events\[1\]: str is not an event class; expected AppOpen, Search"),
    ("foreign_class", [Foreign()], {}, TypeError, r"^events\[0\]: Foreign is not an event class"),
    ("no_user_attribute", [AppOpen(1), _NoUser()], {}, TypeError,
     r"^events\[1\]: Search has no user attribute"),
    ("missing_time", [AppOpen(1, time=0), Search(1, "q"), ClickResult(1, "i", time=2)],
     {}, E, r"^events\[1\]: missing time \(None\), while events\[0\] has one"),
    ("nat_time", [AppOpen(1, time=np.datetime64(0, "s")), Search(1, "q", time=NAT)],
     {}, E, r"^events\[1\]\.time: missing time \(NaT\)"),
    ("time_overflow", [AppOpen(1, time=0), Search(1, "q", time=INT64_MAX)],
     dict(gap=1), E, r"^events\[1\]\.time: time \+ gap overflows int64"),
    ("naive_and_aware",
     [AppOpen(1, time=dt.datetime(2024, 1, 1)),
      Search(1, "q", time=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))],
     {}, TypeError, r"^events\[1\]\.time: mixes naive and timezone-aware datetimes"),
    ("datetime_then_int", [AppOpen(1, time=dt.datetime(2024, 1, 1)), Search(1, "q", time=5)],
     {}, TypeError, r"^events\[1\]\.time: expected a datetime"),
    ("unhashable_user", [AppOpen(1), Search([1], "q")], {}, TypeError,
     r"^events\[1\]\.user: unhashable type: 'list'"),
    ("gap_without_times", [AppOpen(1), Search(1, "q")], dict(gap=5), E,
     r"^gap: the gap rule needs times"),
    ("events_not_a_list", 5, {}, TypeError, r"^events: expected a list of events .*got int; for arrays, pass keys and kinds"),
    ("events_array", np.arange(3), {}, TypeError, r"^events: expected a list of events"),
]


@pytest.mark.parametrize("case", CTR_EVENT_CASES, ids=[c[0] for c in CTR_EVENT_CASES])
def test_search_ctr_bad_events(case):
    _, events, kwargs, exc, pattern = case
    with pytest.raises(exc, match=pattern):
        sessionize.search_ctr(events, **kwargs)


def test_search_ctr_times_apart_from_events_are_refused():
    with pytest.raises(TypeError, match=r"^times: given with a list of events"):
        sessionize.search_ctr([AppOpen(1)], None, np.array([0]))


@settings(max_examples=100, deadline=None)
@given(planted(), st.sampled_from(["kind", "kind_name", "nat", "overflow"]))
def test_search_ctr_bad_element_position(ev, what):
    keys, times, pos = ev
    kinds = [(k * 7 + i) % 6 for i, k in enumerate(keys)]
    t = np.array(times, dtype=np.int64)
    gap = None
    if what == "kind":
        kinds = np.array(kinds, dtype=np.uint8)
        kinds[pos] = 6 + pos
        pat = "unknown event kind"
    elif what == "kind_name":
        kinds = [sessionize.Kind(k).name for k in kinds]
        kinds[pos] = "NOPE"
        pat = "unknown event kind"
    elif what == "nat":
        t = t.astype("M8[ms]")
        t[pos] = NAT
        pat = r"missing time \(NaT\)"
    else:
        t[pos] = INT64_MAX - 1
        gap = 3
        pat = r"time \+ gap overflows int64"
    with pytest.raises(E, match=rf"^(kinds|times)\[{pos}\]: {pat}"):
        sessionize.search_ctr(np.array(keys), kinds, t, gap=gap)


# ---------------------------------------------------------------------------
# Streaming (SPEC section 3): Sessionizer and stream().  Each case is a call
# that must fail, with the exception type (or types, where the spec allows
# either) and an anchored pattern: the argument's name first, then the rule.
# (Moved here from test_stream_api.py, so every bad input is in one table.)

Sessionizer = sessionize.Sessionizer
D0 = dt.datetime(2024, 1, 1)


def _settings(**kw):
    """Refused when the Sessionizer is made, or at the latest at its first
    event (a duration's unit is known only then)."""
    return lambda: Sessionizer(**kw).push("k", 0)


def _first(kw, first):
    return lambda: Sessionizer(**kw).push("k", first)


def _after(gap, first, call):
    """A call on a Sessionizer whose time type `first` has fixed."""
    def run():
        sz = Sessionizer(gap)
        sz.push("k", first)
        call(sz)
    return run


def _fresh(gap, call):
    return lambda: call(Sessionizer(gap))


_AWARE = [dt.datetime(2024, 1, 1, 0, i) for i in range(5)]
_AWARE[3] = _AWARE[3].replace(tzinfo=dt.timezone.utc)
_NAT4 = np.array([0, 1, 2, 3], dtype="M8[s]")
_NAT4[2] = np.datetime64("NaT")
ENT = (E, TypeError)  # a time of the wrong kind: either is documented

STREAM_CASES = [
    # settings
    ("gap_zero", _settings(gap=0), E, r"^gap: must be > 0"),
    ("gap_negative", _settings(gap=-1), E, r"^gap: must be > 0"),
    ("gap_negative_float", _settings(gap=-0.5), E, r"^gap: must be > 0"),
    ("gap_nan", _settings(gap=float("nan")), E, r"^gap: "),
    ("gap_none", _settings(gap=None), TypeError, r"^gap: "),
    ("gap_bool", _settings(gap=True), TypeError, r"^gap: "),
    ("gap_unknown_unit", _settings(gap="5 parsecs"), E, r"^gap: "),
    ("max_zero", _settings(gap=5, max_duration=0), E, r"^max_duration: must be > 0"),
    ("max_negative", _settings(gap=5, max_duration=-3), E, r"^max_duration: must be > 0"),
    ("delay_negative", _settings(gap=5, delay=-1), E, r"^delay: must be >= 0"),
    ("lateness_negative", _settings(gap=5, allowed_lateness=-1), E,
     r"^allowed_lateness: must be >= 0"),
    ("emit_unknown", _settings(gap=5, emit="always"), E, r"^emit: "),
    ("on_late_unknown", _settings(gap=5, on_late="ignore"), E, r"^on_late: "),
    ("mode_unknown", _settings(gap=5, max_duration=9, max_duration_mode="Fixed"), E,
     r"^max_duration_mode: "),
    ("inclusive_not_bool", _settings(gap=5, inclusive="yes"), TypeError, r"^inclusive: "),
    # durations against the time type the first event fixes
    ("gap_zero_string", _first(dict(gap="0s"), D0), E, r"^gap: must be > 0"),
    ("gap_zero_timedelta", _first(dict(gap=dt.timedelta(0)), np.datetime64(0, "s")), E,
     r"^gap: must be > 0"),
    ("max_negative_timedelta",
     _first(dict(gap="1s", max_duration=dt.timedelta(seconds=-1)), D0), E,
     r"^max_duration: must be > 0"),
    ("delay_negative_timedelta", _first(dict(gap="1s", delay=dt.timedelta(seconds=-1)), D0),
     E, r"^delay: must be >= 0"),
    ("lateness_negative_string", _first(dict(gap="1s", allowed_lateness="-5s"), 1.5), E,
     r"^allowed_lateness: "),
    # naive and aware datetimes mixed
    ("aware_after_naive", _after("1min", D0, lambda sz: sz.push(
        "k", dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))), ENT,
     r"^time: .*(naive|aware)"),
    ("aware_in_chunk", _after("1min", D0, lambda sz: sz.push_many(["k"] * 5, _AWARE)), ENT,
     r"^times\[3\]: .*(naive|aware)"),
    ("aware_in_first_chunk", _fresh("1min", lambda sz: sz.push_many(["k"] * 5, _AWARE)),
     ENT, r"^times\[3\]: .*(naive|aware)"),
    # a time of another type than the first event's
    *[(f"{name}_then_{other_name}",
       _after(5 if isinstance(first, (int, float)) else "5s", first,
              lambda sz, o=other: sz.push("k", o)), ENT, r"^time: ")
      for name, first, other_name, other in [
          ("int", 5, "datetime", D0), ("datetime", D0, "int", 5),
          ("datetime", D0, "datetime64", np.datetime64("2024-01-01T00:00:00", "us")),
          ("datetime64", np.datetime64(0, "s"), "int", 5), ("int", 5, "str", "5"),
          ("float", 5.5, "datetime", D0)]],
    *[(f"{name}_then_{other_name}_in_chunk",
       _after(5 if isinstance(first, (int, float)) else "5s", first,
              lambda sz, f=first, o=other: sz.push_many(["k"] * 3, [f, f, o])), ENT,
       r"^times\[2\]: ")
      for name, first, other_name, other in [
          ("int", 5, "datetime", D0), ("datetime", D0, "int", 5),
          ("datetime", D0, "datetime64", np.datetime64("2024-01-01T00:00:00", "us")),
          ("datetime64", np.datetime64(0, "s"), "int", 5), ("int", 5, "str", "5"),
          ("float", 5.5, "datetime", D0)]],
    # NaN and NaT
    ("nan", _fresh(5.0, lambda sz: sz.push("k", float("nan"))), E, r"^time: .*NaN"),
    ("nan_in_array", _fresh(5.0, lambda sz: sz.push_many(
        ["k"] * 5, np.array([0.0, 1, 2, np.nan, 4]))), E, r"^times\[3\]: .*NaN"),
    ("nan_in_list", _fresh(5.0, lambda sz: sz.push_many(["k"] * 2, [0.0, float("nan")])),
     E, r"^times\[1\]: .*NaN"),
    ("nat", _fresh("5s", lambda sz: sz.push("k", np.datetime64("NaT", "s"))), E,
     r"^time: .*(NaT|missing)"),
    ("nat_in_array", _fresh("5s", lambda sz: sz.push_many(["k"] * 4, _NAT4)), E,
     r"^times\[2\]: .*(NaT|missing)"),
    ("nat_watermark", _fresh("5s", lambda sz: sz.advance(np.datetime64("NaT", "s"))), E,
     r"^time: .*(NaT|missing)"),
    # lengths, shapes, values
    ("lengths", _fresh(5, lambda sz: sz.push_many([1, 2, 3], [0, 1])), E,
     r"^(keys|times|keys and times)\b.*\b(3|length)"),
    ("values_length", _fresh(5, lambda sz: sz.push_many([1, 2], [0, 1], [7])), E,
     r"^values\b"),
    ("times_2d", _fresh(5, lambda sz: sz.push_many(np.arange(4),
                                                   np.arange(4).reshape(2, 2))), E,
     r"^times: expected a 1-D array"),
    # keys
    ("unhashable_key", _fresh(5, lambda sz: sz.push([1], 0)), TypeError,
     r"^key: .*unhashable"),
    ("unhashable_in_chunk", _fresh(5, lambda sz: sz.push_many([1, 2, [3], 4], [0, 1, 2, 3])),
     TypeError, r"^keys\[2\]: .*unhashable"),
    ("unhashable_dict", _fresh(5, lambda sz: sz.push_many([{}], [0])), TypeError,
     r"^keys\[0\]: .*unhashable"),
    # time + gap past int64
    ("overflow", _fresh(10, lambda sz: sz.push("k", 2**63 - 5)), E, r"^time: .*overflow"),
    ("overflow_in_chunk", _fresh(10, lambda sz: sz.push_many(["k", "k"], [0, 2**63 - 5])), E,
     r"^times\[1\]: .*overflow"),
    # the iterator form's getters
    ("stream_key_getter", lambda: list(sessionize.stream([(1, 2)], key=1.5, time=1, gap=5)),
     TypeError, r"^key: "),
    ("stream_time_getter", lambda: list(sessionize.stream([(1, 2)], key=0, time=None, gap=5)),
     TypeError, r"^time: "),
    # per-event gaps
    ("gaps_without_per_event", _fresh(5, lambda sz: sz.push_many([1], [0], gaps=[1])),
     TypeError, r"^gaps: .*per_event_gaps=True"),
    ("gap_without_per_event", _fresh(5, lambda sz: sz.push(1, 0, gap=1)),
     TypeError, r"^gap: .*per_event_gaps=True"),
    ("gap_column_as_bound", lambda: Sessionizer([1, 2]), TypeError, r"^gap: .*per_event_gaps"),
    ("gaps_zero", lambda: Sessionizer(5, per_event_gaps=True).push_many([1, 1], [0, 1],
                                                                         gaps=[1, 0]),
     E, r"^gaps\[1\]: must be > 0, got 0"),
    ("gaps_missing", lambda: Sessionizer(5, per_event_gaps=True).push_many(
        [1, 1], [0, 1], gaps=[1.0, np.nan]), E, r"^gaps\[1\]: missing gap"),
    ("gaps_over_bound", lambda: Sessionizer(5, per_event_gaps=True).push_many(
        [1, 1], [0, 1], gaps=[1, 6]), E, r"^gaps\[1\]: 6 is longer than the Sessionizer's gap"),
    ("gaps_length", lambda: Sessionizer(5, per_event_gaps=True).push_many(
        [1, 1], [0, 1], gaps=[1]), E, r"^gaps: one gap per event expected"),
    ("gap_over_bound", lambda: Sessionizer(5, per_event_gaps=True).push(1, 0, gap=9),
     E, r"^gap: 9 is longer than the Sessionizer's gap"),
    ("gap_negative_push", lambda: Sessionizer(5, per_event_gaps=True).push(1, 0, gap=-2),
     E, r"^gap: must be > 0"),
    ("gap_bool", lambda: Sessionizer(5, per_event_gaps=True).push(1, 0, gap=True),
     TypeError, r"^gap: expected a duration"),
    ("gap_keyword", lambda: Sessionizer(5, per_event_gaps=True).push(1, 0, gaps=1),
     TypeError, r"^push\(key, time, value=None, \*, gap=None\)"),
    ("stream_gap_getter", lambda: list(sessionize.stream([(1, 2)], key=0, time=1, gap=5,
                                                         gap_of=1.5)),
     TypeError, r"^gap_of: "),
]


@pytest.mark.parametrize("case", STREAM_CASES, ids=[c[0] for c in STREAM_CASES])
def test_stream_bad_input(case):
    _, call, exc, pattern = case
    with pytest.raises(exc, match=pattern):
        call()


@pytest.mark.parametrize("bad", ["time_type", "nan", "unhashable", "lengths", "overflow"])
def test_stream_failed_call_changes_nothing(bad):
    """A push_many that raises applies none of its events."""
    sz = Sessionizer(5.0)
    sz.push("a", 0.0)
    keys, times = ["a", "b", "a"], [1.0, 2.0, 3.0]
    if bad == "time_type":
        times[2] = dt.datetime(2024, 1, 1)
    elif bad == "nan":
        times[2] = float("nan")
    elif bad == "unhashable":
        keys[2] = ["a"]
    elif bad == "lengths":
        times = times[:2]
    else:
        times[2] = 9.3e12
    with pytest.raises((E, TypeError)):
        sz.push_many(keys, times)
    assert sz.watermark == 0.0
    assert [(s.key, s.count) for s in sz.flush()] == [("a", 1)]
