"""Snapshots of the streaming sessionizers: ``to_bytes()``, ``from_bytes()``
and pickling, for Sessionizer and SearchSessionizer alike.

A state is one tuple, sealed by ``_snapshot`` under one checksum::

    (settings, time kind, core bytes, key handles, keys, next key handle,
     value handles, values, next value handle or None)

and a restore checks all of it (the settings through the constructor, the
time kind here, the core's bytes and the handles in C) before the new object
exists: a snapshot is restored whole or refused with SessionizeError.
"""

from __future__ import annotations

import datetime
from typing import Any, Callable, TypeVar

import numpy as np

from . import _snapshot
from ._core import SessionizeError

_PARTS = ("a setting", "the time type", "the core's state", "a key handle", "a key",
          "the next key handle", "a value handle", "a collected value",
          "the next value handle")
_KIND_NAMES = frozenset(("int", "seconds", "datetime", "datetime64", "none"))

# from_bytes() returns the class it is called on (typing.Self is 3.11+)
_S = TypeVar("_S", bound="Snapshots")


class Snapshots:
    """to_bytes/from_bytes and pickling for a class that defines _SNAPSHOT
    (its _snapshot kind), _settings, _kind, _getstate() and _setstate()."""

    _SNAPSHOT: int
    _settings: dict[str, Any]
    _kind: Any  # _sessionizer._Kind or None
    _getstate: Callable[[], tuple[Any, ...]]

    def to_bytes(self) -> bytes:
        """The whole state as bytes that restoring never runs code on
        (``from_bytes``): keys and collected values must be str, bytes, int,
        float, bool, None, numpy scalars, or tuples, lists and dicts of
        them, else TypeError (pickle stores any type, and runs code when it
        loads: for storage only trusted code can write).
        Versioned and checksummed: a changed or missing byte is refused."""
        return self._sealed(_snapshot.PLAIN)

    @classmethod
    def from_bytes(cls: type[_S], data: bytes) -> _S:
        """The sessionizer ``to_bytes()`` gave, exactly as it was; any damage
        (a flipped byte, a truncation) or a snapshot of another kind raises
        SessionizeError, and a pickled snapshot is refused (it would run code)."""
        return _restore(cls, data, allow_pickle=False)

    def __reduce__(self):
        # the same sealed snapshot, its state pickled (keys and values of any type)
        return (_restore_pickled, (type(self), self._sealed(_snapshot.PICKLE)))

    def _sealed(self, codec: int) -> bytes:
        blob, hk, next_key, vals, *rest = self._getstate()
        head = (self._encoded_head() if codec == _snapshot.PLAIN else
                (tuple(self._settings.items()),
                 None if self._kind is None else tuple(self._kind)))
        state = (*head,
                 blob, list(hk), list(hk.values()), next_key,
                 list(vals), list(vals.values()), rest[0] if rest else None)
        try:
            return _snapshot.seal(self._SNAPSHOT, codec, state, _PARTS)
        except _snapshot.Unsupported as e:
            raise TypeError(f"to_bytes: {e}") from None

    def _encoded_head(self) -> tuple:
        """The settings and the time kind, encoded: they do not change once
        the kind is known, and a stream may be snapshotted after every event."""
        kind = self._kind
        cache = self.__dict__.get("_snapshot_head")
        if cache is None or cache[0] is not kind:
            head = _snapshot.encoded((tuple(self._settings.items()),
                                      None if kind is None else tuple(kind)), _PARTS[:2])
            cache = self.__dict__["_snapshot_head"] = (kind, head)
        return cache[1]


def _restore_pickled(cls, data):
    if not (isinstance(cls, type) and issubclass(cls, Snapshots)):
        raise SessionizeError("state: not a sessionizer snapshot")
    return _restore(cls, data, allow_pickle=True)


def _restore(cls, data, *, allow_pickle: bool):
    from ._sessionizer import _Kind

    name = cls.__name__
    state = _snapshot.unseal(data, cls._SNAPSHOT, allow_pickle=allow_pickle)
    bad = SessionizeError(f"state: not a {name} state")
    if type(state) is not tuple or len(state) != len(_PARTS):
        raise bad
    settings, kind, blob, handles, keys, next_key, vhandles, values, next_value = state
    if type(settings) is not tuple or not all(
            type(s) is tuple and len(s) == 2 and type(s[0]) is str for s in settings):
        raise bad
    settings = dict(settings)
    try:
        sz = cls(**settings)
    except Exception as e:  # whatever a setting of the wrong type raises
        raise SessionizeError(f"state: the snapshot's settings are refused: {e}") from None
    if sz._settings != settings:  # a setting missing, or one the constructor changes
        raise bad
    for part in (handles, keys, vhandles, values):
        if type(part) is not list:
            raise bad
    if len(handles) != len(keys) or len(vhandles) != len(values):
        raise bad
    if kind is None:
        if blob is not None or handles or vhandles:
            raise bad
        return sz
    if type(kind) is not tuple or len(kind) != 3 or type(blob) is not bytes:
        raise bad
    kname, tz, unit = kind
    if type(kname) is not str or kname not in _KIND_NAMES or type(unit) is not str:
        raise bad
    # tz: an aware datetime's tzinfo, or the zone name of a datetime64
    # stream of zoned instants; unit: datetime64's, or integer times' time_unit
    if tz is not None and not (kname == "datetime" and isinstance(tz, datetime.tzinfo)
                               or kname == "datetime64" and type(tz) is str and tz):
        raise bad
    if kname == "datetime64":
        try:
            np.dtype(f"M8[{unit}]")
        except TypeError:
            raise bad from None
    elif kname == "int":
        if unit != settings.get("time_unit", None) and not (unit == "" and
                                                            "time_unit" not in settings):
            raise bad
    elif unit:
        raise bad
    if not all(type(n) is int and 0 <= n < 1 << 63 for n in (next_key, *handles, *vhandles)):
        raise bad
    if next_value is not None and not (type(next_value) is int and 0 <= next_value < 1 << 63):
        raise bad
    hk, vals = dict(zip(handles, keys)), dict(zip(vhandles, values))
    if len(hk) != len(handles) or len(vals) != len(vhandles):
        raise bad  # a handle twice
    kind = _Kind(kname, tz, unit)
    try:
        sz._configure_for(kind)
        sz._setstate_from(blob, hk, next_key, vals, next_value)
    except SessionizeError:
        raise
    except Exception as e:  # a duration the time kind refuses, a key that does not hash
        raise SessionizeError(f"state: not a {name} state ({e})") from None
    return sz


def dumps_adapter_state(obj: object) -> bytes:
    """An engine adapter's state (its clocks, timers and Sessionizers) as one
    sealed snapshot: pickled, so any damage to any of it is refused."""
    return _snapshot.seal(_snapshot.ADAPTER_STATE, _snapshot.PICKLE, (obj,),
                          ("the adapter's state",))


def loads_adapter_state(data: bytes) -> Any:
    """What dumps_adapter_state sealed, every byte checked first (a
    SessionizeError otherwise); it unpickles, so trusted storage only."""
    parts = _snapshot.unseal(data, _snapshot.ADAPTER_STATE, allow_pickle=True)
    if type(parts) is not tuple or len(parts) != 1:
        raise SessionizeError("state: not an engine adapter's state")
    return parts[0]

