"""Text input cut into blocks of whole lines, for the native (Arrow) JSON
and CSV readers: each block is handed to Arrow's parser whole, and when the
parser rejects it, re-read alone by the exact Python reader, which finds
the bad lines.  Line numbers stay the file's: a block knows its first
line's number.  A UTF-8 byte-order mark at the start of the input is
dropped (editors on Windows write one)."""

from __future__ import annotations

from typing import IO, Iterator

import numpy as np

BOM = b"\xef\xbb\xbf"
_PROBE = 1 << 20  # bytes read first to learn the average line length


def strip_bom(data: bytes) -> bytes:
    return data[len(BOM):] if data.startswith(BOM) else data


class Blocks:
    """Blocks of about `lines` lines from `f`, each (first line number,
    bytes ending at a line end or the end of input).  With `quotes` (CSV)
    a block is never cut inside a quoted field: a cut is moved on until
    the block holds an even number of quote characters."""

    def __init__(self, f: IO[bytes], lines: int, quotes: bool = False):
        self._f, self._quotes = f, quotes
        self._rest = strip_bom(self._read(_PROBE))
        newlines = self._rest.count(b"\n")
        # bytes per block from the first MiB's line length (at least 64 KiB,
        # so that a small --chunk-size does not mean tiny reads)
        per_line = len(self._rest) / max(newlines, 1)
        self._bytes = max(1 << 16, int(per_line * lines))
        self.line = 1  # number of the next line to hand out

    def _read(self, n: int) -> bytes:
        return self._f.read(n) or b""

    def first_line(self) -> bytes:
        """Takes the first line (CSV's header) off the input, with its end."""
        while b"\n" not in self._rest:
            more = self._read(self._bytes)
            if not more:
                break
            self._rest += more
        cut = self._rest.find(b"\n") + 1 or len(self._rest)
        head, self._rest = self._rest[:cut], self._rest[cut:]
        self.line += 1
        return head

    def __iter__(self) -> Iterator[tuple[int, int, bytearray]]:
        """(first line number, number of lines, block) per block."""
        # each block is read (readinto) into its own bytearray, allocated
        # zeroed at full size (pages untouched until read into), and handed
        # out whole, truncated at its cut in place: one copy of the text
        eof = False
        while not (eof and not self._rest):
            size = self._bytes
            buf = bytearray(max(size, len(self._rest)))
            buf[:len(self._rest)] = self._rest
            filled, eof = self._fill(buf, len(self._rest))
            cut = filled if eof and filled <= size else self._cut(buf, min(filled, size))
            while cut is None:  # no line end (or no balanced one) yet: read on
                size += self._bytes
                buf.extend(bytes(self._bytes))
                filled, eof = self._fill(buf, filled)
                cut = filled if eof else self._cut(buf, filled)
            self._rest = bytes(buf[cut:filled])
            del buf[cut:]
            if not buf:
                return
            # numpy's vectorized compare counts twice as fast as bytes.count
            first, n = self.line, int(np.count_nonzero(np.frombuffer(buf, np.uint8) == 10))
            self.line += n
            yield first, n + (not buf.endswith(b"\n")), buf

    def _fill(self, buf: bytearray, filled: int) -> tuple[int, bool]:
        """Reads into buf[filled:] until full: (bytes now in buf, end of input)."""
        view = memoryview(buf)
        try:
            while filled < len(buf):
                n = self._f.readinto(view[filled:])
                if not n:
                    return filled, True
                filled += n
        finally:
            view.release()
        return filled, False

    def _cut(self, buf: bytearray, filled: int) -> int | None:
        cut = buf.rfind(b"\n", 0, filled) + 1
        if not cut:
            return None
        if not self._quotes or buf.count(b'"', 0, cut) % 2 == 0:
            return cut
        # a quoted field holds a line end: cut after the last line end at
        # which the quotes seen so far are balanced
        data = np.frombuffer(buf, dtype=np.uint8, count=cut)
        ends = np.flatnonzero(data == 10)
        odd = np.cumsum(data == 34)[ends] % 2
        even = ends[odd == 0]
        return int(even[-1]) + 1 if len(even) else None


def row_lines(block: bytes, first: int, n_lines: int, rows: int) -> np.ndarray | None:
    """The line number of each of the `rows` records Arrow read from
    `block` (`n_lines` lines from line `first`), Arrow having passed over
    blank lines (empty or whitespace); None when the count does not add up
    (the block then goes to the exact reader)."""
    if rows == n_lines:  # the common case: no blank line
        return np.arange(first, first + rows, dtype=np.int64)
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(data)]))
    if block.endswith(b"\n"):  # no line after the last line end
        starts, stops = starts[:-1], stops[:-1]
    blank = stops - starts == 0
    # whitespace-only lines are short; check those few as Python does
    for i in np.flatnonzero((stops - starts <= 16) & ~blank):
        blank[i] = not block[starts[i]:stops[i]].strip()
    lines = np.flatnonzero(~blank) + first
    return lines.astype(np.int64) if len(lines) == rows else None
