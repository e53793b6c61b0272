"""The one-shot array API: assign() and sessions()."""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, overload

import numpy as np
import numpy.typing as npt

from . import _agg, _core, _gaps, _keys, _times
from ._core import SessionizeError
from ._table import AggregatedSessionTable, SessionTable
from ._types import AggSpec, Column, Duration, MaxDurationMode, OnBadGap, TimeUnit

_MODES = {"restart": 1, "fixed": 2}


# the core's arguments but the last (describe): batch(*args, describe)
_CoreArgs = tuple[npt.NDArray[Any], int, int, npt.NDArray[np.int64], int, int, int, bool, bool]


def _prepare(keys: Column, times: Column, gap: Duration | Column,
             max_duration: Duration | None, max_duration_mode: str, inclusive: bool,
             time_unit: TimeUnit | None = None, on_bad_gap: str = "raise",
             ) -> tuple[_keys.Keys, _times.TimeKind, _CoreArgs, "_Gaps | None"]:
    if max_duration_mode not in _MODES:
        raise SessionizeError(
            f"max_duration_mode: must be 'restart' or 'fixed', got {max_duration_mode!r}"
        )
    if not isinstance(inclusive, (bool, np.bool_)):
        raise TypeError(f"inclusive: expected a bool, got {type(inclusive).__name__}")
    _gaps.check_on_bad_gap(on_bad_gap)
    _keys.check_count(keys, "keys")
    _keys.check_count(times, "times")
    k = _keys.normalize(keys)
    t, kind = _times.normalize(times, time_unit)
    if len(k) != len(t):
        raise SessionizeError(f"keys and times: lengths differ ({len(k)} vs {len(t)})")
    gaps = None
    if _gaps.is_per_event(gap):
        g, bad = _gaps.per_event(gap, kind, len(t))
        gaps = _Gaps(g, _gaps.settle(gap, g, bad, on_bad_gap))
        gap_i = 0
    else:
        gap_i = kind.to_int(gap, "gap")
    if max_duration is None:
        cap_mode, max_i = 0, 0
    else:
        cap_mode, max_i = _MODES[max_duration_mode], kind.to_int(max_duration, "max_duration")
    args = (k.data, k.kind, k.n_codes, t, gap_i, max_i, cap_mode, bool(inclusive), kind.nat)
    return k, kind, args, gaps


class _Gaps(NamedTuple):
    """A gap per event: `gaps` int64 in the times' unit, `keep` the
    positions of the events kept (None: all; on_bad_gap='drop' drops the
    rest)."""

    gaps: npt.NDArray[np.int64]
    keep: npt.NDArray[np.intp] | None


def _run(args: _CoreArgs, gaps: _Gaps | None, describe: bool,
         ) -> tuple[npt.NDArray[np.int64], tuple[npt.NDArray[np.int64], ...] | None,
                    npt.NDArray[np.intp] | None]:
    """(ids in input order, the session columns or None, keep): the scalar
    core, or the per-event one over the events kept (a dropped event's id
    is -1; first_event is a position in the whole input either way)."""
    if gaps is None:
        ids, _path, cols = _core.batch(*args, describe)
        return ids, cols, None
    data, kind, n_codes, t, _gap, max_i, cap_mode, inclusive, nat = args
    keep, g = gaps.keep, gaps.gaps
    if keep is None and len(g) and g.min() == g.max():
        # one gap for all: the scalar core, which gives the same sessions
        # (test_dynamic_gaps proves it) faster
        ids, _path, cols = _core.batch(data, kind, n_codes, t, int(g[0]), max_i, cap_mode,
                                       inclusive, nat, describe)
        return ids, cols, None
    if keep is not None:
        data, t, g = data[keep], t[keep], g[keep]
    sub_ids, cols = _core.gapped(data, kind, n_codes, t, g, max_i, cap_mode, inclusive, nat)
    if keep is None:
        return sub_ids, cols, None
    ids = np.full(len(args[3]), -1, dtype=np.int64)
    ids[keep] = sub_ids
    start, end, window_end, count, index, first_event = cols
    cols = (start, end, window_end, count, index, keep[first_event].astype(np.int64))
    return ids, cols, keep


def assign(keys: Column, times: Column, *, gap: Duration | Column,
           max_duration: Duration | None = None,
           max_duration_mode: MaxDurationMode = "restart",
           inclusive: bool = True, time_unit: TimeUnit | None = None,
           on_bad_gap: OnBadGap = "raise") -> npt.NDArray[np.int64]:
    """Each event's session id, as an int64 array in input order.

    Session ids are dense, ``0..S-1``, ordered by key (keys in order of first
    appearance) and then by session start: the row numbers of
    :func:`sessions` on the same input.

    keys:  integers, strings or bytes (numpy arrays), or any hashable values
           (object arrays, lists).
    times: integers in any unit, ``datetime64`` of any unit, float seconds
           as ``time.time()`` gives, datetimes (naive or aware), zoned
           pandas or Arrow timestamps, or ISO-8601 strings
           (``"2026-10-01T16:00:00Z"``; with an offset they are instants,
           without one wall-clock times).  Zoned times are sessionized as
           their UTC instants and come back in their zone.
    time_unit: ``"s"``, ``"ms"``, ``"us"`` or ``"ns"``: the unit of integer
           (epoch) times, so that ``gap`` may be ``"30min"`` or a
           ``timedelta``; the times still come back as the integers they are.
    gap:   a new session starts when an event comes more than ``gap`` after
           the previous one of its key (``>= gap`` when ``inclusive=False``,
           as Apache Beam does).  An integer in the times' unit, or a
           ``timedelta``, ``numpy.timedelta64`` or string such as ``"30min"``
           for datetime64 and float-second times (floats there are seconds).
           Or one gap per event (a column: numpy, list, pandas, polars or
           Arrow), as Flink's ``withDynamicGap`` and Spark's
           ``session_window`` over a gap column: each event keeps its
           session open until its own ``time + gap``; a session ends at the
           largest of those (its ``window_end``), and an event at or before
           it joins (before it, when ``inclusive=False``).
    on_bad_gap: ``"raise"`` (the default): a missing, zero or negative
           per-event gap is an error naming its row.  ``"drop"``: such
           events are dropped, as Spark drops them silently; their id is
           -1, and a :class:`SessionizeWarning` says how many.
    max_duration, max_duration_mode:  optional cap on a session's length:
           ``"restart"`` starts a new session at the first event more than
           ``max_duration`` after the session's start; ``"fixed"`` cuts each
           inactivity session into blocks of ``max_duration`` from its start.
    """
    _, _, args, gaps = _prepare(keys, times, gap, max_duration, max_duration_mode,
                                inclusive, time_unit, on_bad_gap)
    ids, _, _ = _run(args, gaps, False)
    return ids


# agg= makes the result an AggregatedSessionTable: said to type checkers by
# the overloads, so its aggregate columns need no cast
@overload
def sessions(keys: Column, times: Column, *, gap: Duration | Column,
             max_duration: Duration | None = ..., max_duration_mode: MaxDurationMode = ...,
             inclusive: bool = ..., agg: None = ...,
             values: Mapping[str, Column] | None = ...,
             time_unit: TimeUnit | None = ...,
             on_bad_gap: OnBadGap = ...) -> SessionTable: ...
@overload
def sessions(keys: Column, times: Column, *, gap: Duration | Column,
             max_duration: Duration | None = ..., max_duration_mode: MaxDurationMode = ...,
             inclusive: bool = ..., agg: AggSpec,
             values: Mapping[str, Column] | None = ...,
             time_unit: TimeUnit | None = ...,
             on_bad_gap: OnBadGap = ...) -> AggregatedSessionTable: ...
def sessions(keys: Column, times: Column, *, gap: Duration | Column,
             max_duration: Duration | None = None,
             max_duration_mode: MaxDurationMode = "restart", inclusive: bool = True,
             agg: AggSpec | None = None,
             values: Mapping[str, Column] | None = None,
             time_unit: TimeUnit | None = None,
             on_bad_gap: OnBadGap = "raise") -> SessionTable:
    """One row per session: key, start, end, count, index, window_end, and
    one column per named aggregate.

    Takes the same arguments as :func:`assign`; row ``i`` is session id ``i``.
    Times come back in the caller's type and unit (integer times as int64).

    agg:    per-session aggregates, named as pandas' named aggregation names
            them: ``{"out": (values, how)}``, ``values`` an array with one
            value per event (numpy, a list, a pandas, polars or pyarrow
            column) or the name of one in ``values``, and ``how`` one of
            ``count, sum, min, max, mean, first, last, n_unique, list``.
            ``first``, ``last`` and ``list`` follow time order, ties in
            input order.  Nulls (None, NaN, NaT, NA, masked, Arrow nulls)
            are skipped as pandas' ``groupby`` skips them (``count`` counts
            the non-null values, ``sum`` of none is 0, the others are null);
            ``list`` keeps them.  The result is then an
            :class:`AggregatedSessionTable` with the aggregates as extra
            columns, in ``agg``'s order.
    values: optional ``{"name": array}`` that ``agg`` can name columns of,
            as a frame's columns are named: ``values={"price": prices},
            agg={"revenue": ("price", "sum")}``.
    """
    base, results = _sessions(keys, times, gap, max_duration, max_duration_mode, inclusive,
                              agg, values, _reserved_names(), time_unit, on_bad_gap)
    if agg is None:
        return SessionTable(**base)
    return AggregatedSessionTable(**base, aggregates={n: _agg.as_numpy(r)
                                                      for n, r in results.items()})


def _sessions(keys: Column, times: Column, gap: Duration | Column,
              max_duration: Duration | None,
              max_duration_mode: str, inclusive: bool, agg: AggSpec | None,
              values: Mapping[str, Column] | None,
              reserved: dict[str, str], time_unit: TimeUnit | None = None,
              on_bad_gap: str = "raise",
              ) -> tuple[dict[str, Any], dict[str, _agg.Result]]:
    """(the SessionTable's columns, {name: _agg.Result}): sessions() and
    sessionize.frame.sessions() both build from these."""
    k, kind, args, gaps = _prepare(keys, times, gap, max_duration, max_duration_mode,
                                   inclusive, time_unit, on_bad_gap)
    specs = _agg.parse(agg, values, len(args[3]), reserved)
    ids, cols, keep = _run(args, gaps, True)
    assert cols is not None
    start, end, window_end, count, index, first_event = cols
    base = dict(
        time_zone=kind.zone,
        key=k.take(first_event),
        start=kind.restore(start),
        end=kind.restore(end),
        count=count,
        index=index,
        window_end=kind.restore(window_end),
    )
    if keep is not None:  # the aggregates over the events kept
        ids, specs = ids[keep], [_agg.Spec(s.name, s.how, _agg.Column(
            s.column.data[keep], None if s.column.mask is None else s.column.mask[keep],
            s.column.source)) for s in specs]
        return base, _agg.compute(specs, ids, args[3][keep], count)
    return base, _agg.compute(specs, ids, args[3], count)


def _reserved_names() -> dict[str, str]:
    """Names an aggregate cannot take: the table's columns and attributes."""
    attrs = {n: "attribute" for n in dir(AggregatedSessionTable) if not n.startswith("__")}
    return {**attrs, "aggregates": "attribute", "__aggregates__": "attribute",
            **dict.fromkeys(SessionTable.columns, "column")}
