"""Session rows out, in JSON lines, CSV or Parquet.  A writer takes rows as
tuples in `columns` order; the list column (collected values) is written as
a JSON array in JSON lines, as JSON text in CSV (CSV has no lists), and as
a Parquet list column.  Whole-number floats print as integers in text
formats, as the Spark pipeline's example prints its durations (1800, not 1800.0)."""

from __future__ import annotations

import csv
import io
import json
from typing import IO

from .errors import CliError, need


def _plain(v):
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _csv_value(v):
    # JSON's and Spark's spelling of booleans, not Python's True/False
    if isinstance(v, bool):
        return "true" if v else "false"
    return _plain(v)


class JsonLinesWriter:
    def __init__(self, f: IO[bytes], columns: list, list_column: str | None):
        self._f = io.TextIOWrapper(f, encoding="utf-8", newline="\n", write_through=False)
        self._columns = columns

    def write(self, rows: list) -> None:
        dumps, cols = json.dumps, self._columns
        self._f.write("".join(
            dumps(dict(zip(cols, map(_plain, row))), ensure_ascii=False) + "\n" for row in rows))

    def close(self) -> None:
        self._f.flush()
        self._f.detach()


class CsvWriter:
    def __init__(self, f: IO[bytes], columns: list, list_column: str | None):
        self._f = io.TextIOWrapper(f, encoding="utf-8", newline="")
        self._w = csv.writer(self._f)
        self._w.writerow(columns)
        self._list_at = columns.index(list_column) if list_column else None

    def write(self, rows: list) -> None:
        at = self._list_at
        out = []
        for row in rows:
            row = [_csv_value(v) for v in row]
            if at is not None:
                row[at] = json.dumps(row[at], ensure_ascii=False)
            out.append(row)
        self._w.writerows(out)

    def close(self) -> None:
        self._f.flush()
        self._f.detach()


class ParquetWriter:
    """The first batch of rows fixes the schema (pyarrow infers it); later
    batches are cast to it, so a field whose type changes midway is an error
    naming the column, not a silently mixed file."""

    def __init__(self, f: IO[bytes], columns: list, list_column: str | None):
        self._pa = need("pyarrow", "Parquet files", "parquet")
        self._pq = need("pyarrow.parquet", "Parquet files", "parquet")
        self._f, self._columns, self._writer, self._schema = f, columns, None, None

    def write(self, rows: list) -> None:
        if not rows:
            return
        pa = self._pa
        cols = list(zip(*rows))
        arrays = [pa.array(list(c)) for c in cols]
        table = pa.table(arrays, names=self._columns)
        if self._writer is None:
            self._schema = table.schema
            self._writer = self._pq.ParquetWriter(self._f, self._schema)
        elif table.schema != self._schema:
            try:
                table = table.cast(self._schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
                raise CliError(f"Parquet output: a column changed type midway ({e})") from None
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is None:  # no rows: an empty file still has the columns
            pa = self._pa
            self._writer = self._pq.ParquetWriter(
                self._f, pa.schema([(c, pa.null()) for c in self._columns]))
        self._writer.close()


WRITERS = {"jsonl": JsonLinesWriter, "csv": CsvWriter, "parquet": ParquetWriter}
