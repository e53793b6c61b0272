"""What every reader yields: chunks of records, the fields the command asked
for, each record's line (or row) number, and the records that could not be
read, with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator


@dataclass
class Chunk:
    lines: list[int]       # line (row) number of each record in `columns`
    columns: dict[str, Any]  # role ('key', 'time', 'value', ...) -> list of raw values
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) of unreadable records
    time_units: dict[str, str] = field(default_factory=dict)  # role -> unit its numbers are in,
    #                                                  when the format says (Parquet)

    def __len__(self) -> int:
        return len(self.lines)


def check_key(v: object) -> str | None:
    """Why `v` cannot be a key, or None.  Keys are strings or integers: the
    session id is '<key>_session_<n>', and a float or a list has no single
    spelling there."""
    if v is None:
        return "missing key"
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        return f"key of type {type(v).__name__} ({v!r:.40}): expected a string or an integer"
    if v == "":
        return "empty key"
    return None


def shifted(chunks: Iterable[Chunk], by: int) -> Iterator[Chunk]:
    """Chunks of a block read alone, their line numbers moved by `by` to
    the file's (the exact re-read of a block the native reader refused)."""
    for c in chunks:
        if by:
            c.lines = [n + by for n in c.lines]
            c.bad = [(n + by, why) for n, why in c.bad]
        yield c
