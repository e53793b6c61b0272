"""Parquet in (pyarrow, the `parquet` extra): read in row batches, only the
columns asked for.  Record numbers are rows, counted from 1.  Timestamp
columns are taken as they are (UTC instants) at nanosecond precision, and
a duration column of gaps (--gap-field) as durations; other columns go
through the same checks as text formats."""

from __future__ import annotations

from typing import IO, Iterator

import numpy as np

from .errors import CliError, UsageError, need
from .records import Chunk, check_key


class NotParquet(CliError):
    """INPUT named as Parquet is not a Parquet file, or a damaged one (exit 2)."""


def read(f: IO[bytes], fields: dict, required: set, chunk_size: int,
         option_names: dict | None = None) -> Iterator[Chunk]:
    pa = need("pyarrow", "Parquet files", "parquet")
    need("pyarrow.parquet", "Parquet files", "parquet")
    pf, roles = _open(f, fields, option_names)
    row = 0
    for batch in pf.iter_batches(batch_size=chunk_size, columns=[fields[r] for r in roles]):
        yield _chunk(pa, batch, roles, fields, required, row)
        row += batch.num_rows


def _open(f, fields: dict, option_names: dict | None):
    """(ParquetFile, roles): the file opened, the fields checked."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not f.seekable():  # standard input: Parquet's footer is at the end
        import io
        f = io.BytesIO(f.read())
    try:
        pf = pq.ParquetFile(f)
    except (pa.ArrowException, OSError) as e:
        name = getattr(f, "name", None)
        raise NotParquet(f"INPUT {name if isinstance(name, str) else '-'}: "
                         f"not a Parquet file ({e})") from None
    names = pf.schema_arrow.names
    roles = []
    for role, name in fields.items():
        if name not in names:
            opt = (option_names or {}).get(role, role)
            raise UsageError(f"{opt} {name}: no such column in the Parquet file "
                             f"(columns: {', '.join(names)})")
        roles.append(role)
    return pf, roles


def _chunk(pa, batch, roles: list, fields: dict, required: set, row: int) -> Chunk:
    """One record batch as a Chunk of Python values, every record checked."""
    n = batch.num_rows
    lines = np.arange(row + 1, row + n + 1)
    cols, bad_mask, bad = {}, np.zeros(n, dtype=bool), []
    for role, arr in zip(roles, batch.columns):
        if pa.types.is_timestamp(arr.type) and role != "gap":
            # ns since the epoch, UTC: what timefields gives; unit 'ns' ints
            vals = arr.cast(pa.timestamp("ns", arr.type.tz)).cast(pa.int64())
            values = vals.to_pylist()
            cols[role] = ("ns", values)
        elif pa.types.is_duration(arr.type) and role == "gap":
            # --gap-field: durations spelled in their unit ('90s'), read
            # exactly by gapfields (as_py would make ns durations pandas
            # objects, or refuse them without pandas)
            unit = arr.type.unit
            cols[role] = (None, [None if v is None else f"{v}{unit}"
                                 for v in arr.cast(pa.int64()).to_pylist()])
        else:
            cols[role] = (None, arr.to_pylist())
        if role in required and arr.null_count:
            for i in np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False)):
                if not bad_mask[i]:
                    bad_mask[i] = True
                    bad.append((int(lines[i]), f"{fields[role]}: missing value (null)"))
    if "key" in cols:
        for i, v in enumerate(cols["key"][1]):
            if not bad_mask[i]:
                why = check_key(v)
                if why:
                    bad_mask[i] = True
                    bad.append((int(lines[i]), f"{fields['key']}: {why}"))
    bad.sort()
    keep = np.flatnonzero(~bad_mask)
    chunk = Chunk([int(lines[i]) for i in keep],
                  {r: [c[1][i] for i in keep] if len(keep) != n else c[1]
                   for r, c in cols.items()}, bad)
    chunk.time_units = {r: c[0] for r, c in cols.items() if c[0]}
    return chunk


def read_native(f: IO[bytes], fields: dict, required: set, chunk_size: int,
                option_names: dict | None = None) -> Iterator:
    """Record batches of `chunk_size` rows, only the columns asked for, as
    NativeBlocks of Arrow columns; `exact()` is the batch as `read` gives it."""
    import pyarrow as pa

    from .arrow_events import NativeBlock

    pf, roles = _open(f, fields, option_names)
    row = 0
    batches = pf.iter_batches(batch_size=chunk_size, columns=[fields[r] for r in roles])
    while True:
        try:
            batch = next(batches, None)
        except (pa.ArrowException, OSError) as e:  # a damaged page
            raise NotParquet(f"INPUT: rows after {row:,}: the Parquet data cannot be read ({e})") \
                from None
        if batch is None:
            return
        lines = np.arange(row + 1, row + batch.num_rows + 1, dtype=np.int64)
        parsed = (lines, dict(zip(roles, batch.columns)))
        yield NativeBlock(lambda parsed=parsed: parsed,
                          lambda batch=batch, row=row: iter(
                              [_chunk(pa, batch, roles, fields, required, row)]))
        row += batch.num_rows
