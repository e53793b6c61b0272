"""Pushing a chunk into a streaming sessionizer built with on_late='raise':
a late event is a bad record (its line, and how late), skipped with
--skip-bad, after which the rest of the chunk is pushed.  Element errors the
sessionizer raises (`times[i]: ...`) become bad records of their line too."""

from __future__ import annotations

import re

import numpy as np

from .. import LateEventError, SessionizeError
from .badrecords import BadRecords

_ELEMENT = re.compile(r"^(?:keys|times|values|kinds|gaps)\[(\d+)\]: (.*)$", re.S)


def push_chunk(push_many, lines, arrays: list, bad: BadRecords, late_hint: str) -> list:
    """push_many(*[a[i:] for a in arrays]) until the chunk is used up;
    returns every item emitted, in order."""
    out, i, n = [], 0, len(lines)
    while i < n:
        try:
            out.extend(push_many(*[a[i:] if a is not None else None for a in arrays]))
            break
        except LateEventError as e:
            out.extend(e.sessions)
            at = i + e.position
            bad.add(int(lines[at]), f"late event: {late_hint}")
            i = at + 1
        except SessionizeError as e:
            m = _ELEMENT.match(str(e))
            if m is None:
                raise
            at = i + int(m.group(1))
            # the sessionizer applied nothing of a chunk with a bad element
            bad.add(int(lines[at]), m.group(2))
            arrays = [None if a is None else _drop(a, at) for a in arrays]
            lines = _drop(lines, at)
            n -= 1
    return out


def _drop(a, at):
    return np.delete(a, at)


def push_columns(sz, lines, keys, times, values, bad: BadRecords, late_hint: str,
                 gaps=None):
    """One chunk into a columnar Sessionizer (on_late='raise' without
    --skip-bad, 'return' with it); returns the session table emitted.
    keys may be an Arrow column, the rest numpy; late events and element
    errors become bad records of their lines, as push_chunk does.  gaps:
    int64 ns per event (--gap-field, a Sessionizer with per_event_gaps),
    already checked, or None (one gap: push_many as it always was)."""
    while True:
        try:
            batch = sz.push_many(keys, times, values) if gaps is None \
                else sz.push_many(keys, times, values, gaps=gaps)
        except LateEventError as e:  # on_late='raise': the run stops here
            bad.add(int(lines[e.position]), f"late event: {late_hint}")
            raise  # pragma: no cover - bad.add raises without --skip-bad
        except SessionizeError as e:
            m = _ELEMENT.match(str(e))
            if m is None:
                raise
            at = int(m.group(1))
            # the sessionizer applied nothing of a chunk with a bad element
            bad.add(int(lines[at]), m.group(2))
            keys, times, lines = _cut(keys, at), np.delete(times, at), np.delete(lines, at)
            values = None if values is None else np.delete(values, at)
            gaps = None if gaps is None else np.delete(gaps, at)
            continue
        for pos in batch.late.position.tolist():  # --skip-bad: late events skipped
            bad.add(int(lines[pos]), f"late event: {late_hint}")
        return batch.sessions


def _cut(a, at: int):
    """`a` without element `at` (numpy or Arrow)."""
    if isinstance(a, np.ndarray):
        return np.delete(a, at)
    import pyarrow as pa

    return pa.concat_arrays([a[:at], a[at + 1:]])
