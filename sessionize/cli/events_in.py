"""From readers' chunks to the arrays the sessionizers take: times parsed,
bad records (the reader's and the unparseable times) handed to BadRecords
in line order, and, without --skip-bad, the chunk cut before the first
bad record so that what precedes it still runs (an earlier late event is
then reported first, as it comes first)."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from . import gapfields, timefields
from .badrecords import BadRecords
from .records import Chunk


class Events:
    """One chunk ready to push: lines (int64), keys (object array), times
    (int64 ns or None), gaps (int64 ns with --gap-field, else None), and the
    other roles as object arrays."""

    def __init__(self, lines, keys, times, others, gaps=None):
        self.lines, self.keys, self.times, self.others = lines, keys, times, others
        self.gaps = gaps

    def __len__(self):
        return len(self.lines)


def _objects(values: list) -> np.ndarray:
    # fromiter keeps each value whole (np.array would turn a list into a row)
    return np.fromiter(values, dtype=object, count=len(values))


def prepare(chunks: Iterator[Chunk], unit: str, bad: BadRecords,
            check=None, gap=None) -> Iterator[tuple[Events, tuple | None]]:
    """Yields (events, stop): `stop` is (line, reason) of the bad record the
    run must stop at after pushing `events`, or None.  `check(chunk)` may
    add (position, reason) of records the command itself refuses.  gap:
    the --gap-field rule (gapfields.GapRule), which reads the 'gap' role."""
    for chunk in chunks:
        problems = list(chunk.bad)
        if "time" in chunk.columns:
            t_unit = chunk.time_units.get("time", unit)
            times, bad_t = timefields.parse(chunk.columns["time"], t_unit)
            problems += [(chunk.lines[i], f"time: {why}") for i, why in bad_t]
            bad_pos = [i for i, _ in bad_t]
        else:
            times, bad_pos = None, []
        gaps = None
        if gap is not None:
            gaps, bad_g = gapfields.parse(chunk.columns["gap"],
                                          chunk.time_units.get("gap", unit), gap)
            # a record bad in its time and its gap is one bad record (the time's)
            taken = set(bad_pos)
            bad_g = [(i, why) for i, why in bad_g if i not in taken]
            problems += [(chunk.lines[i], why) for i, why in bad_g]
            bad_pos = sorted(bad_pos + [i for i, _ in bad_g])
        if check is not None:
            more = check(chunk)
            problems += [(chunk.lines[i], why) for i, why in more]
            bad_pos += [i for i, _ in more]
        problems.sort()
        stop = None
        if problems and not bad.skip:
            stop = problems[0]
            n = int(np.searchsorted(np.asarray(chunk.lines, dtype=np.int64), stop[0]))
            keep = np.arange(n)
        else:
            for line, why in problems:
                bad.add(line, why)
            keep = np.setdiff1d(np.arange(len(chunk)), bad_pos, assume_unique=True) \
                if bad_pos else None
        lines = np.asarray(chunk.lines, dtype=np.int64)
        cols = {r: _objects(c) for r, c in chunk.columns.items() if r not in ("time", "gap")}
        if keep is not None:
            lines = lines[keep]
            times = times[keep] if times is not None else None
            gaps = gaps[keep] if gaps is not None else None
            cols = {r: c[keep] for r, c in cols.items()}
        keys = cols.pop("key")
        yield Events(lines, keys, times, cols, gaps), stop
        if stop is not None:
            return
