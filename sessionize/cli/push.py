"""Pushing a chunk into a streaming sessionizer built with on_late='raise':
a late event is a bad record (its line, and how late), skipped with
--skip-bad, after which the rest of the chunk is pushed.  Element errors the
sessionizer raises (`times[i]: ...`) become bad records of their line too."""

from __future__ import annotations

import re

from .. import LateEventError, SessionizeError
from .badrecords import BadRecords

_ELEMENT = re.compile(r"^(?:keys|times|values|kinds)\[(\d+)\]: (.*)$", re.S)


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
    import numpy as np

    return np.delete(a, at)
