"""search_ctr(): search sessions and click-through rate (SPEC.md section 4)."""

from __future__ import annotations

import re

import numpy as np

from . import _core, _keys, _times, events as _events
from ._core import SessionizeError
from ._table import SearchTable
from ._types import Column, Duration

# Element errors found in the arrays of a list of events name the event.
_ELEMENT = re.compile(r"^(keys|kinds|times)\[(\d+)\]")
_FIELD = {"keys": "user", "kinds": "kind", "times": "time"}


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a bool, got {type(value).__name__}")


def search_ctr(events_or_keys: Column, kinds: Column | None = None,
               times: Column | None = None, *, gap: Duration | None = None,
               flush: bool = True, inclusive: bool = True) -> SearchTable:
    """One row per search, and the click-through rate.

    ``search_ctr(events)`` takes a list of :mod:`sessionize.events` objects
    (``AppOpen(user)``, ``Search(user, query)``, ..., each with an optional
    ``time``); ``search_ctr(keys, kinds, times=None)`` takes arrays: keys as
    for :func:`sessionize.sessions`, kinds as :class:`sessionize.Kind` ints or
    their names, times optional (without them input order is time order).

    Per key, in time order, user sessions end at an APP_CLOSE or TIMEOUT
    event (which belongs to them), by the gap rule when ``gap`` is given
    (``inclusive`` as for :func:`sessionize.sessions`), and at the end of the
    input unless ``flush=False`` (then they are dropped, as the first version
    of the Bytewax search-session tutorial drops them in its ``reduce``).  Each is split before every SEARCH, the
    part before its first search dropped; each search is one row.

    Rows come in the order the user sessions closed, each one's searches in
    time order; the documentation's search-CTR guide gives the exact order and the edge cases.
    """
    _check_bool(flush, "flush")
    _check_bool(inclusive, "inclusive")
    if kinds is None:
        if times is not None:
            raise TypeError(
                "times: given with a list of events, whose times are their own "
                "(event.time); pass keys and kinds as arrays to give times apart"
            )
        users, kinds_arr, times = _events.to_arrays(events_or_keys)
        try:
            return _run(users, kinds_arr, times, gap, flush, inclusive)
        except (SessionizeError, TypeError) as e:
            m = _ELEMENT.match(str(e))
            if m is None:
                raise
            name, i = m.group(1), m.group(2)
            msg = f"events[{i}].{_FIELD[name]}" + str(e)[m.end():]
            raise type(e)(msg) from None
    return _run(events_or_keys, kinds, times, gap, flush, inclusive)


def _run(keys, kinds, times, gap, flush, inclusive) -> SearchTable:
    for name, arg in (("keys", keys), ("kinds", kinds), ("times", times)):
        if arg is not None:
            _keys.check_count(arg, name)
    k = _keys.normalize(keys)
    kd = _events.normalize_kinds(kinds)
    if len(k) != len(kd):
        raise SessionizeError(f"keys and kinds: lengths differ ({len(k)} vs {len(kd)})")
    if times is None:
        if gap is not None and len(kd):  # (an empty list of events has no times)
            raise SessionizeError(
                "gap: the gap rule needs times; pass times (or events with a time)"
            )
        t, gap_i, nat = None, 0, False
    else:
        t, kind = _times.normalize(times)
        if len(t) != len(kd):
            raise SessionizeError(
                f"kinds and times: lengths differ ({len(kd)} vs {len(t)})"
            )
        gap_i = 0 if gap is None else kind.to_int(gap, "gap")
        nat = kind.nat
    session, search, clicked, clicks, _path = _core.ctr(
        k.data, k.kind, k.n_codes, kd, t, gap_i, bool(inclusive), bool(flush), nat)
    return SearchTable(key=k.take(search), session=session, search=search,
                       clicked=clicked, clicks=clicks)
