"""Deterministic, realistic event data: the benchmarks' generators, and
what `python -m sessionize generate` writes.

`clickstream(n_events, n_users, order)` gives (user ids, epoch-ms times):
each user gets a heavy-tailed number of events; within a user, gaps are
mostly seconds to minutes (in-session clicks) and sometimes hours (between
visits), so sessions have realistic sizes.  Three arrival orders:

    "log"       time order with small jitter, users interleaved (a log file)
    "sorted"    sorted by (user, time)
    "shuffled"  random order

`search_events(n_events)` gives (users, kinds, times) of a search app's log
in the Bytewax search-session tutorial's event kinds (sessionize.events.Kind).

`page_names(n, seed)` and `event_ids(n, seed)` fill the rest of the Spark
seed's event schema for `generate`.
"""

from __future__ import annotations

import numpy as np

APP_OPEN, SEARCH, RESULTS, CLICK, APP_CLOSE, TIMEOUT = range(6)
START_MS = 1_790_870_400_000  # 2026-10-01, epoch milliseconds
ORDERS = ("log", "sorted", "shuffled")


def clickstream(n_events: int, n_users: int, order: str = "log", seed: int = 0):
    """Returns (user ids int64, times int64 epoch ms), n_events long."""
    if order not in ORDERS:
        raise ValueError(f"order: one of {ORDERS}, got {order!r}")
    rng = np.random.default_rng(seed)
    # events per user: heavy-tailed, every user has at least one
    weights = rng.pareto(1.5, n_users) + 1.0
    counts = np.maximum(1, np.floor(weights / weights.sum() * n_events)).astype(np.int64)
    diff = n_events - int(counts.sum())
    if diff > 0:
        np.add.at(counts, rng.integers(0, n_users, diff), 1)
    elif diff < 0:  # take surplus from the heaviest users
        for u in np.argsort(-counts):
            take = min(-diff, int(counts[u]) - 1)
            counts[u] -= take
            diff += take
            if diff == 0:
                break
    users = np.repeat(np.arange(n_users, dtype=np.int64), counts)
    # gaps within a user: 90% clicks (exponential, mean 40 s), 10% new visits
    # (log-uniform between 35 minutes and 2 days)
    visit = rng.random(n_events) < 0.10
    gaps = np.where(
        visit,
        np.exp(rng.uniform(np.log(35 * 60e3), np.log(2 * 86400e3), n_events)),
        rng.exponential(40e3, n_events),
    ).astype(np.int64)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    gaps[first] = rng.integers(0, 7 * 86400_000, n_users)  # each user's first event
    times = START_MS + np.cumsum(gaps)
    # restart the cumulative clock at each user's first event
    base = np.repeat(times[first] - START_MS - gaps[first], counts)
    times = times - base
    if order == "sorted":
        return users, times
    if order == "shuffled":
        p = rng.permutation(n_events)
        return users[p], times[p]
    # log: by time, with up to 2 s of jitter in arrival order
    arrival = times + rng.integers(0, 2000, n_events)
    p = np.argsort(arrival, kind="stable")
    return users[p], times[p]


# The Spark seed's pages, in the order a booking funnel visits them, and how
# often a page view lands on each (a funnel narrows).
PAGES = ("home", "search", "selection", "details", "review", "booking", "confirmation")
_PAGE_WEIGHTS = np.array([0.26, 0.24, 0.2, 0.14, 0.08, 0.05, 0.03])


def page_names(n_events: int, seed: int = 0) -> np.ndarray:
    """A page name per event (the seed's `page_name`), as a numpy str array."""
    rng = np.random.default_rng([seed, 1])
    codes = rng.choice(len(PAGES), n_events, p=_PAGE_WEIGHTS / _PAGE_WEIGHTS.sum())
    return np.array(PAGES)[codes]


def user_names(users: np.ndarray) -> np.ndarray:
    """The seed's `uuid` strings for integer user ids: 'user-00000042'."""
    return np.char.add("user-", np.char.zfill(users.astype(str), 8))


def search_events(n_events: int, n_users: int | None = None, seed: int = 0):
    """(users int64, kinds uint8, times int64 epoch ms) of n_events, in time
    order: a search app's log.

    Per session: APP_OPEN; 1 + Geometric searches (mean about 1.8), each a
    SEARCH, its RESULTS and 0-4 CLICKs (40% of searches get one or more);
    then APP_CLOSE (70%), TIMEOUT (10%) or nothing (the user just left).
    Events 1-30 s apart; a user's sessions hours apart; users heavy-tailed
    (every user has one, a few have many).  Users default to n_events / 10;
    events cut at n_events in time order leave a few sessions unfinished.
    """
    if n_users is None:
        n_users = max(1, n_events // 10)
    rng = np.random.default_rng(seed)
    # enough sessions for n_events, about 6.9 events each
    n_sess = int(n_events / 6.0) + 16
    searches = rng.geometric(0.55, n_sess)                      # >= 1, mean ~1.8
    n_search = int(searches.sum())
    clicks = np.where(rng.random(n_search) < 0.4, rng.integers(1, 5, n_search), 0)
    ending = rng.choice(np.array([APP_CLOSE, TIMEOUT, -1]), n_sess, p=[0.7, 0.1, 0.2])
    # blocks: an APP_OPEN block, one block per search, a closing block
    search_len = 2 + clicks
    first_search = np.concatenate(([0], np.cumsum(searches)[:-1]))
    search_events_per_sess = np.add.reduceat(search_len, first_search)
    sess_len = 1 + search_events_per_sess + (ending >= 0)
    total = int(sess_len.sum())
    sess_start = np.concatenate(([0], np.cumsum(sess_len)[:-1]))
    kinds = np.full(total, CLICK, dtype=np.uint8)
    kinds[sess_start] = APP_OPEN
    # search blocks start after the open, one after another within a session
    sess_of_search = np.repeat(np.arange(n_sess), searches)
    offset_in_sess = np.cumsum(search_len) - search_len
    offset_in_sess -= np.repeat(offset_in_sess[first_search], searches)
    at = sess_start[sess_of_search] + 1 + offset_in_sess
    kinds[at] = SEARCH
    kinds[at + 1] = RESULTS
    closing = ending >= 0
    kinds[(sess_start + sess_len - 1)[closing]] = ending[closing]
    sess_of_event = np.repeat(np.arange(n_sess), sess_len)

    # users: heavy-tailed numbers of sessions; a user's sessions in sequence
    # (every user has a session; the rest go to users by heavy-tailed weights)
    weights = rng.pareto(1.2, n_users) + 1.0
    user_of_sess = rng.choice(n_users, n_sess, p=weights / weights.sum())
    user_of_sess[rng.permutation(n_sess)[:min(n_users, n_sess)]] = np.arange(min(n_users, n_sess))
    steps = rng.integers(1_000, 30_000, total)                  # ms between events
    steps[sess_start] = 0
    in_sess = np.cumsum(steps)
    in_sess -= np.repeat(in_sess[sess_start], sess_len)         # from the session start
    duration = in_sess[sess_start + sess_len - 1]
    by_user = np.argsort(user_of_sess, kind="stable")
    u_sorted = user_of_sess[by_user]
    pause = np.exp(rng.uniform(np.log(40 * 60e3), np.log(3 * 86400e3), n_sess)).astype(np.int64)
    span = duration[by_user] + pause
    run_start = np.concatenate(([True], u_sorted[1:] != u_sorted[:-1]))
    clock = np.cumsum(span)
    base = np.maximum.accumulate(np.where(run_start, clock - span, 0))
    first_offset = rng.integers(0, 3 * 86400_000, n_users)[u_sorted]
    start = np.empty(n_sess, dtype=np.int64)
    start[by_user] = START_MS + first_offset + (clock - span - base)
    times = start[sess_of_event] + in_sess

    ids = rng.permutation(n_users).astype(np.int64) + 1_000_000_000
    users = ids[user_of_sess[sess_of_event]]
    order = np.argsort(times, kind="stable")[:n_events]  # a log: time order
    return users[order], kinds[order], times[order]
