"""CSV in: a header row names the fields; every value is a string (times are
parsed by timefields, keys stay strings).  Line numbers are the file's
physical lines, so a quoted field spanning lines is counted as it spans."""

from __future__ import annotations

import csv
import io
from typing import IO, Iterator

from .errors import UsageError
from .records import Chunk


def read(f: IO[bytes], fields: dict, required: set, chunk_size: int,
         option_names: dict | None = None) -> Iterator[Chunk]:
    text = io.TextIOWrapper(f, encoding="utf-8", newline="")
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        header = []
    line = reader.line_num
    index = {}
    for role, name in fields.items():
        if name in header:
            index[role] = header.index(name)
        else:
            opt = (option_names or {}).get(role, role)
            raise UsageError(
                f"{opt} {name}: no such column in the CSV header "
                f"(columns: {', '.join(header) or 'none'})")
    width = len(header)
    roles = list(index)
    key_i = roles.index("key") if "key" in roles else None
    picks = [index[r] for r in roles]

    def fresh():
        c = Chunk([], {r: [] for r in roles})
        return c, [c.columns[r] for r in roles]

    chunk, cols = fresh()
    for row in reader:
        start, line = line + 1, reader.line_num
        if len(row) != width:
            if not row:
                continue  # a blank line is not a record
            chunk.bad.append((start, f"{len(row)} fields where the header has {width}"))
            continue
        if key_i is not None and row[picks[key_i]] == "":
            chunk.bad.append((start, f"{fields['key']}: empty key"))
            continue
        chunk.lines.append(start)
        for col, j in zip(cols, picks):
            col.append(row[j])
        if len(chunk.lines) >= chunk_size:
            yield chunk
            chunk, cols = fresh()
    yield chunk
    text.detach()
