"""Parquet in (pyarrow, the `parquet` extra): read in row batches, only the
columns asked for.  Record numbers are rows, counted from 1.  Timestamp
columns are taken as they are (UTC instants) at nanosecond precision; other
columns go through the same checks as text formats."""

from __future__ import annotations

from typing import IO, Iterator

import numpy as np

from .errors import UsageError, need
from .records import Chunk, check_key


def read(f: IO[bytes], fields: dict, required: set, chunk_size: int,
         option_names: dict | None = None) -> Iterator[Chunk]:
    pa = need("pyarrow", "Parquet files", "parquet")
    pq = need("pyarrow.parquet", "Parquet files", "parquet")
    if not f.seekable():  # standard input: Parquet's footer is at the end
        import io
        f = io.BytesIO(f.read())
    pf = pq.ParquetFile(f)
    names = pf.schema_arrow.names
    roles = []
    for role, name in fields.items():
        if name not in names:
            opt = (option_names or {}).get(role, role)
            raise UsageError(f"{opt} {name}: no such column in the Parquet file "
                             f"(columns: {', '.join(names)})")
        roles.append(role)
    row = 0
    for batch in pf.iter_batches(batch_size=chunk_size, columns=[fields[r] for r in roles]):
        n = batch.num_rows
        lines = np.arange(row + 1, row + n + 1)
        cols, bad_mask, bad = {}, np.zeros(n, dtype=bool), []
        for role, arr in zip(roles, batch.columns):
            if pa.types.is_timestamp(arr.type):
                # ns since the epoch, UTC: what timefields gives; unit 'ns' ints
                vals = arr.cast(pa.timestamp("ns", arr.type.tz)).cast(pa.int64())
                values = vals.to_pylist()
                cols[role] = ("ns", values)
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
        row += n
        yield chunk
