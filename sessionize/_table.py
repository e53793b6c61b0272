"""SessionTable: one row per session, as numpy columns."""

from __future__ import annotations

from typing import Any, Iterator, NamedTuple

import numpy as np


class Session(NamedTuple):
    """One row of a SessionTable."""

    key: Any
    start: Any
    end: Any
    count: int
    index: int
    window_end: Any


class SessionTable:
    """Sessions as columns: row ``i`` is session id ``i``.

    ``key``         the caller's key value
    ``start``       time of the first event
    ``end``         time of the last event
    ``count``       number of events
    ``index``       0-based ordinal of the session within its key
    ``window_end``  ``end + gap``, never beyond the cap's limit: when the
                    session can no longer grow (the engines' window end)

    Times are in the caller's type and unit.
    """

    columns = ("key", "start", "end", "count", "index", "window_end")
    __slots__ = columns

    def __init__(self, key: np.ndarray, start: np.ndarray, end: np.ndarray,
                 count: np.ndarray, index: np.ndarray, window_end: np.ndarray):
        self.key = key
        self.start = start
        self.end = end
        self.count = count
        self.index = index
        self.window_end = window_end

    def __len__(self) -> int:
        return len(self.count)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise KeyError(f"{name!r}: not a column (columns: {', '.join(self.columns)})")
        return getattr(self, name)

    def rows(self) -> Iterator[Session]:
        """Each session as a Session named tuple, in id order."""
        for values in zip(*(getattr(self, c) for c in self.columns)):
            yield Session(*values)

    def to_dict(self) -> dict[str, np.ndarray]:
        return {c: getattr(self, c) for c in self.columns}

    def to_pandas(self):
        """A pandas DataFrame with one column per field; the index is the session id."""
        try:
            import pandas as pd
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "to_pandas() needs pandas: pip install 'sessionize[pandas]'"
            ) from e
        return pd.DataFrame(self.to_dict())

    def __getstate__(self):
        return self.to_dict()

    def __setstate__(self, state):
        for c in self.columns:
            setattr(self, c, state[c])

    def __repr__(self) -> str:
        n = len(self)
        head = "\n".join(f"  {s}" for s, _ in zip(self.rows(), range(5)))
        more = f"\n  ... {n - 5} more" if n > 5 else ""
        return f"<SessionTable: {n} sessions>" + (f"\n{head}{more}" if n else "")
