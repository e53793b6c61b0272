"""Pictures of a SessionTable, with matplotlib (``pip install 'sessionize[plot]'``).

``t.plot`` is a :class:`SessionPlots` for the table ``t``; as pandas'
``df.plot``, each method draws on ``ax`` (the current axes of pyplot when
not given), and returns the matplotlib ``Axes``; keyword arguments it does
not take go to the matplotlib call that draws the marks::

    t = sessionize.sessions(users, times, gap="30min")
    t.plot.durations()                  # histogram of end - start
    t.plot.event_counts()               # sessions by number of events
    t.plot.sessions_per_key()           # keys by number of sessions
    t.plot.timeline("ann", keys=users, times=times)   # one key's events

matplotlib is imported at the first call, never by ``import sessionize``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._types import Column, PlotUnit

if TYPE_CHECKING:  # matplotlib is imported at the first call, never before
    from matplotlib.axes import Axes

    from ._table import SessionTable

# a timeline writes each gap's length over it up to this many sessions
_MAX_GAP_LABELS = 12
_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(
            "sessionize's plots need matplotlib: pip install 'sessionize[plot]'"
        ) from e
    return plt


def _axes(ax: Axes | None) -> Axes:
    return ax if ax is not None else _pyplot().gca()


def _numpy(values) -> np.ndarray:
    """A column as numpy: Arrow and polars columns converted."""
    if isinstance(values, np.ndarray):
        return values
    if hasattr(values, "to_numpy"):
        try:
            return np.asarray(values.to_numpy(zero_copy_only=False))  # pyarrow
        except TypeError:
            return np.asarray(values.to_numpy())  # polars, pandas
    return np.asarray(values)


def _seconds(delta: np.ndarray) -> np.ndarray | None:
    """Durations in float seconds, or None when they are plain numbers
    (integer times, whose unit only the caller knows)."""
    if delta.dtype.kind == "m":
        return delta / np.timedelta64(1, "s")
    return None


def _pick_unit(seconds: np.ndarray) -> PlotUnit:
    top = float(np.max(seconds)) if len(seconds) else 0.0
    return "s" if top < 120 else "min" if top < 2 * 3600 else "h" if top < 3 * 86400 else "d"


class SessionPlots:
    """The plots of one SessionTable (``t.plot``)."""

    def __init__(self, table: SessionTable):
        self._t = table

    def durations(self, *, unit: PlotUnit | None = None, bins: int = 30,
                  ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Histogram of session lengths (``end - start``; a one-event
        session lasts 0).  ``unit``: "s", "min", "h" or "d" for datetime
        and float-second times (chosen from the longest session when not
        given); integer times are plotted in their own unit.  ``bins`` as
        ``Axes.hist`` takes it."""
        t = self._t
        delta = t.end - t.start
        secs = _seconds(delta)
        if secs is None and t.start.dtype.kind == "f":
            secs = np.asarray(delta, dtype=float)  # float seconds
        if secs is not None:
            if unit is None:
                unit = _pick_unit(secs)
            if unit not in _UNITS:
                raise ValueError(f"unit: must be one of {', '.join(_UNITS)}, got {unit!r}")
            values, label = secs / _UNITS[unit], f"session length ({unit})"
        else:
            values, label = np.asarray(delta, dtype=float), "session length (time units)"
        ax = _axes(ax)
        ax.hist(values, bins=bins, **kwargs)
        ax.set_xlabel(label)
        ax.set_ylabel("sessions")
        ax.set_title(f"session length, {len(t)} sessions")
        return ax

    def event_counts(self, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Bar chart: how many sessions have 1, 2, 3, ... events (a bar per
        event count that occurs)."""
        counts, n = np.unique(np.asarray(self._t.count), return_counts=True)
        ax = _axes(ax)
        ax.bar(counts, n, **kwargs)
        ax.set_xlabel("events in the session")
        _integer_ticks(ax)
        ax.set_ylabel("sessions")
        ax.set_title(f"events per session, mean {np.mean(self._t.count):.1f}"
                     if len(self._t) else "events per session")
        return ax

    def sessions_per_key(self, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Bar chart: how many keys (users) have 1, 2, 3, ... sessions (a
        bar per number that occurs)."""
        per_key = _sessions_per_key(self._t)
        values, n = np.unique(per_key, return_counts=True)
        ax = _axes(ax)
        ax.bar(values, n, **kwargs)
        ax.set_xlabel("sessions of the key")
        _integer_ticks(ax)
        ax.set_ylabel("keys")
        ax.set_title(f"sessions per key, {len(per_key)} keys")
        return ax

    def timeline(self, key: Any, keys: Column | str | None = None,
                 times: Column | str | None = None, *, data: Any = None,
                 ax: Axes | None = None, **kwargs: Any) -> Axes:
        """One key's events on a time line, under a bar per session (its
        first to last event), the gaps between sessions written over them.

        The table holds sessions, not events, so give the events the table
        was made from: ``keys`` and ``times`` as arrays (what was passed to
        ``sessions()``), or, as seaborn takes them, column names with the
        frame in ``data`` (pandas, polars, a pyarrow Table, a dict).
        Events get the colour of their session.  The Axes holds, in
        order, the sessions' ``hlines``, the squares of sessions of no
        length and the events' points (``ax.collections``).  ``kwargs`` go
        to the events' ``Axes.scatter``.
        """
        t = self._t
        if data is not None:
            keys, times = data[keys], data[times]
        if keys is None or times is None:
            raise TypeError("timeline() needs the events: keys=... and times=... "
                            "(arrays, or column names with data=...)")
        k, tm = _numpy(keys), _numpy(times)
        if k.dtype.kind != "O" and tm.dtype.kind == "O":  # aware datetimes from pandas
            tm = tm.astype("datetime64[us]")
        mine = k == key
        ev = np.sort(tm[mine], kind="stable")
        rows = np.flatnonzero(_numpy(t.key) == key)
        if not len(rows):
            raise KeyError(f"{key!r}: no session of this key in the table")
        start, end = _numpy(t.start)[rows], _numpy(t.end)[rows]
        if start.dtype.kind == "M" and ev.dtype.kind == "M":
            ev = ev.astype(start.dtype)
        session = np.clip(np.searchsorted(start, ev, side="right") - 1, 0, len(rows) - 1)
        ax = _axes(ax)
        colours = [f"C{i % 10}" for i in range(len(rows))]
        ax.hlines(np.ones(len(rows)), start, end, colors=colours, linewidth=10)
        # a session of no length (one event, or events at one time) as a square
        point = np.flatnonzero(start == end)
        ax.scatter(start[point], np.ones(len(point)), marker="s", s=60,
                   c=[colours[i] for i in point])
        kwargs.setdefault("marker", "|")
        kwargs.setdefault("s", 200)
        ax.scatter(ev, np.zeros(len(ev)), c=[colours[i] for i in session], **kwargs)
        if len(rows) <= _MAX_GAP_LABELS:
            for i in range(len(rows) - 1):
                gap = start[i + 1] - end[i]
                ax.annotate(_duration_text(gap), xy=(end[i] + gap / 2, 1),
                            xytext=(0, 9 if i % 2 == 0 else -16),
                            textcoords="offset points", ha="center", fontsize=8)
        ax.set_ylim(-0.8, 1.8)
        ax.set_yticks([0, 1], ["events", "sessions"])
        ax.set_xlabel("time")
        zone = getattr(t, "time_zone", "")
        if zone and start.dtype.kind == "M":
            from ._display import _tzinfo

            tz = _tzinfo(zone)
            if tz is not None:  # ticks in the table's zone, not UTC
                ax.xaxis_date(tz)
                ax.set_xlabel(f"time ({zone})")
        ax.set_title(f"{key}: {len(ev)} events, {len(rows)} sessions")
        if start.dtype.kind == "M":
            for label in ax.get_xticklabels():
                label.set_rotation(20)
                label.set_horizontalalignment("right")
        return ax


def _integer_ticks(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _sessions_per_key(t) -> np.ndarray:
    """Sessions of each key, keys in table order: a table holds each key's
    sessions together, numbered by ``index`` from 0."""
    if not len(t):
        return np.zeros(0, dtype=np.int64)
    first = np.flatnonzero(np.asarray(t.index) == 0)
    return np.diff(np.append(first, len(t)))


def _duration_text(gap) -> str:
    if isinstance(gap, np.timedelta64):
        s = float(gap / np.timedelta64(1, "s"))
        for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
            if s >= size:
                return f"{s / size:.3g} {unit}"
        return f"{s:.3g} s"
    return f"{gap:.6g}"


def demo_figure(table, keys, times, path) -> None:
    """The demo's picture: the four plots of ``table`` in one PNG at
    ``path`` (the timeline of the key with the most sessions).  Draws on a
    ``matplotlib.figure.Figure`` of its own, without pyplot, so it needs
    no display and leaves pyplot's state alone."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(
            "sessionize's plots need matplotlib: pip install 'sessionize[plot]'"
        ) from e
    fig = Figure(figsize=(11, 7), layout="constrained")
    (a, b), (c, d) = fig.subplots(2, 2)
    p = table.plot
    p.durations(unit="min", ax=a)
    p.event_counts(ax=b)
    p.sessions_per_key(ax=c)
    # a key with a typical number of sessions (the median), the first such
    per_key = _sessions_per_key(table)
    typical = int(np.argmax(per_key == int(np.median(per_key))))
    key = _numpy(table.key)[np.flatnonzero(np.asarray(table.index) == 0)[typical]]
    p.timeline(key, keys=keys, times=times, ax=d)
    fig.savefig(path, dpi=72)
