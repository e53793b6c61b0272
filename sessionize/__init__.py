"""sessionize: fast, faithful sessionization of event streams.

    >>> import numpy as np, sessionize
    >>> sessionize.assign(np.array([1, 1, 2, 1]), np.array([0, 10, 5, 100]), gap=30)
    array([0, 0, 2, 1])

Search sessions and click-through rate (the Bytewax seeds):

    >>> from sessionize.events import AppOpen, Search, ClickResult, AppClose
    >>> sessionize.search_ctr([AppOpen(1), Search(1, "dogs"), ClickResult(1, "rover"),
    ...                        AppClose(1)], flush=False).ctr
    1.0

See README.md for the engines each setting reproduces.
"""

from ._core import SessionizeError
from ._batch import assign, sessions
from ._table import KeyRow, SearchKeyTable, SearchRow, SearchTable, Session, SessionTable
from . import events
from .events import APP_CLOSE, APP_OPEN, CLICK, RESULTS, SEARCH, TIMEOUT, Kind
from ._ctr import search_ctr
from ._sessionizer import LateEvent, LateEventError, Sessionizer, StreamSession, stream
from ._search_stream import SearchSessionizer, StreamSearchRow, search_ctr_stream

__version__ = "0.1.0"

__all__ = [
    "assign", "sessions", "SessionTable", "Session", "SessionizeError",
    "Sessionizer", "stream", "StreamSession", "LateEvent", "LateEventError", "__version__",
    "search_ctr", "SearchTable", "SearchRow", "SearchKeyTable", "KeyRow", "events",
    "SearchSessionizer", "StreamSearchRow", "search_ctr_stream",
    "Kind", "APP_OPEN", "SEARCH", "RESULTS", "CLICK", "APP_CLOSE", "TIMEOUT",
]
