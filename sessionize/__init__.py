"""sessionize: fast, faithful sessionization of event streams.

    >>> import numpy as np, sessionize
    >>> sessionize.assign(np.array([1, 1, 2, 1]), np.array([0, 10, 5, 100]), gap=30)
    array([0, 0, 2, 1])

Search sessions and click-through rate (the Bytewax search-session tutorial):

    >>> from sessionize.events import AppOpen, Search, ClickResult, AppClose
    >>> sessionize.search_ctr([AppOpen(1), Search(1, "dogs"), ClickResult(1, "rover"),
    ...                        AppClose(1)], flush=False).ctr
    1.0

The documentation (docs/, built with MkDocs) says which settings reproduce
which engine's session windows.
"""

try:
    from . import _core
except ImportError as _e:  # no built extension: say what to do, as numpy does
    import os as _os

    _src = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
    if _os.path.exists(_os.path.join(_src, "setup.py")):
        raise ImportError(
            f"sessionize's C extension is not built, and this is the source tree at {_src}. "
            "Install the package (pip install .  or, to work on it, pip install -e .) and "
            "import it from outside this folder, or build the extension in place with "
            "`python setup.py build_ext --inplace`."
        ) from _e
    raise
from ._core import SessionizeError
from ._gaps import SessionizeWarning
from ._batch import assign, sessions
from ._table import (
    AggregatedSessionTable, CollectedSessionTable, KeyRow, LateRow, LateTable, ListColumn, SearchKeyTable, SearchRow,
    SearchTable, Session, SessionTable, StreamBatch, StreamSearchTable, StreamSessionTable,
)
from . import events
from .events import APP_CLOSE, APP_OPEN, CLICK, RESULTS, SEARCH, TIMEOUT, Kind
from ._ctr import search_ctr
from ._sessionizer import LateEvent, LateEventError, Sessionizer, StreamSession, stream
from ._search_stream import SearchSessionizer, StreamSearchRow, search_ctr_stream
from ._types import AggHow, AggSpec, Duration, Emit, MaxDurationMode, OnBadGap, OnLate, TimeUnit

__version__ = "0.1.0"


def set_threads(n: int) -> None:
    """The most threads one call may use.

    ``1`` keeps every call on the calling thread; ``0`` (the default) lets
    :func:`assign` and :func:`sessions` over 2**18 events or more run their
    passes in two parts on two threads when the machine has two cores.
    Results never depend on it.  Inside an engine that already runs a
    worker per core (Spark, Flink, Beam, Bytewax), ``1`` avoids
    oversubscription.  The environment variable ``SESSIONIZE_THREADS`` sets
    it at import.
    """
    import numbers

    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n: expected an int >= 0, got {n!r}")
    _core.set_threads(int(n))


def _threads_from_env() -> None:
    import os

    v = os.environ.get("SESSIONIZE_THREADS")
    if v is None or v == "":
        return
    try:
        n = int(v)
    except ValueError:
        raise ValueError(f"SESSIONIZE_THREADS: expected an int >= 0, got {v!r}") from None
    set_threads(n)


_threads_from_env()

__all__ = [
    "assign", "sessions", "SessionTable", "Session", "SessionizeError", "SessionizeWarning",
    "Sessionizer", "stream", "StreamSession", "LateEvent", "LateEventError", "__version__",
    "set_threads", "search_ctr", "SearchTable", "SearchRow", "SearchKeyTable", "KeyRow", "events",
    "SearchSessionizer", "StreamSearchRow", "search_ctr_stream",
    "StreamBatch", "StreamSessionTable", "CollectedSessionTable", "StreamSearchTable",
    "LateTable", "LateRow", "ListColumn", "AggregatedSessionTable",
    "Kind", "APP_OPEN", "SEARCH", "RESULTS", "CLICK", "APP_CLOSE", "TIMEOUT",
    # types for annotating code that passes arguments on (sessionize/_types.py)
    "MaxDurationMode", "OnLate", "Emit", "AggHow", "AggSpec", "Duration", "TimeUnit",
    "OnBadGap",
]
