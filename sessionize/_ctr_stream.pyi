"""Type stubs of the search-CTR stream binding (sessionize/_ctr_stream.c).

mypy.stubtest checks these against the built module (.ci/run): the methods'
argument lists are their __text_signature__ (their docstrings in _ctr_stream.c).
"""

from typing import Any, Callable

import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

# batch: what a call returns in columnar mode, made from the raw columns of
# the rows and the late events (None for none): _search_stream._search_batch
_BatchMaker = Callable[[Any, tuple[Any, ...] | None, tuple[Any, ...] | None], Any]
# time_out: int64 times to the caller's type (None: ints as they are; False:
# the stream has no times)
_TimeOut = Callable[[int], Any] | None | bool

@disjoint_base  # a C type with its own instance layout
class CtrStream:
    @property
    def late_count(self) -> int: ...
    def __init__(self, on_late: int, row_type: type[tuple[Any, ...]],
                 late_type: type[tuple[Any, ...]], late_error: type[BaseException],
                 batch: _BatchMaker | None = None) -> None: ...
    # a list of rows and late events, or with a batch maker what it makes
    def flush(self) -> Any: ...
    def _push_one(self, key: Any, kind: int, time: int | None, value: Any, /) -> Any: ...
    # codes: an int64 code per event into keys, the distinct keys
    def _push_many(self, keys: Any, kinds: npt.NDArray[np.uint8],
                   times: npt.NDArray[np.int64] | None, values: Any,
                   codes: npt.NDArray[np.int64] | None = None, /) -> Any: ...
    def _advance(self, watermark: int, /) -> Any: ...
    def _configure(self, gap: int, inclusive: bool, times: bool, delay: int,
                   min_is_nat: bool, time_out: _TimeOut, /) -> None: ...
    # (watermark: None before any, Ellipsis after flush; then events, sessions,
    # keys, open sessions, open searches, buffered events, bytes)
    def _stats(self) -> tuple[Any, int, int, int, int, int, int, int]: ...
    # (core bytes or None, key handles, next key handle, value handles)
    def _getstate(self) -> tuple[bytes | None, dict[int, Any], int, dict[int, Any]]: ...
    def _setstate(self, state: bytes, handle_keys: dict[int, Any], next_key: int,
                  values: dict[int, Any], time_out: _TimeOut, /) -> None: ...
