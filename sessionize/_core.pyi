"""Type stubs of the C binding (sessionize/_core.c).

mypy.stubtest checks these against the built module (.ci/run): the
functions' argument lists are their __text_signature__ (the first line of
their docstrings in _core.c).
"""

from typing import Any, Literal, Sequence, overload

import numpy as np
import numpy.typing as npt

core_version: str
MAX_EVENTS: int

class SessionizeError(ValueError):
    """Bad data or state: a missing or bad time, mismatched lengths, a bad
    duration, a damaged snapshot, ...  The message starts with the argument
    it is about and, for one element, its position (``times[3]: missing time
    (NaT)``).  Wrong types raise ``TypeError`` instead."""

# describe: the sessions' columns (start, end, window_end, count, index,
# first_event) as the third item, else None
@overload
def batch(
    keys: npt.ArrayLike, key_kind: int, n_codes: int, times: npt.ArrayLike, gap: int,
    max_duration: int, cap_mode: int, inclusive: bool, min_is_nat: bool,
    describe: Literal[True], /,
) -> tuple[npt.NDArray[np.int64], int, tuple[npt.NDArray[np.int64], ...]]: ...
@overload
def batch(
    keys: npt.ArrayLike, key_kind: int, n_codes: int, times: npt.ArrayLike, gap: int,
    max_duration: int, cap_mode: int, inclusive: bool, min_is_nat: bool,
    describe: Literal[False], /,
) -> tuple[npt.NDArray[np.int64], int, None]: ...
def gapped(
    keys: npt.ArrayLike, key_kind: int, n_codes: int, times: npt.ArrayLike,
    gaps: npt.ArrayLike, max_duration: int, cap_mode: int, inclusive: bool,
    min_is_nat: bool, /,
) -> tuple[npt.NDArray[np.int64], tuple[npt.NDArray[np.int64], ...]]: ...
def ctr(
    keys: npt.ArrayLike,
    key_kind: int,
    n_codes: int,
    kinds: npt.ArrayLike,
    times: npt.ArrayLike | None,
    gap: int,
    inclusive: bool,
    flush: bool,
    min_is_nat: bool,
    /,
) -> tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.bool_],
    npt.NDArray[np.int64],
    int,
]: ...
def set_threads(n: int, /) -> None: ...
def seconds_to_micros(seconds: npt.ArrayLike, /) -> npt.NDArray[np.int64]: ...
def factorize(values: Sequence[Any] | npt.NDArray[Any], /) -> tuple[npt.NDArray[np.int64], list[Any]]: ...
# an int: the index of an event whose type is not in kind_of
def event_fields(
    events: Sequence[Any], kind_of: dict[type, int], /
) -> tuple[npt.NDArray[np.uint8], list[Any], list[Any], int] | int: ...
def arrow_keys(
    column: Any, arg: str, /
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
def arrow_ints(
    column: Any, arg: str, /
) -> tuple[npt.NDArray[np.int64], int, int, str]: ...
