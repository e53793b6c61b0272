"""The Spark Structured Streaming pipeline's session rows, a batch of sessions at a time, as an Arrow
table: the key under its own field name, session_id ('<key>_session_<n>'),
session_start_time_ms, session_end_time_ms, session_duration_seconds,
event_count, and with --collect the values in time order.  Built from the
columnar Sessionizer's numpy columns with no Python object per session.

n counts a key's sessions from 1 in time order over the whole run.  The
Sessionizer forgets a key between its sessions (its `index` restarts), so
the count lives here, one number per key: memory grows with keys, not
events.  It is updated once per distinct key of a batch (a key's sessions
close in time order, so within a batch they are numbered by rank)."""

from __future__ import annotations

import itertools

import numpy as np

from .. import _core
from .errors import CliError

NS_PER_MS = 1_000_000


WINDOW_END = "session_window_end_time_ms"


def session_columns(key_field: str, collect_as: str | None, aggs=(),
                    window_end: bool = False) -> list:
    """The row's column names; window_end (--gap-field): the session's
    window end, the largest time + gap of its events, after its end."""
    cols = [key_field, "session_id", "session_start_time_ms", "session_end_time_ms",
            *([WINDOW_END] if window_end else []), "session_duration_seconds",
            "event_count"]
    return cols + ([collect_as] if collect_as else []) + [name for name, _ in aggs]


class SessionRows:
    def __init__(self, key_field: str, collect_as: str | None, aggs=(),
                 window_end: bool = False):
        """aggs: (name, how) pairs of --agg, over the collected values;
        window_end: write each session's window end (--gap-field)."""
        if collect_as is not None and any(name == collect_as for name, _ in aggs):
            raise CliError(f"--agg {collect_as}: the list column (--collect-as) has that "
                           "name; choose another")
        self.names = session_columns(key_field, collect_as, aggs, window_end)
        self._window_end = window_end
        self._collect = collect_as is not None
        self._aggs = list(aggs)
        self._seen: dict = {}
        self.sessions = 0
        self._int_keys = self._str_keys = False  # which kinds of key the run has had

    def numbers(self, keys: np.ndarray, all_str: bool = False) -> np.ndarray:
        """n of each session (int64), advancing each key's count; all_str:
        the caller knows every key is a string."""
        if keys.dtype.kind in "iu":
            uniques, codes = np.unique(keys, return_inverse=True)
            uniques = uniques.tolist()
        else:
            codes, uniques = _core.factorize(keys)
        self._check_spellings(keys, uniques, all_str)
        counts = np.bincount(codes, minlength=len(uniques))
        seen = self._seen
        base = np.fromiter(map(seen.get, uniques, itertools.repeat(0)), dtype=np.int64,
                           count=len(uniques))
        seen.update(zip(uniques, (base + counts).tolist()))
        order = np.argsort(codes, kind="stable")
        rank = np.empty(len(codes), dtype=np.int64)
        rank[order] = np.arange(len(codes)) - np.repeat(np.cumsum(counts) - counts, counts)
        return base[codes] + rank + 1

    def _check_spellings(self, keys: np.ndarray, uniques: list, all_str: bool) -> None:
        """Refuses an integer key and a string key of the same text (1 and
        "1"): both sessions would be '1_session_1'.  Free while the run's
        keys are of one kind; then each key is checked against the other
        kind's keys numbered so far (every key is numbered by the end, so
        the second of such a pair to close a session is caught)."""
        if all_str:  # no pass over the keys (a tenth of the rows' time)
            has_int, has_str = False, len(uniques) > 0
        else:
            has_int = keys.dtype.kind in "iu" or any(k.__class__ is not str for k in uniques)
            has_str = keys.dtype.kind not in "iu" and any(k.__class__ is str for k in uniques)
        self._int_keys |= has_int
        self._str_keys |= has_str
        if not (self._int_keys and self._str_keys):
            return
        seen = self._seen
        batch = set(uniques)
        for k in uniques:
            twin = (str(k) if k.__class__ is not str
                    else int(k) if k.isascii() and k.lstrip("-").isdigit() and str(int(k)) == k
                    else None)
            if twin is not None and (twin in seen or twin in batch):
                i, s = (k, twin) if k.__class__ is not str else (twin, k)
                raise SpelledAlike(
                    f"{self.names[0]}: the integer key {i} and the string key {s!r} would "
                    f"share the session id {s}_session_1; give the field one type "
                    "(all strings, or all integers)")

    def table(self, s):
        """(pyarrow Table, int_keys): the rows of a StreamSessionTable's
        sessions; int_keys is None, or for a batch whose keys are both
        strings and integers (the key column then holds their text) a bool
        array marking the integers, for the writers that keep key types."""
        import pyarrow as pa
        import pyarrow.compute as pc

        n = len(s)
        self.sessions += n
        keys, int_keys = _arrow_keys(pa, s.key)
        # an object array made a string column whole holds only strings
        # (pyarrow refuses an integer there)
        all_str = (s.key.dtype.kind == "O" and int_keys is None
                   and pa.types.is_string(keys.type))
        number = self.numbers(s.key, all_str)
        spelled = keys if pa.types.is_string(keys.type) else pc.cast(keys, pa.string())
        sid = pc.binary_join_element_wise(spelled, "_session_",
                                          pc.cast(pa.array(number), pa.string()), "")
        start, end = s.start.view(np.int64), s.end.view(np.int64)
        cols = [keys, sid, pa.array(start // NS_PER_MS), pa.array(end // NS_PER_MS)]
        if self._window_end:
            cols.append(pa.array(s.window_end.view(np.int64) // NS_PER_MS))
        cols += [pa.array((end - start) / 1e9), pa.array(s.count.astype(np.int64))]
        if self._collect or self._aggs:
            v = s.values
            flat = _arrow_values(pa, v.flat)
            if self._collect:
                cols.append(_list_array(pa, v.offsets, flat))
            cols += [_aggregate(pa, name, how, v.offsets, flat) for name, how in self._aggs]
        return pa.Table.from_arrays(cols, names=self.names), int_keys


class SpelledAlike(CliError):
    """Two keys of different types whose session ids would be the same."""


def _arrow_keys(pa, keys: np.ndarray):
    """(Arrow key column, int_keys) as SessionRows.table describes them."""
    if keys.dtype.kind in "iu":
        return pa.array(keys), None
    try:
        return pa.array(keys, type=pa.string() if len(keys) and
                        keys[0].__class__ is str else None), None
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    # a batch of string and integer keys (a Python loop: only such files)
    int_keys = np.fromiter((k.__class__ is not str for k in keys), dtype=bool, count=len(keys))
    return pa.array([str(k) for k in keys], type=pa.string()), int_keys


def _arrow_values(pa, flat: np.ndarray):
    try:
        return pa.array(flat)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise CliError(f"--collect: the values' types differ ({e}); "
                       "the output needs one type per column") from None


def _list_array(pa, offsets: np.ndarray, flat):
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), flat)


def _aggregate(pa, name: str, how: str, offsets: np.ndarray, flat):
    """--agg NAME=HOW over each session's collected values (time order):
    the kernel of sessionize.sessions(agg=...), sessionize._agg.over_runs,
    on the run of each session, so the rows equal the array API's."""
    from .. import _agg

    if how == "list":
        return _list_array(pa, offsets, flat)
    # a batch whose values are all null has Arrow's null type: as float64 nulls
    src = flat.cast(pa.float64()) if pa.types.is_null(flat.type) else flat
    data, mask, _ = _agg.column(src, f"--agg {name}={how}")
    try:
        r = _agg.over_runs(how, data, mask, offsets.astype(np.int64), f"--agg {name}={how}")
    except TypeError as e:  # sum or mean of text, min of mixed types: the field's data
        raise CliError(str(e)) from None
    out = r.data
    mask = r.mask
    if out.dtype.kind == "f":  # the mean of nothing: null, not NaN, in JSON and CSV
        nan = np.isnan(out)
        mask = nan if mask is None else (mask | nan)
    arr = pa.array(out, mask=mask) if mask is not None and mask.any() else pa.array(out)
    if how in ("min", "max", "first", "last") and arr.type != flat.type:
        try:
            arr = arr.cast(flat.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
    return arr
