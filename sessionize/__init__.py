"""sessionize: fast, faithful sessionization of event streams.

    >>> import numpy as np, sessionize
    >>> sessionize.assign(np.array([1, 1, 2, 1]), np.array([0, 10, 5, 100]), gap=30)
    array([0, 0, 2, 1])

See README.md for the engines each setting reproduces.
"""

from ._core import SessionizeError
from ._batch import assign, sessions
from ._table import Session, SessionTable
from ._sessionizer import LateEvent, LateEventError, Sessionizer, StreamSession, stream

__version__ = "0.1.0"

__all__ = [
    "assign", "sessions", "SessionTable", "Session", "SessionizeError",
    "Sessionizer", "stream", "StreamSession", "LateEvent", "LateEventError",
    "__version__",
]
