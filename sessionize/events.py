"""The event classes of the Bytewax search-session tutorial, and their kinds.

    from sessionize.events import AppOpen, Search, Results, ClickResult, AppClose, Timeout

    events = [AppOpen(user=1), Search(user=1, query="dogs"),
              Results(1, ["fido", "rover", "buddy"]), ClickResult(1, "rover"),
              AppClose(1)]
    sessionize.search_ctr(events, flush=False).ctr      # 1.0

Each class takes the tutorial's fields in its order, and an optional
``time`` last (an int, float seconds, a ``datetime`` or ``numpy.datetime64``;
give every event a time or none).  :func:`to_arrays` turns a list of them
into the arrays :func:`sessionize.search_ctr` takes, in one pass per field.

An event's kind is its class: these classes, or any class with the same name
(the tutorial tests ``type(event).__name__``, so its own dataclasses work too).
As arrays, kinds are the small ints of :class:`Kind`, or their names.
"""

from __future__ import annotations

import datetime
import enum
import sys
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, List, Optional

import numpy as np
import numpy.typing as npt

from . import _core, _missing
from ._core import SessionizeError


class Kind(enum.IntEnum):
    """Event kinds, as the core numbers them (sessionize.h, sz_event_kind)."""

    APP_OPEN = 0
    SEARCH = 1
    RESULTS = 2
    CLICK = 3
    APP_CLOSE = 4
    TIMEOUT = 5


APP_OPEN = Kind.APP_OPEN
SEARCH = Kind.SEARCH
RESULTS = Kind.RESULTS
CLICK = Kind.CLICK
APP_CLOSE = Kind.APP_CLOSE
TIMEOUT = Kind.TIMEOUT

# frozen: an event is a fact; slots (Python >= 3.10): small and fast to read.
_DATACLASS = dict(frozen=True, slots=True) if sys.version_info >= (3, 10) else dict(frozen=True)


@dataclass(**_DATACLASS)
class AppOpen:
    """The user opened the app.  Changes nothing by itself: an ``AppOpen`` inside an
    open session does not start a new one.

    Fields in the Bytewax search-session tutorial's order, then ``time``
    (optional: an int, float seconds, a ``datetime`` or a
    ``numpy.datetime64``; every event of an input or none).
    """

    user: Any
    time: Optional[Any] = None
    kind: ClassVar[Kind] = Kind.APP_OPEN


@dataclass(**_DATACLASS)
class Search:
    """The user searched for ``query``: starts a new search (one row of the result)
    within the user's session.

    Fields in the Bytewax search-session tutorial's order, then ``time``
    (optional: an int, float seconds, a ``datetime`` or a
    ``numpy.datetime64``; every event of an input or none).
    """

    user: Any
    query: str
    time: Optional[Any] = None
    kind: ClassVar[Kind] = Kind.SEARCH


@dataclass(**_DATACLASS)
class Results:
    """The app showed the search's results (``items``).  Changes nothing in the
    click-through rate.

    Fields in the Bytewax search-session tutorial's order, then ``time``
    (optional: an int, float seconds, a ``datetime`` or a
    ``numpy.datetime64``; every event of an input or none).
    """

    user: Any
    items: List[str]
    time: Optional[Any] = None
    kind: ClassVar[Kind] = Kind.RESULTS


@dataclass(**_DATACLASS)
class ClickResult:
    """The user clicked ``item``: counts as a click of the session's current
    search (a click before the session's first search is dropped).

    Fields in the Bytewax search-session tutorial's order, then ``time``
    (optional: an int, float seconds, a ``datetime`` or a
    ``numpy.datetime64``; every event of an input or none).
    """

    user: Any
    item: str
    time: Optional[Any] = None
    kind: ClassVar[Kind] = Kind.CLICK


@dataclass(**_DATACLASS)
class AppClose:
    """The user closed the app: ends the user's session (the event belongs to it).

    Fields in the Bytewax search-session tutorial's order, then ``time``
    (optional: an int, float seconds, a ``datetime`` or a
    ``numpy.datetime64``; every event of an input or none).
    """

    user: Any
    time: Optional[Any] = None
    kind: ClassVar[Kind] = Kind.APP_CLOSE


@dataclass(**_DATACLASS)
class Timeout:
    """The session timed out: ends the user's session, as ``AppClose`` does.

    Fields in the Bytewax search-session tutorial's order, then ``time``
    (optional: an int, float seconds, a ``datetime`` or a
    ``numpy.datetime64``; every event of an input or none).
    """

    user: Any
    time: Optional[Any] = None
    kind: ClassVar[Kind] = Kind.TIMEOUT


EVENT_CLASSES = (AppOpen, Search, Results, ClickResult, AppClose, Timeout)
_KIND_OF_CLASS = {cls: int(cls.kind) for cls in EVENT_CLASSES}
_KIND_OF_CLASS_NAME = {cls.__name__: cls.kind for cls in EVENT_CLASSES}
_CLASS_NAMES = ", ".join(cls.__name__ for cls in EVENT_CLASSES)

# Names accepted in kind arrays: the constants' names, in upper or lower
# case, and the event classes' names.
KIND_NAMES: dict[str, int] = {}
for _k in Kind:
    KIND_NAMES[_k.name] = int(_k)
    KIND_NAMES[_k.name.lower()] = int(_k)
for _name, _k in _KIND_OF_CLASS_NAME.items():
    KIND_NAMES[_name] = int(_k)
# The same words as the binding's message for a bad kind code.
_EXPECTED = "expected 0-5 or a name: APP_OPEN, SEARCH, RESULTS, CLICK, APP_CLOSE, TIMEOUT"


# ---------------------------------------------------------------------------
# kinds given as arrays or lists

def _kind_of_value(value: object) -> int | None:
    """The kind code of one array element, None when it names no kind."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value) if 0 <= value < len(Kind) else None
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    if isinstance(value, str):
        return KIND_NAMES.get(value)
    return None


def _bad_kind(i: int, value: object) -> Exception:
    if isinstance(value, (str, bytes, int, np.integer)) and not isinstance(
            value, (bool, np.bool_)):
        return SessionizeError(f"kinds[{i}]: unknown event kind {value!r} ({_EXPECTED})")
    return TypeError(
        f"kinds[{i}]: expected an event kind (an int 0-5 or a name), "
        f"got {type(value).__name__}"
    )


def _kinds_from_sequence(seq) -> np.ndarray:
    # One C dict pass (the binding's factorize), then one lookup per
    # distinct value.
    try:
        codes, uniques = _core.factorize(seq)
    except TypeError as e:
        raise TypeError(str(e).replace("keys", "kinds", 1)) from None
    lut = np.empty(len(uniques), dtype=np.uint8)
    for u, value in enumerate(uniques):
        code = _kind_of_value(value)
        if code is None:
            raise _bad_kind(int(np.argmax(codes == u)), value)
        lut[u] = code
    return lut[codes]


# The canonical names first: usually all a string array needs.
_SPELLINGS = ([(k.name, int(k)) for k in Kind],
              [(name, code) for name, code in KIND_NAMES.items() if name not in Kind.__members__])


def _kinds_from_strings(arr: np.ndarray) -> np.ndarray:
    out = np.full(len(arr), 255, dtype=np.uint8)
    for names in _SPELLINGS:
        for name, code in names:
            out[arr == (name.encode("ascii") if arr.dtype.kind == "S" else name)] = code
        bad = np.flatnonzero(out == 255)
        if not len(bad):
            return out
    i = int(bad[0])
    raise _bad_kind(i, arr[i].item())


def normalize_kinds(kinds: object) -> npt.NDArray[np.uint8]:
    """Event kinds as the uint8 codes the core takes."""
    kinds = _missing.plain(kinds, "kinds")
    if isinstance(kinds, (list, tuple)):
        return _kinds_from_sequence(kinds)
    arr = kinds if isinstance(kinds, np.ndarray) else np.asarray(kinds)
    if arr.ndim == 0:
        raise TypeError(
            f"kinds: expected an array, list or tuple of event kinds, got "
            f"{type(kinds).__name__}"
        )
    if arr.ndim != 1:
        raise SessionizeError(f"kinds: expected a 1-D array, got {arr.ndim} dimensions")
    k = arr.dtype.kind
    if k == "u" and arr.dtype.itemsize == 1:
        return arr  # the core checks the range and names the element
    if k in "iu":
        bad = np.flatnonzero((arr < 0) | (arr >= len(Kind)))
        if len(bad):
            i = int(bad[0])
            raise _bad_kind(i, int(arr[i]))
        return arr.astype(np.uint8)
    if k in "US":
        return _kinds_from_strings(arr)
    if k == "O":
        return _kinds_from_sequence(arr)
    raise TypeError(
        f"kinds: unsupported dtype {arr.dtype}; expected ints 0-5 (sessionize.Kind) "
        "or kind names"
    )


# ---------------------------------------------------------------------------
# a list of event objects

_EPOCH_UTC = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_ONE_US = datetime.timedelta(microseconds=1)


def _datetimes(times: list) -> np.ndarray:
    """Python datetimes, all naive or all aware, as datetime64[us] (UTC for
    aware ones, as Bytewax's EventClock takes them)."""
    aware = times[0].tzinfo is not None
    micros = np.empty(len(times), dtype=np.int64)
    for i, d in enumerate(times):
        if not isinstance(d, datetime.datetime):
            raise TypeError(
                f"events[{i}].time: expected a datetime like the other events' "
                f"times, got {type(d).__name__}"
            )
        if (d.tzinfo is not None) != aware:
            raise TypeError(
                f"events[{i}].time: mixes naive and timezone-aware datetimes"
            )
        if aware:
            micros[i] = (d - _EPOCH_UTC) // _ONE_US
        else:
            micros[i] = (d - datetime.datetime(1970, 1, 1)) // _ONE_US
    return micros.view("M8[us]")


def _fields(events) -> tuple[np.ndarray, list, list, int]:
    """One pass in C (the binding's event_fields): kinds, users, times."""
    kind_of = dict(_KIND_OF_CLASS)
    while True:
        r = _core.event_fields(events, kind_of)
        if not isinstance(r, int):
            return r
        cls = type(events[r])  # not one of ours: recognized by name, as the seeds do
        kind = _KIND_OF_CLASS_NAME.get(getattr(cls, "__name__", None))
        if kind is None:
            raise TypeError(
                f"events[{r}]: {cls.__name__} is not an event class; expected "
                f"{_CLASS_NAMES} (sessionize.events, or classes of those names)"
            )
        kind_of[cls] = int(kind)


def _times_of_events(times: list, missing: int):
    if missing == len(times):
        return None
    if missing:
        i = times.index(None)
        j = next(j for j, t in enumerate(times) if t is not None)
        raise SessionizeError(
            f"events[{i}]: missing time (None), while events[{j}] has one; give "
            "every event a time or none"
        )
    if isinstance(times[0], datetime.datetime):
        return _datetimes(times)
    arr = np.asarray(times)
    if arr.dtype == object:
        for i, t in enumerate(times):
            if isinstance(t, datetime.datetime):
                raise TypeError(
                    f"events[{i}].time: a datetime among times of another type"
                )
    return arr


def to_arrays(events: Iterable[Any],
              ) -> tuple[list[Any], npt.NDArray[np.uint8], npt.NDArray[Any] | None]:
    """``(users, kinds, times)`` of a list of events, for
    :func:`sessionize.search_ctr`: users as a list, kinds as uint8 codes,
    times as an array (``datetime64[us]`` for datetimes, UTC when they are
    timezone-aware) or None when no event has a time.  One pass in C, the
    kind by a dict lookup of the event's class.
    """
    if isinstance(events, np.ndarray) and events.dtype == object and events.ndim == 1:
        events = events.tolist()
    if not isinstance(events, (list, tuple)):
        if isinstance(events, (np.ndarray, str, bytes)) or not hasattr(events, "__iter__"):
            raise TypeError(
                f"events: expected a list of events (sessionize.events), got "
                f"{type(events).__name__}; for arrays, pass keys and kinds: "
                "search_ctr(keys, kinds, times)"
            )
        events = list(events)
    kinds, users, times, missing = _fields(events)
    return users, kinds, _times_of_events(times, missing)


__all__ = [
    "Kind", "APP_OPEN", "SEARCH", "RESULTS", "CLICK", "APP_CLOSE", "TIMEOUT",
    "AppOpen", "Search", "Results", "ClickResult", "AppClose", "Timeout",
    "EVENT_CLASSES", "KIND_NAMES", "normalize_kinds", "to_arrays",
]
