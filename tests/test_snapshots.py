"""Whole-state snapshots: to_bytes()/from_bytes() (never runs code) and
pickle, for Sessionizer and SearchSessionizer.

Every byte of representative snapshots is flipped three ways and every
truncation tried: each damaged snapshot must be refused, or (only where the
damage leaves the payload as it was) restore a sessionizer that continues
exactly as the undamaged one.  Well-formed snapshots with a wrong content
(the checksum recomputed, as anyone can) are refused by the checks behind it.
"""

from __future__ import annotations

import datetime as dt
import pickle
import zoneinfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sessionize
from sessionize import SearchSessionizer, SessionizeError, Sessionizer
from sessionize import _snapshot, _state

E = SessionizeError


# ---- representative states ---------------------------------------------------

def _str_keys_collected():
    sz = Sessionizer(10, emit="update", allowed_lateness=20, collect=True,
                     max_duration=25, max_duration_mode="fixed")
    for i in range(40):
        sz.push(f"user-{i % 5}", (i * 7) % 60, ("page", i, None if i % 3 else 1.5))
    sz.push("other", 200, b"raw")
    return sz


def _tuple_keys_datetimes():
    tz = zoneinfo.ZoneInfo("Europe/Paris")
    t0 = dt.datetime(2024, 3, 31, 0, 30, tzinfo=tz)
    sz = Sessionizer(dt.timedelta(minutes=30), delay="5min", collect=True)
    for i in range(12):
        sz.push(("shop", i % 3), t0 + dt.timedelta(minutes=11 * i), {"n": i, "ok": True})
    return sz


def _int_keys_columnar():
    sz = Sessionizer(30, max_duration=100, columnar=True, inclusive=False)
    sz.push_many(np.arange(50) % 7, np.arange(50) * 3)
    return sz


def _search():
    sz = SearchSessionizer(gap=5, delay=2)
    sz.push_many(["a", "b", "a", "c", "b"], ["SEARCH", "SEARCH", "CLICK", "SEARCH", "CLICK"],
                 [1, 2, 3, 4, 9], ["x", "y", None, "z", None])
    return sz


def _continue(sz):
    """What the sessionizer does next (a fixed continuation per state), as
    comparable values: its output, late count and watermark."""
    if isinstance(sz, SearchSessionizer):
        out = [sz.push_many(["a", "d"], ["CLICK", "SEARCH"], [10, 11]), sz.flush()]
    elif sz._kind.name == "datetime":
        t = dt.datetime(2024, 3, 31, 3, 0, tzinfo=dt.timezone.utc)
        out = [sz.push(("shop", 1), t, "late-page"), sz.push("new", t + dt.timedelta(hours=2)),
               sz.flush()]
    elif sz._settings["columnar"]:
        out = [sz.push_many(np.array([3, 9]), np.array([160, 400])), sz.flush()]
    else:
        out = [sz.push_many(["user-1", "x", "user-2"], [199, 230, 150]), sz.flush()]
    return repr(out), sz.late_count, sz.watermark


MAKERS = {"str-keys-collected": _str_keys_collected,
          "tuple-keys-datetimes": _tuple_keys_datetimes,
          "int-keys-columnar": _int_keys_columnar,
          "search": _search}
FORMATS = {"to_bytes": (lambda sz: sz.to_bytes(), lambda cls, b: cls.from_bytes(b)),
           "pickle": (pickle.dumps, lambda cls, b: pickle.loads(b))}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("make", MAKERS)
def test_round_trip_continues_as_the_original(make, fmt):
    dump, load = FORMATS[fmt]
    original = MAKERS[make]()
    restored = load(type(original), dump(original))
    assert type(restored) is type(original)
    held = {k: v for k, v in original.stats().items() if k != "bytes"}  # not capacity
    assert {k: v for k, v in restored.stats().items() if k != "bytes"} == held
    if fmt == "to_bytes":  # (a pickle's memo differs where objects were shared)
        assert dump(restored) == dump(original)
    assert _continue(restored) == _continue(original)


def _damaged(blob: bytes):
    """Every truncation, one byte more, and every byte of the snapshot flipped
    three ways.  In a pickle, the bytes of pickle's own framing (opcodes, the
    class's name, lengths) are left alone: pickle refuses most such flips
    itself, and one (a short string's opcode turned into an 8-byte length)
    makes CPython's unpickler spend half a minute before it does."""
    start = blob.find(_snapshot.MAGIC)
    assert start >= 0
    end = start + len(blob) if start == 0 else start + _snapshot_length(blob, start)
    for n in range(len(blob)):
        yield blob[:n]
    yield blob + b"\0"
    for pos in range(start, end):
        for mask in (0x01, 0x80, 0xFF):
            bad = bytearray(blob)
            bad[pos] ^= mask
            yield bytes(bad)


def _snapshot_length(blob, start):
    head = _snapshot._HEAD.unpack_from(blob, start)
    return _snapshot._HEAD.size + head[-1] + _snapshot._DIGEST


def exhaustive_counts(make, fmt):
    """(tried, refused, same output, accepted wrong) over every damage."""
    dump, load = FORMATS[fmt]
    sz = MAKERS[make]()
    cls, blob = type(sz), dump(sz)
    expected = _continue(load(cls, blob))
    tried = refused = same = wrong = 0
    for bad in _damaged(blob):
        tried += 1
        try:
            restored = load(cls, bad)
        except E:
            refused += 1
            continue
        except Exception:
            # pickle's own framing damaged (an opcode, a module name): pickle
            # refuses it before any of our bytes are read
            if fmt == "to_bytes":
                raise
            refused += 1
            continue
        if type(restored) is cls and _continue(restored) == expected:
            same += 1
        else:
            wrong += 1
    return tried, refused, same, wrong


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("make", MAKERS)
def test_every_flip_and_truncation_is_refused(make, fmt):
    tried, refused, same, wrong = exhaustive_counts(make, fmt)
    assert wrong == 0
    assert refused + same == tried
    if fmt == "to_bytes":  # the checksum covers every byte: nothing passes
        assert same == 0


def test_the_checksum_covers_keys_values_settings_and_time_type():
    """The attacks of the issue that the first format accepted."""
    sz = Sessionizer(10, collect=True)
    sz.push("b", 1, "v")
    tagged = (b"\x01\0\0\0b", b"\x01\0\0\0v", b"\x03\0\0\0int", b"collect")
    pickled = (b"\x8c\x01b", b"\x8c\x01v", b"\x8c\x03int", b"collect")
    for blob, needles in ((pickle.dumps(sz), pickled), (sz.to_bytes(), tagged)):
        for needle in needles:
            i = blob.rfind(needle)
            assert i > 0
            b = bytearray(blob)
            b[i + len(needle) - 1] ^= 1
            with pytest.raises(E, match=r"^state: .*checksum"):
                (pickle.loads if blob[:1] == b"\x80" else Sessionizer.from_bytes)(bytes(b))


# ---- well-formed snapshots whose content is wrong ------------------------------

def _parts(sz):
    return list(_snapshot.unseal(sz.to_bytes(), sz._SNAPSHOT, allow_pickle=False))


def _sealed(cls, parts, codec=_snapshot.PLAIN):
    labels = (_state._PARTS + ("one more",))[:len(parts)]
    return _snapshot.seal(cls._SNAPSHOT, codec, tuple(parts), labels)


def _forge(parts, i, value):
    parts = list(parts)
    parts[i] = value
    return parts


def _three_keys():
    sz = Sessionizer(10, emit="update", allowed_lateness=5, collect=True)
    for i, k in enumerate("abcab"):
        sz.push(k, i, i * 10)
    return sz


def test_forged_states_are_refused():
    p = _parts(_three_keys())
    settings_, kind, blob, handles, keys, next_key, vh, values, next_value = p
    forged = {
        "key missing": _forge(_forge(p, 3, handles[:-1]), 4, keys[:-1]),
        "handle twice": _forge(_forge(p, 3, handles + handles[:1]), 4, keys + ["dup"]),
        "key twice": _forge(p, 4, [keys[0]] * len(keys)),
        "handles and keys of different lengths": _forge(p, 4, keys[:-1]),
        "handle past next_key": _forge(p, 5, max(handles)),
        "next_key negative": _forge(p, 5, -1),
        "next_key huge": _forge(p, 5, 1 << 64),
        "value missing": _forge(_forge(p, 6, vh[:-1]), 7, values[:-1]),
        "value handle past next": _forge(p, 8, 0),
        "next value None": _forge(p, 8, None),
        "handles not ints": _forge(p, 3, [str(h) for h in handles]),
        "keys not a list": _forge(p, 4, tuple(keys)),
        "time kind unknown": _forge(p, 1, ("hours", None, "")),
        "a zone on int times": _forge(p, 1, ("int", dt.timezone.utc, "")),
        "a unit on int times": _forge(p, 1, ("int", None, "ns")),
        "no time kind, a state": _forge(p, 1, None),
        "core bytes of another": _forge(p, 2, _int_keys_columnar().to_bytes()),
        "core bytes missing": _forge(p, 2, None),
        "a setting refused": _forge(p, 0, (("gap", -5),) + settings_[1:]),
        "a setting unknown": _forge(p, 0, settings_ + (("colour", "red"),)),
        "a setting missing": _forge(p, 0, settings_[1:]),
        "collect off, values held": _forge(
            p, 0, tuple((k, False if k == "collect" else v) for k, v in settings_)),
        "settings not pairs": _forge(p, 0, ("gap", 10)),
        "one part short": p[:-1],
        "one part more": p + [None],
    }
    for what, parts in forged.items():
        with pytest.raises(E, match=r"^state: "):
            Sessionizer.from_bytes(_sealed(Sessionizer, parts))
            pytest.fail(what)
    # the undamaged parts, sealed again, restore
    assert repr(Sessionizer.from_bytes(_sealed(Sessionizer, p)).flush()) == \
        repr(_three_keys().flush())


def test_another_class_or_format_is_refused():
    sz, search = _str_keys_collected(), _search()
    with pytest.raises(E, match="a snapshot of SearchSessionizer, not of a Sessionizer"):
        Sessionizer.from_bytes(search.to_bytes())
    with pytest.raises(E, match="a snapshot of Sessionizer, not of a SearchSessionizer"):
        SearchSessionizer.from_bytes(sz.to_bytes())
    for junk in (b"", b"\0" * 64, b"not a sessionizer snapshot at all" * 3,
                 pickle.dumps(sz)):
        with pytest.raises(E, match=r"^state: "):
            Sessionizer.from_bytes(junk)
    with pytest.raises(TypeError, match="state: expected bytes"):
        Sessionizer.from_bytes("SZSNAP")
    # a version this release does not read
    b = bytearray(sz.to_bytes())
    b[6] = 99
    b[-16:] = _snapshot._digest(bytes(b[:-16]))
    with pytest.raises(E, match="format version 99"):
        Sessionizer.from_bytes(bytes(b))


def test_from_bytes_never_unpickles():
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("unpickled: code ran",))

    sz = Sessionizer(10, collect=True)
    sz.push("a", 1, "v")
    p = _parts(sz)
    p[7] = [Boom()]
    blob = _sealed(Sessionizer, p, _snapshot.PICKLE)  # a pickled value inside
    with pytest.raises(E, match="never runs code"):
        Sessionizer.from_bytes(blob)
    # the same pickle, its codec byte turned to plain: not a tagged value
    plain = bytearray(blob)
    plain[7] = _snapshot.PLAIN
    plain[-16:] = _snapshot._digest(bytes(plain[:-16]))
    with pytest.raises(E, match="payload is malformed"):
        Sessionizer.from_bytes(bytes(plain))


def test_an_earlier_format_pickle_is_refused_clearly():
    # what pickle.dumps(Sessionizer) wrote before this format: the function
    # and three plain arguments
    old = pickle.dumps((sessionize._sessionizer._restore, ({"gap": 10}, None, (None,))))
    f, args = pickle.loads(old)
    with pytest.raises(E, match="earlier format"):
        f(*args)
    with pytest.raises(E, match="earlier format"):
        sessionize._search_stream._restore({}, None, (None,))


class Key:
    def __init__(self, name):
        self.name = name

    def __hash__(self):
        return hash(self.name)

    def __eq__(self, other):
        return isinstance(other, Key) and other.name == self.name


def test_to_bytes_refuses_what_it_cannot_store_and_names_it():
    sz = Sessionizer(10, collect=True)
    sz.push(Key("a"), 1)
    with pytest.raises(TypeError, match=r"^to_bytes: a key: .*Key cannot be stored without "
                                        r"pickle"):
        sz.to_bytes()
    assert pickle.loads(pickle.dumps(sz)).flush()[0].key == Key("a")  # pickle still works
    sz = Sessionizer(10, collect=True)
    sz.push("a", 1, {1, 2})
    with pytest.raises(TypeError, match=r"^to_bytes: a collected value: builtins.set"):
        sz.to_bytes()


def test_plain_types_come_back_as_they_were():
    values = [None, True, False, 0, -1, 1 << 80, -(1 << 70), 1.5, float("inf"), "é\ud800",
              b"\0\xff", (1, ("x", None)), [1, [2]], {"a": (1, 2), 3: None},
              np.int64(5), np.float32(2.5), np.bool_(True), np.str_("s"), np.uint8(200)]
    sz = Sessionizer(100, collect=True)
    for i, v in enumerate(values):
        sz.push("k", i, v)
    got = Sessionizer.from_bytes(sz.to_bytes()).flush()[0].values
    assert len(got) == len(values)
    for a, b in zip(got, values):
        assert type(a) is type(b) and repr(a) == repr(b)


def test_settings_of_every_duration_type_round_trip():
    for gap in (10, 2.5, dt.timedelta(minutes=30), np.timedelta64(30, "m"), "30min"):
        sz = Sessionizer(gap, delay=0)
        t = (dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-3), "BRT"))
             if not isinstance(gap, (int, float)) else gap * 0.5)
        sz.push("a", t)
        back = Sessionizer.from_bytes(sz.to_bytes())
        assert back._settings == sz._settings
        assert repr(back.flush()) == repr(sz.flush())


# ---- any state, any moment ---------------------------------------------------

events = st.lists(st.tuples(st.sampled_from(["a", "b", ("c", 1), "d"]),
                            st.integers(0, 200), st.one_of(st.none(), st.integers(), st.text(max_size=3))),
                  max_size=40)


@settings(max_examples=60, deadline=None)
@given(events, st.integers(0, 40), st.sampled_from(["final", "update"]),
       st.booleans(), st.sampled_from(sorted(FORMATS)))
def test_snapshot_anywhere_continues_exactly(evs, cut, emit, columnar, fmt):
    dump, load = FORMATS[fmt]

    def make():
        return Sessionizer(15, delay=5, emit=emit, collect=True, columnar=columnar,
                           allowed_lateness=10 if emit == "update" else 0, on_late="drop")

    def feed(sz, part):
        out = [sz.push(k, t, v) for k, t, v in part]
        out.append(sz.flush())
        return repr(out)

    whole = make()
    for k, t, v in evs[:cut]:
        whole.push(k, t, v)
    expected = feed(whole, evs[cut:])
    a = make()
    for k, t, v in evs[:cut]:
        a.push(k, t, v)
    b = load(Sessionizer, dump(a))
    assert feed(b, evs[cut:]) == expected


def test_fuzz_whole_snapshot_fixed_cases():
    """A fixed run of the whole-snapshot fuzzer (CI runs it for a minute too)."""
    from fuzz_whole_snapshot import fuzz

    counts = fuzz(cases=3000, seed=12345)
    assert counts["cases"] == 3000
    assert counts["refused"] > 0 and counts["restored"] > 0


def test_adapter_state_is_sealed_whole():
    """The engine adapters' state (Bytewax recovery, Flink ValueState): the
    clocks and timers beside the Sessionizer under the same checksum."""
    sz = _str_keys_collected()
    blob = _state.dumps_adapter_state((1234, {"a": [1, 2]}, sz))
    now, clocks, back = _state.loads_adapter_state(blob)
    assert (now, clocks) == (1234, {"a": [1, 2]}) and _continue(back) == _continue(sz)
    tried = 0
    for bad in _damaged(blob):
        tried += 1
        with pytest.raises(E, match=r"^state: "):
            _state.loads_adapter_state(bad)
    assert tried > 3 * len(blob)
    with pytest.raises(E, match="engine adapter's state, not of a Sessionizer"):
        Sessionizer.from_bytes(blob)
