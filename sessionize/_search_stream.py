"""The streaming form of search CTR: SearchSessionizer and search_ctr_stream()
(SPEC.md section 4, streamed as section 3 streams sessions).

The C type underneath (sessionize._ctr_stream.CtrStream) keeps the state;
this module converts kinds (sessionize.events.normalize_kinds) and times
(_sessionizer._Timed, the Sessionizer's own conversions) and decides, at
the first event, whether the stream has times at all.
"""

from __future__ import annotations

import math
import numbers
from typing import (
    TYPE_CHECKING, Any, Generic, Hashable, Iterable, Iterator, Literal, NamedTuple, TypeVar,
    cast, overload,
)

import numpy as np

from . import _ctr_stream, _gaps, _times, events as _events
from ._core import SessionizeError
from ._snapshot import SEARCH_SESSIONIZER
from ._state import Snapshots
from ._sessionizer import (
    _INT64_MAX, _ON_LATE, LateEvent, LateEventError, _check_choice, _chunk_keys, _is_zero,
    _Kind, _Timed, Sessionizer,
)

from ._types import Column, Duration, OnLate, TimeUnit

if TYPE_CHECKING:
    from ._table import StreamBatch, StreamSearchTable
    from .events import Kind

_NO_TIMES = _Kind("none")


class StreamSearchRow(NamedTuple):
    """One search of a user session a SearchSessionizer closed."""

    key: Any
    session: int    # 0, 1, ... per SearchSessionizer, in emission order
    search: int     # the SEARCH event's ordinal: its arrival number, from 0
    time: Any       # the SEARCH's time (None without times)
    clicked: bool   # any CLICK in its search session
    clicks: int     # how many
    value: Any      # the value pushed with the SEARCH (its query), or None


def _value_of(event):
    """The value an event carries into the stream: the Search's query (the
    only one a row reports), the Results' items, the ClickResult's item."""
    for name in ("query", "items", "item"):
        v = getattr(event, name, None)
        if v is not None:
            return v
    return None


def _kind_code(kind) -> int:
    try:
        return int(_events.normalize_kinds([kind])[0])
    except (SessionizeError, TypeError) as e:
        raise type(e)(str(e).replace("kinds[0]", "kind", 1)) from None


# What a call of a SearchSessionizer returns: a list of StreamSearchRow and
# LateEvent, or, with columnar=True, a StreamBatch (the overloads of __init__).
SearchOutput = TypeVar("SearchOutput", "list[StreamSearchRow | LateEvent]",
                       "StreamBatch[StreamSearchTable]")


class SearchSessionizer(_Timed, Snapshots, _ctr_stream.CtrStream, Generic[SearchOutput]):
    """Search rows of user sessions, from events pushed one at a time or in
    chunks (the streaming form of :func:`sessionize.search_ctr`).

    Per key, events are taken in time order (ties, and everything without
    times, in arrival order) by the rule of ``search_ctr``.  A user
    session's rows (StreamSearchRow) come out when it closes: at its
    APP_CLOSE / TIMEOUT once the watermark has reached that event, by the
    gap rule once the watermark is a gap past its last event, or at
    flush().  The watermark is the largest time seen minus ``delay``, or
    what advance() sets; an event before it is late (LateEvent, per
    ``on_late`` as the Sessionizer does).  See the documentation's search-CTR guide.
    """

    @overload
    def __init__(self: SearchSessionizer[list[StreamSearchRow | LateEvent]],
                 gap: Duration | None = ..., *, inclusive: bool = ..., delay: Duration = ...,
                 on_late: OnLate = ..., columnar: Literal[False] = ...,
                 time_unit: TimeUnit | None = ...) -> None: ...
    @overload
    def __init__(self: SearchSessionizer[StreamBatch[StreamSearchTable]],
                 gap: Duration | None = ..., *, inclusive: bool = ..., delay: Duration = ...,
                 on_late: OnLate = ..., columnar: Literal[True],
                 time_unit: TimeUnit | None = ...) -> None: ...
    @overload  # columnar only known at run time: either
    def __init__(self: SearchSessionizer[Any], gap: Duration | None = ..., *,
                 inclusive: bool = ..., delay: Duration = ..., on_late: OnLate = ...,
                 columnar: bool, time_unit: TimeUnit | None = ...) -> None: ...
    def __init__(self, gap: Duration | None = None, *, inclusive: bool = True,
                 delay: Duration = 0, on_late: OnLate = "return",
                 columnar: bool = False, time_unit: TimeUnit | None = None) -> None:
        self._time_unit = _times.check_time_unit(time_unit) or ""
        if _gaps.is_per_event(gap):
            raise TypeError("gap: SearchSessionizer takes one gap, not one per event")
        late_code = _check_choice("on_late", on_late, _ON_LATE)
        for name, flag in (("inclusive", inclusive), ("columnar", columnar)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{name}: expected a bool, got {type(flag).__name__}")
        super().__init__(late_code, StreamSearchRow, LateEvent, LateEventError,
                         _search_batch if columnar else None)
        self._settings: dict[str, Any] = dict(gap=gap, inclusive=bool(inclusive), delay=delay,
                              on_late=on_late, columnar=bool(columnar))
        if time_unit is not None:  # absent otherwise: snapshots without it restore
            self._settings["time_unit"] = time_unit
        self._kind: _Kind | None = None
        for name in ("gap", "delay"):
            v = self._settings[name]
            if v is None:
                if name == "delay":
                    raise TypeError("delay: expected a duration, got None")
                continue
            if isinstance(v, (bool, np.bool_)):
                raise TypeError(f"{name}: expected a duration, got a bool")
            if isinstance(v, np.timedelta64):
                if not np.isnat(v) and name == "delay" and int(v.astype(np.int64)) < 0:
                    raise SessionizeError(f"delay: must be >= 0, got {v!r}")
            elif isinstance(v, numbers.Real):
                Sessionizer._check_sign(name, v)

    # ---- times -----------------------------------------------------------

    def _configure_for(self, kind: _Kind) -> None:
        s = self._settings
        if kind == _NO_TIMES:
            if s["gap"] is not None:
                raise SessionizeError(
                    "gap: the gap rule needs times; push events with a time")
            if not _is_zero(s["delay"]):
                raise SessionizeError("delay: needs times; push events with a time")
            self._configure(0, s["inclusive"], False, 0, False, False)
        else:
            gap = 0
            if s["gap"] is not None:
                gap = kind.duration(s["gap"], "gap")
                Sessionizer._check_sign("gap", gap)
            delay = 0 if _is_zero(s["delay"]) else kind.duration(s["delay"], "delay")
            Sessionizer._check_sign("delay", delay)
            self._configure(gap, s["inclusive"], True, delay, kind.name == "datetime64",
                            kind.out())
        self._kind = kind

    def _expected(self) -> str:
        if self._kind == _NO_TIMES:
            return "no time (None)"
        return super()._expected()

    def _time_or_none(self, t):
        if t is None:
            if self._kind is None:
                self._configure_for(_NO_TIMES)
            elif self._kind != _NO_TIMES:
                raise TypeError(f"time: expected {self._expected()} like the first "
                                "event's, got None")
            return None
        if self._kind == _NO_TIMES:
            raise TypeError("time: this SearchSessionizer has no times (its first "
                            f"event had none), got {type(t).__name__}")
        return self._time_in(t)

    # ---- the API ---------------------------------------------------------

    if TYPE_CHECKING:
        # the C type's method, with what it returns for this SearchSessionizer
        def flush(self) -> SearchOutput:
            """Closes every open user session; returns their rows."""
            ...

    def push(self, key: Hashable, kind: Kind | int | str, time: Any = None,
             value: Any = None) -> SearchOutput:
        """Pushes one event: a key (user), a kind (a Kind, its int or its name),
        its time (or None: arrival order is time order), and a value kept
        with a SEARCH (its query).  Returns the rows (and late events) it
        finishes."""
        code = _kind_code(kind)
        return self._push_one(key, code, self._time_or_none(time), value)

    def push_many(self, keys: Column, kinds: Column, times: Column | None = None,
                  values: Column | None = None) -> SearchOutput:
        """Pushes a chunk of events (arrays or sequences); returns what they
        finish.  The core runs with the GIL released on large chunks."""
        kd = _events.normalize_kinds(kinds)
        if isinstance(keys, np.ndarray) and keys.ndim != 1:
            raise SessionizeError(f"keys: expected a 1-D array, got {keys.ndim} dimensions")
        if times is None:
            if len(kd) and self._time_or_none(None) is None:
                pass
            arr = None
        else:
            if self._kind == _NO_TIMES:
                raise TypeError("times: this SearchSessionizer has no times (its first "
                                "event had none)")
            if len(kd) == 0 and self._kind is None:
                arr = None
            else:
                arr = self._times_array(times)
                if arr.ndim != 1:
                    raise SessionizeError(
                        f"times: expected a 1-D array, got {arr.ndim} dimensions")
        if len(kd) == 0:
            if len(keys) != 0 or (values is not None and len(values) != 0) \
                    or (arr is not None and len(arr) != 0):
                raise SessionizeError("keys, times, values: lengths differ from kinds' 0")
            # (the cast: columnar is what SearchOutput is)
            return cast(SearchOutput, _search_batch(self, None, None)
                        if self._settings["columnar"] else [])
        keys, codes = _chunk_keys(keys)
        return self._push_many(keys, kd, arr, values, codes)

    def push_events(self, events: Iterable[Any]) -> SearchOutput:
        """Pushes a list of sessionize.events objects (their .user, their kind,
        their .time when they have one; a Search's query as its value)."""
        if not isinstance(events, (list, tuple)):
            events = list(events)
        try:
            users, kinds, times = _events.to_arrays(events)
        except (SessionizeError, TypeError):
            raise
        values = [_value_of(e) for e in events]
        return self.push_many(users, kinds, times, values)

    def advance(self, watermark: Any) -> SearchOutput:
        """Moves the watermark forward (never back); returns what it closes."""
        if self._kind == _NO_TIMES:
            raise SessionizeError("watermark: this SearchSessionizer has no times")
        return self._advance(self._time_in(watermark))

    @property
    def watermark(self) -> Any:
        """The watermark in the caller's time type; None before any time (and
        without times); math.inf after flush()."""
        wm = self._stats()[0]
        if wm is Ellipsis or wm == _INT64_MAX:
            return math.inf
        if wm is None or self._kind is None or self._kind == _NO_TIMES:
            return None
        out = self._kind.out()
        return out(wm) if out else wm

    def stats(self) -> dict[str, int]:
        """What the SearchSessionizer holds and has done."""
        _, events, sessions, keys, open_s, searches, buffered, nbytes = self._stats()
        return dict(events=events, sessions=sessions, keys=keys, open_sessions=open_s,
                    open_searches=searches, buffered=buffered, bytes=nbytes,
                    late_count=self.late_count)

    _SNAPSHOT = SEARCH_SESSIONIZER

    def _setstate_from(self, blob, handle_keys, next_key, values, next_value) -> None:
        if next_value is not None:
            raise TypeError("a next value handle")
        kind = self._kind
        self._setstate(blob, handle_keys, next_key, values,
                       False if kind == _NO_TIMES else kind.out())

    def __repr__(self) -> str:
        s = self._settings
        st = self.stats()
        return (f"SearchSessionizer(gap={s['gap']!r}, delay={s['delay']!r}, "
                f"keys held={st['keys']}, late={st['late_count']})")


def _search_batch(sz: SearchSessionizer, rows, late):
    """A columnar SearchSessionizer's result (called by the C type with the
    raw columns of _ctr_stream.c's columns_output, or Nones for nothing)."""
    from ._sessionizer import _late_table, _raise_first_late, _time_column
    from ._table import StreamBatch, StreamSearchTable

    kind = sz._kind
    if rows is None:
        z = np.zeros(0, np.int64)
        rows = (z, z.astype(np.uint64), z.astype(np.uint64), z, z, np.empty(0, object))
    key, session, search, time, clicks, value = rows
    if kind is None or kind == _NO_TIMES:
        time, zone = np.full(len(key), None, dtype=object), ""
        if late is not None:
            late = (late[0], np.full(len(late[0]), None, dtype=object)) + tuple(late[2:])
    else:
        time, zone = _time_column(kind, time)
    table = StreamSearchTable(zone, key=key, session=session, search=search, time=time,
                              clicked=clicks != 0, clicks=clicks, value=value)
    late_t = _late_table(None if kind == _NO_TIMES else kind, late)
    _raise_first_late(sz, table, late_t)
    return StreamBatch(table, late_t)


def _restore(*args):
    # sessionize 0.1.0's first snapshot format: see _sessionizer._restore
    raise SessionizeError(
        "state: a SearchSessionizer snapshot of an earlier format (without a checksum "
        "over its keys and values); restore it with that version and snapshot it again")


def search_ctr_stream(events: Iterable[Any], *, gap: Duration | None = None,
                      inclusive: bool = True, delay: Duration = 0, flush: bool = True,
                      on_late: OnLate = "return") -> Iterator[StreamSearchRow | LateEvent]:
    """Yields StreamSearchRows lazily from any iterable of sessionize.events
    objects, as their user sessions close; at the end, with ``flush``, the
    rows of the sessions still open (without it, as the Bytewax search-session tutorial's first version,
    those are never emitted).  Late events are yielded (LateEvent), dropped
    or raised per ``on_late``."""
    sz = SearchSessionizer(gap, inclusive=inclusive, delay=delay, on_late=on_late)
    kind_of = {cls: int(cls.kind) for cls in _events.EVENT_CLASSES}
    push = sz.push
    for i, e in enumerate(events):
        kind = kind_of.get(type(e))
        if kind is None:
            kind = type(e).__name__  # a class of the seeds' names: by name
            if kind not in ("AppOpen", "Search", "Results", "ClickResult", "AppClose",
                            "Timeout"):
                raise TypeError(f"events[{i}]: {kind} is not an event class")
            kind = int(_events._KIND_OF_CLASS_NAME[kind])
        try:
            user = e.user
        except AttributeError:
            raise TypeError(f"events[{i}]: has no user") from None
        out = push(user, kind, getattr(e, "time", None), _value_of(e))
        if out:
            yield from out
    if flush:
        yield from sz.flush()
