"""The command line, `python -m sessionize COMMAND`: one module per command
(sessions_cmd, ctr_cmd, generate_cmd, demo_cmd), the options in args,
readers per format (read_jsonl, read_csv, read_parquet), writers, time
fields (timefields), bad records (badrecords) and the progress bar."""

from __future__ import annotations

import sys

from .._core import SessionizeError
from . import args as _args
from .errors import EXIT_BAD_INPUT, CliError


def main(argv=None) -> int:
    a = _args.parser().parse_args(argv)
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
        print(f"sessionize {a.command}: {e}", file=sys.stderr)
        return e.exit_code
    except SessionizeError as e:  # a setting the package refuses (names the option)
        print(f"sessionize {a.command}: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `... | head`: the reader has all it wants
        return 0
