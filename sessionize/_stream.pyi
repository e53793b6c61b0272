"""Type stubs of the streaming binding (sessionize/_stream.c).

mypy.stubtest checks these against the built module (.ci/run): the methods'
argument lists are their __text_signature__ (their docstrings in _stream.c).
"""

from typing import Any, Callable, Sequence

import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

# batch: what a call returns in columnar mode, made from the raw columns of
# the sessions and the late events (None for none): _sessionizer._session_batch
_BatchMaker = Callable[[Any, tuple[Any, ...] | None, tuple[Any, ...] | None], Any]

@disjoint_base  # a C type with its own instance layout
class Stream:
    @property
    def late_count(self) -> int: ...
    def __init__(self, collect: bool, on_late: int, session_type: type[tuple[Any, ...]],
                 late_type: type[tuple[Any, ...]], late_error: type[BaseException],
                 batch: _BatchMaker | None = None) -> None: ...
    # a list of sessions and late events, or with a batch maker what it makes
    def push(self, key: Any, time: Any, value: Any = None, /, *, gap: Any = None) -> Any: ...
    def flush(self) -> Any: ...
    # times: int64 (an array, or any sequence numpy converts); codes: an int64
    # code per event into keys, the distinct keys; gaps: int64, checked
    def _push_many(self, keys: Any, times: npt.NDArray[np.int64] | Sequence[int], values: Any,
                   codes: npt.NDArray[np.int64] | None = None,
                   gaps: npt.NDArray[np.int64] | None = None, /) -> Any: ...
    def _advance(self, watermark: int, /) -> Any: ...
    def _configure(self, gap: int, max_duration: int, cap_mode: int, inclusive: bool,
                   delay: int, allowed_lateness: int, emit: int, min_is_nat: bool,
                   time_out: Callable[[int], Any] | None, per_event_gaps: bool = False,
                   /) -> None: ...
    # (watermark or None, keys, open sessions, open events, bytes)
    def _stats(self) -> tuple[int | None, int, int, int, int]: ...
    def _next_due(self) -> int | None: ...
    def _advance_key(self, key: Any, watermark: int, /) -> list[Any]: ...
    def _key_due(self, key: Any, /) -> int | None: ...
    # (core bytes or None, key handles, next key handle, value handles, next value handle)
    def _getstate(self) -> tuple[bytes | None, dict[int, Any], int, dict[int, Any], int]: ...
    def _setstate(self, state: bytes, handle_keys: dict[int, Any], next_key: int,
                  values: dict[int, Any], next_value: int,
                  time_out: Callable[[int], Any] | None, /) -> None: ...
