"""The second Bytewax search-session seed (seeds/bytewax-search-session-window.md),
ported to Bytewax 0.21 with sessionize.bytewax.fold_window.

The seed's events come one second apart; a session window with a 5 second
gap gathers each user's events into a list (builder ``list``, folder
``add_event``), and the seed's own steps split each window into search
sessions and print each search's click-through rate.  Only the window step
changes: sessionize.bytewax.fold_window in place of Bytewax's fold_window
with an EventClock and a SessionWindower (no merger: session windows never
merge in order).  The output's order depends on when each user's window
closes; the values are 1.0, 1.0 and 0.0.

    python examples/bytewax_search_session_window.py
    python -m bytewax.run examples/bytewax_search_session_window.py:flow
"""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import bytewax.operators as op
from bytewax.connectors.stdio import StdOutSink
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource, run_main

from sessionize.events import AppClose, AppOpen, ClickResult, Results, Search
from sessionize.bytewax import fold_window

START = datetime(2023, 1, 1, tzinfo=timezone.utc)
SEED_EVENTS = [
    AppOpen(user=1),
    Search(user=1, query="dogs"),
    Results(1, ["fido", "rover", "buddy"]),
    ClickResult(1, "rover"),
    Search(1, "cats"),
    Results(1, ["fluffy", "burrito", "kathy"]),
    ClickResult(1, "fluffy"),
    AppOpen(2),
    ClickResult(1, "kathy"),
    Search(2, "fruit"),
    AppClose(1),
    AppClose(2),
]
# one second apart, as the seed's event source emits them
EVENTS = [replace(e, time=START + timedelta(seconds=i)) for i, e in enumerate(SEED_EVENTS)]


def user_event(event):
    return str(event.user), event


def add_event(acc, event):
    acc.append(event)
    return acc


def is_search(event):
    return type(event).__name__ == "Search"


def remove_key(user_window):
    _user, (_window_id, events) = user_window
    return events


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
    return 0.0


flow = Dataflow("search_session_window")
stream = op.input("input", flow, TestingSource(EVENTS))
keyed = op.map("user_event", stream, user_event)
windows = fold_window("sessionizer", keyed, gap=timedelta(seconds=5),
                      ts_getter=lambda e: e.time, builder=list, folder=add_event)
searches = op.flat_map("split_into_searches", op.map("remove_key", windows.down, remove_key),
                       split_into_searches)
searches = op.filter("filter_search", searches, has_search)
op.output("out", op.map("calc_ctr", searches, calc_ctr), StdOutSink())
op.output("late", windows.late, StdOutSink())  # none here; never dropped silently

if __name__ == "__main__":
    run_main(flow)
