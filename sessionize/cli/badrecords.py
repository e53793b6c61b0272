"""Bad records: without --skip-bad the first one stops the run (exit 2) with
its line number and the reason; with it, each is skipped and counted, and
the summary says how many and the first line numbers.  Never silently."""

from __future__ import annotations

import bisect

from .errors import BadRecordError

FIRST_SHOWN = 10


class BadRecords:
    def __init__(self, skip: bool, noun: str = "line"):
        self.skip, self.noun = skip, noun
        self.count = 0
        self.first: list[tuple[int, str]] = []

    def add(self, line: int, reason: str) -> None:
        if not self.skip:
            raise BadRecordError(f"{self.noun} {line}", reason)
        self.count += 1
        # the lowest line numbers: a chunk's late events are found after its
        # unreadable records, though they may come first in the file
        bisect.insort(self.first, (line, reason))
        del self.first[FIRST_SHOWN:]

    def summary(self) -> str:
        if not self.count:
            return "0 bad records"
        shown = ", ".join(str(line) for line, _ in self.first)
        more = ", ..." if self.count > len(self.first) else ""
        line, reason = self.first[0]
        return (f"{self.count:,} bad records skipped ({self.noun}s {shown}{more}; "
                f"first: {self.noun} {line}: {reason})")
