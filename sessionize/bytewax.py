"""Bytewax operators: session windows and search CTR on the C sessionizer.

    from sessionize.bytewax import collect_window, fold_window, search_ctr

``collect_window`` and ``fold_window`` replace
``bytewax.operators.windowing.collect_window`` / ``fold_window`` with an
``EventClock`` and a ``SessionWindower`` (Bytewax >= 0.20, ordered=True):
the same ``WindowOut`` with the same ``down``, ``late`` and ``meta`` items,
window ids numbered per key as Bytewax numbers them.  See the
documentation's Bytewax page.

How it maps onto Bytewax (operators/windowing.py of 0.21):

- Bytewax keeps one clock per key (its stateful logic is per key): the
  watermark is the key's largest ``ts - wait``, plus the system time that
  has passed since that item.  Here each key keeps the same clock, computed
  the same way on the same microseconds, and lateness is Bytewax's:
  ``ts < watermark``.
- With ordered=True Bytewax buffers items until the watermark reaches them
  and applies them in time order, so a key's windows are the gap rule
  (``inclusive=True``) over its items that were not late, and a window
  closes once the watermark is past ``close_time + gap``.  Windows never
  merge in ordered mode, so ``merged_ids`` is always empty, as Bytewax's is.
- The state is sharded, not per key: the keys are hashed into ``shards``
  Bytewax keys (spread over the workers by Bytewax), and each shard holds
  one sessionize.Sessionizer for all its keys, which gets each batch's items
  that were not late in one push.  Its own watermark never moves (its delay
  exceeds any time span); each key touched is advanced to its own watermark
  (``Sessionizer._advance_key``, the core's sz_stream_advance_key), so a
  session is emitted exactly when Bytewax closes the window.  Bytewax's own
  dispatch is per key and batch; this is per shard and batch, and what
  Bytewax routes is one item per shard and batch (the list of its items),
  not one per item.
- A key with nothing open holds nothing in the C sessionizer; it keeps its
  clock and next window id (four numbers), so later items are judged and
  numbered as Bytewax would (Bytewax keeps its whole windower state
  forever).  ``forget_idle_keys=True`` drops those too.
"""

from __future__ import annotations

import heapq
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, NamedTuple, Optional, TypeVar, overload

try:
    import bytewax.operators as _op
    from bytewax.dataflow import operator as _operator
    from bytewax.operators import KeyedStream, StatefulBatchLogic, _get_system_utc
    from bytewax.operators.windowing import UTC_MIN, WindowMetadata, WindowOut
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sessionize.bytewax needs bytewax>=0.21.1,<0.22: pip install 'sessionize[bytewax]'"
    ) from e

from . import _stream
from ._types import Duration, MaxDurationMode
from ._core import SessionizeError
from ._state import dumps_adapter_state, loads_adapter_state
from ._search_stream import SearchSessionizer, StreamSearchRow
from ._sessionizer import (LateEvent, LateEventError, Sessionizer, StreamSession, _Kind,
                           _session_batch)

__all__ = ["collect_window", "fold_window", "search_ctr", "SearchCtrOut", "LATE_WINDOW_ID"]

LATE_WINDOW_ID = -1  # Bytewax's window id for late items (LATE_SESSION_ID)

_V = TypeVar("_V")  # the values of the keyed stream
_W = TypeVar("_W")  # what a window becomes: into(values), or the fold
_S = TypeVar("_S")  # fold_window's accumulator
# what a shard's logic emits per activation: (down, late, meta) items
_ShardOut = tuple[list[tuple[str, Any]], list[tuple[str, Any]], list[tuple[str, Any]]]

_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)
# The per-key Sessionizer never moves its own watermark far enough to close
# or reject anything: the Bytewax clock decides, through advance().
_NO_DELAY_WATERMARK = 2**62
_INT_TIMES = _Kind("int")
_MIN_US = (UTC_MIN - _EPOCH_UTC) // _US  # Bytewax's watermark before any item


def _micros(ts: datetime) -> int:
    try:
        return (ts - _EPOCH_UTC) // _US
    except TypeError:  # a naive datetime (with a naive now_getter)
        return (ts - _EPOCH_NAIVE) // _US


def _duration_micros(value: object, name: str, *, positive: bool = True) -> int:
    if not isinstance(value, timedelta):
        raise TypeError(f"{name}: expected a datetime.timedelta, got {type(value).__name__}")
    us = value // _US
    if (us <= 0) if positive else (us < 0):
        raise SessionizeError(f"{name}: must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return us


@dataclass(frozen=True)
class _Settings:
    """What every key's logic of one operator shares."""

    ts_getter: Callable[[Any], datetime]
    wait_us: int
    now_getter: Callable[[], datetime]
    on_close: Callable[[tuple[Any, ...]], Any]  # a window's values, in time order -> its value
    sessionizer: dict[str, Any]       # Sessionizer keyword arguments (int micros)
    forget_idle_keys: bool
    shards: int

    def new_sessionizer(self) -> Sessionizer[Any]:
        """Sessionizer(**self.sessionizer), configured for int micros, without
        the argument checks and conversions _settings() did once: a key
        opens one per window it opens after holding nothing, and the checked
        constructor costs more than a small batch's work."""
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


class _ShardLogic(StatefulBatchLogic[list[tuple[str, Any]], _ShardOut, bytes]):
    """The session windows of the keys of one shard: one C Sessionizer for
    all of them, and per key Bytewax's clock (as ints: micros), next window
    id and wake-up time.

    Bytewax keeps one EventClock per key; here each key's entry of
    ``clocks`` is ``[watermark_base, system_time_of_max_event, next_id,
    wake]`` and its watermark is ``base + (now - system_time)``, the same
    arithmetic on the same microseconds.  The Sessionizer's own watermark
    never moves (its delay exceeds any time span): each key is advanced to
    its own watermark (``_advance_key``), and lateness is judged here.
    """

    __slots__ = ("cfg", "now", "clocks", "sz", "wakes")

    def __init__(self, cfg: _Settings, resume_state: Optional[bytes]) -> None:
        self.cfg = cfg
        self.now: int
        self.clocks: dict[str, list[Any]]
        self.sz: Sessionizer[Any]
        if resume_state is None:
            self.now = _micros(cfg.now_getter())
            self.clocks = {}
            self.sz = cfg.new_sessionizer()
        else:
            self.now, self.clocks, self.sz = loads_adapter_state(resume_state)
        # wake-ups by the now_getter's time: (when, key); lazy, a key's
        # current one is clocks[key][3]
        self.wakes = [(c[3], k) for k, c in self.clocks.items() if c[3] is not None]
        heapq.heapify(self.wakes)

    def _tick(self) -> int:
        now = _micros(self.cfg.now_getter())
        if now > self.now:  # never back, as Bytewax's clock
            self.now = now
        return self.now

    def _close(self, keys: Iterable[tuple[str, list[Any]]], now: int,
               downs: list[tuple[str, Any]], metas: list[tuple[str, Any]]) -> None:
        """Advances each key (with its clock) to its watermark; emits what
        closes; schedules the key's next wake-up (or forgets the key).  One
        loop over the keys, every lookup hoisted out of it."""
        advance, key_due = self.sz._advance_key, self.sz._key_due
        on_close, ts = self.cfg.on_close, self.cfg.ts_getter
        forget, clocks, wakes = self.cfg.forget_idle_keys, self.clocks, self.wakes
        push, down, meta = heapq.heappush, downs.append, metas.append
        for key, c in keys:
            wm = c[0] + (now - c[1])
            out = advance(key, wm)
            if out:
                for s in out:  # one key's sessions, in time order
                    values = s.values
                    wid = c[2]
                    c[2] = wid + 1
                    down((key, (wid, on_close(values))))
                    meta((key, (wid, WindowMetadata(ts(values[0]), ts(values[-1]), set()))))
            due = key_due(key)
            if due is None:
                c[3] = None
                if forget:
                    del clocks[key]
            else:
                # the now at which the key's watermark passes due
                wake = now + (due - wm) + 1
                if wake != c[3]:
                    c[3] = wake
                    push(wakes, (wake, key))

    def on_batch(self, parts: list[list[tuple[str, Any]]]  # pyright: ignore[reportIncompatibleMethodOverride]
                 ) -> tuple[list[_ShardOut], bool]:
        """parts: this shard's parts of the upstream batches (the sharder's
        lists of (key, value) items, in arrival order).  `now` is one value
        for the whole call, so a key's watermark within it is its watermark
        at the call's start raised by each item's ``ts - wait``: kept in
        ``wms`` for the call and written back to the key's clock once."""
        now = self._tick()
        clocks, wait, ts_getter = self.clocks, self.cfg.wait_us, self.cfg.ts_getter
        wms: dict[str, int] = {}
        get = wms.get
        lates: list[tuple[str, Any]] = []
        pushed: list[list[str]] = []
        any_late = False
        sz = self.sz
        for items in parts:
            keys = [kv[0] for kv in items]
            values = [kv[1] for kv in items]
            try:
                times = [(ts_getter(v) - _EPOCH_UTC) // _US for v in values]  # _micros
            except TypeError:  # a naive datetime
                times = [_micros(ts_getter(v)) for v in values]
            late_at: Optional[list[int]] = None
            for i, (key, t) in enumerate(zip(keys, times)):
                wm = get(key)
                if wm is None:
                    c = clocks.get(key)
                    if c is None:
                        c = clocks[key] = [_MIN_US, now, 0, None]
                    wm = c[0] + (now - c[1])
                # Bytewax's EventClock: the item first raises the watermark
                # (never back), then is late if behind it
                if t - wait > wm:
                    wms[key] = t - wait
                else:
                    wms[key] = wm
                    if t < wm:
                        if late_at is None:
                            late_at = []
                        late_at.append(i)
            if late_at is not None:
                any_late = True
                for i in late_at:
                    lates.append((keys[i], (LATE_WINDOW_ID, values[i])))
                late = set(late_at)
                keep = [i for i in range(len(keys)) if i not in late]
                keys = [keys[i] for i in keep]
                times = [times[i] for i in keep]
                values = [values[i] for i in keep]
            pushed.append(keys)
            if keys:
                sz._push_many(keys, times, values)
        downs: list[tuple[str, Any]] = []
        metas: list[tuple[str, Any]] = []
        for key, wm in wms.items():
            c = clocks[key]
            if wm != c[0] + (now - c[1]):
                c[0] = wm
                c[1] = now
        # the keys that got an item not late, in the order they first did
        touched: Iterable[str] = wms if not any_late else dict.fromkeys(k for ks in pushed for k in ks)
        self._close([(key, clocks[key]) for key in touched], now, downs, metas)
        return self._out(downs, lates, metas), False

    def _out(self, downs: list[tuple[str, Any]], lates: list[tuple[str, Any]],
             metas: list[tuple[str, Any]]) -> list[_ShardOut]:
        if downs or lates:
            return [(downs, lates, metas)]
        return []

    def on_notify(self) -> tuple[list[_ShardOut], bool]:
        now = self._tick()
        wakes, clocks = self.wakes, self.clocks
        downs: list[tuple[str, Any]] = []
        metas: list[tuple[str, Any]] = []
        due: list[tuple[str, list[Any]]] = []
        while wakes and wakes[0][0] <= now:
            wake, key = heapq.heappop(wakes)
            c = clocks.get(key)
            if c is not None and c[3] == wake:  # else a stale entry
                c[3] = None
                due.append((key, c))
        self._close(due, now, downs, metas)
        return self._out(downs, [], metas), False

    def on_eof(self) -> tuple[list[_ShardOut], bool]:
        downs: list[tuple[str, Any]] = []
        metas: list[tuple[str, Any]] = []
        on_close, ts, clocks = self.cfg.on_close, self.cfg.ts_getter, self.clocks
        down, meta = downs.append, metas.append
        # The flush emits every open session at once (often most of a
        # shard's keys): in columnar mode, one table of numpy columns and
        # the values as one flat array, not a StreamSession and a tuple per
        # session.  Set on the stream being flushed only (it is replaced
        # below); _advance_key stays in object mode, its few sessions per
        # call cost less as tuples than as a table.
        sz = self.sz
        _stream.Stream.__init__(sz, True, 0, StreamSession, LateEvent, LateEventError,
                                _session_batch)
        table = sz.flush().sessions
        col = table["values"]
        flat, off = col.flat.tolist(), col.offsets.tolist()
        for i, key in enumerate(table["key"].tolist()):  # each key's in time order
            c = clocks[key]
            values = tuple(flat[off[i]:off[i + 1]])
            wid = c[2]
            c[2] = wid + 1
            down((key, (wid, on_close(values))))
            meta((key, (wid, WindowMetadata(ts(values[0]), ts(values[-1]), set()))))
        self.wakes = []
        for c in clocks.values():
            c[3] = None
        if self.cfg.forget_idle_keys:
            clocks.clear()
        self.sz = self.cfg.new_sessionizer()  # a flushed stream takes no more events
        return self._out(downs, [], metas), False

    def notify_at(self) -> Optional[datetime]:
        if not self.wakes:
            return None
        # The system time at which the first key's watermark passes its
        # first window's close: now plus how far that still is in the
        # now_getter's time.  Bytewax's EventClock instead reads close + gap
        # itself as a system time, which for event times in the past
        # (replays, frozen test clocks) is always "now": every open key is
        # woken on every activation.  Waking is only about when a window
        # comes out, never about what is in it.
        ahead = self.wakes[0][0] - self._tick()
        return _get_system_utc() + timedelta(microseconds=max(ahead, 1))

    def snapshot(self) -> bytes:
        # immutable: everything pickled now (the Sessionizer its whole
        # state), under one checksum, so a damaged recovery store is refused
        return dumps_adapter_state((self.now, self.clocks, self.sz))


def _split(index: int) -> Callable[[list[tuple[str, Any]]], list[Any]]:
    """A shard's outputs (items already keyed by the user's key) -> one stream."""
    def split(batch: list[tuple[str, Any]]) -> list[Any]:
        return [item for _shard, out in batch for item in out[index]]
    return split


def _split_keyed(index: int) -> Callable[[list[tuple[str, Any]]], list[tuple[str, Any]]]:
    """A key's outputs -> (key, item) items of one stream."""
    def split(batch: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        return [(key, item) for key, out in batch for item in out[index]]
    return split


def _sharder(shards: int
             ) -> Callable[[list[tuple[str, Any]]], list[tuple[str, list[tuple[str, Any]]]]]:
    """A batch of (key, value) items -> one (shard, [its (key, value) items])
    item per shard the batch touches, in arrival order: Bytewax then routes
    and dispatches a list per shard, not each item.  The shard is a stable
    hash of the key (the same in every process and after a resume; Python's
    hash() of a str is not)."""
    names = [str(i) for i in range(shards)]
    known: dict[str, int] = {}  # key -> its shard's number: a dict lookup instead of a crc32

    def shard_of(k: str) -> int:
        if len(known) >= 1 << 20:
            known.clear()  # bounded: a cache, not state
        i = known[k] = zlib.crc32(k.encode()) % shards
        return i

    def shard(batch: list[tuple[str, Any]]) -> list[tuple[str, list[tuple[str, Any]]]]:
        get = known.get
        parts: list[Optional[list[tuple[str, Any]]]] = [None] * shards
        for kv in batch:
            k = kv[0]
            i = get(k)
            if i is None:
                i = shard_of(k)
            p = parts[i]
            if p is None:
                parts[i] = [kv]
            else:
                p.append(kv)
        return [(names[i], p) for i, p in enumerate(parts) if p is not None]
    return shard


@_operator
def _session_window(step_id: str, up: KeyedStream[Any], cfg: _Settings) -> WindowOut[Any, Any]:
    sharded = _op.flat_map_batch("shard", up, _sharder(cfg.shards))
    events = _op.stateful_batch("sessionize", sharded,
                                lambda resume: _ShardLogic(cfg, resume))
    return WindowOut(
        _op.flat_map_batch("unwrap_down", events, _split(0)),
        _op.flat_map_batch("unwrap_late", events, _split(1)),
        _op.flat_map_batch("unwrap_meta", events, _split(2)),
    )


def _settings(gap: timedelta, ts_getter: Callable[[Any], datetime], wait: timedelta,
              now_getter: Optional[Callable[[], datetime]], max_duration: Optional[timedelta],
              max_duration_mode: MaxDurationMode, on_close: Callable[[tuple[Any, ...]], Any],
              forget_idle_keys: bool, shards: int = 16) -> _Settings:
    if not callable(ts_getter):
        raise TypeError(f"ts_getter: expected a callable, got {type(ts_getter).__name__}")
    gap_us = _duration_micros(gap, "gap")
    wait_us = _duration_micros(wait, "wait", positive=False)
    max_us = None if max_duration is None else _duration_micros(max_duration, "max_duration")
    if not isinstance(forget_idle_keys, bool):
        raise TypeError(f"forget_idle_keys: expected a bool, got {type(forget_idle_keys).__name__}")
    if isinstance(shards, bool) or not isinstance(shards, int):
        raise TypeError(f"shards: expected an int, got {type(shards).__name__}")
    if shards < 1:
        raise SessionizeError(f"shards: must be >= 1, got {shards}")
    if now_getter is not None and not callable(now_getter):
        raise TypeError(f"now_getter: expected a callable, got {type(now_getter).__name__}")
    kwargs: dict[str, Any] = dict(max_duration=max_us, max_duration_mode=max_duration_mode,
                                  inclusive=True, delay=_NO_DELAY_WATERMARK, collect=True,
                                  on_late="return")
    # checks max_duration_mode now, not at the first item; its settings are
    # complete, as a snapshot of the shard's Sessionizers records them
    full = Sessionizer(gap_us, **kwargs)._settings
    return _Settings(ts_getter, wait_us,
                     now_getter if now_getter is not None else _get_system_utc,
                     on_close, full, forget_idle_keys, shards)


@overload
def collect_window(step_id: str, up: KeyedStream[_V], *, gap: timedelta,
                   ts_getter: Callable[[_V], datetime], wait: timedelta = ...,
                   max_duration: Optional[timedelta] = ...,
                   max_duration_mode: MaxDurationMode = ...,
                   now_getter: Optional[Callable[[], datetime]] = ...,
                   forget_idle_keys: bool = ..., shards: int = ...) -> WindowOut[_V, list[_V]]: ...
@overload
def collect_window(step_id: str, up: KeyedStream[_V], *, gap: timedelta,
                   ts_getter: Callable[[_V], datetime], wait: timedelta = ...,
                   into: Callable[[tuple[_V, ...]], _W],
                   max_duration: Optional[timedelta] = ...,
                   max_duration_mode: MaxDurationMode = ...,
                   now_getter: Optional[Callable[[], datetime]] = ...,
                   forget_idle_keys: bool = ..., shards: int = ...) -> WindowOut[_V, _W]: ...
def collect_window(step_id: str, up: KeyedStream[Any], *, gap: timedelta,
                   ts_getter: Callable[[Any], datetime],
                   wait: timedelta = timedelta(0),
                   into: Callable[[tuple[Any, ...]], Any] = list,
                   max_duration: Optional[timedelta] = None,
                   max_duration_mode: MaxDurationMode = "restart",
                   now_getter: Optional[Callable[[], datetime]] = None,
                   forget_idle_keys: bool = False, shards: int = 16) -> WindowOut[Any, Any]:
    """Session windows of a keyed stream, each collected with ``into``.

    The same as Bytewax's ``collect_window(step_id, up, EventClock(ts_getter,
    wait, now_getter), SessionWindower(gap), into)``: ``down`` items
    ``(key, (window_id, into(values)))`` with the values in time order,
    ``late`` items ``(key, (-1, value))`` for values behind the key's
    watermark, ``meta`` items ``(key, (window_id, WindowMetadata))``.
    ``max_duration`` also ends a window that long after its first item
    (``max_duration_mode`` "restart" or "fixed", as sessionize.Sessionizer).
    ``forget_idle_keys`` forgets a key with no window open (its next window
    is numbered 0 again).  The state lives in ``shards`` Bytewax keys, each
    holding many of your keys: keep it the same across a resume from
    recovery (the shard of a key is a hash of it modulo ``shards``), and at
    least a few per worker.
    """
    cfg = _settings(gap, ts_getter, wait, now_getter, max_duration, max_duration_mode,
                    into, forget_idle_keys, shards)
    return _session_window(step_id, up, cfg)


def fold_window(step_id: str, up: KeyedStream[_V], *, gap: timedelta,
                ts_getter: Callable[[_V], datetime],
                builder: Callable[[], _S], folder: Callable[[_S, _V], _S],
                wait: timedelta = timedelta(0), max_duration: Optional[timedelta] = None,
                max_duration_mode: MaxDurationMode = "restart",
                now_getter: Optional[Callable[[], datetime]] = None,
                forget_idle_keys: bool = False, shards: int = 16) -> WindowOut[_V, _S]:
    """Session windows of a keyed stream, each folded from ``builder()`` with
    ``folder(acc, value)`` over its values in time order when it closes.

    Bytewax's ``fold_window`` with a ``SessionWindower`` takes a ``merger``
    too; in ordered mode session windows never merge, so none is needed.
    Other arguments as :func:`collect_window`.
    """
    if not callable(builder) or not callable(folder):
        raise TypeError("builder, folder: expected callables")

    def fold(values: tuple[_V, ...]) -> _S:
        acc = builder()
        for v in values:
            acc = folder(acc, v)
        return acc

    cfg = _settings(gap, ts_getter, wait, now_getter, max_duration, max_duration_mode,
                    fold, forget_idle_keys, shards)
    return _session_window(step_id, up, cfg)


# ---------------------------------------------------------------- search CTR

class SearchCtrOut(NamedTuple):
    """Streams returned by :func:`search_ctr`."""

    rows: KeyedStream[StreamSearchRow]  # (key, row): one per search
    late: KeyedStream[LateEvent]  # (key, event): events behind the key's watermark


class _SearchCtrLogic(StatefulBatchLogic[Any, tuple[list[StreamSearchRow], list[LateEvent]],
                                          bytes]):
    """One key's search sessions in a SearchSessionizer."""

    __slots__ = ("settings", "flush", "sz")

    def __init__(self, settings: dict[str, Any], flush: bool,
                 resume_state: Optional[bytes]) -> None:
        self.settings, self.flush = settings, flush
        self.sz: SearchSessionizer[Any] = (SearchSessionizer(**settings) if resume_state is None
                   else loads_adapter_state(resume_state))

    def _out(self, out: list[StreamSearchRow | LateEvent]
             ) -> tuple[list[tuple[list[StreamSearchRow], list[LateEvent]]], bool]:
        if not out:
            return [], self._idle()
        rows = [r for r in out if isinstance(r, StreamSearchRow)]
        late = [r for r in out if isinstance(r, LateEvent)]
        return [(rows, late)], self._idle()

    def _idle(self) -> bool:
        st = self.sz.stats()
        return st["keys"] == 0 and st["buffered"] == 0

    def on_batch(self, values: list[Any]  # pyright: ignore[reportIncompatibleMethodOverride]
                 ) -> tuple[list[tuple[list[StreamSearchRow], list[LateEvent]]], bool]:
        return self._out(self.sz.push_events(values))

    def on_eof(self) -> tuple[list[tuple[list[StreamSearchRow], list[LateEvent]]], bool]:
        return self._out(self.sz.flush() if self.flush else [])

    def notify_at(self) -> Optional[datetime]:
        return None  # sessions close on the key's own events, or at EOF

    def snapshot(self) -> bytes:
        return dumps_adapter_state(self.sz)


@_operator
def search_ctr(step_id: str, up: KeyedStream[Any], *, gap: Optional[Duration] = None,
               wait: Duration = timedelta(0), inclusive: bool = True,
               flush: bool = True) -> SearchCtrOut:
    """Search rows of user sessions, from ``(key, event)`` items whose events
    are sessionize.events objects (AppOpen, Search, ..., with or without a
    ``time``; the Bytewax search-session tutorial's own dataclasses work too).

    Per key (user), the rule of :func:`sessionize.search_ctr`: a user session
    ends at AppClose / Timeout, by the gap rule when ``gap`` and times are
    given, and at the end of input when ``flush``.  ``rows`` carries one
    ``(key, StreamSearchRow)`` per search (``clicked``, ``clicks``, the
    query as ``value``) once its user session closes; a search's CTR is
    ``1.0 if row.clicked else 0.0`` and the CTR is their mean.  ``late``
    carries events older than the key's watermark (its largest time minus
    ``wait``).  A key's state is dropped when it holds nothing.
    """
    settings: dict[str, Any] = dict(gap=gap, inclusive=inclusive, delay=wait, on_late="return")
    SearchSessionizer(**settings)  # bad settings fail now, not at the first item
    if not isinstance(flush, bool):
        raise TypeError(f"flush: expected a bool, got {type(flush).__name__}")
    events = _op.stateful_batch("sessionize", up,
                                lambda resume: _SearchCtrLogic(settings, flush, resume))
    return SearchCtrOut(
        _op.flat_map_batch("unwrap_rows", events, _split_keyed(0)),
        _op.flat_map_batch("unwrap_late", events, _split_keyed(1)),
    )
