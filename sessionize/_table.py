"""Result tables as numpy columns: SessionTable, and the search-CTR tables."""

from __future__ import annotations

import collections
import functools
import math
from typing import TYPE_CHECKING, Any, Generic, Iterator, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from . import _display

if TYPE_CHECKING:
    import pandas  # no types without pandas-stubs: Any then
    import polars

    from ._search_stream import StreamSearchRow
    from ._sessionizer import StreamSession
    from .plot import SessionPlots

# the named tuple of one row of a ColumnTable (what rows() yields)
RowT = TypeVar("RowT", covariant=True)


class ColumnTable(Generic[RowT]):
    """Rows held as numpy columns, one attribute each.

    A subclass names its ``columns`` (also its ``__slots__``), the named
    tuple of one row (``row_type``) and what a row is (``noun``); the
    columns' types are its class annotations.
    """

    columns: tuple[str, ...] = ()
    row_type: Any = tuple
    noun = "rows"
    # time_zone: the zone of Arrow timestamps the times came from ("" for
    # none); datetime64 columns hold UTC instants, exported with this zone
    __slots__ = ("time_zone",)

    def __init__(self, time_zone: str = "", **cols: Any):
        self.time_zone = time_zone
        for c in self.columns:
            setattr(self, c, cols[c])

    def __len__(self) -> int:
        return len(getattr(self, self.columns[-1]))

    # Any: the attribute of that name, typed on the class (a ListColumn, or
    # an Arrow array for Arrow keys, as well as numpy arrays)
    def __getitem__(self, name: str) -> Any:
        if name not in self.columns:
            raise KeyError(f"{name!r}: not a column (columns: {', '.join(self.columns)})")
        return getattr(self, name)

    # rows() give times as datetime/timedelta (False: as the columns hold them)
    _python_times = True

    def rows(self) -> Iterator[RowT]:
        """An iterator over the rows, each a named tuple (``row_type``), in
        order; ``list(t.rows())`` for a list.

        Values are Python scalars (int, float, bool, str, bytes, the
        caller's objects), converted a block of rows at a time by one
        ``tolist()`` per column: ``datetime64`` times as
        ``datetime.datetime`` (aware, in the table's ``time_zone``, when it
        has one), down to microseconds; nanosecond times stay
        ``numpy.datetime64``, which keeps them.
        """
        row = self.row_type
        for values in _display.iter_rows(list(self.to_dict().values()), len(self),
                                         self.time_zone, self._python_times):
            yield row(*values)

    def to_dict(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in self.columns}

    def to_pandas(self) -> pandas.DataFrame:
        """A pandas DataFrame with one column per field, in row order."""
        try:
            import pandas as pd
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "to_pandas() needs pandas: pip install 'sessionize[pandas]'"
            ) from e
        cols = {}
        for c in self.columns:
            v = getattr(self, c)
            if isinstance(v, ListColumn):
                v = v.tolist()
            elif hasattr(v, "to_pandas"):  # Arrow or polars keys
                v = v.to_pandas()
                v = v.array if hasattr(v, "array") else v
            elif self.time_zone and v.dtype.kind == "M":
                v = pd.DatetimeIndex(v).tz_localize("UTC").tz_convert(self.time_zone)
            cols[c] = v
        return pd.DataFrame(cols)

    # Any: pyarrow ships no types
    def to_arrow(self) -> Any:
        """A ``pyarrow.Table`` with one column per field, in row order.

        Numeric, bool and ``datetime64`` columns are handed to Arrow without
        a copy (their buffers are shared); string keys are converted once.
        Needs pyarrow (``pip install pyarrow``).
        """
        pa = _import_optional("pyarrow", "to_arrow()", "pyarrow")
        return pa.table({c: _arrow_column(pa, getattr(self, c), self.time_zone)
                         for c in self.columns})

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """The Arrow PyCapsule stream interface, so ``pyarrow.table(t)``,
        ``polars.from_arrow(t)`` and DuckDB read the table directly."""
        return self.to_arrow().__arrow_c_stream__(requested_schema)

    def to_polars(self) -> polars.DataFrame:
        """A ``polars.DataFrame`` with one column per field, in row order
        (numeric columns shared without a copy where polars can)."""
        pl = _import_optional("polars", "to_polars()", "polars")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            return pl.DataFrame({c: getattr(self, c) for c in self.columns})
        return pl.from_arrow(self.to_arrow())

    def __getstate__(self):
        return {**self.to_dict(), "time_zone": self.time_zone}

    def __setstate__(self, state):
        self.time_zone = state.get("time_zone", "")
        for c in self.columns:
            setattr(self, c, state[c])

    def __repr__(self) -> str:
        """Pandas-like: every row of a short table, the first and last five
        of a long one around "...", times in the table's type and zone,
        then the column types and the size."""
        return _display.text(self)

    def _repr_html_(self) -> str:
        """The same as HTML, for Jupyter."""
        return _display.html_table(self)


def _import_optional(module: str, what: str, pip_name: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{what} needs {module}: pip install {pip_name}") from e


def _arrow_column(pa, values, zone: str = ""):
    """One column as an Arrow array: fixed-width numbers, bools and
    datetime64 without a copy (datetime64 with the table's zone); 'U'/'S'
    strings and objects converted; Arrow and polars columns as they are."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if hasattr(values, "to_arrow"):  # polars
        return values.to_arrow()
    if zone and values.dtype.kind == "M":
        unit = np.datetime_data(values.dtype)[0]
        if unit in ("s", "ms", "us", "ns"):
            return pa.array(values.view(np.int64), type=pa.timestamp(unit, tz=zone))
    if values.dtype.kind == "U":
        return pa.array(values.astype(object), type=pa.string())
    if values.dtype.kind == "S":
        return pa.array(values.astype(object), type=pa.binary())
    return pa.array(values)


class Session(NamedTuple):
    """One row of a SessionTable."""

    key: Any
    start: Any
    end: Any
    count: int
    index: int
    window_end: Any


class SessionTable(ColumnTable[Session]):
    """Sessions as columns: row ``i`` is session id ``i``.

    ``key``         the caller's key value
    ``start``       time of the first event
    ``end``         time of the last event
    ``count``       number of events
    ``index``       0-based ordinal of the session within its key
    ``window_end``  ``end + gap``, never beyond the cap's limit: when the
                    session can no longer grow (the engines' window end)

    Times are in the caller's type and unit.  ``to_pandas()`` gives a
    DataFrame whose index is the session id.
    """

    columns = ("key", "start", "end", "count", "index", "window_end")
    row_type = Session
    noun = "sessions"
    __slots__ = columns
    # key: the caller's keys (a numpy array; Arrow's type for Arrow keys);
    # times: int64, float64 or datetime64 as the caller's times are
    key: Any
    start: npt.NDArray[Any]
    end: npt.NDArray[Any]
    count: npt.NDArray[np.int64]
    index: npt.NDArray[np.int64]
    window_end: npt.NDArray[Any]

    def __init__(self, key: Any, start: npt.NDArray[Any], end: npt.NDArray[Any],
                 count: npt.NDArray[np.int64], index: npt.NDArray[np.int64],
                 window_end: npt.NDArray[Any], time_zone: str = ""):
        super().__init__(time_zone, key=key, start=start, end=end, count=count, index=index,
                         window_end=window_end)

    @property
    def plot(self) -> SessionPlots:
        """Plots of these sessions with matplotlib (``sessionize.plot``):
        ``t.plot.durations()``, ``event_counts()``, ``sessions_per_key()``,
        ``timeline(key, keys=..., times=...)``; each returns the Axes."""
        from .plot import SessionPlots

        return SessionPlots(self)


class AggregatedSessionTable(SessionTable):
    """A SessionTable with per-session aggregate columns after its own six,
    in the order ``agg`` named them (``sessions(..., agg={...})``):
    ``t["revenue"]``, ``t.revenue`` (when the name is an identifier),
    ``t.rows()`` (named tuples; a name that is not an identifier becomes a
    positional field ``_6``, ...), ``to_pandas()``, ``to_arrow()`` and
    ``to_polars()`` all carry them.  A ``list`` aggregate is a
    :class:`ListColumn`."""

    __slots__ = ("aggregates",)

    def __init__(self, key: Any, start: npt.NDArray[Any], end: npt.NDArray[Any],
                 count: npt.NDArray[np.int64], index: npt.NDArray[np.int64],
                 window_end: npt.NDArray[Any], time_zone: str = "",
                 aggregates: dict[str, npt.NDArray[Any] | ListColumn] | None = None):
        self.aggregates: dict[str, npt.NDArray[Any] | ListColumn] = {}
        super().__init__(key, start, end, count, index, window_end, time_zone)
        self.aggregates = dict(aggregates or {})

    @property  # type: ignore[override]
    def columns(self) -> tuple[str, ...]:
        return SessionTable.columns + tuple(self.aggregates)

    @property  # type: ignore[override]
    def row_type(self) -> Any:
        return _session_row_type(tuple(self.aggregates))

    # a row is a Session named tuple with the aggregates' fields after its own,
    # made at run time: to a type checker, a named tuple of unknown fields
    def rows(self) -> Iterator[Any]:
        return super().rows()

    def __len__(self) -> int:
        return len(self.count)

    def __getattr__(self, name: str) -> npt.NDArray[Any] | ListColumn:
        try:
            aggregates = object.__getattribute__(self, "aggregates")
        except AttributeError:
            raise AttributeError(name) from None
        if name in aggregates:
            return aggregates[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getstate__(self):
        return {**super().__getstate__(), "__aggregates__": tuple(self.aggregates)}

    def __setstate__(self, state):
        self.aggregates = {}
        super().__setstate__(state)
        self.aggregates = {n: state[n] for n in state["__aggregates__"]}


@functools.lru_cache(maxsize=64)
def _session_row_type(names: tuple[str, ...]):
    """A Session named tuple with the aggregates' fields after its own
    (made once per set of names)."""
    return collections.namedtuple("Session", Session._fields + names, rename=True)


# ---------------------------------------------------------------------------
# search sessions and click-through rate

class SearchRow(NamedTuple):
    """One row of a SearchTable: one search."""

    key: Any
    session: int
    search: int
    clicked: bool
    clicks: int


class KeyRow(NamedTuple):
    """One row of a SearchKeyTable: one key's searches."""

    key: Any
    sessions: int
    searches: int
    clicked: int
    clicks: int
    ctr: float
    clicks_per_search: float


def _mean(total: float, count: int) -> float:
    return total / count if count else math.nan


class SearchTable(ColumnTable[SearchRow]):
    """One row per search, in the order the user sessions closed, each
    session's searches in time order (the documentation's
    search-CTR guide).

    ``key``      the caller's key (user) value
    ``session``  the user session's number, ``0..S-1`` in close order
    ``search``   input position of the SEARCH event (look its query up there)
    ``clicked``  whether a CLICK followed it in its search session
    ``clicks``   how many

    ``ctr`` is the mean of ``clicked`` (each search's CTR is 1.0 or 0.0) and
    ``clicks_per_search`` the mean of ``clicks``; both are NaN when there is
    no search, as the mean of nothing.
    """

    columns = ("key", "session", "search", "clicked", "clicks")
    row_type = SearchRow
    noun = "searches"
    __slots__ = columns
    key: Any
    session: npt.NDArray[np.int64]
    search: npt.NDArray[np.int64]
    clicked: npt.NDArray[np.bool_]
    clicks: npt.NDArray[np.int64]

    @property
    def ctr(self) -> float:
        """Click-through rate: the fraction of searches followed by a click."""
        return _mean(float(np.count_nonzero(self.clicked)), len(self))

    @property
    def clicks_per_search(self) -> float:
        return _mean(float(self.clicks.sum()), len(self))

    def by_key(self) -> SearchKeyTable:
        """One row per key with a search, keys in the order of their first
        row: ``sessions``, ``searches``, ``clicked`` (searches with a click),
        ``clicks``, ``ctr`` and ``clicks_per_search``."""
        n = len(self)
        codes, first = _first_appearance(self.key)
        k = len(first)
        searches = np.bincount(codes, minlength=k).astype(np.int64)
        clicked = np.bincount(codes, weights=self.clicked, minlength=k).astype(np.int64)
        clicks = np.bincount(codes, weights=self.clicks, minlength=k).astype(np.int64)
        opens = np.ones(n, dtype=bool)
        opens[1:] = self.session[1:] != self.session[:-1]
        sessions = np.bincount(codes[opens], minlength=k).astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            ctr = clicked / searches
            cps = clicks / searches
        return SearchKeyTable(key=self.key[first], sessions=sessions, searches=searches,
                              clicked=clicked, clicks=clicks, ctr=ctr,
                              clicks_per_search=cps)


class SearchKeyTable(ColumnTable[KeyRow]):
    """Per-key summary of a SearchTable (see :meth:`SearchTable.by_key`)."""

    columns = ("key", "sessions", "searches", "clicked", "clicks", "ctr",
               "clicks_per_search")
    row_type = KeyRow
    noun = "keys"
    __slots__ = columns
    key: Any
    sessions: npt.NDArray[np.int64]
    searches: npt.NDArray[np.int64]
    clicked: npt.NDArray[np.int64]
    clicks: npt.NDArray[np.int64]
    ctr: npt.NDArray[np.float64]
    clicks_per_search: npt.NDArray[np.float64]


def _first_appearance(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes of `values` in order of first appearance, and the position
    of each code's first occurrence."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if values.dtype == object:
        from . import _core
        codes, uniques = _core.factorize(values)
        first = np.full(len(uniques), len(values), dtype=np.int64)
        np.minimum.at(first, codes, np.arange(len(values)))
        return codes, first
    _, index, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(index, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[inverse.ravel()], index[order]


# ---------------------------------------------------------------------------
# streaming, columnar (Sessionizer(columnar=True), SearchSessionizer(columnar=True))

class ListColumn:
    """A column of variable-length lists, held as Arrow holds one: ``flat``
    (every row's items, row after row) and ``offsets`` (row ``i`` is
    ``flat[offsets[i]:offsets[i + 1]]``), so a call's values or replaced
    ids need no Python object per row.  ``col[i]`` is row ``i`` as a tuple;
    ``to_arrow()`` a ``pyarrow.ListArray`` sharing the offsets."""

    __slots__ = ("offsets", "flat")

    def __init__(self, offsets: npt.NDArray[np.int64], flat: npt.NDArray[Any]):
        self.offsets = offsets
        self.flat = flat

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> tuple[Any, ...]:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"row {i} of {n}")
        i %= n
        return tuple(self.flat[self.offsets[i]:self.offsets[i + 1]].tolist())

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        flat, off = self.flat.tolist(), self.offsets.tolist()
        for i in range(len(off) - 1):
            yield tuple(flat[off[i]:off[i + 1]])

    def tolist(self) -> list[tuple[Any, ...]]:
        """Every row, as a list of tuples."""
        return list(self)

    def to_arrow(self) -> Any:
        """A pyarrow ``ListArray``: these offsets and flat values, not copied
        row by row."""
        pa = _import_optional("pyarrow", "to_arrow()", "pyarrow")
        return pa.ListArray.from_arrays(pa.array(self.offsets), pa.array(self.flat))

    def __repr__(self) -> str:
        return f"ListColumn({self.tolist()!r})"


class StreamSessionTable(ColumnTable["StreamSession"]):
    """The sessions one call of a columnar Sessionizer emitted, in emission
    order (the documentation's streaming guide): a row per :class:`StreamSession`, the same
    fields as columns.  ``key`` is int64 when every key is an int, else an
    object array of the caller's keys; times are int64, float seconds or
    ``datetime64`` as the stream's times are (aware datetimes: UTC instants
    with ``time_zone``); ``replaces`` is a :class:`ListColumn` of ids, and
    ``values`` (only with ``collect=True``) one of values."""

    columns = ("key", "start", "end", "window_end", "count", "index", "revision",
               "id", "replaces", "final")
    noun = "sessions"
    _python_times = False  # rows() as the object mode emits them
    __slots__ = columns
    key: npt.NDArray[Any]
    start: npt.NDArray[Any]
    end: npt.NDArray[Any]
    window_end: npt.NDArray[Any]
    count: npt.NDArray[np.int64]
    index: npt.NDArray[np.int64]
    revision: npt.NDArray[np.int64]
    id: npt.NDArray[np.uint64]
    replaces: ListColumn
    final: npt.NDArray[np.bool_]

    def rows(self) -> Iterator[StreamSession]:
        """Each row as a StreamSession, as the object mode emits it."""
        from ._sessionizer import StreamSession

        values = self["values"] if "values" in self.columns else [None] * len(self)
        cols = [getattr(self, c) for c in StreamSessionTable.columns]
        cols.insert(-1, values)  # StreamSession's order: ..., replaces, values, final
        for row in _display.iter_rows(cols, len(self), times=False):
            yield StreamSession(*row)


class CollectedSessionTable(StreamSessionTable):
    """A StreamSessionTable with the ``values`` column (``collect=True``)."""

    columns = StreamSessionTable.columns + ("values",)
    __slots__ = ("values",)
    values: ListColumn


class LateRow(NamedTuple):
    """One row of a LateTable."""

    key: Any
    time: Any
    position: int  # the event's index in the call's input (0 for push)
    value: Any


class LateTable(ColumnTable[LateRow]):
    """The late events of one call of a columnar stream: ``key``, ``time``
    (as the stream's times), ``position`` (index in the call's input) and
    ``value`` (what was pushed with it, else None)."""

    columns = ("key", "time", "position", "value")
    row_type = LateRow
    noun = "late events"
    _python_times = False  # rows() as the object mode emits them
    __slots__ = columns
    key: npt.NDArray[Any]
    time: npt.NDArray[Any]
    position: npt.NDArray[np.int64]
    value: npt.NDArray[np.object_]


class StreamSearchTable(ColumnTable["StreamSearchRow"]):
    """The search rows one call of a columnar SearchSessionizer emitted, a
    row per :class:`StreamSearchRow`, in emission order."""

    columns = ("key", "session", "search", "time", "clicked", "clicks", "value")
    noun = "searches"
    _python_times = False  # rows() as the object mode emits them
    __slots__ = columns
    key: npt.NDArray[Any]
    session: npt.NDArray[np.uint64]
    search: npt.NDArray[np.uint64]
    time: npt.NDArray[Any]
    clicked: npt.NDArray[np.bool_]
    clicks: npt.NDArray[np.int64]
    value: npt.NDArray[np.object_]

    @property
    def row_type(self) -> type[StreamSearchRow]:
        from ._search_stream import StreamSearchRow

        return StreamSearchRow

    @property
    def ctr(self) -> float:
        """The fraction of these searches followed by a click."""
        return _mean(float(np.count_nonzero(self.clicked)), len(self))


# the table of a StreamBatch's sessions: StreamSessionTable or StreamSearchTable
TableT = TypeVar("TableT", bound="ColumnTable[Any]", covariant=True)


class StreamBatch(Generic[TableT]):
    """What one call of a columnar stream returns: ``sessions`` (a
    StreamSessionTable, or a StreamSearchTable for a SearchSessionizer) and
    ``late`` (a LateTable).  ``sessions, late = batch`` unpacks it; it is
    true when either holds a row."""

    __slots__ = ("sessions", "late")

    sessions: TableT
    late: LateTable

    def __init__(self, sessions: TableT, late: LateTable):
        self.sessions = sessions
        self.late = late

    def __iter__(self) -> Iterator[TableT | LateTable]:
        return iter((self.sessions, self.late))

    def __bool__(self) -> bool:
        return len(self.sessions) > 0 or len(self.late) > 0

    def __getstate__(self):
        return (self.sessions, self.late)

    def __setstate__(self, state):
        self.sessions, self.late = state

    def __repr__(self) -> str:
        return (f"<StreamBatch: {len(self.sessions)} {self.sessions.noun}, "
                f"{len(self.late)} late>")
