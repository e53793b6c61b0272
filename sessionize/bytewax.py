"""Bytewax operators: session windows and search CTR on the C sessionizer.

    from sessionize.bytewax import collect_window, fold_window, search_ctr

``collect_window`` and ``fold_window`` replace
``bytewax.operators.windowing.collect_window`` / ``fold_window`` with an
``EventClock`` and a ``SessionWindower`` (Bytewax >= 0.20, ordered=True):
the same ``WindowOut`` with the same ``down``, ``late`` and ``meta`` items,
window ids numbered per key as Bytewax numbers them.  See README.md,
section "Bytewax".

How it maps onto Bytewax (operators/windowing.py of 0.21):

- Bytewax keeps one clock per key (the stateful logic is per key): the
  watermark is the key's largest ``ts - wait``, plus the system time that
  has passed since that item.  Each key's logic here holds the same clock
  (Bytewax's own ``EventClock`` logic, so the watermark is computed by
  Bytewax's code) and judges lateness as Bytewax does: ``ts < watermark``.
- With ordered=True Bytewax buffers items until the watermark reaches them
  and applies them in time order, so a key's windows are the gap rule
  (``inclusive=True``) over its items that were not late, and a window
  closes once the watermark is past ``close_time + gap``.  The key's
  sessionize.Sessionizer gets the items that were not late (one push per
  batch), never judges lateness itself (its own delay is unbounded) and is
  advanced to the key's watermark: it emits a session exactly when Bytewax
  closes the window.  Windows never merge in ordered mode, so ``merged_ids``
  is always empty, as Bytewax's is.
- A key's Sessionizer exists only while the key has a window open; a key
  with nothing open keeps only its clock and next window id (Bytewax keeps
  its whole windower state forever).  ``forget_idle_keys=True`` drops even
  that (DISCARD), at the price of Bytewax's numbering and lateness for the
  key's later items.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, NamedTuple, Optional

import numpy as np

try:
    import bytewax.operators as _op
    from bytewax.dataflow import operator as _operator
    from bytewax.operators import StatefulBatchLogic
    from bytewax.operators.windowing import (
        UTC_MAX, EventClock, WindowMetadata, WindowOut, _EventClockState,
        _get_system_utc,
    )
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sessionize.bytewax needs bytewax>=0.21.1,<0.22: pip install 'sessionize[bytewax]'"
    ) from e

from . import _stream
from ._core import SessionizeError
from ._search_stream import SearchSessionizer, StreamSearchRow
from ._sessionizer import LateEvent, LateEventError, Sessionizer, StreamSession, _Kind

__all__ = ["collect_window", "fold_window", "search_ctr", "SearchCtrOut", "LATE_WINDOW_ID"]

LATE_WINDOW_ID = -1  # Bytewax's window id for late items (LATE_SESSION_ID)

_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)
# The per-key Sessionizer never moves its own watermark far enough to close
# or reject anything: the Bytewax clock decides, through advance().
_NO_DELAY_WATERMARK = 2**62
_INT_TIMES = _Kind("int")
_ZERO_KEYS = np.zeros(1024, np.int64)  # every item of a key's Sessionizer has key 0


def _micros(ts: datetime) -> int:
    try:
        return (ts - _EPOCH_UTC) // _US
    except TypeError:  # a naive datetime (with a naive now_getter)
        return (ts - _EPOCH_NAIVE) // _US


def _duration_micros(value, name: str, *, positive: bool = True) -> int:
    if not isinstance(value, timedelta):
        raise TypeError(f"{name}: expected a datetime.timedelta, got {type(value).__name__}")
    us = value // _US
    if (us <= 0) if positive else (us < 0):
        raise SessionizeError(f"{name}: must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return us


@dataclass(frozen=True)
class _Settings:
    """What every key's logic of one operator shares."""

    clock: EventClock
    ts_getter: Callable[[Any], datetime]
    on_close: Callable[[tuple], Any]  # a window's values, in time order -> its value
    sessionizer: dict                 # Sessionizer keyword arguments (int micros)
    forget_idle_keys: bool

    def new_sessionizer(self) -> Sessionizer:
        """Sessionizer(**self.sessionizer), configured for int micros, without
        the argument checks and conversions _settings() did once: a key
        opens one per window it opens after holding nothing, and the checked
        constructor costs more than the rest of a small window's work."""
        kw = self.sessionizer
        sz = Sessionizer.__new__(Sessionizer)
        _stream.Stream.__init__(sz, True, 0, StreamSession, LateEvent, LateEventError)
        sz._settings = kw
        sz._cap, sz._emit, sz._kind = self.cap_code, 0, _INT_TIMES
        sz._configure(kw["gap"], kw["max_duration"] or 0, self.cap_code, True,
                      kw["delay"], 0, 0, False, None)
        return sz

    @property
    def cap_code(self) -> int:
        kw = self.sessionizer
        return 0 if kw["max_duration"] is None else {"restart": 1, "fixed": 2}[
            kw["max_duration_mode"]]


class _SessionWindowLogic(StatefulBatchLogic):
    """One key's session windows: Bytewax's clock, the C sessionizer."""

    __slots__ = ("cfg", "clock", "sz", "next_id")

    def __init__(self, cfg: _Settings, resume_state):
        self.cfg = cfg
        if resume_state is None:
            self.clock = cfg.clock.build(None)
            self.sz: Optional[Sessionizer] = None
            self.next_id = 0
        else:
            (time_of_max, base), sz_bytes, self.next_id = resume_state
            self.clock = cfg.clock.build(_EventClockState(time_of_max, base))
            self.sz = None if sz_bytes is None else pickle.loads(sz_bytes)

    # One item per call at most: (downs, lates, metas); the operator splits
    # them with one flat_map_batch per stream instead of a call per item.
    def _emit(self, sessions, lates):
        downs, metas = [], []
        if sessions:
            on_close, ts = self.cfg.on_close, self.cfg.ts_getter
            # a key's sessions come out in time order: Bytewax's ids
            for s in sorted(sessions, key=lambda s: s.start):
                values = s.values
                wid = self.next_id
                self.next_id = wid + 1
                downs.append((wid, on_close(values)))
                metas.append((wid, WindowMetadata(ts(values[0]), ts(values[-1]), set())))
            if self.sz._next_due() is None:
                self.sz = None  # nothing open: free the C state
        if not downs and not lates:
            return []
        return [(downs, lates, metas)]

    def _discard(self) -> bool:
        return self.cfg.forget_idle_keys and self.sz is None

    def on_batch(self, values):
        # Bytewax's _EventClockLogic.on_item, inlined on its own state (a
        # call per item was a third of this method's time): the watermark
        # is the clock's base plus the system time since the item that set
        # it; an item whose ts - wait is past it moves the base to that and
        # restarts the system-time count.
        clock = self.clock
        clock.before_batch()
        st, now = clock.state, clock._system_now
        base = st.watermark_base
        wm = base + (now - st.system_time_of_max_event)
        moved = False
        wait, ts_getter = clock.wait_for_system_duration, clock.timestamp_getter
        lates, times, keep = [], [], []
        for v in values:
            ts = ts_getter(v)
            try:
                if ts - wait > wm:
                    wm = ts - wait
                    moved = True
            except OverflowError:
                pass  # Bytewax's rule: an unrepresentable base does not move it
            if ts < wm:
                lates.append((LATE_WINDOW_ID, v))
            else:
                times.append(ts)
                keep.append(v)
        if moved:
            st.watermark_base, st.system_time_of_max_event = wm, now
        sessions = []
        if keep:
            sz = self.sz
            if sz is None:
                sz = self.sz = self.cfg.new_sessionizer()
            n = len(keep)
            if n == 1:
                sz.push(0, _micros(times[0]), keep[0])
            else:  # the C call itself: the times are exact int micros already
                keys = _ZERO_KEYS[:n] if n <= len(_ZERO_KEYS) else np.zeros(n, np.int64)
                sz._push_many(keys, [_micros(t) for t in times], keep)
        if self.sz is not None:
            sessions = self._advance(wm)
        return self._emit(sessions, lates), self._discard()

    def _advance(self, wm: datetime):
        if wm >= UTC_MAX:
            return self.sz.flush()
        return self.sz._advance(_micros(wm))  # the C call: wm is int micros already

    def on_notify(self):
        wm = self.clock.on_notify()
        sessions = self._advance(wm) if self.sz is not None else []
        return self._emit(sessions, []), self._discard()

    def on_eof(self):
        self.clock.on_eof()
        sessions = self.sz.flush() if self.sz is not None else []
        return self._emit(sessions, []), self._discard()

    def notify_at(self):
        if self.sz is None:
            return None
        due = self.sz._next_due()
        if due is None:
            return None
        # When the key's watermark (which moves with the clock's now_getter
        # while idle) passes `due`, as a system time: now plus how far the
        # watermark still has to go.  Bytewax's EventClock instead reads
        # close + gap itself as a system time, which for event times in the
        # past (replays, frozen test clocks) is always "now": every open key
        # is woken on every activation.  Waking is only about when a window
        # comes out, never about what is in it.
        try:
            ahead = (_EPOCH_UTC + due * _US) - self.clock.on_notify()
        except (OverflowError, TypeError):
            return None  # beyond datetime's range, or a naive clock
        return _get_system_utc() + max(ahead, _US)

    def snapshot(self):
        # immutable: the Sessionizer is pickled now, not referenced
        sz = None if self.sz is None else pickle.dumps(self.sz, pickle.HIGHEST_PROTOCOL)
        st = self.clock.state  # two datetimes: no deepcopy needed
        return ((st.system_time_of_max_event, st.watermark_base), sz, self.next_id)


def _split(index: int):
    def split(batch):
        return [(key, item) for key, out in batch for item in out[index]]
    return split


@_operator
def _session_window(step_id: str, up, cfg: _Settings) -> WindowOut:
    events = _op.stateful_batch("sessionize", up,
                                lambda resume: _SessionWindowLogic(cfg, resume))
    return WindowOut(
        _op.flat_map_batch("unwrap_down", events, _split(0)),
        _op.flat_map_batch("unwrap_late", events, _split(1)),
        _op.flat_map_batch("unwrap_meta", events, _split(2)),
    )


def _settings(gap, ts_getter, wait, now_getter, max_duration, max_duration_mode,
              on_close, forget_idle_keys) -> _Settings:
    if not callable(ts_getter):
        raise TypeError(f"ts_getter: expected a callable, got {type(ts_getter).__name__}")
    gap_us = _duration_micros(gap, "gap")
    _duration_micros(wait, "wait", positive=False)
    max_us = None if max_duration is None else _duration_micros(max_duration, "max_duration")
    if not isinstance(forget_idle_keys, bool):
        raise TypeError(f"forget_idle_keys: expected a bool, got {type(forget_idle_keys).__name__}")
    kwargs = dict(max_duration=max_us, max_duration_mode=max_duration_mode,
                  inclusive=True, delay=_NO_DELAY_WATERMARK, collect=True,
                  on_late="return")
    Sessionizer(gap_us, **kwargs)  # checks max_duration_mode now, not at the first item
    clock = EventClock(ts_getter, wait_for_system_duration=wait,
                       now_getter=now_getter if now_getter is not None else _get_system_utc)
    return _Settings(clock, ts_getter, on_close, dict(gap=gap_us, **kwargs),
                     forget_idle_keys)


def collect_window(step_id: str, up, *, gap: timedelta, ts_getter: Callable[[Any], datetime],
                   wait: timedelta = timedelta(0), into: Callable = list,
                   max_duration: Optional[timedelta] = None,
                   max_duration_mode: str = "restart",
                   now_getter: Optional[Callable[[], datetime]] = None,
                   forget_idle_keys: bool = False) -> WindowOut:
    """Session windows of a keyed stream, each collected with ``into``.

    The same as Bytewax's ``collect_window(step_id, up, EventClock(ts_getter,
    wait, now_getter), SessionWindower(gap), into)``: ``down`` items
    ``(key, (window_id, into(values)))`` with the values in time order,
    ``late`` items ``(key, (-1, value))`` for values behind the key's
    watermark, ``meta`` items ``(key, (window_id, WindowMetadata))``.
    ``max_duration`` also ends a window that long after its first item
    (``max_duration_mode`` "restart" or "fixed", as sessionize.Sessionizer).
    """
    cfg = _settings(gap, ts_getter, wait, now_getter, max_duration, max_duration_mode,
                    into, forget_idle_keys)
    return _session_window(step_id, up, cfg)


def fold_window(step_id: str, up, *, gap: timedelta, ts_getter: Callable[[Any], datetime],
                builder: Callable[[], Any], folder: Callable[[Any, Any], Any],
                wait: timedelta = timedelta(0), max_duration: Optional[timedelta] = None,
                max_duration_mode: str = "restart",
                now_getter: Optional[Callable[[], datetime]] = None,
                forget_idle_keys: bool = False) -> WindowOut:
    """Session windows of a keyed stream, each folded from ``builder()`` with
    ``folder(acc, value)`` over its values in time order when it closes.

    Bytewax's ``fold_window`` with a ``SessionWindower`` takes a ``merger``
    too; in ordered mode session windows never merge, so none is needed.
    Other arguments as :func:`collect_window`.
    """
    if not callable(builder) or not callable(folder):
        raise TypeError("builder, folder: expected callables")

    def fold(values):
        acc = builder()
        for v in values:
            acc = folder(acc, v)
        return acc

    cfg = _settings(gap, ts_getter, wait, now_getter, max_duration, max_duration_mode,
                    fold, forget_idle_keys)
    return _session_window(step_id, up, cfg)


# ---------------------------------------------------------------- search CTR

class SearchCtrOut(NamedTuple):
    """Streams returned by :func:`search_ctr`."""

    rows: Any  # (key, sessionize.StreamSearchRow): one per search
    late: Any  # (key, sessionize.LateEvent): events behind the key's watermark


class _SearchCtrLogic(StatefulBatchLogic):
    """One key's search sessions in a SearchSessionizer."""

    __slots__ = ("settings", "flush", "sz")

    def __init__(self, settings: dict, flush: bool, resume_state):
        self.settings, self.flush = settings, flush
        self.sz = (SearchSessionizer(**settings) if resume_state is None
                   else pickle.loads(resume_state))

    def _out(self, out):
        if not out:
            return [], self._idle()
        rows = [r for r in out if isinstance(r, StreamSearchRow)]
        late = [r for r in out if isinstance(r, LateEvent)]
        return [(rows, late)], self._idle()

    def _idle(self) -> bool:
        st = self.sz.stats()
        return st["keys"] == 0 and st["buffered"] == 0

    def on_batch(self, values):
        return self._out(self.sz.push_events(values))

    def on_eof(self):
        return self._out(self.sz.flush() if self.flush else [])

    def notify_at(self):
        return None  # sessions close on the key's own events, or at EOF

    def snapshot(self):
        return pickle.dumps(self.sz, pickle.HIGHEST_PROTOCOL)


@_operator
def search_ctr(step_id: str, up, *, gap: Optional[timedelta] = None,
               wait: timedelta = timedelta(0), inclusive: bool = True,
               flush: bool = True) -> SearchCtrOut:
    """Search rows of user sessions, from ``(key, event)`` items whose events
    are sessionize.events objects (AppOpen, Search, ..., with or without a
    ``time``; the Bytewax seeds' own dataclasses work too).

    Per key (user), the rule of :func:`sessionize.search_ctr`: a user session
    ends at AppClose / Timeout, by the gap rule when ``gap`` and times are
    given, and at the end of input when ``flush``.  ``rows`` carries one
    ``(key, StreamSearchRow)`` per search (``clicked``, ``clicks``, the
    query as ``value``) once its user session closes; a search's CTR is
    ``1.0 if row.clicked else 0.0`` and the CTR is their mean.  ``late``
    carries events older than the key's watermark (its largest time minus
    ``wait``).  A key's state is dropped when it holds nothing.
    """
    settings = dict(gap=gap, inclusive=inclusive, delay=wait, on_late="return")
    SearchSessionizer(**settings)  # bad settings fail now, not at the first item
    if not isinstance(flush, bool):
        raise TypeError(f"flush: expected a bool, got {type(flush).__name__}")
    events = _op.stateful_batch("sessionize", up,
                                lambda resume: _SearchCtrLogic(settings, flush, resume))
    return SearchCtrOut(
        _op.flat_map_batch("unwrap_rows", events, _split(0)),
        _op.flat_map_batch("unwrap_late", events, _split(1)),
    )
