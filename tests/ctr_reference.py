"""A slow, obviously correct model of search_ctr, built from the seeds' code.

The Bytewax seeds' logic functions are copied here in substance
(seeds/bytewax-search-session-reduce.md, -window.md): is_search,
session_has_closed, split_into_searches, has_search, calc_ctr.  Three
models use them:

- seed_reduce_flow(events): the first seed's dataflow, step for step
  (map initial_session, reduce(operator.add, session_has_closed), map
  remove_key, flat_map split_into_searches, filter has_search).  Sessions
  end only at AppClose, and a session never closed is never emitted.
- seed_window_flow(events, gap): the second seed's, a session window per
  user with event times (Bytewax >= 0.20: events exactly `gap` apart share a
  window), every window closed at the end of input.
- reference_ctr(keys, kinds, times, gap, flush, inclusive): SPEC.md section
  4 as a whole, the seeds' pieces combined: a user session ends at AppClose
  or Timeout (session_has_closed, widened), by the gap rule (the window
  seed), or at the end of input (flush); then the seeds' split and CTR.
  Rows come in the order of the README's close order, written here as
  plain tuples of "true" moments: an event's close at its time; a gap close
  at the first time an event could no longer join (last + gap, + 1 when
  inclusive); at equal moments gap closes first, then input position; the
  flushed sessions last, by their first search (time, position).

The search sessions the models produce are lists of event objects; the
tests compare calc_ctr of each, and each one's SEARCH position.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

from sessionize import events as ev

KIND_CLASSES = {int(cls.kind): cls for cls in ev.EVENT_CLASSES}


# ---- the seeds' logic functions ---------------------------------------------

def is_search(event):
    return type(event).__name__ == "Search"


def session_has_closed(session):
    return type(session[-1]).__name__ == "AppClose"


def split_into_searches(user_session):
    search_session = []
    for event in user_session:
        if is_search(event):
            yield search_session
            search_session = []
        search_session.append(event)
    yield search_session


def has_search(search_session):
    return any(is_search(event) for event in search_session)


def calc_ctr(search_session):
    if any(type(event).__name__ == "ClickResult" for event in search_session):
        return 1.0
    else:
        return 0.0


def clicks_of(search_session):
    return sum(type(event).__name__ == "ClickResult" for event in search_session)


# ---- the seeds' dataflows -----------------------------------------------------

def initial_session(event):
    return str(event.user), [event]


def seed_reduce_flow(events):
    """The first seed's dataflow: the search sessions it emits, in order."""
    state: dict[str, list] = {}
    out = []
    for event in events:
        key, value = initial_session(event)
        # Bytewax's reduce(step_id, reducer, is_complete): the first value is
        # the state; each next one is combined; a complete state is emitted
        # and discarded.  At the end of input, nothing more is emitted.
        state[key] = operator.add(state[key], value) if key in state else value
        if session_has_closed(state[key]):
            user_session = state.pop(key)
            out.extend(s for s in split_into_searches(user_session) if has_search(s))
    return out


def seed_window_flow(events, gap, time=lambda e: e.time):
    """The second seed's dataflow on time-ordered events: the search sessions
    of every closed session window (all of them close at the end of input),
    window by window."""
    windows: dict[str, list[list]] = {}
    for event in events:
        key, value = initial_session(event)
        wins = windows.setdefault(key, [])
        if wins and time(event) - time(wins[-1][-1]) <= gap:
            wins[-1] = operator.add(wins[-1], value)
        else:
            wins.append(value)
    out = []
    for wins in windows.values():
        for user_session in wins:
            out.extend(s for s in split_into_searches(user_session) if has_search(s))
    return out


# ---- SPEC.md section 4 --------------------------------------------------------

@dataclass
class _Session:
    events: list            # positions, in time order
    order: tuple = ()       # the close order's sort key
    dropped: bool = False


def reference_ctr(keys, kinds, times=None, gap=None, flush=True, inclusive=True):
    """Rows (key, session, search, clicked, clicks) of SPEC.md section 4.

    keys: hashable values; kinds: ints 0-5; times: ints or None.
    """
    n = len(keys)
    t = list(range(n)) if times is None else [int(x) for x in times]
    # the events as the seeds' objects, so their functions apply unchanged
    objs = [KIND_CLASSES[int(k)](*( [keys[i]] + (["x"] if int(k) in (1, 2, 3) else [])))
            for i, k in enumerate(kinds)]
    pos_of = {id(o): i for i, o in enumerate(objs)}
    watermark = max(t) if n else None

    def too_far(a, b):  # the gap rule between event times a <= b
        return gap is not None and (b - a > gap if inclusive else b - a >= gap)

    def first_moment_not_joining(last):
        return last + gap + (1 if inclusive else 0)

    by_key: dict[Any, list[int]] = {}
    for i in range(n):
        by_key.setdefault(keys[i], []).append(i)
    sessions: list[_Session] = []
    for positions in by_key.values():
        order = sorted(positions, key=lambda i: (t[i], i))
        cur: list[int] = []
        for i in order:
            if cur and too_far(t[cur[-1]], t[i]):
                last = cur[-1]
                sessions.append(_Session(cur, (0, first_moment_not_joining(t[last]), 0, last)))
                cur = []
            cur.append(i)
            if type(objs[i]).__name__ in ("AppClose", "Timeout"):
                sessions.append(_Session(cur, (0, t[i], 1, i)))
                cur = []
        if cur:
            last = cur[-1]
            if too_far(t[last], watermark):
                sessions.append(_Session(cur, (0, first_moment_not_joining(t[last]), 0, last)))
            else:
                first_search = next((i for i in cur if is_search(objs[i])), None)
                key = (1, 0, 0, 0) if first_search is None else (1, t[first_search], 0, first_search)
                sessions.append(_Session(cur, key, dropped=not flush))
    kept = [s for s in sessions if not s.dropped]
    kept.sort(key=lambda s: s.order)
    rows = []
    number = 0
    for s in kept:
        user_session = [objs[i] for i in s.events]
        searches = [ss for ss in split_into_searches(user_session) if has_search(ss)]
        for ss in searches:
            rows.append((ss[0].user, number, pos_of[id(ss[0])], calc_ctr(ss) == 1.0,
                         clicks_of(ss)))
        number += bool(searches)
    return rows
