"""PyFlink: session windows on the C sessionizer, in a KeyedProcessFunction.

    from sessionize.flink import SessionWindowFunction

    sessions = (visits
                .assign_timestamps_and_watermarks(
                    WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_minutes(20))
                    .with_timestamp_assigner(VisitTimestampAssigner()))
                .key_by(lambda v: v["user_id"])
                .process(SessionWindowFunction(gap=timedelta(minutes=10),
                                               allowed_lateness=timedelta(minutes=15),
                                               late_tag=late)))
    late_visits = sessions.get_side_output(late)

replaces ``.window(EventTimeSessionWindows.with_gap(...)).allowed_lateness(...)
.side_output_late_data(late).process(...)``.  See the documentation's Flink page.

How it maps onto Flink (WindowOperator, EventTimeTrigger, TimeWindow of 2.3):

- Flink's times are epoch milliseconds; the element's time is its Flink
  timestamp (``ctx.timestamp()``, set by the job's WatermarkStrategy), and
  the watermark is the timer service's, as the window operator's.
- Per key, one ``sessionize.Sessionizer`` (inclusive gap, emit="update",
  allowed lateness) whose own watermark never moves by itself: it is
  advanced to Flink's watermark + 2 ms.  Flink fires a window when the
  watermark reaches ``maxTimestamp = end - 1`` and judges an element late
  when its merged window's ``maxTimestamp + lateness <= watermark``; the
  Sessionizer fires once its watermark is past the last time an event could
  join (``last + gap``) and finalizes past that plus the lateness: both hold
  at exactly the same Flink watermarks with that offset (checked against
  PyFlink's own window operator by tests/test_flink_adapter.py).
- The key's Sessionizer lives in keyed ``ValueState`` as bytes (with its
  timer and largest emitted end, one checksummed snapshot of the whole
  state: a damaged byte is refused with SessionizeError; it holds a pickle,
  so the state backend must be storage only the job writes),
  so Flink's checkpoints and savepoints hold it; a key with nothing left is
  cleared from state.  One event-time timer per key, at the watermark where
  the Sessionizer next has something to do (``_key_due``: a session fires
  or becomes final; or the key's memory of its last final session expires).
- Cost: restoring a Sessionizer from bytes for every element would dominate
  (the restore runs the constructor's checks).  The function keeps the
  live Sessionizer of each key it touched next to the bytes object it last
  wrote; while the state backend hands back that same object (PyFlink's
  state cache does, within and across bundles), the live one is used, and
  only the snapshot is written per element.  Anything else (a restore from
  a checkpoint, an evicted cache entry) restores from the bytes.
- A gap per element (``gap_of``, as ``EventTimeSessionWindows.with_dynamic_gap``
  with a SessionWindowTimeGapExtractor): the key's Sessionizer is built with
  ``per_event_gaps=True`` and ``gap`` as its bound, and each element's gap goes
  to ``push``.  Flink's merged window ends at the largest ``t + gap`` of its
  elements, the Sessionizer's ``window_end``: the firing and lateness
  watermarks above hold for it unchanged.  Whatever needs a gap without an
  element (the expiry of a key's memory) takes the bound.
"""

from __future__ import annotations

import numbers
from datetime import timedelta
from typing import Any, Callable, Iterator, Optional, Union

try:
    # pyflink ships no type information, and a checker may not have it
    from pyflink.common import Types  # pyright: ignore[reportMissingImports]
    from pyflink.datastream import (  # pyright: ignore[reportMissingImports]
        KeyedProcessFunction, OutputTag, RuntimeContext)
    from pyflink.datastream.state import (  # pyright: ignore[reportMissingImports]
        ValueStateDescriptor)
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sessionize.flink needs apache-flink>=2.3,<3: pip install 'sessionize[flink]' "
        "(in its own venv: apache-flink pins apache-beam<=2.61)"
    ) from e

import numpy as np

from ._core import SessionizeError
from ._state import dumps_adapter_state, loads_adapter_state
from ._sessionizer import LateEvent, Sessionizer, StreamSession, _Kind
from ._types import Emit, MaxDurationMode

__all__ = ["SessionWindowFunction", "SESSION_TYPE"]

# What the function emits: StreamSession tuples (Python objects; Flink
# carries them pickled).  Pass it as the output_type of .process().
SESSION_TYPE: Any = Types.PICKLED_BYTE_ARRAY()  # a pyflink TypeInformation

_LONG_MAX = 2**63 - 1
# The Sessionizer's own watermark (largest time - delay) must never move:
# Flink's watermark decides, through advance().
_NEVER = 2**62
# Flink watermark w <-> Sessionizer watermark w + 2 (module docstring).
_OFFSET = 2
_KEY = 0  # each key's Sessionizer holds one key; the user's key is Flink's
_MILLIS = _Kind("int")
_LIVE_MAX = 1 << 16  # live Sessionizers kept per function instance (a cache)

# gap, allowed_lateness, max_duration: a timedelta of whole milliseconds, or
# int milliseconds (Flink's unit)
FlinkDuration = Union[timedelta, int]
# a key's entry: [Sessionizer or None, largest session end emitted, timer]
_Entry = list[Any]


def _millis(value: object, name: str, *, positive: bool) -> int:
    if isinstance(value, timedelta):
        ms = value // timedelta(milliseconds=1)
        if value % timedelta(milliseconds=1):
            raise SessionizeError(f"{name}: Flink's times are milliseconds, got {value!r}")
    elif isinstance(value, int) and not isinstance(value, bool):
        ms = value
    else:
        raise TypeError(f"{name}: expected a datetime.timedelta or int milliseconds, "
                        f"got {type(value).__name__}")
    if (ms <= 0) if positive else (ms < 0):
        raise SessionizeError(f"{name}: must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return ms


class SessionWindowFunction(KeyedProcessFunction):  # type: ignore[misc]  # pyflink is untyped
    """Event-time session windows of a keyed stream, as Flink's
    ``EventTimeSessionWindows.with_gap(gap)`` + ``allowed_lateness`` +
    ``side_output_late_data(late_tag)`` + a window function collecting the
    window's elements.

    Emits ``sessionize.StreamSession`` tuples: ``key`` (Flink's key),
    ``start``/``end`` (first and last element time, epoch ms),
    ``window_end`` (Flink's ``TimeWindow.end``: ``end + gap``), ``count``,
    ``values`` (``value(element)`` of each element, in time order; None
    when ``collect=False``), ``revision``/``id``/``replaces`` (a re-firing
    after late data has the same ``id`` and ``revision + 1``; ``replaces``
    the ids of windows it merged), ``final``.  ``emit="update"`` fires as
    Flink does: when the watermark reaches the window's end, and again on
    each late element within ``allowed_lateness``; ``emit="final"`` emits
    each session once, when no more can change it.

    Late elements (Flink's rule: the merged window ended ``allowed_lateness``
    or more behind the watermark) go, unchanged, to ``late_tag`` when given;
    otherwise they are dropped and counted in the ``sessionize_late_events``
    metric (Flink's ``numLateRecordsDropped``).  ``max_duration`` (and
    ``max_duration_mode``) also end a session that long after its start, as
    ``sessionize.Sessionizer`` does (Flink has no such rule built in).

    ``gap_of`` (a callable taking the element, returning its gap as a
    timedelta or int milliseconds, as Flink's
    ``SessionWindowTimeGapExtractor.extract``) gives each element its own
    gap, as ``EventTimeSessionWindows.with_dynamic_gap``; ``gap`` is then the
    longest one an element may have (the bound that lets a key's memory
    expire), and ``window_end`` the largest ``t + gap`` of a session's
    elements.  An element whose gap is <= 0 (Flink's assigner refuses it
    too) or longer than ``gap`` fails the job with a SessionizeError naming
    its key and time.
    """

    def __init__(self, gap: FlinkDuration, *, allowed_lateness: FlinkDuration = 0,
                 late_tag: Optional[OutputTag] = None,
                 emit: Emit = "update", collect: bool = True,
                 value: Optional[Callable[[Any], Any]] = None,
                 max_duration: Optional[FlinkDuration] = None,
                 max_duration_mode: MaxDurationMode = "restart",
                 state_name: str = "sessionize",
                 gap_of: Optional[Callable[[Any], FlinkDuration]] = None) -> None:
        self._gap = _millis(gap, "gap", positive=True)
        self._lateness = _millis(allowed_lateness, "allowed_lateness", positive=False)
        max_ms = None if max_duration is None else _millis(max_duration, "max_duration",
                                                           positive=True)
        if late_tag is not None and not isinstance(late_tag, OutputTag):
            raise TypeError(f"late_tag: expected a pyflink OutputTag, got {type(late_tag).__name__}")
        if value is not None and not callable(value):
            raise TypeError(f"value: expected a callable, got {type(value).__name__}")
        if gap_of is not None and not callable(gap_of):
            raise TypeError(f"gap_of: expected a callable, got {type(gap_of).__name__}")
        self._gap_of = gap_of
        if not isinstance(state_name, str):
            raise TypeError(f"state_name: expected a str, got {type(state_name).__name__}")
        self._late_tag, self._value, self._state_name = late_tag, value, state_name
        self._settings: dict[str, Any] = dict(max_duration=max_ms, max_duration_mode=max_duration_mode,
                                              inclusive=True, delay=_NEVER,
                                              allowed_lateness=self._lateness,
                                              emit=emit, collect=collect, on_late="return")
        if gap_of is not None:  # gap is the bound; a bad gap raises (Flink's way)
            self._settings["per_event_gaps"] = True
        Sessionizer(self._gap, **self._settings)  # bad settings fail here, not in the job
        self._state: Any = None  # the key's ValueState, once open()
        self._live: dict[Any, tuple[Any, _Entry]] = {}
        self._late_counter: Any = None

    def open(self, runtime_context: RuntimeContext) -> None:
        """Flink's hook: the keyed state, the late-events metric."""
        self._state = runtime_context.get_state(
            ValueStateDescriptor(self._state_name, Types.PRIMITIVE_ARRAY(Types.BYTE())))
        self._live = {}
        if self._late_tag is None:
            self._late_counter = runtime_context.get_metrics_group().counter(
                "sessionize_late_events")

    # ---- the key's state -------------------------------------------------

    def _load(self, key: Any) -> _Entry:
        """-> [Sessionizer or None, largest session end emitted, timer]."""
        blob = self._state.value()
        live = self._live.get(key)
        if live is not None and live[0] is blob:
            return live[1]
        if blob is None:
            return [None, None, None]
        sz, max_end, timer = loads_adapter_state(blob)
        return [sz, max_end, timer]

    def _store(self, key: Any, entry: _Entry, ctx: Any) -> None:
        """Writes the key's Sessionizer back (or clears the key) and moves its
        timer to the watermark where it next has something to do."""
        sz, max_end, timer = entry
        due = sz._key_due(_KEY)
        if due is None and sz._stats()[1]:
            # nothing open, but the key still remembers its last final
            # session (events that would reach into it are late): the core
            # forgets it past last end + 2 gaps + lateness (with gap_of,
            # gaps of the bound: the core's rule)
            due = max_end + 2 * self._gap + self._lateness
        new_timer = None if due is None else due - (_OFFSET - 1)
        if new_timer != timer:
            ts = ctx.timer_service()
            if timer is not None:
                ts.delete_event_time_timer(timer)
            if new_timer is not None:
                ts.register_event_time_timer(new_timer)
            entry[2] = new_timer
        if new_timer is None:  # holds nothing: no state, no memory
            self._state.clear()
            self._live.pop(key, None)
            return
        blob = dumps_adapter_state((sz, max_end, new_timer))
        self._state.update(blob)
        live = self._live
        if len(live) >= _LIVE_MAX and key not in live:
            live.clear()  # a cache: the bytes in state are the truth
        live[key] = (blob, entry)

    def _emit(self, key: Any, out: list[Any], entry: _Entry
              ) -> Iterator[Union[StreamSession, tuple[OutputTag, Any]]]:
        tag, pairs = self._late_tag, self._value is not None
        for x in out:
            if isinstance(x, StreamSession):
                if entry[1] is None or x.end > entry[1]:
                    entry[1] = x.end
                if pairs and x.values is not None:
                    yield x._replace(key=key, values=tuple(p[0] for p in x.values))
                else:
                    yield x._replace(key=key)
            elif isinstance(x, LateEvent):
                if tag is not None:
                    yield tag, (x.value[1] if pairs else x.value)
                else:
                    self._late_counter.inc()

    def _element_gap(self, element: Any, key: Any, t: int) -> int:
        """gap_of(element) as int ms, checked: > 0 (Flink's
        DynamicEventTimeSessionWindows refuses the rest) and <= the bound."""
        assert self._gap_of is not None
        g = self._gap_of(element)
        where = f"the element of key {key!r} at time {t} (epoch ms)"
        if isinstance(g, timedelta):
            ms = g // timedelta(milliseconds=1)
            if g % timedelta(milliseconds=1):
                raise SessionizeError(f"gap_of: {where} has gap {g!r}; Flink's times are "
                                      "milliseconds")
        elif isinstance(g, numbers.Integral) and not isinstance(g, (bool, np.bool_)):
            ms = int(g)  # numpy's integers too
        else:
            raise TypeError(f"gap_of: {where} has gap {g!r}; expected a datetime.timedelta "
                            f"or int milliseconds, got {type(g).__name__}")
        if ms <= 0:
            raise SessionizeError(f"gap_of: {where} has gap {g!r}; it must be > 0 "
                                  "(as Flink's with_dynamic_gap requires)")
        if ms > self._gap:
            raise SessionizeError(
                f"gap_of: {where} has gap {g!r} ({ms} ms), longer than gap "
                f"({self._gap} ms), the longest an element's gap may be; raise gap")
        return ms

    @staticmethod
    def _watermark(ctx: Any) -> int:
        wm: int = ctx.timer_service().current_watermark()
        return wm + _OFFSET if wm < _LONG_MAX - _OFFSET else _LONG_MAX

    # ---- Flink's callbacks -----------------------------------------------

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context  # pyright: ignore[reportIncompatibleMethodOverride]
                        ) -> Iterator[Union[StreamSession, tuple[OutputTag, Any]]]:
        """Flink's hook: one element into its key's Sessionizer; yields the sessions it fires."""
        t = ctx.timestamp()
        if t is None:
            raise SessionizeError(
                "timestamp: the element has no event time; assign timestamps and "
                "watermarks (assign_timestamps_and_watermarks) before this function")
        key = ctx.get_current_key()
        # checked before anything is loaded or changed: a bad gap fails the job
        g = None if self._gap_of is None else self._element_gap(value, key, t)
        entry = self._load(key)
        sz = entry[0]
        if sz is None:
            sz = entry[0] = Sessionizer(self._gap, **self._settings)
            sz._configure_for(_MILLIS)  # int ms from the start: advance() comes first
        # with a value function, the element rides along with its value:
        # a late element goes out unchanged, as Flink's late output has it
        v = value if self._value is None else (self._value(value), value)
        out = sz._advance(self._watermark(ctx))
        out += sz.push(_KEY, t, v) if g is None else sz.push(_KEY, t, v, gap=g)
        yield from self._emit(key, out, entry)
        self._store(key, entry, ctx)

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext  # pyright: ignore[reportIncompatibleMethodOverride]
                 ) -> Iterator[Union[StreamSession, tuple[OutputTag, Any]]]:
        """Flink's hook: the watermark passed the key's next due time; yields what that fires."""
        key = ctx.get_current_key()
        entry = self._load(key)
        if entry[0] is None:  # a timer of a key already cleared
            return
        wm = max(self._watermark(ctx), timestamp + _OFFSET)
        yield from self._emit(key, entry[0]._advance(wm), entry)
        self._store(key, entry, ctx)

