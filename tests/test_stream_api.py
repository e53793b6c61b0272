"""The streaming API's surface: time types, keys, stream(), errors, snapshots
and memory (SPEC.md sections 2, 3 and 6).

- Every time type gives the sessions integer microseconds give (through the
  model in stream_reference.py), with times back in the caller's type.
- Keys of mixed types come back as the caller's values; equal keys are one
  key, as Python's dict (and sessionize.assign) has them.
- stream() over tuples, dicts and objects, with key/time/value given as a
  callable, a name or an index; it is lazy.
- Bad arguments and elements raise SessionizeError/TypeError naming the
  argument (and position in push_many); a failing call changes nothing.
- A corrupted, truncated or forged snapshot raises SessionizeError.
- A million keys that are done leave a snapshot of a few hundred bytes.
"""
import datetime as dt
import math
import pickle
import re
import time
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sessionize
from sessionize import LateEvent, Sessionizer, SessionizeError, StreamSession, stream
from stream_reference import StreamReference, canonical_ids
from test_stream_reference import SETTINGS, examples

E = SessionizeError
US = dt.timedelta(microseconds=1)
EPOCH = dt.datetime(1970, 1, 1)
SEC = 1_000_000


# ---------------------------------------------------------------------------
# time types: the same sessions as integer microseconds


def to_micros(v, kind):
    if kind == "int":
        assert type(v) is int, type(v)
        return v
    if kind == "seconds":
        assert type(v) is float, type(v)
        return round(v * 1e6)
    if kind == "naive":
        assert type(v) is dt.datetime and v.tzinfo is None, v
        return (v - EPOCH) // US
    if kind == "aware":
        assert type(v) is dt.datetime and v.utcoffset() is not None, v
        return (v - EPOCH.replace(tzinfo=dt.timezone.utc)) // US
    assert isinstance(v, np.datetime64) and np.datetime_data(v.dtype)[0] == "us", v
    return int(v.astype(np.int64))


TZ = dt.timezone(dt.timedelta(hours=5, minutes=30))


def from_micros(m, kind):
    if kind == "int":
        return m
    if kind == "seconds":
        return m / 1e6
    if kind == "naive":
        return EPOCH + m * US
    if kind == "aware":
        return (EPOCH.replace(tzinfo=dt.timezone.utc) + m * US).astimezone(TZ)
    return np.datetime64(m, "us")


def duration(seconds, kind, form):
    """A duration of whole seconds, the ways a user of that time type gives it."""
    if kind == "int":
        return seconds * SEC
    if form == "number" and kind == "seconds":
        return seconds
    if form == "float" and kind == "seconds":
        return float(seconds)
    if form == "string" or (form in ("number", "float") and kind != "seconds"):
        return f"{seconds}s"
    if form == "timedelta64":
        return np.timedelta64(seconds, "s")
    return dt.timedelta(seconds=seconds)


KINDS = ["int", "seconds", "naive", "aware", "datetime64"]


def session_micros(x, kind, given=None, held=None):
    if len(x) == 3:
        # float seconds are held as int(seconds * 1e6), which the reference
        # saw: a late event hands back either the float given (push) or the
        # held micros as seconds (push_many's array), and int(t * 1e6) of the
        # latter can be one below, so both are checked against event x.value's
        if kind == "seconds":
            i = x.value
            assert x.time in (given[i], held[i] / 1e6), (x.time, given[i], held[i])
            return ("late", x.key, held[i], x.value)
        return ("late", x.key, to_micros(x.time, kind), x.value)
    return ("s", x.key, to_micros(x.start, kind), to_micros(x.end, kind),
            to_micros(x.window_end, kind)) + tuple(x[4:])


@settings(max_examples=examples(40), **SETTINGS)
@given(kind=st.sampled_from(KINDS), form=st.sampled_from(
    ["number", "float", "string", "timedelta", "timedelta64"]),
    data=st.data())
def test_time_types_match_int_micros(kind, form, data):
    if kind == "seconds" and form == "timedelta64":
        form = "timedelta"  # test_timedelta64_with_float_seconds
    gap_s = data.draw(st.sampled_from([1, 30, 1800]))
    kw = dict(allowed_lateness=data.draw(st.sampled_from([0, gap_s])),
              delay=data.draw(st.sampled_from([0, gap_s, 3 * gap_s])))
    cap = data.draw(st.sampled_from([None, "restart", "fixed"]))
    if cap:
        kw.update(max_duration=2 * gap_s, max_duration_mode=cap)
    emit = data.draw(st.sampled_from(["final", "update"]))
    n = data.draw(st.integers(1, 30))
    base = data.draw(st.sampled_from([0, 1_700_000_000])) * SEC
    # times in micros: whole milliseconds
    micros = [base + 1000 * data.draw(st.integers(-2 * gap_s * 1000, 6 * gap_s * 1000))
              for _ in range(n)]
    given = [from_micros(m, kind) for m in micros]
    if kind == "seconds":  # held as int(seconds * 1e6), truncated (Beam's):
        # m / 1e6 * 1e6 can come out one microsecond below m, and then again
        # below that when converted back and forth, so the floats given are
        # fixed here and the expected micros are what the library holds
        micros = [int(t * 1e6) for t in given]
    keys = [data.draw(st.sampled_from(["u1", "u2", 3])) for _ in range(n)]
    chunked = data.draw(st.booleans())

    ref = StreamReference(gap_s * SEC, emit=emit, collect=True,
                          **{k: (v * SEC if k in ("allowed_lateness", "delay", "max_duration")
                                 else v) for k, v in kw.items()})
    sz = Sessionizer(duration(gap_s, kind, form), emit=emit, collect=True,
                     **{k: (duration(v, kind, form) if k in ("allowed_lateness", "delay",
                                                             "max_duration") and v
                            else v) for k, v in kw.items()})
    got, want = [], []
    if chunked and kind != "int":
        times = given
        if kind == "datetime64":
            times = np.array(micros, dtype="M8[us]")
        got += sz.push_many(keys, times, list(range(n)))
        want += ref.push_many(keys, micros, list(range(n)))
    else:
        for i, (k, t, m) in enumerate(zip(keys, given, micros)):
            got += sz.push(k, t, i)
            want += ref.push(k, m, i)
            wm = sz.watermark
            assert to_micros(wm, kind) == ref.watermark
    got += sz.flush()
    want += ref.flush()
    # ids compared up to renaming
    g = [session_micros(x, kind, given, micros) for x in canonical_ids(got)]
    w = [session_micros(x, "int") for x in canonical_ids(want)]
    assert g == w
    assert sz.late_count == ref.late_count


@pytest.mark.parametrize("name", ["gap", "max_duration", "delay", "allowed_lateness"])
def test_timedelta64_with_float_seconds(name):
    """SPEC 2: with float seconds, durations may be numbers or 'any of the
    above', numpy.timedelta64 included."""
    kw = dict(gap=5)
    kw[name] = np.timedelta64(5, "s")
    sz = Sessionizer(**kw)
    sz.push("k", 0.0)
    sz.push("k", 5.0)
    (s,) = sz.flush()
    assert s.count == 2


@pytest.mark.parametrize("kind", KINDS)
def test_watermark_type(kind):
    sz = Sessionizer(duration(10, kind, "timedelta"))
    assert sz.watermark is None
    sz.push("k", from_micros(5 * SEC, kind))
    assert to_micros(sz.watermark, kind) == 5 * SEC
    sz.advance(from_micros(7 * SEC, kind))
    assert to_micros(sz.watermark, kind) == 7 * SEC
    sz.advance(from_micros(6 * SEC, kind))  # never back
    assert to_micros(sz.watermark, kind) == 7 * SEC


@pytest.mark.parametrize("kind", KINDS)
def test_watermark_after_flush(kind):
    """flush() makes the watermark +infinity: reading it must work, and every
    later event is late."""
    sz = Sessionizer(duration(10, kind, "timedelta"))
    sz.push("k", from_micros(5 * SEC, kind))
    sz.flush()
    wm = sz.watermark  # must not raise
    if kind == "seconds":
        assert wm == math.inf
    assert sz.push("k", from_micros(6 * SEC, kind)) == [
        LateEvent("k", from_micros(6 * SEC, kind), None)]


def test_datetime64_units_in_push_many():
    """datetime64 arrays of another unit than the first are converted when
    exact; output times keep the stream's unit."""
    sz = Sessionizer("10s")
    sz.push_many(["a", "a"], np.array(["2024-01-01T00:00:00", "2024-01-01T00:00:05"],
                                      dtype="M8[s]"))
    sz.push_many(["a"], np.array(["2024-01-01T00:00:09.000"], dtype="M8[ms]"))
    (s,) = sz.flush()
    assert s.start == np.datetime64("2024-01-01T00:00:00", "s")
    assert s.end == np.datetime64("2024-01-01T00:00:09", "s")
    assert s.count == 3


def test_float_seconds_truncate_like_beam():
    """float seconds are held as int(seconds * 1e6), as Beam's Timestamp.of."""
    sz = Sessionizer(1.0)
    sz.push("k", 0.0)
    sz.push("k", 1.0000004)  # 1.0000004 s -> 1000000 us: exactly gap apart
    (s,) = sz.flush()
    assert s.count == 2 and s.end == 1.0


# ---------------------------------------------------------------------------
# keys


def test_mixed_keys_come_back_as_given():
    keys = [1, "1", b"1", (1, "a"), None, 2**70, -5, frozenset({1}), ("x", (2, 3)), 1.5]
    sz = Sessionizer(5)
    out = []
    for i, k in enumerate(keys):
        out += sz.push(k, i * 100)
    out += sz.flush()
    assert [x.key for x in out] == keys
    for x, k in zip(out, keys):
        assert type(x.key) is type(k)
    assert type(out[0].key) is int and out[0].key == 1


def test_equal_keys_are_one_key():
    """1, True and 1.0 are one dict key, as in sessionize.assign."""
    assert sessionize.assign([1, True, 1.0], np.array([0, 1, 2]), gap=5).tolist() == [0, 0, 0]
    sz = Sessionizer(5)
    sz.push(1, 0)
    sz.push(True, 1)
    sz.push(1.0, 2)
    (s,) = sz.flush()
    assert s.count == 3 and s.key == 1


def test_numpy_int_keys_come_back_as_int():
    sz = Sessionizer(5)
    sz.push_many(np.array([7, 8, 7]), np.array([0, 1, 2]))
    out = sz.flush()
    assert [(x.key, x.count) for x in out] == [(8, 1), (7, 2)]  # by lj: 11, 12
    assert all(type(x.key) is int for x in out)


def test_key_object_identity_within_a_held_key():
    """The emitted key is the caller's object (the first pushed since held)."""
    k1, k2 = ("user", "a" * 3), ("user", "".join(["a"] * 3))
    assert k1 == k2 and k1 is not k2
    sz = Sessionizer(5)
    sz.push(k1, 0)
    sz.push(k2, 1)
    (s,) = sz.flush()
    assert s.key is k1 and s.count == 2


# Keys whose own __hash__ or __eq__ raise (issue 20): the error names the
# argument and position, chains the key's exception as __cause__, and the
# failed call leaves the sessionizer as it was, handles of the chunk's
# earlier keys included (a key class with a Python __hash__ before the bad
# key used to turn the error into SystemError and leave a handle behind).
# test_ctr_stream.py runs the same cases on SearchSessionizer.


class Named:
    """A key class with a Python __hash__ and __eq__, as users write them."""

    def __init__(self, name):
        self.name = name

    def __hash__(self):
        return hash(self.name)

    def __eq__(self, other):
        return self.name == other.name if isinstance(other, Named) else NotImplemented

    def __repr__(self):
        return f"Named({self.name!r})"


class KeyFault(Exception):
    """What the bad keys raise (a user's own exception type)."""


class BadHash:
    def __init__(self):
        self.error = KeyFault("cannot hash")

    def __hash__(self):
        raise self.error


class BadEq:
    """Hashes as Named(name) does and raises when compared with it."""

    def __init__(self, name):
        self.name = name
        self.error = KeyFault("cannot compare")

    def __hash__(self):
        return hash(self.name)

    def __eq__(self, other):
        raise self.error


# (id, the chunk's keys, the bad key's position, its expected error type and
# message); the earlier keys are fresh in the chunk, or held, or ints
BAD_KEY_CASES = [
    ("hash_first", lambda: [BadHash(), Named("a"), Named("b")], 0, SessionizeError,
     r"hashing or comparing a key of type BadHash raised KeyFault: cannot hash"),
    ("hash_after_python_hash", lambda: [Named("a"), Named("b"), "s", 7, BadHash()], 4,
     SessionizeError, r"hashing or comparing a key of type BadHash raised KeyFault: cannot hash"),
    ("eq_after_python_hash", lambda: [Named("b"), Named("a"), BadEq("a"), Named("c")], 2,
     SessionizeError, r"hashing or comparing a key of type BadEq raised KeyFault: cannot compare"),
    ("eq_with_held_key", lambda: [Named("b"), BadEq("held")], 1, SessionizeError,
     r"hashing or comparing a key of type BadEq raised KeyFault: cannot compare"),
    ("unhashable_after_python_hash", lambda: [Named("a"), Named("b"), ["x"]], 2, TypeError,
     r"unhashable key of type list"),
]
BAD_KEY_IDS = [c[0] for c in BAD_KEY_CASES]


def check_bad_key_error(ei, bad, exc_type, message, where):
    """The error a bad key raised: its type, message and __cause__."""
    assert type(ei.value) is exc_type, repr(ei.value)
    assert re.fullmatch(re.escape(where) + ": " + message, str(ei.value)), str(ei.value)
    if isinstance(bad, (BadHash, BadEq)):
        assert ei.value.__cause__ is bad.error
    else:  # Python's own TypeError, kept as the cause
        assert type(ei.value.__cause__) is TypeError
        assert "unhashable type" in str(ei.value.__cause__)


def _bad_key_prefix(sz):
    return sz.push_many([Named("held"), "s", 9], [0, 1, 2])



class Breakable(Named):
    """A Named whose __hash__ raises once broken."""

    broken = False

    def __hash__(self):
        if self.broken:
            raise KeyFault("broken")
        return hash(self.name)


class BreaksBefore(BadHash):
    """Breaks an earlier key of its chunk, then raises: the cleanup that drops
    the earlier key's handle fails too."""

    def __init__(self, victim):
        super().__init__()
        self.victim = victim

    def __hash__(self):
        self.victim.broken = True
        raise self.error


class Interrupts:
    def __hash__(self):
        raise KeyboardInterrupt

@pytest.mark.parametrize("case", BAD_KEY_CASES, ids=BAD_KEY_IDS)
def test_push_many_key_whose_hash_or_eq_raises(case):
    _, make, pos, exc_type, message = case
    keys = make()
    bad = keys[pos]
    times = list(range(3, 3 + len(keys)))
    sz = Sessionizer(5)
    _bad_key_prefix(sz)
    stats, handles = sz.stats(), dict(sz._getstate()[1])
    with pytest.raises(exc_type) as ei:
        sz.push_many(keys, times)
    check_bad_key_error(ei, bad, exc_type, message, f"keys[{pos}]")
    # as it was: no handle made for keys[:pos] is left, nothing consumed
    assert sz.stats() == stats
    assert sz._getstate()[1] == handles
    restored = pickle.loads(pickle.dumps(sz))  # the key map matches the core
    good_keys = keys[:pos] + keys[pos + 1:]
    good_times = times[:pos] + times[pos + 1:]
    fresh = Sessionizer(5)
    _bad_key_prefix(fresh)
    expected = fresh.push_many(good_keys, good_times) + fresh.flush()
    assert len(expected) >= 3
    for x in (sz, restored):
        assert x.push_many(good_keys, good_times) + x.flush() == expected



def test_push_many_cleanup_that_fails_keeps_the_key_error():
    victim = Breakable("v")
    keys = [Named("a"), victim, BreaksBefore(victim), Named("b")]
    sz = Sessionizer(5)
    _bad_key_prefix(sz)
    stats = sz.stats()
    with pytest.raises(SessionizeError) as ei:
        sz.push_many(keys, [3, 4, 5, 6])
    check_bad_key_error(ei, keys[2], SessionizeError,
                        "hashing or comparing a key of type BreaksBefore raised "
                        "KeyFault: cannot hash", "keys[2]")
    assert sz.stats() == stats
    # Named("a")'s handle went; the victim, which could not be looked up to
    # be dropped, keeps its handle (in both maps: pushed again, it takes it)
    victim.broken = False
    assert set(sz._getstate()[1].values()) == {Named("held"), "s", victim}
    fresh = Sessionizer(5)
    _bad_key_prefix(fresh)
    good_keys, good_times = keys[:2] + keys[3:], [3, 4, 6]
    assert (sz.push_many(good_keys, good_times) + sz.flush()
            == fresh.push_many(good_keys, good_times) + fresh.flush())


def test_push_many_key_raising_a_base_exception_passes_it_as_is():
    """KeyboardInterrupt (not an Exception) is not wrapped; the cleanup runs."""
    sz = Sessionizer(5)
    _bad_key_prefix(sz)
    handles = dict(sz._getstate()[1])
    with pytest.raises(KeyboardInterrupt) as ei:
        sz.push_many([Named("a"), Interrupts()], [3, 4])
    assert ei.value.__cause__ is None
    assert sz._getstate()[1] == handles

@pytest.mark.parametrize("case", BAD_KEY_CASES, ids=BAD_KEY_IDS)
def test_push_key_whose_hash_or_eq_raises(case):
    _, make, pos, exc_type, message = case
    keys = make()
    bad = keys[pos]
    sz = Sessionizer(5)
    _bad_key_prefix(sz)
    for k in keys[:pos]:
        sz.push(k, 3)
    stats, handles = sz.stats(), dict(sz._getstate()[1])
    with pytest.raises(exc_type) as ei:
        sz.push(bad, 4)
    check_bad_key_error(ei, bad, exc_type, message, "key")
    assert sz.stats() == stats
    assert sz._getstate()[1] == handles
    fresh = Sessionizer(5)
    _bad_key_prefix(fresh)
    for k in keys[:pos]:
        fresh.push(k, 3)
    for x in (sz, fresh):
        for k in keys[pos + 1:]:
            x.push(k, 4)
    assert sz.flush() == fresh.flush()


# ---------------------------------------------------------------------------
# stream()

EVENTS = [("ann", 0, "a"), ("bob", 3, "b"), ("ann", 4, "c"), ("ann", 30, "d"),
          ("bob", 2, "e"), ("ann", 5, "f"), ("cid", 100, "g"), ("ann", 1, "h")]


def expected_stream(**kw):
    sz = Sessionizer(5, **kw)
    out = []
    for k, t, v in EVENTS:
        out += sz.push(k, t, v)
    out += sz.flush()
    return out


@pytest.mark.parametrize("shape", ["tuple", "dict", "object"])
@pytest.mark.parametrize("spec", ["callable", "name_or_index"])
def test_stream_shapes(shape, spec):
    if shape == "tuple":
        events = list(EVENTS)
        kw = dict(key=0, time=1, value=2)
    elif shape == "dict":
        events = [dict(user=k, ts=t, page=v) for k, t, v in EVENTS]
        kw = dict(key="user", time="ts", value="page")
    else:
        events = [SimpleNamespace(user=k, ts=t, page=v) for k, t, v in EVENTS]
        kw = dict(key="user", time="ts", value="page")
    if spec == "callable":
        names = {"tuple": (0, 1, 2), "dict": ("user", "ts", "page"),
                 "object": ("user", "ts", "page")}[shape]
        get = (lambda n: (lambda e: getattr(e, n))) if shape == "object" else (
            lambda n: (lambda e: e[n]))
        kw = dict(key=get(names[0]), time=get(names[1]), value=get(names[2]))
    got = list(stream(iter(events), gap=5, collect=True, delay=2, **kw))
    want = expected_stream(collect=True, delay=2)
    assert got == want
    assert any(isinstance(x, LateEvent) for x in got)  # ("ann", 1) is late
    assert all(isinstance(x, (StreamSession, LateEvent)) for x in got)


def test_stream_is_lazy():
    """Sessions come out while the iterable is still being read."""
    def events():
        for i in range(10**9):
            yield (i % 3, i * 10)
    it = stream(events(), key=0, time=1, gap=5)
    first = [next(it) for _ in range(5)]
    assert [x.start for x in first] == [0, 10, 20, 30, 40]


def test_stream_late_policies():
    evs = [("a", 0), ("a", 100), ("a", 1)]
    assert [type(x) for x in stream(evs, key=0, time=1, gap=5)] == [
        StreamSession, LateEvent, StreamSession]
    assert [type(x) for x in stream(evs, key=0, time=1, gap=5, on_late="drop")] == [
        StreamSession, StreamSession]
    with pytest.raises(sessionize.LateEventError) as ei:
        list(stream(evs, key=0, time=1, gap=5, on_late="raise"))
    assert ei.value.event == LateEvent("a", 1, None)


# ---------------------------------------------------------------------------
# errors: every bad input, and damaged snapshots, are in test_errors.py (keys
# whose own __hash__ or __eq__ raise: under keys, above)


# ---------------------------------------------------------------------------
# snapshots


def busy_sessionizer():
    sz = Sessionizer(10, emit="update", allowed_lateness=20, collect=True,
                     max_duration=25, max_duration_mode="fixed")
    for i in range(40):
        sz.push(("k", i % 5), (i * 7) % 60, {"n": i})
    sz.push("other", 200)
    return sz


def test_pickle_roundtrip_continues():
    a = busy_sessionizer()
    b = pickle.loads(pickle.dumps(a))
    for k, t in [(("k", 1), 199), (("k", 2), 150), ("x", 260)]:
        assert a.push(k, t) == b.push(k, t)
    assert a.flush() == b.flush()
    assert a.late_count == b.late_count


def test_pickle_before_any_event():
    a = Sessionizer("30min", delay="5min")
    b = pickle.loads(pickle.dumps(a))
    t = dt.datetime(2024, 1, 1)
    assert b.push("k", t) == []
    assert b.watermark == t - dt.timedelta(minutes=5)


# ---------------------------------------------------------------------------
# memory


def test_a_million_done_keys_hold_nothing():
    n = 1_000_000
    sz = Sessionizer(10)
    t0 = time.perf_counter()
    out = sz.push_many(np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64) % 1000)
    out += sz.advance(10**6)
    elapsed = time.perf_counter() - t0
    assert len(out) == n and all(x.count == 1 for x in out[:10])
    size = len(pickle.dumps(sz))
    assert size < 2048, size
    assert elapsed < 30, elapsed


def test_a_key_with_nothing_open_is_forgotten():
    sz = Sessionizer(10, allowed_lateness=5)
    sz.push("k", 0)
    sz.advance(16)             # final at watermark > 10 + 5
    size_held = len(pickle.dumps(sz))
    sz.advance(25)             # 0 + 2*10 + 5 = 25: not past yet
    assert len(pickle.dumps(sz)) == size_held
    sz.advance(26)
    assert len(pickle.dumps(sz)) < size_held
    sz.push("k", 26)
    (s,) = sz.flush()
    assert s.index == 0        # a new key for the sessionizer


class _Ref:
    """A key that a weak reference can follow (str cannot be)."""

    def __init__(self, i):
        self.i = i

    def __hash__(self):
        return hash(self.i)

    def __eq__(self, other):
        return isinstance(other, _Ref) and other.i == self.i


@pytest.mark.parametrize("columnar", [False, True])
def test_a_chunks_late_only_keys_leave_the_key_map_at_once(columnar):
    """A chunk of 64 events or more is factorized and each distinct key
    mapped once; a key whose every event in it is late (the core never took
    it) is let go of by the call itself, not kept until a sweep, whichever
    of its events carries its new handle."""
    import gc
    import weakref

    sz = Sessionizer(10, on_late="drop", columnar=columnar)
    sz.push(0, 1_000)  # the watermark at 1000: time 0 is late
    keys = [_Ref(i % 30) for i in range(90)]  # each key three times
    refs = [weakref.ref(k) for k in keys]
    out = sz.push_many(keys, [0] * 90)
    del keys, out
    gc.collect()
    assert [r() for r in refs] == [None] * 90
    assert sz.stats()["keys"] == 1


def _churn(n=30_000, users=6_000, seed=7):
    """A time-ordered log where most keys end a session and are let go of
    (a short gap) and come back later: key handles made, swept and made
    again by the thousand."""
    rng = np.random.default_rng(seed)
    times = np.sort(rng.integers(0, 400_000, n))
    ids = rng.integers(0, users, n)
    return ids, times


def _sessions_of(outs, columnar):
    if columnar:
        rows = []
        for b in outs:
            s = b.sessions
            rows += zip(np.asarray(s.key, dtype=object).tolist(), s.start.tolist(),
                        s.end.tolist(), s.count.tolist())
        return sorted(rows)
    return sorted((s.key, s.start, s.end, s.count) for part in outs for s in part)


@pytest.mark.parametrize("columnar", [False, True])
def test_string_keys_through_churn_give_what_int_keys_give(columnar):
    """String keys go through handles, which are made, let go of in sweeps
    and made again by the thousand; int keys need none.  Both runs must
    find the same sessions, also across a snapshot restored midway."""
    ids, times = _churn()
    names = np.array([f"user-{i:05d}" for i in ids], dtype=object)
    runs = {}
    for kind, keys in (("int", ids), ("str", names)):
        sz = Sessionizer(500, columnar=columnar)
        outs = []
        for i in range(0, len(ids), 1_000):
            if i == 15_000:
                sz = pickle.loads(pickle.dumps(sz))
            outs.append(sz.push_many(keys[i:i + 1_000], times[i:i + 1_000]))
        outs.append(sz.flush())
        runs[kind] = _sessions_of(outs, columnar)
    assert len(runs["int"]) > 10_000
    assert runs["str"] == [(f"user-{k:05d}", *rest) for k, *rest in runs["int"]]
