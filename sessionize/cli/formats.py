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


class OutputFailed(CliError):
    """Writing the output failed (a full disk, a closed pipe's reader gone
    is not this: that ends the run quietly)."""

    exit_code = EXIT_ENVIRONMENT


class _Guarded:
    """The output file as the writers see it: an OSError while writing or
    flushing (ENOSPC, EFBIG, EIO) becomes an OutputFailed naming the
    output, for the message and exit code 1.  BrokenPipeError passes: the
    reader of `... | head` has what it wants."""

    def __init__(self, f, name: str):
        self._f, self._name = f, name

    def _failed(self, e: OSError) -> OutputFailed:
        return OutputFailed(f"{self._name}: {e.strerror or e}")

    def write(self, data) -> int:
        try:
            return self._f.write(data)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise self._failed(e) from None

    def flush(self) -> None:
        try:
            self._f.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise self._failed(e) from None

    def close(self) -> None:
        try:
            self._f.close()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise self._failed(e) from None

    @property
    def closed(self) -> bool:
        return self._f.closed

    def tell(self) -> int:
        return self._f.tell()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False


class Output:
    """The output file, written under a temporary name and renamed into place
    when the run succeeds, so a failed run leaves no half-written file
    (standard output is written as it goes).  A run stopped by an error,
    Ctrl-C or SIGTERM (the commands' `except BaseException`) removes it."""

    def __init__(self, path: str | None):
        self.path = path
        if path in (None, "-"):
            self._raw, self._tmp = sys.stdout.buffer, None
            self.file = _Guarded(self._raw, "standard output")
            return
        if os.path.isdir(path):
            raise UsageError(f"-o {path}: is a directory; name a file in it")
        self._tmp = f"{path}.tmp-{os.getpid()}"
        try:
            raw = open(self._tmp, "wb")
        except OSError as e:
            raise _Failed(f"-o {path}: {e.strerror or e}") from None
        self._raw = raw
        name = f"-o {path}"
        self.file = _Guarded(gzip.GzipFile(fileobj=raw, mode="wb"), name) \
            if path.endswith(".gz") else _Guarded(raw, name)

    def commit(self) -> None:
        if self._tmp is None:
            self.file.flush()
            return
        self.file.close()
        _Guarded(self._raw, f"-o {self.path}").close()
        try:
            os.replace(self._tmp, self.path)
        except OSError as e:
            raise _Failed(f"-o {self.path}: {e.strerror or e}") from None

    def discard(self) -> None:
        if self._tmp is None:
            return
        try:
            for f in (self.file, self._raw):
                try:
                    f.close()
                except OSError:  # the disk that failed the run fails the close
                    pass
        finally:
            if os.path.exists(self._tmp):
                os.remove(self._tmp)
