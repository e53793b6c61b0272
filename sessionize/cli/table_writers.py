"""Session rows out as Arrow tables, a batch at a time, with no Python
object per row: Parquet through Arrow's writer; JSON lines and CSV as text
that Arrow's string kernels put together (Arrow writes no JSON, and its
CSV writer quotes differently from Python's), byte for byte what the
Python writers (writers.py) write for the same rows: JSON as
`json.dumps(row, ensure_ascii=False)`, CSV as `csv.writer` (minimal
quoting, CRLF), whole-number floats as integers, the list column a JSON
array (in CSV as JSON text).  A column of a type the kernels do not spell
as Python does (floats inside lists, nested values, strings with control
characters) is spelled by Python, for that batch only."""

from __future__ import annotations

import csv
import io
import json
from typing import IO

import numpy as np

from .errors import CliError

_CONTROL = r"[\x00-\x1f]"


def _pa():
    import pyarrow as pa
    import pyarrow.compute as pc

    return pa, pc


def _python(col, spell) -> object:
    pa, _ = _pa()
    return pa.array([spell(v) for v in col.to_pylist()], type=pa.string())


def _dumps(v) -> str:
    return json.dumps(v, ensure_ascii=False)


def json_text(col, int_keys: np.ndarray | None = None, in_list: bool = False):
    """Each value of an Arrow column as JSON text (a string array)."""
    pa, pc = _pa()
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        if pc.any(pc.match_substring_regex(col, _CONTROL)).as_py():
            text = _python(col, _dumps)
        else:
            esc = pc.replace_substring(pc.replace_substring(col, "\\", "\\\\"), '"', '\\"')
            text = pc.binary_join_element_wise('"', esc, '"', "")
        if int_keys is not None:  # mixed keys: integers as numbers
            text = pc.if_else(pa.array(int_keys), col, text)
    elif pa.types.is_integer(t) or (pa.types.is_floating(t) and not in_list):
        # Arrow spells a whole float as an integer, as the Python writer does
        # for its durations (1800, not 1800.0)
        text = pc.cast(col, pa.string())
    elif pa.types.is_boolean(t):
        text = pc.if_else(col, "true", "false")
    elif pa.types.is_list(t) and not col.null_count:
        inner = json_text(col.flatten(), in_list=True)
        offsets = pc.subtract(col.offsets, col.offsets[0])
        joined = pc.binary_join(pa.ListArray.from_arrays(offsets, inner), ", ")
        return pc.binary_join_element_wise("[", joined, "]", "")
    elif pa.types.is_null(t):
        text = pa.array(["null"] * len(col), type=pa.string())
    else:
        return _python(col, _dumps)
    return pc.fill_null(text, "null") if col.null_count else text


def csv_text(col, list_column: bool = False):
    """Each value as csv.writer writes it (quoted only when it must be; a
    null, as csv.writer writes None, empty)."""
    _, pc = _pa()
    text = _csv_values(col, list_column)
    if col.null_count:  # an --agg of a session without a value (first, min, ...)
        text = pc.if_else(col.is_null(), "", text)
    return text


def _csv_values(col, list_column: bool):
    pa, pc = _pa()
    t = col.type
    if list_column:
        col = json_text(col)
    elif pa.types.is_boolean(t):
        return pc.if_else(col, "true", "false")
    elif not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        col = json_text(col)
    quote = pc.match_substring_regex(col, '[",\r\n]')
    if not pc.any(quote).as_py():
        return col
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(col, '"', '""'), '"', "")
    return pc.if_else(quote, quoted, col)


def write_strings(f: IO[bytes], text) -> None:
    """Writes a string array's bytes, one value after the other: its data
    buffer, no copy, no Python string."""
    if hasattr(text, "combine_chunks"):
        text = text.combine_chunks()
    if len(text) == 0:
        return
    wide = text.type.equals(__import__("pyarrow").large_string())
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64 if wide else np.int32,
                            count=len(text) + 1, offset=text.offset * (8 if wide else 4))
    data = text.buffers()[2]
    if data is not None and offsets[-1] > offsets[0]:
        f.write(memoryview(data)[offsets[0]:offsets[-1]])


class JsonLinesTableWriter:
    def __init__(self, f: IO[bytes], names: list, list_column: str | None):
        self._f = f
        # '{"uuid": ', ', "session_id": ', ...: the names' JSON spelled once
        self._prefixes = [("{" if i == 0 else ", ") + _dumps(n) + ": "
                          for i, n in enumerate(names)]

    def write(self, table, int_keys=None) -> None:
        if table.num_rows == 0:
            return
        _, pc = _pa()
        parts = []
        for i, (prefix, col) in enumerate(zip(self._prefixes, table.columns)):
            parts += [prefix, json_text(col.combine_chunks(), int_keys if i == 0 else None)]
        write_strings(self._f, pc.binary_join_element_wise(*parts, "}\n", ""))

    def close(self) -> None:
        self._f.flush()


class CsvTableWriter:
    def __init__(self, f: IO[bytes], names: list, list_column: str | None):
        self._f = f
        head = io.StringIO(newline="")
        csv.writer(head).writerow(names)
        f.write(head.getvalue().encode("utf-8"))
        self._list_at = names.index(list_column) if list_column else None

    def write(self, table, int_keys=None) -> None:
        if table.num_rows == 0:
            return
        _, pc = _pa()
        cols = [csv_text(c.combine_chunks(), i == self._list_at)
                for i, c in enumerate(table.columns)]
        row = pc.binary_join_element_wise(*cols, ",")
        write_strings(self._f, pc.binary_join_element_wise(row, "\r\n", ""))

    def close(self) -> None:
        self._f.flush()


class ParquetTableWriter:
    """The first batch fixes the schema; later batches are cast to it, so a
    column whose type changes midway is an error naming it, not a silently
    mixed file."""

    def __init__(self, f: IO[bytes], names: list, list_column: str | None):
        import pyarrow.parquet as pq

        self._pq, self._f, self._names = pq, f, names
        self._writer = self._schema = None

    def write(self, table, int_keys=None) -> None:
        pa, _ = _pa()
        if table.num_rows == 0:
            return
        if int_keys is not None:
            raise CliError(f"{self._names[0]}: keys are both strings and integers, and a "
                           "Parquet column holds one type; write JSON lines or CSV")
        if self._writer is None:
            self._schema = table.schema
            self._writer = self._pq.ParquetWriter(self._f, self._schema,
                                                  use_dictionary=_dictionary_columns(pa, table))
        elif table.schema != self._schema:
            try:
                table = table.cast(self._schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
                raise CliError(f"Parquet output: a column changed type midway ({e})") from None
        self._writer.write_table(table)

    def close(self) -> None:
        pa, _ = _pa()
        if self._writer is None:  # no rows: an empty file still has the columns
            self._writer = self._pq.ParquetWriter(
                self._f, pa.schema([(c, pa.null()) for c in self._names]))
        self._writer.close()


# columns whose values are mostly distinct: the writer's dictionary would be
# tried and given up on each row group (a quarter of its time)
_PLAIN = {"session_id", "session_start_time_ms", "session_end_time_ms",
          "session_window_end_time_ms", "session_duration_seconds"}


def _dictionary_columns(pa, table) -> list:
    """The Parquet column paths to dictionary-encode: the key, the count and
    the collected values (few distinct), not the ids, times or durations."""
    paths = []
    for i, field in enumerate(table.schema):
        if i > 0 and field.name in _PLAIN:
            continue
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            paths.append(f"{field.name}.list.element")
        paths.append(field.name)
    return paths


TABLE_WRITERS = {"jsonl": JsonLinesTableWriter, "csv": CsvTableWriter,
                 "parquet": ParquetTableWriter}
