"""CSV in: a header row names the fields; every value is a string (times are
parsed by timefields, keys stay strings).  Line numbers are the file's
physical lines, so a quoted field spanning lines is counted as it spans."""

from __future__ import annotations

import csv
import io
from functools import partial
from typing import IO, Iterator

from .errors import UsageError
from .records import Chunk


def read(f: IO[bytes], fields: dict, required: set, chunk_size: int,
         option_names: dict | None = None) -> Iterator[Chunk]:
    # utf-8-sig: a byte-order mark opening the file is not part of the header
    text = io.TextIOWrapper(f, encoding="utf-8-sig", newline="")
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


# ---- the native reader ----------------------------------------------------

def read_native(f: IO[bytes], fields: dict, required: set, chunk_size: int,
                option_names: dict | None = None) -> Iterator:
    """Blocks of about `chunk_size` lines, as NativeBlocks to be parsed by
    Arrow's CSV reader (in C), only the columns asked for, every value a string as
    `read` gives it; a block Arrow refuses (a wrong number of fields, a
    quoted line end) or with a record `read` would refuse is re-read by
    `read` alone, after the header."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from .arrow_events import NativeBlock
    from .records import shifted
    from .text_blocks import Blocks

    blocks = Blocks(f, chunk_size, quotes=True)
    head = blocks.first_line()
    header = next(csv.reader([head.decode("utf-8", "replace")]), [])
    for role, name in fields.items():
        if name not in header:
            opt = (option_names or {}).get(role, role)
            raise UsageError(
                f"{opt} {name}: no such column in the CSV header "
                f"(columns: {', '.join(header) or 'none'})")
    names = list(dict.fromkeys(fields.values()))
    native = len(set(header)) == len(header)  # Arrow needs the names unique
    options = (
        pcsv.ReadOptions(column_names=header),
        pcsv.ParseOptions(newlines_in_values=False),
        pcsv.ConvertOptions(include_columns=names, column_types={n: pa.string() for n in names},
                            strings_can_be_null=False, quoted_strings_can_be_null=False))
    for first, n_lines, block in blocks:
        def exact(block=block, first=first):
            return shifted(read(io.BytesIO(head + block), fields, required, 1 << 62,
                                option_names), first - 2)

        yield NativeBlock(partial(_parse, block, first, n_lines, fields, options)
                          if native else (lambda: None), exact)


def _parse(block, first: int, n_lines: int, fields: dict, options: tuple):
    """(lines, role -> column) of a block by Arrow's CSV parser, or None."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from .text_blocks import row_lines

    if b'"' in block and _quoted_line_end(block):
        return None
    try:
        table = pcsv.read_csv(pa.BufferReader(block), *options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    lines = row_lines(block, first, n_lines, table.num_rows)
    if lines is None:
        return None
    return lines, {role: table.column(name) for role, name in fields.items()}


def _quoted_line_end(block: bytes) -> bool:
    """Whether a quoted field of `block` holds a line end (a line with an
    odd number of quotes): Arrow, told values hold none, would split it."""
    import numpy as np

    data = np.frombuffer(block, dtype=np.uint8)
    odd = np.cumsum(data == 34)[np.flatnonzero(data == 10)] % 2
    return bool(odd.any())
