"""The whole-state snapshot of a streaming sessionizer, as one byte string.

One envelope holds everything a restore uses (settings, time type, keys,
collected values, counters and the core's own snapshot) under one version and
one checksum, checked before any of it is decoded::

    magic "SZSNAP" | u8 version | u8 codec | u8 what | u64 payload length
    | payload | 16-byte BLAKE2b of everything before it

The payload is one value in a small tagged encoding (``_encode``) of the
built-in types a state holds (str, bytes, int, float, bool, None, numpy
scalars, tuples, lists and dicts of them, and the timedelta, time zone and
numpy.timedelta64 of the settings).  Two codecs share it:

- ``PLAIN`` (``to_bytes()``/``from_bytes()``): nothing but those types, so
  decoding never runs code, whoever wrote the bytes;
- ``PICKLE`` (``pickle.dumps(sz)``): the same, plus a tagged pickle for a key
  or value of any other type; it runs code on restore like any pickle, so it
  is for storage only trusted code can write.

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
    """The snapshot bytes of the tuple ``parts`` (a sessionizer's state);
    Unsupported, naming the part by its label, for a value the codec cannot
    store."""
    out = bytearray(_HEAD.size)
    out += b"t"
    out += _U32.pack(len(parts))
    for label, part in zip(labels, parts, strict=True):
        try:
            _encode(out, part, codec == PICKLE, 1)
        except Unsupported as e:
            raise Unsupported(f"{label}: {e}") from None
    _HEAD.pack_into(out, 0, MAGIC, VERSION, codec, what, len(out) - _HEAD.size)
    out += _digest(out)
    return bytes(out)


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
    try:
        value, end = _decode(data, _HEAD.size, codec == PICKLE, 0)
    except SessionizeError:
        raise
    except (ValueError, IndexError, struct.error, UnicodeDecodeError, OverflowError,
            TypeError, RecursionError) as e:
        raise SessionizeError(f"state: the snapshot's payload is malformed ({e})") from None
    if end != len(data) - _DIGEST:
        raise SessionizeError("state: the snapshot's payload is malformed (bytes after it)")
    return value


# ---- the tagged encoding ----------------------------------------------------

def _encode(out: bytearray, v, allow_pickle: bool, depth: int) -> None:
    t = type(v)
    if v is None:
        out += b"N"
    elif t is bool:
        out += b"T" if v else b"F"
    elif t is int:
        if -(1 << 63) <= v < (1 << 63):
            out += b"q"
            out += _I64.pack(v)
        else:
            raw = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
            out += b"i"
            out += _U32.pack(len(raw))
            out += raw
    elif t is float:
        out += b"f"
        out += _F64.pack(v)
    elif t is str:
        raw = v.encode("utf-8", "surrogatepass")
        out += b"s"
        out += _U32.pack(len(raw))
        out += raw
    elif t is bytes:
        out += b"b"
        out += _U32.pack(len(v))
        out += v
    elif t is tuple or t is list:
        if depth >= _MAX_DEPTH:
            raise Unsupported(f"values nested deeper than {_MAX_DEPTH}")
        if t is list and _encode_column(out, v):
            return
        out += b"t" if t is tuple else b"l"
        out += _U32.pack(len(v))
        for item in v:
            _encode(out, item, allow_pickle, depth + 1)
    elif t is dict:
        if depth >= _MAX_DEPTH:
            raise Unsupported(f"values nested deeper than {_MAX_DEPTH}")
        out += b"d"
        out += _U32.pack(len(v))
        for item in v.items():
            _encode(out, item[0], allow_pickle, depth + 1)
            _encode(out, item[1], allow_pickle, depth + 1)
    elif t is datetime.timedelta:
        out += b"D"
        out += _TD.pack(v.days, v.seconds, v.microseconds)
    elif t is datetime.timezone:
        off = v.utcoffset(None)
        out += b"Z"
        out += _TD.pack(off.days, off.seconds, off.microseconds)
        _encode(out, v.tzname(None), False, depth + 1)
    elif _is_zoneinfo(v) and getattr(v, "key", None):
        out += b"z"
        _encode(out, v.key, False, depth + 1)
    elif isinstance(v, np.generic) and v.dtype.kind in _NUMPY_KINDS:
        out += b"n"
        _encode(out, v.dtype.str, False, depth + 1)
        raw = v.tobytes()
        out += _U32.pack(len(raw))
        out += raw
    elif isinstance(v, np.timedelta64):
        unit, count = np.datetime_data(v.dtype)
        out += b"m"
        out += _I64.pack(int(v.astype(np.int64)))
        _encode(out, f"{count}{unit}" if count != 1 else unit, False, depth + 1)
    elif allow_pickle:
        raw = pickle.dumps(v, pickle.HIGHEST_PROTOCOL)
        out += b"P"
        out += _U32.pack(len(raw))
        out += raw
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


def _take(data, at: int, n: int) -> tuple[memoryview, int]:
    end = at + n
    if n < 0 or end > len(data):
        raise ValueError("a length runs past the end")
    return data[at:end], end


def _decode(data, at: int, allow_pickle: bool, depth: int):
    if at >= len(data):
        raise ValueError("ends inside a value")
    tag = data[at]
    at += 1
    if tag == 0x4E:  # N
        return None, at
    if tag == 0x54:  # T
        return True, at
    if tag == 0x46:  # F
        return False, at
    if tag == 0x71:  # q
        raw, at = _take(data, at, 8)
        return _I64.unpack(raw)[0], at
    if tag == 0x66:  # f
        raw, at = _take(data, at, 8)
        return _F64.unpack(raw)[0], at
    if tag in (0x69, 0x73, 0x62, 0x50):  # i s b P: a u32 length, then bytes
        raw, at = _take(data, at, 4)
        raw, at = _take(data, at, _U32.unpack(raw)[0])
        if tag == 0x69:
            return int.from_bytes(raw, "little", signed=True), at
        if tag == 0x73:
            return str(raw, "utf-8", "surrogatepass"), at
        if tag == 0x62:
            return bytes(raw), at
        if not allow_pickle:
            raise SessionizeError("state: a pickled value in a plain snapshot")
        try:
            return pickle.loads(raw), at
        except Exception as e:
            raise SessionizeError(f"state: a pickled key or value does not load ({e!r})") from None
    if tag in (0x74, 0x6C):  # t l
        if depth >= _MAX_DEPTH:
            raise ValueError("tuples nested too deep")
        raw, at = _take(data, at, 4)
        n = _U32.unpack(raw)[0]
        if n > len(data) - at:  # each item takes a byte at least
            raise ValueError("a length runs past the end")
        items = []
        for _ in range(n):
            item, at = _decode(data, at, allow_pickle, depth + 1)
            items.append(item)
        return (tuple(items) if tag == 0x74 else items), at
    if tag == 0x64:  # d
        if depth >= _MAX_DEPTH:
            raise ValueError("values nested too deep")
        raw, at = _take(data, at, 4)
        n = _U32.unpack(raw)[0]
        if 2 * n > len(data) - at:
            raise ValueError("a length runs past the end")
        d = {}
        for _ in range(n):
            k, at = _decode(data, at, allow_pickle, depth + 1)
            d[k], at = _decode(data, at, allow_pickle, depth + 1)
        if len(d) != n:
            raise ValueError("a dict with a key twice")
        return d, at
    if tag == 0x53:  # S: a column of str
        raw, at = _take(data, at, 4)
        n = _U32.unpack(raw)[0]
        raw, at = _take(data, at, 4 * n)
        ends = np.cumsum(np.frombuffer(raw, "<u4").astype(np.int64))
        total = int(ends[-1]) if n else 0
        raw, at = _take(data, at, total)
        text = bytes(raw)
        starts = np.concatenate(([0], ends[:-1])).tolist()
        ends = ends.tolist()
        return [str(text[a:b], "utf-8", "surrogatepass") for a, b in zip(starts, ends)], at
    if tag == 0x49:  # I: a column of int64
        raw, at = _take(data, at, 4)
        n = _U32.unpack(raw)[0]
        raw, at = _take(data, at, 8 * n)
        return np.frombuffer(raw, "<i8").tolist(), at
    if tag == 0x44:  # D
        raw, at = _take(data, at, _TD.size)
        d, s, us = _TD.unpack(raw)
        return datetime.timedelta(days=d, seconds=s, microseconds=us), at
    if tag == 0x5A:  # Z
        raw, at = _take(data, at, _TD.size)
        d, s, us = _TD.unpack(raw)
        name, at = _decode(data, at, False, depth + 1)
        if type(name) is not str:
            raise ValueError("a time zone's name is not a str")
        off = datetime.timedelta(days=d, seconds=s, microseconds=us)
        if not off and name == "UTC":
            return datetime.timezone.utc, at
        return datetime.timezone(off, name), at
    if tag == 0x7A:  # z
        key, at = _decode(data, at, False, depth + 1)
        if type(key) is not str:
            raise ValueError("a zone key is not a str")
        import zoneinfo
        try:
            return zoneinfo.ZoneInfo(key), at
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
            raise SessionizeError(f"state: the snapshot's time zone {key!r} is not known here ({e})") from None
    if tag == 0x6E:  # n: a numpy scalar
        dt, at = _decode(data, at, False, depth + 1)
        if type(dt) is not str:
            raise ValueError("a dtype is not a str")
        dtype = np.dtype(dt)
        if dtype.kind not in _NUMPY_KINDS or dtype.fields is not None or dtype.shape:
            raise ValueError(f"dtype {dt!r} is not a scalar dtype a snapshot holds")
        raw, at = _take(data, at, 4)
        raw, at = _take(data, at, _U32.unpack(raw)[0])
        if len(raw) != dtype.itemsize:
            raise ValueError("a numpy scalar of the wrong size")
        return np.frombuffer(raw, dtype)[0], at
    if tag == 0x6D:  # m: numpy.timedelta64
        raw, at = _take(data, at, 8)
        unit, at = _decode(data, at, False, depth + 1)
        if type(unit) is not str:
            raise ValueError("a unit is not a str")
        return np.timedelta64(_I64.unpack(raw)[0], unit), at
    raise ValueError(f"unknown tag 0x{tag:02x}")
