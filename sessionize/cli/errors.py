"""The command line's errors and exit codes (the documentation's command-line guide).

    0    done
    1    the environment: a missing optional package, a file that cannot be
         opened or read, an output that cannot be written (a full disk,
         standard output to /dev/full)
    2    the input or the arguments: a bad record (without --skip-bad), a
         bad option, -o naming the input or a directory, a file that is not
         what its name says (a .parquet that is not Parquet, text not UTF-8)
    3    an internal error (a bug): its type and message, no traceback
         unless SESSIONIZE_TRACEBACK=1
    130  interrupted (Ctrl-C, SIGINT); 143 terminated (SIGTERM): the
         temporary output is removed either way
"""

from __future__ import annotations

from types import ModuleType

EXIT_OK, EXIT_ENVIRONMENT, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class CliError(Exception):
    """Stops the run with a message on standard error and an exit code."""

    exit_code = EXIT_BAD_INPUT


class UsageError(CliError):
    """An option's value is wrong (names the option)."""


class BadRecordError(CliError):
    """A record that cannot be used, without --skip-bad: says where and why."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


class MissingPackage(CliError):
    exit_code = EXIT_ENVIRONMENT


def need(module: str, what: str, extra: str) -> ModuleType:
    """Imports an optional package, or says which one to install for `what`."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise MissingPackage(
            f"{what} need {package}, which is not installed: "
            f"pip install {package}  (or: pip install 'sessionize[{extra}]')"
        ) from None
