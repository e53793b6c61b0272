"""Which format a file is in, and opening it: by extension ('.jsonl',
'.ndjson', '.json', '.csv', '.parquet', '.pq', each optionally '.gz') or
--format; '-' is standard input or output (JSON lines unless --format says
otherwise)."""

from __future__ import annotations

import gzip
import os
import sys
from typing import IO

from . import read_csv, read_jsonl, read_parquet
from .errors import CliError, EXIT_ENVIRONMENT, UsageError

FORMATS = ("jsonl", "csv", "parquet")
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
               ".parquet": "parquet", ".pq": "parquet"}
READERS = {"jsonl": read_jsonl.read, "csv": read_csv.read, "parquet": read_parquet.read}
# Arrow's readers, block by block (NativeBlock), each block falling back
# to the exact reader above when a record in it must be refused
NATIVE_READERS = {"jsonl": read_jsonl.read_native, "csv": read_csv.read_native,
                  "parquet": read_parquet.read_native}


def format_of(path: str, given: str | None, option: str, default: str | None = None) -> str:
    if given:
        return given
    if path == "-":
        return default or "jsonl"
    name = path[:-3] if path.endswith(".gz") else path
    ext = os.path.splitext(name)[1].lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    if default:
        return default
    raise UsageError(f"{option} {path}: cannot tell the format from the extension "
                     f"(use .jsonl, .csv or .parquet, or give {_FORMAT_OPTION[option]})")


_FORMAT_OPTION = {"INPUT": "--format", "-o": "--output-format"}


class _Failed(CliError):
    exit_code = EXIT_ENVIRONMENT


def refuse_output_as_input(input_path: str, output: str | None) -> None:
    """-o naming the input (the same path, or another name of the same
    file) would overwrite the events before they are read: refused before
    anything is opened for writing."""
    if output in (None, "-") or input_path == "-":
        return
    try:
        same = os.path.samefile(input_path, output)
    except OSError:  # the output does not exist yet (or the input does not)
        same = os.path.abspath(input_path) == os.path.abspath(output)
    if same:
        raise UsageError(f"-o {output}: that is the input file; give another name")


def open_input(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdin.buffer
    try:
        return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
    except OSError as e:
        raise _Failed(f"INPUT {path}: {e.strerror or e}") from None


class Output:
    """The output file, written under a temporary name and renamed into place
    when the run succeeds, so a failed run leaves no half-written file
    (standard output is written as it goes)."""

    def __init__(self, path: str | None):
        self.path = path
        if path in (None, "-"):
            self.file, self._tmp = sys.stdout.buffer, None
            return
        self._tmp = f"{path}.tmp-{os.getpid()}"
        try:
            raw = open(self._tmp, "wb")
        except OSError as e:
            raise _Failed(f"-o {path}: {e.strerror or e}") from None
        self._raw = raw
        self.file = gzip.GzipFile(fileobj=raw, mode="wb") if path.endswith(".gz") else raw

    def commit(self) -> None:
        if self._tmp is None:
            self.file.flush()
            return
        self.file.close()
        if self.file is not self._raw:
            self._raw.close()
        os.replace(self._tmp, self.path)

    def discard(self) -> None:
        if self._tmp is None:
            return
        try:
            self.file.close()
            self._raw.close()
        finally:
            if os.path.exists(self._tmp):
                os.remove(self._tmp)
