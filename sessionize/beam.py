"""Apache Beam transforms: session windows and the search CTR, by the C core.

    import apache_beam as beam
    from sessionize.beam import Sessionize

    sessions = (events                              # (key, value), timestamped
                | Sessionize(gap=5))                # (key, BeamSession)

`Sessionize(gap)` replaces ``WindowInto(Sessions(gap)) | GroupByKey()``: it
reads each element's event timestamp, groups by key (in the input's windows:
the global window in a batch pipeline), and sessionizes the key groups of a
bundle together in one call to the C core, never per element.  Each output session carries the
timestamp and the window Beam itself gives a merged session window
(``IntervalWindow(start, window_end)``, timestamp ``window_end - 1 µs``), so
the steps downstream behave as they did.  `SearchCTR` does the search-session
click-through rate (``sessionize.search_ctr``) per key the same way, and
`OverallCTR` combines its rows into one rate.

Times are Beam's: integer microseconds (``Timestamp.micros``); durations are
seconds (int or float, as ``window.Sessions`` takes them), ``Duration``,
``datetime.timedelta``, ``numpy.timedelta64`` or strings such as ``"30min"``.
The documentation's Apache Beam page says what this does in batch and in
streaming pipelines.
"""

from __future__ import annotations

import math
import pickle
import re
from typing import Any, Callable, Iterable, Iterator, Literal, NamedTuple, Optional, TypeVar, Union, cast

import apache_beam as beam
import numpy as np
from apache_beam.coders.coders import IntervalWindowCoder
from apache_beam.pvalue import AsSingleton, PCollection
from apache_beam.transforms import window as beam_window
from apache_beam.typehints.decorators import no_annotations
from apache_beam.utils.timestamp import Duration, Timestamp
from apache_beam.utils.windowed_value import WindowedValue
from apache_beam.utils.windowed_value import create as _windowed  # (value, micros, windows)

from . import _durations
from ._types import Duration as _Duration, MaxDurationMode
from ._batch import sessions as _sessions
from ._core import SessionizeError
from ._search_stream import SearchSessionizer
from ._sessionizer import LateEvent
from . import events as _events

__all__ = ["Sessionize", "BeamSession", "SessionWindowOf", "SearchCTR", "SearchCTRRow",
           "OverallCTR", "CTRCombineFn", "CTR"]

_MODES = ("restart", "fixed")

# gap, max_duration: seconds (int or float, as window.Sessions takes them),
# a Beam Duration, a timedelta, a numpy.timedelta64 or a string like "30min"
BeamDuration = Union[_Duration, Duration]
# (searches, clicked, clicks): CTRCombineFn's accumulator
_Counts = tuple[int, int, int]
# a key's events gathered by _GatherKeyTimes: (int64 times as bytes, values or None)
_Gathered = tuple[bytes, Optional[list[Any]]]



class BeamSession(NamedTuple):
    """One session of one key, as `Sessionize` emits it in ``(key, session)``.

    ``start``/``end`` are the first and last event timestamps, ``window_end``
    the end of Beam's session window (``end + gap``, never beyond the cap of
    ``max_duration``): the element's window is ``[start, window_end)``.
    ``index`` is the session's ordinal within its key (in time order);
    ``values`` the events' values in time order (ties: see `Sessionize`), or
    None when ``collect=False``.
    """

    key: Any
    start: Timestamp
    end: Timestamp
    window_end: Timestamp
    count: int  # type: ignore[assignment]  # a field, as in every session tuple
    index: int  # type: ignore[assignment]
    values: Optional[list[Any]]


_F = TypeVar("_F", bound=Callable[..., Any])


def _hints_for_checkers_only(fn: _F) -> _F:
    """Beam reads the annotations of a DoFn's process(), a PTransform's
    expand() and a Map's or CombineGlobally's function as its own type hints,
    and checks the pipeline against them when it is built: these are for
    type checkers, and Beam keeps inferring what it did without them."""
    return cast(_F, no_annotations(fn))


# ------------------------------------------------------------------ arguments

def _micros(value: object, name: str) -> int:
    """A duration as integer microseconds (> 0), Beam's unit."""
    if isinstance(value, Duration):
        micros = value.micros
    else:
        micros = _durations.to_micros_from_seconds(value, name)
    if micros <= 0:
        raise SessionizeError(f"{name}: must be > 0, got {value!r}")
    return micros


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a bool, got {type(value).__name__}")
    return bool(value)


def _check_not_merging(pcoll: PCollection[Any], transform: str) -> None:
    # A merging WindowFn upstream would make our GroupByKey merge windows
    # itself: the sessions would be Beam's, computed twice.
    if pcoll.windowing.windowfn.is_merging():
        raise ValueError(
            f"{transform}: the input is already in merging windows "
            f"({type(pcoll.windowing.windowfn).__name__}); {transform} replaces "
            "WindowInto(Sessions(gap)) + GroupByKey, so drop that WindowInto"
        )


# ---------------------------------------------------------------- time order

def _tie_key(value: object) -> bytes:
    return pickle.dumps(value, protocol=4)


def _time_order(times: np.ndarray, values: Optional[list[Any]],
                rank: Optional[np.ndarray] = None,
                group: Optional[np.ndarray] = None) -> np.ndarray:
    """The positions of the events sorted by `group` (optional), then time,
    then `rank` (optional).

    Values inside a Beam group come in no particular order, so events equal
    in all of these are put in a deterministic order: by their values when
    these compare with ``<``, else by their pickled bytes.
    """
    cols = [c for c in (rank, times, group) if c is not None]  # lexsort: last is primary
    order = np.lexsort(cols) if len(cols) > 1 else np.argsort(times, kind="stable")
    tied = np.ones(max(len(order) - 1, 0), dtype=bool)
    for c in cols:
        sc = c[order]
        tied &= sc[1:] == sc[:-1]
    if values is None or not tied.any():
        return order
    # runs of tied events: [a, b] in sorted positions
    edges = np.flatnonzero(np.diff(np.concatenate(([0], tied.view(np.int8), [0]))))
    for a, b in zip(edges[0::2].tolist(), edges[1::2].tolist()):
        run = order[a:b + 1].tolist()
        try:
            run.sort(key=values.__getitem__)
        except TypeError:  # values that do not compare: dicts, mixed types
            run.sort(key=lambda i: _tie_key(values[i]))
        order[a:b + 1] = run
    return order


# ------------------------------------------------------------------ Sessionize

class _GatherKeyTimes(beam.DoFn):
    """(key, value) elements -> one (key, (times, values)) per key, window and
    bundle: a lifted combiner.

    Each element's event timestamp is read here, before the shuffle, and
    gathered with its key's others in plain lists; at the end of the bundle a
    key's timestamps go out as the bytes of an int64 array (cheap to encode)
    and its values as one list, so the GroupByKey moves a few large elements
    instead of one per event.  Keys that cannot be hashed go through one
    element at a time.
    """

    def __init__(self, collect: bool) -> None:
        self._collect = collect
        self._buf: dict[Any, dict[Any, Any]] = {}
        self._last: Any = None
        self._keys: Optional[dict[Any, Any]] = None

    def start_bundle(self) -> None:
        # {windows: {key: (micros, values, windows list)}}; the last window
        # seen and its dict are kept, so a run of elements in one window (the
        # global window: all of them) costs one key lookup each
        self._buf, self._last, self._keys = {}, None, None

    # WindowedValueParam, rather than TimestampParam and WindowParam: Beam
    # then calls process() without exploding windows, and the timestamp is
    # read as the integer it is held as (timestamp_micros) instead of being
    # made a Timestamp object per element.  Returns None (no output) for all
    # but unhashable keys: no generator per element.
    @_hints_for_checkers_only
    def process(self, kv: tuple[Any, Any],  # pyright: ignore[reportIncompatibleMethodOverride]
                wv: Any = beam.DoFn.WindowedValueParam) -> Optional[list[WindowedValue]]:
        key, value = kv
        windows = wv.windows  # a list: one window, or several (sliding windows)
        w = windows[0] if len(windows) == 1 else tuple(windows)
        if w is not self._last:
            self._keys = self._buf.get(w)
            if self._keys is None:
                self._keys = self._buf[w] = {}
            self._last = w
        assert self._keys is not None
        try:
            got: Any = self._keys.get(key)
        except TypeError:  # an unhashable key: its own group of one
            return [WindowedValue(
                (key, (np.array([wv.timestamp_micros], dtype=np.int64).tobytes(),
                       [value] if self._collect else None)), wv.timestamp, windows)]
        if got is None:
            got = self._keys[key] = ([], [] if self._collect else None, windows)
        got[0].append(wv.timestamp_micros)
        if self._collect:
            got[1].append(value)
        return None

    def finish_bundle(self) -> Iterator[WindowedValue]:  # pyright: ignore[reportIncompatibleMethodOverride]
        buf, self._buf, self._last, self._keys = self._buf, {}, None, None
        for keys in buf.values():
            for key, (times, values, windows) in keys.items():
                # the earliest event's timestamp: never before any input's; in
                # all the windows the events were in (GroupByKey groups per window)
                yield _windowed(
                    (key, (np.array(times, dtype=np.int64).tobytes(), values)),
                    min(times), windows)


class _SessionizeKeys(beam.DoFn):
    """(key, [(times, values) per bundle...]) -> that key's sessions.

    The key groups of a bundle are gathered and sessionized together, one
    call to the C core per up to `_BATCH` events (each group is one key of
    that call), so the per-call cost is not paid per key.
    """

    _BATCH = 1 << 16

    def __init__(self, gap: int, max_duration: Optional[int], mode: MaxDurationMode,
                 inclusive: bool, collect: bool) -> None:
        self._args: dict[str, Any] = dict(gap=gap, max_duration=max_duration,
                                          max_duration_mode=mode, inclusive=inclusive)
        self._collect = collect
        self._groups: list[tuple[Any, Any, np.ndarray, Optional[list[Any]]]] = []
        self._events = 0

    def start_bundle(self) -> None:
        self._groups, self._events = [], 0

    @_hints_for_checkers_only
    def process(self, kv: tuple[Any, Iterable[_Gathered]],  # pyright: ignore[reportIncompatibleMethodOverride]
                w: Any = beam.DoFn.WindowParam) -> Iterator[WindowedValue]:
        key, (times, values) = _joined(kv)
        self._groups.append((key, w, times, values))
        self._events += len(times)
        if self._events >= self._BATCH:
            yield from self._flush()

    def finish_bundle(self) -> Iterator[WindowedValue]:  # pyright: ignore[reportIncompatibleMethodOverride]
        yield from self._flush()

    def _flush(self) -> Iterator[WindowedValue]:
        groups, self._groups, self._events = self._groups, [], 0
        if not groups:
            return
        times = np.concatenate([g[2] for g in groups])
        codes = np.repeat(np.arange(len(groups), dtype=np.int64),
                          [len(g[2]) for g in groups])
        values = ([v for g in groups for v in g[3] or ()] if self._collect else None)
        order = _time_order(times, values, group=codes)
        codes, times = codes[order], times[order]
        try:
            table = _sessions(codes, times, **self._args)
        except SessionizeError as e:  # name the key and event, not a position in the batch
            m = re.match(r"times\[(\d+)\]: (.*)", str(e), flags=re.S)
            if m is None:
                raise
            i = int(m.group(1))
            raise SessionizeError(
                f"Sessionize: key {groups[codes[i]][0]!r}: the event at "
                f"{Timestamp(micros=int(times[i]))}: {m.group(2)}") from None
        owner = table["key"].tolist()
        starts, ends = table["start"].tolist(), table["end"].tolist()
        wends, counts = table["window_end"].tolist(), table["count"].tolist()
        index = table["index"].tolist()
        if values is not None:
            values = [values[i] for i in order.tolist()]
        pos = 0
        for i in range(len(counts)):
            c = counts[i]
            key, w = groups[owner[i]][0], groups[owner[i]][1]
            vals = values[pos:pos + c] if values is not None else None
            pos += c
            session = BeamSession(key, Timestamp(micros=starts[i]), Timestamp(micros=ends[i]),
                                  Timestamp(micros=wends[i]), c, index[i], vals)
            # Beam's timestamp for a merged session window (OUTPUT_AT_EOW);
            # the window is set by SessionWindowOf next
            yield _windowed((key, session), wends[i] - 1, (w,))


class SessionWindowOf(beam_window.NonMergingWindowFn):
    """Puts a ``(key, BeamSession)`` element in its session's window,
    ``IntervalWindow(start, window_end)``: the window Beam gives it."""

    def assign(self, context: beam_window.WindowFn.AssignContext  # pyright: ignore[reportIncompatibleMethodOverride]
               ) -> list[beam_window.IntervalWindow]:
        """Beam's hook: the element's session window, ``[start, window_end)``."""
        element: Any = context.element
        s: BeamSession = element[1]
        return [beam_window.IntervalWindow(s.start, s.window_end)]

    def get_window_coder(self) -> IntervalWindowCoder:
        """Beam's hook: the coder of the windows (``IntervalWindow``'s)."""
        return IntervalWindowCoder()

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


class Sessionize(beam.PTransform[PCollection[tuple[Any, Any]],
                                 PCollection[tuple[Any, BeamSession]]]):
    """Session windows for ``(key, value)`` elements: replaces
    ``WindowInto(Sessions(gap)) | GroupByKey()``.

    Input: ``(key, value)`` elements carrying their event timestamps (as
    after ``TimestampedValue``).  Output: ``(key, BeamSession)``, one per
    session, with Beam's timestamp (``window_end - 1 µs``) and window
    (``IntervalWindow(start, window_end)``) for a merged session window.

    gap:          inactivity gap: seconds (int or float, as ``Sessions``
                  takes it), ``Duration``, ``timedelta``, ``numpy.timedelta64``
                  or a string like ``"30min"``.
    max_duration: optional cap on a session's length (same forms);
                  ``max_duration_mode`` ``"restart"`` (a new session at the
                  first event more than ``max_duration`` after the session's
                  start) or ``"fixed"`` (blocks of ``max_duration``).
    inclusive:    False (Beam's rule): events exactly ``gap`` apart are in
                  different sessions.  True: in the same one (Flink, Spark).
    collect:      keep each session's values, in time order; events at the
                  same timestamp ordered by value (``<``), or by their pickled
                  bytes when the values do not compare.  False: only the
                  timestamps travel through the shuffle; ``values`` is None.

    Each key's events are grouped in the input's windows (one group per key
    in the global window of a batch pipeline); a bundle's key groups are
    sessionized together by one call to the C core.
    """

    def __init__(self, gap: BeamDuration, *, max_duration: Optional[BeamDuration] = None,
                 max_duration_mode: MaxDurationMode = "restart", inclusive: bool = False,
                 collect: bool = True, label: Optional[str] = None) -> None:
        super().__init__(label)
        self.gap = _micros(gap, "gap")
        if max_duration_mode not in _MODES:
            raise SessionizeError(
                f"max_duration_mode: must be 'restart' or 'fixed', got {max_duration_mode!r}")
        self.max_duration = None if max_duration is None else _micros(max_duration,
                                                                      "max_duration")
        self.max_duration_mode: MaxDurationMode = max_duration_mode
        self.inclusive = _check_bool(inclusive, "inclusive")
        self.collect = _check_bool(collect, "collect")

    @_hints_for_checkers_only
    def expand(self, pcoll: PCollection[tuple[Any, Any]]  # pyright: ignore[reportIncompatibleMethodOverride]
               ) -> PCollection[tuple[Any, BeamSession]]:
        """Beam's hook: the pipeline steps this transform stands for."""
        _check_not_merging(pcoll, "Sessionize")
        sessions = cast("PCollection[tuple[Any, BeamSession]]", (
            pcoll
            | "GatherKeyTimes" >> beam.ParDo(_GatherKeyTimes(self.collect))
            | "GroupByKey" >> beam.GroupByKey()
            | "SessionizeKeys" >> beam.ParDo(_SessionizeKeys(
                self.gap, self.max_duration, self.max_duration_mode, self.inclusive,
                self.collect))
            | "SessionWindows" >> beam.WindowInto(SessionWindowOf())
        ))
        return sessions


# ------------------------------------------------------------------- SearchCTR

class SearchCTRRow(NamedTuple):
    """One search, as `SearchCTR` emits it in ``(key, row)``.

    ``session`` is the user session's ordinal within its key (in the order
    the key's sessions closed), ``search`` the ``Search`` event itself (its
    ``query`` is there), ``time`` its time, ``clicked``/``clicks`` whether
    and how often a result was clicked before the next search or the
    session's end.
    """

    key: Any
    session: int
    search: Any
    time: Any
    clicked: bool
    clicks: int


class _SearchCTRKey(beam.DoFn):
    """(key, [(times, events) per bundle...]) -> its searches, one core call
    per key."""

    def __init__(self, gap: Any, inclusive: bool, flush: bool, use_event_time: bool) -> None:
        self._gap, self._inclusive, self._flush = gap, inclusive, flush
        self._event_time = use_event_time

    @_hints_for_checkers_only
    def process(self, kv: tuple[Any, Iterable[_Gathered]],  # pyright: ignore[reportIncompatibleMethodOverride]
                watermark: Any = None) -> Iterator[tuple[Any, SearchCTRRow]]:
        key, (stamps, events) = _joined(kv)
        assert events is not None  # gathered with collect=True
        try:
            _users, kinds, event_times = _events.to_arrays(events)
        except (TypeError, ValueError) as e:  # name the key: positions are within its group
            raise type(e)(f"SearchCTR: key {key!r}: {e}") from None
        if self._event_time:
            if event_times is None:
                raise SessionizeError(
                    f"SearchCTR: key {key!r}: time='event' but its events have no time")
            times = event_times
        else:
            times = stamps
        # ties: the session's life order (open, search, results, click, close)
        order = _time_order(times.view(np.int64), events, rank=kinds)
        sz = SearchSessionizer(self._gap, inclusive=self._inclusive)
        rows = sz.push_many([key] * len(events), kinds[order], times[order],
                            [events[i] for i in order.tolist()])
        if watermark is not None:
            rows += sz.advance(watermark)
        if self._flush:
            rows += sz.flush()
        for r in rows:
            assert not isinstance(r, LateEvent)  # on_late="return" with no delay: none
            t = r.time if self._event_time else Timestamp(micros=int(r.time))
            yield (key, SearchCTRRow(key, r.session, r.value, t, bool(r.clicked),
                                     int(r.clicks)))


class SearchCTR(beam.PTransform[PCollection[tuple[Any, Any]],
                                PCollection[tuple[Any, SearchCTRRow]]]):
    """The search-session click-through rate (``sessionize.search_ctr``) over
    ``(key, event)`` elements, events being ``sessionize.events`` objects
    (``AppOpen``, ``Search``, ``Results``, ``ClickResult``, ``AppClose``,
    ``Timeout``, or classes of those names).  Output: ``(key, SearchCTRRow)``,
    one per search; ``| OverallCTR()`` gives the overall rate.

    time:      ``"timestamp"`` (default): each element's event timestamp;
               ``"event"``: each event's own ``time`` field.
    gap:       optional inactivity gap closing user sessions (with
               ``time="timestamp"`` as for `Sessionize`; with ``"event"`` in
               the events' time type: a timedelta or ``"5s"`` for datetimes).
    flush:     end of input ends the sessions still open (True), or drops them
               (False: only sessions closed by ``AppClose``/``Timeout`` or by
               the gap before the input's latest time count, as the first
               version of the Bytewax search-session tutorial).
    inclusive: as for ``sessionize.search_ctr`` (True: an event exactly
               ``gap`` after the previous one stays in its session).

    A key's events are put in time order; events at the same time in their
    session's life order (app open, search, results, click, app close,
    timeout), then by value as `Sessionize` does.
    """

    def __init__(self, *, gap: Optional[BeamDuration] = None,
                 time: Literal["timestamp", "event"] = "timestamp", flush: bool = True,
                 inclusive: bool = True, label: Optional[str] = None) -> None:
        super().__init__(label)
        if time not in ("timestamp", "event"):
            raise ValueError(f"time: must be 'timestamp' or 'event', got {time!r}")
        self.time: Literal["timestamp", "event"] = time
        self.gap: Any = gap  # micros with time="timestamp"; else as given
        if gap is not None and time == "timestamp":
            self.gap = _micros(gap, "gap")
        self.flush = _check_bool(flush, "flush")
        self.inclusive = _check_bool(inclusive, "inclusive")

    @_hints_for_checkers_only
    def expand(self, pcoll: PCollection[tuple[Any, Any]]  # pyright: ignore[reportIncompatibleMethodOverride]
               ) -> PCollection[tuple[Any, SearchCTRRow]]:
        """Beam's hook: the pipeline steps this transform stands for."""
        _check_not_merging(pcoll, "SearchCTR")
        grouped = (pcoll
                   | "GatherKeyEvents" >> beam.ParDo(_GatherKeyTimes(True))
                   | "GroupByKey" >> beam.GroupByKey())
        fn = _SearchCTRKey(self.gap, self.inclusive, self.flush, self.time == "event")
        if self.flush or self.gap is None:
            return cast("PCollection[tuple[Any, SearchCTRRow]]",
                        grouped | "SearchCTRKey" >> beam.ParDo(fn))
        # flush=False with a gap: a session whose gap ran out before the
        # input's latest time has closed, even if its user sent nothing more
        # (sessionize.search_ctr's rule), so each key needs that latest time.
        latest = cast("PCollection[Any]", grouped
                            | "LatestPerKey" >> beam.Map(_latest, self.time == "event")
                            | "Latest" >> beam.CombineGlobally(_max_or_none))
        return cast("PCollection[tuple[Any, SearchCTRRow]]",
                    grouped | "SearchCTRKey" >> beam.ParDo(fn, AsSingleton(latest)))


@_hints_for_checkers_only
def _latest(kv: tuple[Any, Iterable[_Gathered]], event_time: bool) -> Any:
    """A key's latest event time, as the sessionizer takes it."""
    _key, (stamps, events) = _joined(kv)
    if event_time:
        assert events is not None  # gathered with collect=True
        times = _events.to_arrays(events)[2]
        return None if times is None else times.max()
    return int(stamps.max())


def _joined(kv: tuple[Any, Iterable[_Gathered]]
            ) -> tuple[Any, tuple[np.ndarray, Optional[list[Any]]]]:
    """(key, [(times bytes, values) per bundle...]) from _GatherKeyTimes
    through a GroupByKey -> (key, (int64 times, values))."""
    key, parts = kv
    parts = parts if isinstance(parts, list) else list(parts)
    if len(parts) == 1:
        return key, (np.frombuffer(parts[0][0], dtype=np.int64), parts[0][1])
    values = None if parts[0][1] is None else [v for _, vs in parts for v in cast(list[Any], vs)]
    return key, (np.concatenate([np.frombuffer(t, dtype=np.int64) for t, _ in parts]), values)


@_hints_for_checkers_only
def _max_or_none(values: Iterable[Any]) -> Any:
    values = [v for v in values if v is not None]
    return max(values) if values else None


class CTR(NamedTuple):
    """Click-through rate over some searches: ``ctr`` the share of searches
    with a click, ``clicks_per_search`` the mean clicks (NaN with none)."""

    searches: int
    clicked: int
    clicks: int
    ctr: float
    clicks_per_search: float


def _ctr_row(row: Any) -> SearchCTRRow:
    """A SearchCTRRow, or the row of a (key, SearchCTRRow) pair."""
    if isinstance(row, tuple) and len(row) == 2 and isinstance(row[1], SearchCTRRow):
        return row[1]
    return cast(SearchCTRRow, row)


class CTRCombineFn(beam.CombineFn):
    """Combines `SearchCTRRow`s (or ``(key, row)`` pairs) into a `CTR`."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def create_accumulator(self) -> _Counts:
        """Beam's hook: an empty count (searches, clicked, clicks)."""
        return (0, 0, 0)

    def add_input(self, acc: _Counts,
                  row: SearchCTRRow | tuple[Any, SearchCTRRow]) -> _Counts:
        """Beam's hook: one ``SearchCTRRow`` counted in."""
        r = _ctr_row(row)
        return (acc[0] + 1, acc[1] + bool(r.clicked), acc[2] + int(r.clicks))

    def merge_accumulators(self, accs: Iterable[_Counts]) -> _Counts:
        """Beam's hook: partial counts added up."""
        s = c = k = 0
        for a, b, d in accs:
            s, c, k = s + a, c + b, k + d
        return (s, c, k)

    def extract_output(self, acc: _Counts) -> CTR:
        """Beam's hook: the counts as a ``CTR``."""
        s, c, k = acc
        return CTR(s, c, k, c / s if s else math.nan, k / s if s else math.nan)


class OverallCTR(beam.PTransform[PCollection[Any], PCollection[CTR]]):
    """``(key, SearchCTRRow)`` rows -> one `CTR` over all of them (per window)."""

    def __init__(self, label: Optional[str] = None) -> None:
        super().__init__(label)

    @_hints_for_checkers_only
    def expand(self, pcoll: PCollection[Any]  # pyright: ignore[reportIncompatibleMethodOverride]
               ) -> PCollection[CTR]:
        """Beam's hook: the rows combined into one ``CTR`` globally."""
        return cast("PCollection[CTR]",
                    pcoll | "CombineCTR" >> beam.CombineGlobally(CTRCombineFn()))
