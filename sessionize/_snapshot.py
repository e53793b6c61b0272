"""The whole-state snapshot of a streaming sessionizer, as one byte string.

One envelope holds everything a restore uses (settings, time type, keys,
collected values, counters and the core's own snapshot) under one version and
one checksum, checked before any of it is decoded::

    magic "SZSNAP" | u8 version | u8 codec | u8 what | u64 payload length
    | payload | 16-byte BLAKE2b of everything before it

The payload is the state tuple in one of two codecs:

- ``PLAIN`` (``to_bytes()``/``from_bytes()``): a small tagged encoding
  (``_encode``) of the built-in types a state holds (str, bytes, int,
  float, bool, None, numpy scalars, tuples, lists and dicts of them, and the
  timedelta, time zone and numpy.timedelta64 of the settings), so decoding
  never runs code, whoever wrote the bytes;
- ``PICKLE`` (``pickle.dumps(sz)``, the engine adapters' state): the tuple
  pickled, for keys and values of any type; it runs code on restore like any
  pickle, so it is for storage only trusted code can write.

The checksum is a guard against damage (a flipped byte, a truncation), not an
authenticator: anyone can write a well-formed snapshot, so the decoder still
checks every length, tag and type, and the core checks its own bytes, before
anything is restored.
"""

from __future__ import annotations

import datetime
import hashlib
import pickle
import struct
import sys

import numpy as np

from ._core import SessionizeError

MAGIC = b"SZSNAP"
VERSION = 1
PLAIN, PICKLE = 0, 1
SESSIONIZER, SEARCH_SESSIONIZER, ADAPTER_STATE = 1, 2, 3
_WHAT_NAME = {SESSIONIZER: "Sessionizer", SEARCH_SESSIONIZER: "SearchSessionizer",
              ADAPTER_STATE: "engine adapter's state"}

_HEAD = struct.Struct("<6sBBBQ")
_DIGEST = 16
_MAX_DEPTH = 64  # tuples nest this deep at most: a crafted payload cannot recurse far

_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")
_TD = struct.Struct("<qqq")

# numpy scalar dtypes a plain snapshot keeps as they were (a collected value
# from a numpy array is a numpy scalar); object and structured dtypes are not
_NUMPY_KINDS = frozenset("biufcUS")


class Unsupported(TypeError):
    """A value the codec cannot store (to_bytes() turns it into TypeError)."""


def _digest(data) -> bytes:
    return hashlib.blake2b(data, digest_size=_DIGEST).digest()


# ---- the envelope ---------------------------------------------------------

def seal(what: int, codec: int, parts: tuple, labels: tuple) -> bytes:
    """The snapshot bytes of the tuple ``parts`` (a sessionizer's state; in
    PLAIN, a part may be Encoded already); Unsupported, naming the part by
    its label, for a value PLAIN cannot store."""
    out = bytearray(_HEAD.size)
    if codec == PICKLE:
        out += pickle.dumps(parts, pickle.HIGHEST_PROTOCOL)
    else:
        out += b"t"
        out += _U32.pack(len(parts))
        for label, part in zip(labels, parts, strict=True):
            if type(part) is Encoded:
                out += part
                continue
            try:
                _encode(out, part, 1)
            except Unsupported as e:
                raise Unsupported(f"{label}: {e}") from None
    _HEAD.pack_into(out, 0, MAGIC, VERSION, codec, what, len(out) - _HEAD.size)
    out += _digest(out)
    return bytes(out)


class Encoded(bytes):
    """Parts already encoded (``encoded``), which seal writes as they are."""


def encoded(parts: tuple, labels: tuple) -> tuple:
    """Each of ``parts`` encoded (PLAIN) once, to be sealed again and again."""
    out = []
    for label, part in zip(labels, parts, strict=True):
        b = bytearray()
        try:
            _encode(b, part, 1)
        except Unsupported as e:
            raise Unsupported(f"{label}: {e}") from None
        out.append(Encoded(b))
    return tuple(out)


def unseal(data, what: int, *, allow_pickle: bool):
    """The state tuple in snapshot ``data``, every byte of it checked; a
    SessionizeError for anything damaged, foreign or of the other class."""
    name = _WHAT_NAME[what]
    try:
        data = memoryview(data).cast("B")
    except TypeError:
        raise TypeError(f"state: expected bytes, got {type(data).__name__}") from None
    if len(data) < _HEAD.size + _DIGEST or bytes(data[:len(MAGIC)]) != MAGIC:
        raise SessionizeError(f"state: not a {name} snapshot (or truncated)")
    magic, version, codec, kind, length = _HEAD.unpack_from(data)
    if len(data) != _HEAD.size + length + _DIGEST:
        raise SessionizeError("state: the snapshot is truncated or has bytes after its end")
    if _digest(data[:-_DIGEST]) != bytes(data[-_DIGEST:]):
        raise SessionizeError("state: the snapshot is corrupted (its checksum does not match)")
    if version != VERSION:
        raise SessionizeError(
            f"state: a snapshot of format version {version}; this sessionize reads {VERSION}")
    if codec not in (PLAIN, PICKLE):
        raise SessionizeError(f"state: unknown snapshot codec {codec}")
    if kind != what:
        other = _WHAT_NAME.get(kind, f"an unknown kind ({kind})")
        raise SessionizeError(f"state: a snapshot of {other}, not of a {name}")
    if codec == PICKLE and not allow_pickle:
        raise SessionizeError(
            "state: this snapshot holds pickled keys or values (it was made by "
            "pickle.dumps); from_bytes() never runs code: restore it with pickle.loads "
            "from storage only you can write")
    if codec == PICKLE:
        try:
            return pickle.loads(data[_HEAD.size:-_DIGEST])
        except Exception as e:
            raise SessionizeError(f"state: the snapshot's pickle does not load ({e!r})") from None
    r = _Reader(bytes(data[:-_DIGEST]), _HEAD.size)
    try:
        value = r.value()
    except SessionizeError:
        raise
    except (ValueError, IndexError, KeyError, struct.error, UnicodeDecodeError,
            OverflowError, TypeError, RecursionError) as e:
        raise SessionizeError(f"state: the snapshot's payload is malformed ({e!r})") from None
    if r.at != len(r.data):
        raise SessionizeError("state: the snapshot's payload is malformed (bytes after it)")
    return value


# ---- the tagged encoding ----------------------------------------------------
# One byte of tag, then the value: N T F (None, True, False); q (int64), i
# (a longer int: u32 length, two's complement); f (float64); s b (str,
# bytes: u32 length, bytes); t l d (tuple, list, dict: u32 count,
# items); S I (a list of str or int64 as one column); D Z z m n (timedelta,
# fixed-offset zone, zoneinfo zone, numpy timedelta64, numpy scalar).
# Writers and readers are looked up by type and by tag.

def _encode(out: bytearray, v, depth: int) -> None:
    w = _WRITERS.get(type(v))
    if w is None:
        _write_other(out, v, depth)
    else:
        w(out, v, depth)


def _w_none(out, v, depth):
    out += b"N"


def _w_bool(out, v, depth):
    out += b"T" if v else b"F"


def _w_int(out, v, depth):
    if -(1 << 63) <= v < (1 << 63):
        out += b"q"
        out += _I64.pack(v)
    else:
        raw = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
        out += b"i"
        out += _U32.pack(len(raw))
        out += raw


def _w_float(out, v, depth):
    out += b"f"
    out += _F64.pack(v)


def _w_str(out, v, depth):
    raw = v.encode("utf-8", "surrogatepass")
    out += b"s"
    out += _U32.pack(len(raw))
    out += raw


def _w_bytes(out, v, depth):
    out += b"b"
    out += _U32.pack(len(v))
    out += v


def _w_sequence(out, v, depth):
    if depth >= _MAX_DEPTH:
        raise Unsupported(f"values nested deeper than {_MAX_DEPTH}")
    if type(v) is list and _encode_column(out, v):
        return
    out += b"t" if type(v) is tuple else b"l"
    out += _U32.pack(len(v))
    for item in v:
        _encode(out, item, depth + 1)


def _w_dict(out, v, depth):
    if depth >= _MAX_DEPTH:
        raise Unsupported(f"values nested deeper than {_MAX_DEPTH}")
    out += b"d"
    out += _U32.pack(len(v))
    for k, x in v.items():
        _encode(out, k, depth + 1)
        _encode(out, x, depth + 1)


def _w_timedelta(out, v, depth):
    out += b"D"
    out += _TD.pack(v.days, v.seconds, v.microseconds)


def _w_timezone(out, v, depth):
    off = v.utcoffset(None)
    out += b"Z"
    out += _TD.pack(off.days, off.seconds, off.microseconds)
    _w_str(out, v.tzname(None), depth)


_WRITERS = {type(None): _w_none, bool: _w_bool, int: _w_int, float: _w_float, str: _w_str,
            bytes: _w_bytes, tuple: _w_sequence, list: _w_sequence, dict: _w_dict,
            datetime.timedelta: _w_timedelta, datetime.timezone: _w_timezone}


def _write_other(out, v, depth):
    if _is_zoneinfo(v) and getattr(v, "key", None):
        out += b"z"
        _w_str(out, v.key, depth)
    elif isinstance(v, np.generic) and v.dtype.kind in _NUMPY_KINDS:
        out += b"n"
        _w_str(out, v.dtype.str, depth)
        raw = v.tobytes()
        out += _U32.pack(len(raw))
        out += raw
    elif isinstance(v, np.timedelta64):
        unit, count = np.datetime_data(v.dtype)
        out += b"m"
        out += _I64.pack(int(v.astype(np.int64)))
        _w_str(out, f"{count}{unit}" if count != 1 else unit, depth)
    else:
        raise Unsupported(
            f"{type(v).__module__}.{type(v).__qualname__} cannot be stored without pickle "
            "(to_bytes() takes str, bytes, int, float, bool, None, numpy scalars, and "
            "tuples, lists and dicts of them); pickle.dumps stores any type, for "
            "storage only trusted code can write")


def _encode_column(out: bytearray, v: list) -> bool:
    """A long list of one type (the keys, the handles) as one column."""
    if len(v) < 8:
        return False
    t = type(v[0])
    if t is str and all(type(x) is str for x in v):
        raws = [x.encode("utf-8", "surrogatepass") for x in v]
        lengths = np.fromiter(map(len, raws), np.uint32, len(raws))
        out += b"S"
        out += _U32.pack(len(v))
        out += lengths.astype("<u4").tobytes()
        out += b"".join(raws)
        return True
    if t is int and all(type(x) is int for x in v):
        try:
            a = np.array(v, dtype="<i8")
        except OverflowError:
            return False
        out += b"I"
        out += _U32.pack(len(v))
        out += a.tobytes()
        return True
    return False


def _is_zoneinfo(v) -> bool:
    zi = sys.modules.get("zoneinfo")
    return zi is not None and type(v) is zi.ZoneInfo


class _Reader:
    """Reads one value at ``at`` of ``data`` (bytes), moving ``at`` past it.
    Every length is checked against what is left; anything malformed raises
    ValueError (or struct.error, KeyError for an unknown tag, ...), which
    unseal reports as a malformed payload."""

    __slots__ = ("data", "at", "depth")

    def __init__(self, data: bytes, at: int):
        self.data, self.at, self.depth = data, at, 0

    def value(self):
        at = self.at
        if at >= len(self.data):
            raise ValueError("ends inside a value")
        self.at = at + 1
        return _READERS[self.data[at]](self)

    def fixed(self, st: struct.Struct) -> tuple:
        v = st.unpack_from(self.data, self.at)
        self.at += st.size
        return v

    def take(self, n: int) -> bytes:
        at, end = self.at, self.at + n
        if end > len(self.data):
            raise ValueError("a length runs past the end")
        self.at = end
        return self.data[at:end]

    def sized(self) -> bytes:
        return self.take(self.fixed(_U32)[0])

    def text(self) -> str:
        """A nested str (a zone's name, a dtype, a unit)."""
        if self.data[self.at:self.at + 1] != b"s":
            raise ValueError("expected a str")
        self.at += 1
        return str(self.sized(), "utf-8", "surrogatepass")

    def items(self, per: int) -> int:
        if self.depth >= _MAX_DEPTH:
            raise ValueError("values nested too deep")
        n = self.fixed(_U32)[0]
        if per * n > len(self.data) - self.at:  # each item takes a byte at least
            raise ValueError("a length runs past the end")
        return n


def _r_sequence(r: _Reader, make):
    n = r.items(1)
    r.depth += 1
    items = [r.value() for _ in range(n)]
    r.depth -= 1
    return make(items)


def _r_dict(r: _Reader):
    n = r.items(2)
    r.depth += 1
    d = {}
    for _ in range(n):
        k = r.value()
        d[k] = r.value()
    r.depth -= 1
    if len(d) != n:
        raise ValueError("a dict with a key twice")
    return d


def _r_str_column(r: _Reader):
    n = r.fixed(_U32)[0]
    ends = np.cumsum(np.frombuffer(r.take(4 * n), "<u4").astype(np.int64))
    text = r.take(int(ends[-1]) if n else 0)
    starts = np.concatenate(([0], ends[:-1])).tolist()
    return [str(text[a:b], "utf-8", "surrogatepass") for a, b in zip(starts, ends.tolist())]


def _r_int_column(r: _Reader):
    n = r.fixed(_U32)[0]
    return np.frombuffer(r.take(8 * n), "<i8").tolist()


def _r_timedelta(r: _Reader):
    d, s, us = r.fixed(_TD)
    return datetime.timedelta(days=d, seconds=s, microseconds=us)


def _r_timezone(r: _Reader):
    off = _r_timedelta(r)
    name = r.text()
    if not off and name == "UTC":
        return datetime.timezone.utc
    return datetime.timezone(off, name)


def _r_zoneinfo(r: _Reader):
    import zoneinfo

    key = r.text()
    try:
        return zoneinfo.ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        raise SessionizeError(
            f"state: the snapshot's time zone {key!r} is not known here ({e})") from None


def _r_numpy_scalar(r: _Reader):
    dt = r.text()
    dtype = np.dtype(dt)
    if dtype.kind not in _NUMPY_KINDS or dtype.fields is not None or dtype.shape:
        raise ValueError(f"dtype {dt!r} is not a scalar dtype a snapshot holds")
    raw = r.sized()
    if len(raw) != dtype.itemsize:
        raise ValueError("a numpy scalar of the wrong size")
    return np.frombuffer(raw, dtype)[0]


def _r_timedelta64(r: _Reader):
    v = r.fixed(_I64)[0]
    return np.timedelta64(v, r.text())


_READERS = {
    ord("N"): lambda r: None,
    ord("T"): lambda r: True,
    ord("F"): lambda r: False,
    ord("q"): lambda r: r.fixed(_I64)[0],
    ord("i"): lambda r: int.from_bytes(r.sized(), "little", signed=True),
    ord("f"): lambda r: r.fixed(_F64)[0],
    ord("s"): lambda r: str(r.sized(), "utf-8", "surrogatepass"),
    ord("b"): lambda r: r.sized(),
    ord("t"): lambda r: _r_sequence(r, tuple),
    ord("l"): lambda r: _r_sequence(r, list),
    ord("d"): _r_dict,
    ord("S"): _r_str_column,
    ord("I"): _r_int_column,
    ord("D"): _r_timedelta,
    ord("Z"): _r_timezone,
    ord("z"): _r_zoneinfo,
    ord("n"): _r_numpy_scalar,
    ord("m"): _r_timedelta64,
}
