"""The command line, `python -m sessionize COMMAND`: one module per command
(sessions_cmd, ctr_cmd, generate_cmd, demo_cmd), the options in args,
readers per format (read_jsonl, read_csv, read_parquet: each an exact
Python reader and a native Arrow one), text cut in blocks (text_blocks),
Arrow blocks made into events (arrow_events), reading ahead (prefetch),
the Spark pipeline's session rows (session_rows), writers of rows (writers) and of
Arrow tables (table_writers), time fields (timefields), bad records
(badrecords), errors and exit codes (errors) and the progress bar."""

from __future__ import annotations

import gzip
import os
import signal
import sys
import threading
import zlib
from types import FrameType
from typing import NoReturn, Sequence

from .._core import SessionizeError
from . import args as _args
from .errors import (EXIT_BAD_INPUT, EXIT_ENVIRONMENT, EXIT_INTERNAL, EXIT_INTERRUPTED,
                     EXIT_TERMINATED, CliError)
from .formats import OutputFailed


class _Terminated(BaseException):
    """SIGTERM, raised where the program is, so the commands' cleanup (the
    temporary output removed) runs as it does for Ctrl-C."""


def _on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise _Terminated()


def _quiet_stdout() -> None:
    """Standard output failed (a closed pipe, /dev/full): point it at
    /dev/null so the interpreter's last flush has nothing to complain of."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError):
        pass


class _NoPandas:
    """An import hook that refuses pandas (see _pyarrow_without_pandas)."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not used by the sessions command")
        return None


def _pyarrow_without_pandas() -> None:
    """pyarrow (26), when pandas is installed, imports it at its first
    conversion (to recognize pandas objects), and its C++ converter again
    at the first list converted: 0.2-0.4 s of CPU under the GIL and ~35 MB
    of a 2 s run, for a library the sessions command never uses.  In a
    process that is the command's own (main() with no argv: `python -m
    sessionize`, the `sessionize` script), pandas is hidden from that
    process, so pyarrow finds none.  main(argv), called from Python (the
    tests, a notebook), leaves imports alone."""
    if "pandas" not in sys.modules:
        sys.meta_path.insert(0, _NoPandas())


def main(argv: Sequence[str] | None = None) -> int:
    a = _args.parser().parse_args(argv)
    if argv is None and a.command == "sessions":
        _pyarrow_without_pandas()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        if a.command == "demo":
            from .demo_cmd import run
        elif a.command == "sessions":
            from .sessions_cmd import run
        elif a.command == "ctr":
            from .ctr_cmd import run
        else:
            from .generate_cmd import run
        return run(a)
    except CliError as e:
        if isinstance(e, OutputFailed) and (a.__dict__.get("output") or "-") == "-":
            _quiet_stdout()
        print(f"sessionize {a.command}: {e}", file=sys.stderr)
        return e.exit_code
    except SessionizeError as e:  # a setting the package refuses (names the option)
        print(f"sessionize {a.command}: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `... | head`: the reader has all it wants
        _quiet_stdout()
        return 0
    except KeyboardInterrupt:
        print(f"sessionize {a.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        print(f"sessionize {a.command}: terminated (SIGTERM)", file=sys.stderr)
        return EXIT_TERMINATED
    except UnicodeDecodeError as e:
        print(f"sessionize {a.command}: INPUT: not UTF-8 text ({e})", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (zlib.error, gzip.BadGzipFile, EOFError) as e:  # a .gz that is not (whole)
        print(f"sessionize {a.command}: INPUT: not a whole gzip stream ({e})", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:  # reading: an I/O error
        where = f"{e.filename}: " if getattr(e, "filename", None) else "INPUT: "
        print(f"sessionize {a.command}: {where}{getattr(e, 'strerror', None) or e}",
              file=sys.stderr)
        return EXIT_ENVIRONMENT
    except Exception as e:  # a bug: said plainly, the traceback on request
        if os.environ.get("SESSIONIZE_TRACEBACK"):
            raise
        print(f"sessionize {a.command}: internal error, please report it: "
              f"{type(e).__name__}: {e} (SESSIONIZE_TRACEBACK=1 shows where)", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
