"""The incremental sessionizer: Sessionizer and stream() (SPEC.md section 3).

The C type underneath (sessionize._stream.Stream) keeps the state and takes
exact-int times on its fast path; this module decides, at the first time it
sees, what kind of times the stream has, converts durations into their unit
once, and converts every other time through _time_in()/_time_out.
"""

from __future__ import annotations

import datetime
import math
import numbers
import warnings
from typing import (
    TYPE_CHECKING, Any, Callable, Generic, Hashable, Iterable, Iterator, Literal, NamedTuple,
    TypeVar, Union, cast, overload,
)

import numpy as np

from . import _agg, _durations, _gaps, _iso, _missing, _stream, _times
from ._core import SessionizeError
from ._snapshot import SESSIONIZER
from ._state import Snapshots
from ._types import Column, Duration, Emit, MaxDurationMode, OnBadGap, OnLate, TimeUnit

if TYPE_CHECKING:
    from ._table import LateTable, StreamBatch, StreamSessionTable

_MODES = {"restart": 1, "fixed": 2}
_EMIT = {"final": 0, "update": 1}
_ON_LATE = {"return": 0, "drop": 1, "raise": 2}
_EPOCH = datetime.datetime(1970, 1, 1)
_EPOCH_UTC = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_US = datetime.timedelta(microseconds=1)
_INT64_MAX = 2**63 - 1


class StreamSession(NamedTuple):
    """A session a Sessionizer emits."""

    key: Any
    start: Any
    end: Any
    window_end: Any
    count: int
    index: int       # ordinal within its key since the key was last held
    revision: int    # 0, then + 1 per update-mode re-emission
    id: int          # unique within the Sessionizer, kept across revisions
    replaces: tuple[int, ...]  # ids of emitted sessions this one absorbed
    values: tuple[Any, ...] | None  # collect=True: the values, in time order
    final: bool      # no later revision can come


class LateEvent(NamedTuple):
    """An event that came too late to join or open a session."""

    key: Any
    time: Any
    value: Any


class LateEventError(SessionizeError):
    """on_late='raise': a late event.  `.event` is the LateEvent,
    `.sessions` what the call emitted before it, `.position` its index in
    the push_many chunk (0 for push); later events of the chunk were not
    applied."""

    event: LateEvent
    sessions: Any  # a list as push_many returns it, or a StreamSessionTable
    position: int


class _Kind(NamedTuple):
    """What the stream's times are: name, zone, unit.  tz is a datetime's
    tzinfo, or for datetime64 the zone name of ISO strings with an offset
    or of zoned Arrow timestamps (their UTC instants are held); unit is
    datetime64's, or the time_unit of integer epoch times ("" for none)."""

    name: str  # 'int', 'seconds', 'datetime', 'datetime64'
    tz: Any = None
    unit: str = ""

    def duration(self, value, name: str) -> int:
        if self.name == "int":
            if self.unit:
                return _durations.to_epoch_unit(value, self.unit, name)
            return _durations.to_integer_unit(value, name)
        if self.name == "seconds":
            return _durations.to_micros_from_seconds(value, name)
        if self.name == "datetime":
            return _durations.to_unit(value, "us", 1, name)
        u, count = np.datetime_data(np.dtype(f"M8[{self.unit}]"))
        return _durations.to_unit(value, u, count, name)

    def out(self) -> Callable[[int], Any] | None:
        if self.name == "int":
            return None
        if self.name == "seconds":
            return lambda v: v / 1e6
        if self.name == "datetime":
            if self.tz is None:
                return lambda v: _EPOCH + v * _US
            tz = self.tz
            return lambda v: (_EPOCH_UTC + v * _US).astimezone(tz)
        unit = self.unit
        return lambda v: np.datetime64(v, unit)


def _kind_of(t, time_unit: str = "") -> _Kind:
    if isinstance(t, str):
        try:
            _ns, offset = _iso.one_ns(t)
        except ValueError as e:
            raise SessionizeError(f"time: {e}") from None
        return _Kind("datetime64", _iso.zone_of(offset) if offset else None, "ns")
    if isinstance(t, (bool, np.bool_)):
        raise TypeError("time: expected a time, got a bool")
    if isinstance(t, np.datetime64):
        unit, count = np.datetime_data(t.dtype)
        if unit == "generic":
            raise SessionizeError("time: a datetime64 without a unit")
        return _Kind("datetime64", unit=f"{count}{unit}" if count != 1 else unit)
    if isinstance(t, datetime.datetime):
        return _Kind("datetime", tz=t.tzinfo if t.utcoffset() is not None else None)
    if isinstance(t, numbers.Integral):
        return _Kind("int", unit=time_unit)
    if isinstance(t, numbers.Real):
        return _Kind("seconds")
    raise TypeError(
        "time: expected an int, float seconds, datetime, numpy.datetime64 or an "
        f"ISO-8601 string, got {type(t).__name__}"
    )


def _is_zero(v) -> bool:
    if isinstance(v, (bool, np.bool_, str)):
        return False
    if isinstance(v, (numbers.Real, datetime.timedelta, np.timedelta64)):
        return v == type(v)(0) if not isinstance(v, np.timedelta64) else int(v.astype(np.int64)) == 0
    return False


def _check_choice(name: str, value, choices: dict) -> int:
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise SessionizeError(f"{name}: must be one of {allowed}, got {value!r}")
    return choices[value]


class _Timed:
    """Time handling shared by the streaming types (Sessionizer and
    SearchSessionizer): the first time seen fixes the kind of times
    (self._kind, a _Kind) and calls self._configure_for(kind); every later
    time is converted to the stream's int64 by _time_in / _times_array."""

    _kind: "_Kind | None"

    def _configure_for(self, kind: "_Kind") -> None:  # pragma: no cover
        raise NotImplementedError

    def _time_in(self, t) -> int:
        """A scalar time as the stream's int64 (called by the C fast path
        for anything but an exact int)."""
        kind = self._kind
        if kind is None:
            kind = _kind_of(t, self._time_unit)
            self._check_unit_for(kind)
            self._configure_for(kind)
        if kind.name == "int":
            if isinstance(t, numbers.Integral) and not isinstance(t, (bool, np.bool_)):
                return int(t)
        elif kind.name == "seconds":
            if isinstance(t, numbers.Real) and not isinstance(t, (bool, np.bool_)):
                f = float(t)
                if f != f:
                    raise SessionizeError("time: NaN is not a time")
                if math.isinf(f) or not -9.2e18 < f * 1e6 < 9.2e18:
                    raise SessionizeError(f"time: {t!r} is out of range")
                return int(f * 1e6)  # Beam's Timestamp.of(): truncated micros
        elif kind.name == "datetime":
            if isinstance(t, datetime.datetime):
                aware = t.utcoffset() is not None
                if aware != (kind.tz is not None):
                    raise TypeError(
                        "time: cannot mix naive and timezone-aware datetimes "
                        f"(the first time was {'aware' if kind.tz else 'naive'})"
                    )
                return (t - (_EPOCH_UTC if aware else _EPOCH)) // _US
        elif isinstance(t, np.datetime64):
            if np.isnat(t):
                raise SessionizeError("time: missing time (NaT)")
            return int(t.astype(f"M8[{kind.unit}]").astype(np.int64))
        elif isinstance(t, str):
            return self._iso_in(t, kind)
        raise TypeError(
            f"time: expected {self._expected()} like the first time, "
            f"got {type(t).__name__}"
        )

    def _iso_in(self, t: str, kind: _Kind) -> int:
        """An ISO string in a datetime64 stream: an instant (with an offset)
        in a zoned one, a wall-clock time in a naive one."""
        try:
            ns, offset = _iso.one_ns(t)
        except ValueError as e:
            raise SessionizeError(f"time: {e}") from None
        if (offset is None) != (kind.tz is None):
            raise SessionizeError(
                f"time: {t!r} {'has no' if offset is None else 'has a'} UTC offset, unlike "
                "the first time; a stream's times are all instants or all wall-clock times")
        if kind.unit == "ns":
            return ns
        t64 = np.datetime64(ns, "ns").astype(f"M8[{kind.unit}]")
        if t64.astype("M8[ns]").astype(np.int64) != ns:
            raise SessionizeError(f"time: {t!r} does not convert exactly to the stream's "
                                  f"unit [{kind.unit}]")
        return int(t64.astype(np.int64))

    def _check_unit_for(self, kind: _Kind) -> None:
        if self._time_unit and kind.name != "int":
            raise SessionizeError(
                f"time_unit: {self._time_unit!r} is for integer epoch times; the first "
                f"time is {self._expected_of(kind)}, which carries its own")

    @staticmethod
    def _expected_of(kind: _Kind) -> str:
        return {"int": "an int", "seconds": "float seconds", "datetime": "a datetime",
                "datetime64": "a numpy.datetime64 or an ISO-8601 string"}[kind.name]

    def _expected(self) -> str:
        return {"int": "an int", "seconds": "float seconds", "datetime": "a datetime",
                "datetime64": "a numpy.datetime64"}[self._kind.name]

    def _times_array(self, times) -> np.ndarray:
        from . import _arrow

        if _arrow.source(times) is None:
            times = _missing.plain(times, "times")
        # Arrow columns, zoned pandas and arrays go to _times in one piece (a
        # zoned timestamp streams as its UTC instants, its zone kept for the
        # columnar output); a list or tuple is read time by time
        if not isinstance(times, np.ndarray) and _arrow.source(times) is None \
                and getattr(getattr(times, "dtype", None), "tz", None) is None:
            seq = list(times)
            out = np.empty(len(seq), dtype=np.int64)
            for i, t in enumerate(seq):
                try:
                    out[i] = self._time_in(t)
                except (SessionizeError, TypeError) as e:
                    msg = str(e)
                    raise type(e)(msg.replace("time:", f"times[{i}]:", 1)) from None
            return out
        arr, tk = _times.normalize(times, self._time_unit or None)
        if tk.name == "int":
            kind = _Kind("int", unit=self._time_unit)
        elif tk.name == "seconds":
            kind = _Kind("seconds")
        elif tk.name == "datetime64":
            times = tk.restore(arr)  # datetime64 of its unit (UTC instants if zoned)
            unit, count = np.datetime_data(times.dtype)
            kind = _Kind("datetime64", tk.zone or None,
                         f"{count}{unit}" if count != 1 else unit)
        else:
            raise TypeError(f"times: {times.dtype} is not a time of day; use datetime64")
        if self._kind is None:
            self._configure_for(kind)
            return arr
        if (kind.name, kind.unit) == (self._kind.name, self._kind.unit):
            return arr
        if self._kind.name == "seconds" and kind.name == "int":
            return arr * 1_000_000
        if self._kind.name in ("datetime64", "datetime") and kind.name == "datetime64":
            unit = self._kind.unit or "us"
            conv = times.astype(f"M8[{unit}]")
            back = conv.astype(times.dtype)
            nat = np.isnat(times)
            if not np.array_equal(back[~nat], times[~nat]):
                raise SessionizeError(
                    f"times: {times.dtype} values do not convert exactly to the "
                    f"stream's unit [{unit}]"
                )
            return conv.view(np.int64)
        raise TypeError(
            f"times: expected {self._expected()} like the first time, got {times.dtype}"
        )



# What a call of a Sessionizer returns: a list of StreamSession and LateEvent,
# or, with columnar=True, a StreamBatch (the overloads of __init__ pick it).
SessionOutput = TypeVar("SessionOutput", "list[StreamSession | LateEvent]",
                        "StreamBatch[StreamSessionTable]")


class Sessionizer(_Timed, Snapshots, _stream.Stream, Generic[SessionOutput]):
    """Sessions from events pushed one at a time or in chunks, in any order.

    Each call returns the sessions it finishes (StreamSession), and, with
    on_late='return', the late events (LateEvent), in the order they
    happened.  A session is finished once the watermark (largest time seen
    minus ``delay``, or what advance() sets) is past the last time an event
    could still join it, plus ``allowed_lateness``.  See the documentation's streaming guide.

    Keys are any hashable values, and must keep their hash while the
    Sessionizer holds them, as a dict's keys must.  A key whose hash
    changed after it was pushed is reported when a session or late event
    of it is given out: that call raises SessionizeError at its end, with
    its whole output on the error's ``.sessions`` and the key on ``.key``;
    the call was applied in full and the Sessionizer goes on, so nothing
    is lost (events pushed after the change are hashed as the key is now,
    and may form sessions of their own).
    """

    @overload
    def __init__(self: Sessionizer[list[StreamSession | LateEvent]], gap: Duration, *,
                 max_duration: Duration | None = ...,
                 max_duration_mode: MaxDurationMode = ..., inclusive: bool = ...,
                 delay: Duration = ..., allowed_lateness: Duration = ..., emit: Emit = ...,
                 collect: bool = ..., on_late: OnLate = ...,
                 columnar: Literal[False] = ..., time_unit: TimeUnit | None = ...,
                 per_event_gaps: bool = ..., on_bad_gap: OnBadGap = ...) -> None: ...
    @overload
    def __init__(self: Sessionizer[StreamBatch[StreamSessionTable]], gap: Duration, *,
                 max_duration: Duration | None = ...,
                 max_duration_mode: MaxDurationMode = ..., inclusive: bool = ...,
                 delay: Duration = ..., allowed_lateness: Duration = ..., emit: Emit = ...,
                 collect: bool = ..., on_late: OnLate = ...,
                 columnar: Literal[True], time_unit: TimeUnit | None = ...,
                 per_event_gaps: bool = ..., on_bad_gap: OnBadGap = ...) -> None: ...
    @overload  # columnar only known at run time: either
    def __init__(self: Sessionizer[Any], gap: Duration, *,
                 max_duration: Duration | None = ...,
                 max_duration_mode: MaxDurationMode = ..., inclusive: bool = ...,
                 delay: Duration = ..., allowed_lateness: Duration = ..., emit: Emit = ...,
                 collect: bool = ..., on_late: OnLate = ..., columnar: bool,
                 time_unit: TimeUnit | None = ..., per_event_gaps: bool = ...,
                 on_bad_gap: OnBadGap = ...) -> None: ...
    def __init__(self, gap: Duration, *, max_duration: Duration | None = None,
                 max_duration_mode: MaxDurationMode = "restart", inclusive: bool = True,
                 delay: Duration = 0, allowed_lateness: Duration = 0, emit: Emit = "final",
                 collect: bool = False, on_late: OnLate = "return",
                 columnar: bool = False, time_unit: TimeUnit | None = None,
                 per_event_gaps: bool = False, on_bad_gap: OnBadGap = "raise") -> None:
        self._time_unit = _times.check_time_unit(time_unit) or ""
        if _gaps.is_per_event(gap):
            raise TypeError(
                "gap: a Sessionizer's gap is one duration; for a gap per event, pass "
                "per_event_gaps=True (gap is then the longest an event may have) and each "
                "event's gap to push(..., gap=) or push_many(..., gaps=)")
        cap = 0 if max_duration is None else _check_choice(
            "max_duration_mode", max_duration_mode, _MODES)
        emit_code = _check_choice("emit", emit, _EMIT)
        late_code = _check_choice("on_late", on_late, _ON_LATE)
        _gaps.check_on_bad_gap(on_bad_gap)
        for name, flag in (("inclusive", inclusive), ("collect", collect),
                           ("columnar", columnar), ("per_event_gaps", per_event_gaps)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{name}: expected a bool, got {type(flag).__name__}")
        super().__init__(bool(collect), late_code, StreamSession, LateEvent,
                         LateEventError, _session_batch if columnar else None)
        self._settings: dict[str, Any] = dict(
            gap=gap, max_duration=max_duration, max_duration_mode=max_duration_mode,
            inclusive=bool(inclusive), delay=delay, allowed_lateness=allowed_lateness,
            emit=emit, collect=bool(collect), on_late=on_late, columnar=bool(columnar),
        )
        if time_unit is not None:  # absent otherwise: snapshots without it restore
            self._settings["time_unit"] = time_unit
        if per_event_gaps:  # the same: absent unless set
            self._settings["per_event_gaps"] = True
        if on_bad_gap != "raise":
            self._settings["on_bad_gap"] = on_bad_gap
        self._per_event = bool(per_event_gaps)
        self._cap, self._emit = cap, emit_code
        self._kind: _Kind | None = None
        # durations that need no unit are checked now, not at the first event
        for name in ("gap", "max_duration", "delay", "allowed_lateness"):
            v = self._settings[name]
            if v is None and name != "max_duration":
                raise TypeError(f"{name}: expected a duration, got None")
            if isinstance(v, (bool, np.bool_)):
                raise TypeError(f"{name}: expected a duration, got a bool")
            if isinstance(v, np.timedelta64):
                if not np.isnat(v) and name in ("delay", "allowed_lateness") \
                        and int(v.astype(np.int64)) < 0:
                    raise SessionizeError(f"{name}: must be >= 0, got {v!r}")
            elif isinstance(v, numbers.Real):
                self._check_sign(name, v)
            elif isinstance(v, datetime.timedelta) and v < datetime.timedelta(0) \
                    and name in ("delay", "allowed_lateness"):
                raise SessionizeError(f"{name}: must be >= 0, got {v!r}")

    @staticmethod
    def _check_sign(name: str, v) -> None:
        if isinstance(v, float) and math.isnan(v):
            raise SessionizeError(f"{name}: must be a number, got nan")
        positive = name in ("gap", "max_duration")
        if (v <= 0) if positive else (v < 0):
            rule = "> 0" if positive else ">= 0"
            raise SessionizeError(f"{name}: must be {rule}, got {v!r}")

    # ---- times (conversions: _Timed) -----------------------------------

    def _configure_for(self, kind: _Kind) -> None:
        s = self._settings
        conv = {}
        for name in ("gap", "max_duration", "delay", "allowed_lateness"):
            v = s[name]
            if v is None or (name in ("delay", "allowed_lateness") and _is_zero(v)):
                conv[name] = 0  # the duration converters take only > 0
                continue
            conv[name] = kind.duration(s[name], name)
            self._check_sign(name, conv[name])
        nat = kind.name == "datetime64"
        self._configure(conv["gap"], conv["max_duration"], self._cap, s["inclusive"],
                        conv["delay"], conv["allowed_lateness"], self._emit, nat,
                        kind.out(), self._per_event)
        self._kind = kind
        self._gap_bound = conv["gap"]

    # ---- per-event gaps ---------------------------------------------------

    def _gap_kind(self) -> _times.TimeKind:
        """The stream's times as _gaps takes them (a datetime is held in
        microseconds, as a datetime64[us])."""
        kind = self._kind
        assert kind is not None
        name, unit = kind.name, kind.unit
        if name == "datetime":
            name, unit = "datetime64", "us"
        return _times.TimeKind(name, False, kind.duration, lambda a: a, unit=unit)

    def _no_gaps(self, name: str) -> TypeError:
        return TypeError(f"{name}: this Sessionizer takes one gap; pass per_event_gaps=True "
                         "to give each event its own")

    def _gap_in(self, gap) -> int | None:
        """push's gap= as the stream's int64 (called by the C push), or None
        to leave the event out (a bad gap, on_bad_gap='drop')."""
        if not self._per_event:
            raise self._no_gaps("gap")
        if isinstance(gap, (bool, np.bool_)):
            raise TypeError("gap: expected a duration, got a bool")
        assert self._kind is not None
        try:
            missing = gap is None or bool(np.isnat(gap)) if isinstance(gap, np.generic) \
                and gap.dtype.kind in "mM" else isinstance(gap, float) and gap != gap
            v = None if missing else self._kind.duration(gap, "gap")
            if v is not None:
                self._check_sign("gap", v)
        except SessionizeError:
            if self._settings.get("on_bad_gap", "raise") == "raise":
                raise
            v = None
        if v is None:
            if self._settings.get("on_bad_gap", "raise") == "raise":
                raise SessionizeError("gap: missing gap (NaN or NaT); pass on_bad_gap='drop' "
                                      "to drop such events, as Spark does")
            warnings.warn(f"gap: dropped an event whose gap is missing, zero or negative "
                          f"(on_bad_gap='drop'): {gap!r}", _gaps.SessionizeWarning,
                          stacklevel=2)
            return None
        return int(self._check_bound(np.array([v], dtype=np.int64), "gap", gap)[0])

    def _dropped(self) -> SessionOutput:
        """What a push whose event was dropped returns: nothing finished."""
        return cast(SessionOutput, _session_batch(self, None, None)
                    if self._settings["columnar"] else [])

    def _check_bound(self, ints: np.ndarray, name: str, given: object) -> np.ndarray:
        """Gaps longer than the Sessionizer's gap are refused: that bound
        is what lets a key with nothing open be forgotten.  `given`: the
        gap or the column as the caller gave it, to show the value."""
        over = ints > self._gap_bound
        if over.any():
            i = int(np.argmax(over))
            if name == "gaps":
                name, given = f"gaps[{i}]", _agg.column(given, "gaps").data[i]
            raise SessionizeError(
                f"{name}: {_gaps.show(given)} is longer than the Sessionizer's gap "
                f"({_gaps.show(self._settings['gap'])}), the longest a per-event gap may be")
        return ints

    # ---- the API -------------------------------------------------------

    if TYPE_CHECKING:
        # the C type's methods, with what they return for this Sessionizer
        def push(self, key: Hashable, time: Any, value: Any = None, /) -> SessionOutput:
            """Pushes one event; returns what it finishes."""
            ...
        def flush(self) -> SessionOutput:
            """Ends every open session; returns them (every later event is late)."""
            ...

    def push_many(self, keys: Column, times: Column, values: Column | None = None, *,
                  gaps: Column | None = None) -> SessionOutput:
        """Pushes a chunk of events; returns what they finish.  The core runs
        with the GIL released on large chunks.  ``gaps`` (per_event_gaps=True):
        each event's gap, a column as ``sessions()`` takes one."""
        if gaps is not None and not self._per_event:
            raise self._no_gaps("gaps")
        arr = self._times_array(times)
        if len(arr) == 0 and self._kind is None:
            if values is not None and len(values) != 0:
                raise SessionizeError(f"values: length {len(values)} differs from times' 0")
            if len(keys) != 0:
                raise SessionizeError(f"keys: length {len(keys)} differs from times' 0")
            # nothing to learn the time type from yet (the cast: columnar is
            # what SessionOutput is, which a checker cannot follow here)
            return cast(SessionOutput, _session_batch(self, None, None)
                        if self._settings["columnar"] else [])
        if arr.ndim != 1:
            raise SessionizeError(f"times: expected a 1-D array, got {arr.ndim} dimensions")
        if isinstance(keys, np.ndarray) and keys.ndim != 1:
            raise SessionizeError(f"keys: expected a 1-D array, got {keys.ndim} dimensions")
        if gaps is None:
            keys, codes = _chunk_keys(keys)
            return self._push_many(keys, arr, values, codes)
        ints, bad = _gaps.per_event(gaps, self._gap_kind(), len(arr), "gaps")
        keep = _gaps.settle(gaps, ints, bad, self._settings.get("on_bad_gap", "raise"),
                            "gaps")
        self._check_bound(np.where(bad, 0, ints), "gaps", gaps)
        if keep is None:
            keys, codes = _chunk_keys(keys)
            return self._push_many(keys, arr, values, codes, ints)
        return self._push_kept(keys, arr, values, ints, keep)

    def _push_kept(self, keys, arr, values, ints, keep) -> SessionOutput:
        """push_many of the events `keep` (on_bad_gap='drop'); late events'
        positions are given back in the caller's chunk."""
        from . import _arrow

        src = _arrow.source(keys)
        if src is not None:
            keys = _arrow.to_list(_arrow.take(src, keep))
        else:
            keys = _missing.plain(keys, "keys")
            keys = keys[keep] if isinstance(keys, np.ndarray) else [keys[i] for i in keep]
        if values is not None:
            values = values[keep] if isinstance(values, np.ndarray) \
                else [values[i] for i in keep]
        kc, codes = _chunk_keys(keys)
        try:
            out = self._push_many(kc, arr[keep], values, codes, ints[keep])
        except LateEventError as e:
            e.position = int(keep[e.position])
            e.args = (f"times[{e.position}]: " + str(e).split(": ", 1)[1],)
            raise
        if isinstance(out, list):
            return cast(SessionOutput, out)
        late = out.late
        if len(late):
            late.position[:] = keep[late.position]
        return cast(SessionOutput, out)

    def advance(self, watermark: Any) -> SessionOutput:
        """Moves the watermark forward (never back); returns what it finishes."""
        return self._advance(self._time_in(watermark))

    @property
    def watermark(self) -> Any:
        """The watermark in the caller's time type, or None before any."""
        wm = self._stats()[0]
        if wm is None:
            return None
        if wm == _INT64_MAX:
            return math.inf  # after flush(): every later event is late
        out = self._kind.out() if self._kind else None
        return out(wm) if out else wm

    def stats(self) -> dict[str, int]:
        """What the sessionizer holds: keys, open sessions, events, bytes."""
        _, keys, sessions, events, nbytes = self._stats()
        return dict(keys=keys, open_sessions=sessions, open_events=events,
                    bytes=nbytes, late_count=self.late_count)

    _SNAPSHOT = SESSIONIZER

    def _setstate_from(self, blob, handle_keys, next_key, values, next_value) -> None:
        if next_value is None:
            raise TypeError("no next value handle")
        self._setstate(blob, handle_keys, next_key, values, next_value, self._kind.out())

    def __repr__(self) -> str:
        s = self._settings
        return (f"Sessionizer(gap={s['gap']!r}, emit={s['emit']!r}, "
                f"keys held={self._stats()[1]}, late={self.late_count})")


def _time_column(kind: "_Kind | None", t: np.ndarray) -> tuple[np.ndarray, str]:
    """A column of the stream's int64 times in the caller's time type, and
    its zone: int64 as is, float seconds, datetime64 of the stream's unit,
    and aware datetimes as UTC datetime64[us] with their zone's name."""
    if kind is None or kind.name == "int":
        return t, ""
    if kind.name == "seconds":
        return t / 1e6, ""
    if kind.name == "datetime64":
        return t.view(f"M8[{kind.unit}]"), kind.tz or ""
    return t.view("M8[us]"), _zone_name(kind.tz)


_zone_name = _times.zone_name


def _late_table(kind, late) -> "LateTable":
    from ._table import LateTable

    if late is None:
        late = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64),
                np.empty(0, object))
    key, t, pos, value = late
    t, zone = _time_column(kind, t)
    return LateTable(zone, key=key, time=t, position=pos, value=value)


def _raise_first_late(stream, sessions, late) -> None:
    """on_late='raise' in columnar mode: the call stopped at its first late
    event; raise it as the object mode does, with what came before."""
    if stream._settings["on_late"] != "raise" or len(late) == 0:
        return
    row = next(late.rows())
    ev = LateEvent(row.key, row.time, row.value)
    err = LateEventError(f"times[{row.position}]: late event (on_late='raise'): {ev!r}")
    err.event, err.sessions, err.position = ev, sessions, int(row.position)
    raise err


def _session_batch(sz: "Sessionizer", sess, late):
    """A columnar Sessionizer's result (called by the C type with the raw
    columns of _stream.c's columns_output, or Nones for nothing)."""
    from ._table import CollectedSessionTable, ListColumn, StreamBatch, StreamSessionTable

    kind = sz._kind
    if sess is None:
        z = np.zeros(0, np.int64)
        sess = (z, z, z, z, z, z, z, z.astype(np.uint64), z.astype(bool),
                np.zeros(1, np.int64), z.astype(np.uint64), np.zeros(1, np.int64),
                np.empty(0, object) if sz._settings["collect"] else None)
    (key, start, end, wend, count, index, revision, id_, final, roff, rids, voff,
     vals) = sess
    zone = ""
    start, zone = _time_column(kind, start)
    end, _ = _time_column(kind, end)
    wend, _ = _time_column(kind, wend)
    cols = dict(key=key, start=start, end=end, window_end=wend, count=count, index=index,
                revision=revision, id=id_, replaces=ListColumn(roff, rids), final=final)
    table: StreamSessionTable
    if vals is not None:
        table = CollectedSessionTable(zone, values=ListColumn(voff, vals), **cols)
    else:
        table = StreamSessionTable(zone, **cols)
    late_t = _late_table(kind, late)
    _raise_first_late(sz, table, late_t)
    return StreamBatch(table, late_t)


# Chunks this long or longer are factorized first; below it the binding's
# per-key mapping costs less than the factorizer's setup.
_FACTORIZE_MIN = 64


def _chunk_keys(keys):
    """A chunk's keys as the stream bindings take them: (keys, None) for a
    numpy integer array or a short chunk (mapped key by key), else
    (distinct keys as a list, int64 code per event), so the binding maps
    each distinct key once and no Python object is made per event: Arrow
    columns (pyarrow, polars, pandas' Arrow dtypes) are factorized in C from
    their buffers; lists, tuples and object or string arrays by the core's
    factorizer (exact str hashed as UTF-8 in C; other objects by their
    __hash__ and __eq__, as a dict has them)."""
    from . import _arrow, _core

    src = _arrow.source(keys)
    if src is not None:
        codes, first = _core.arrow_keys(src, "keys")
        return _arrow.to_list(_arrow.take(src, first)), codes
    keys = _missing.plain(keys, "keys")
    if isinstance(keys, np.ndarray):
        if keys.dtype.kind in "iu" or len(keys) < _FACTORIZE_MIN:
            return keys, None
        if keys.dtype.kind not in "OSU":
            return keys, None  # let the binding word the error
    elif not isinstance(keys, (list, tuple)) or len(keys) < _FACTORIZE_MIN:
        return keys, None
    try:
        codes, uniques = _core.factorize(keys)
    except Exception:
        return keys, None  # a key that cannot be hashed: the binding names it
    return list(uniques), codes


def _restore(*args):
    # what pickle.loads calls for a snapshot of sessionize 0.1.0's first
    # format, whose keys and values had no checksum: refused, not trusted
    raise SessionizeError(
        "state: a Sessionizer snapshot of an earlier format (without a checksum over "
        "its keys and values); restore it with that version and snapshot it again")


def _getter(spec, name: str) -> Callable[[Any], Any]:
    if callable(spec):
        return spec
    if isinstance(spec, str):
        def get(item, _s=spec):
            if isinstance(item, dict):
                return item[_s]
            return getattr(item, _s)
        return get
    if isinstance(spec, int) and not isinstance(spec, bool):
        return lambda item, _i=spec: item[_i]
    raise TypeError(f"{name}: expected a callable, an attribute/item name or an index")


# key=, time=, value=: where to find each in an event
Getter = Union[Callable[[Any], Any], str, int]


def stream(events: Iterable[Any], *, key: Getter, time: Getter, gap: Duration,
           value: Getter | None = None, gap_of: Getter | None = None,
           **options: Any) -> Iterator[StreamSession | LateEvent]:
    """Yields finished sessions (and late events) lazily from any iterable of
    events; at its end, the sessions still open.  `key`, `time` and `value`
    say where to find each: a callable, a name (attribute or dict item) or
    an index.  `gap_of`, found the same way, is each event's own gap
    (Flink's withDynamicGap); `gap` is then the longest an event may have.
    Other options are Sessionizer's."""
    get_key, get_time = _getter(key, "key"), _getter(time, "time")
    get_value = _getter(value, "value") if value is not None else None
    if gap_of is None:
        sz = Sessionizer(gap, **options)
        push = sz.push
        for item in events:
            if get_value is None:
                out = push(get_key(item), get_time(item))
            else:
                out = push(get_key(item), get_time(item), get_value(item))
            if out:
                yield from out
        yield from sz.flush()
        return
    get_gap = _getter(gap_of, "gap_of")
    sz = Sessionizer(gap, per_event_gaps=True, **options)
    push = sz.push
    for item in events:
        value_ = None if get_value is None else get_value(item)
        out = push(get_key(item), get_time(item), value_, gap=get_gap(item))
        if out:
            yield from out
    yield from sz.flush()
