"""The benchmarks' clickstreams: the generator lives in the package
(sessionize/synthetic.py) so that `python -m sessionize generate` writes
the same data the benchmarks measure.

One more order is the benchmarks' own: "log64", the log with each user id
replaced by a 64-bit hash of it, as ids taken from UUIDs or hashed emails
are.  The package's ids are a sequence (0 to users - 1), and sessionize
indexes its table directly by such narrow ids; on "log64" it hashes, as it
must for any wide ids.  The sessions are the same events' sessions.
"""

import numpy as np

from sessionize.synthetic import ORDERS as PACKAGE_ORDERS
from sessionize.synthetic import START_MS
from sessionize.synthetic import clickstream as _package_clickstream

ORDERS = (*PACKAGE_ORDERS, "log64")

__all__ = ["ORDERS", "START_MS", "clickstream", "wide_ids"]


def wide_ids(users: np.ndarray) -> np.ndarray:
    """Each id through splitmix64's finalizer: a bijection of 64-bit
    integers, so distinct ids stay distinct and spread over all of int64."""
    x = users.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return x.view(np.int64)


def clickstream(n_events: int, n_users: int, order: str = "log", seed: int = 0):
    """(user ids int64, times int64 epoch ms); see sessionize.synthetic."""
    if order == "log64":
        users, times = _package_clickstream(n_events, n_users, "log", seed)
        return wide_ids(users), times
    return _package_clickstream(n_events, n_users, order, seed)
