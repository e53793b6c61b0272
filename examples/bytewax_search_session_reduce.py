"""The first Bytewax search-session seed (seeds/bytewax-search-session-reduce.md),
ported to Bytewax 0.21 with sessionize.bytewax.search_ctr.

The seed keys events by user, reduces them into user sessions closed by
AppClose, splits each before every Search, drops the part before the first
search and prints 1.0 or 0.0 per search (a click or not).  search_ctr does
all of that per key in the C core; flush=False keeps the seed's rule that a
session never closed by AppClose is never emitted.

    python examples/bytewax_search_session_reduce.py     # prints 1.0, 1.0, 0.0
    python -m bytewax.run examples/bytewax_search_session_reduce.py:flow
"""

import bytewax.operators as op
from bytewax.connectors.stdio import StdOutSink
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource, run_main

# The seed's dataclasses, with the same names and fields (and an optional time)
from sessionize.events import AppClose, AppOpen, ClickResult, Results, Search
from sessionize.bytewax import search_ctr

IMAGINE_THESE_EVENTS_STREAM_FROM_CLIENTS = [
    AppOpen(user=1),
    Search(user=1, query="dogs"),
    # Eliding named args...
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


def calc_ctr(user_row):
    _user, row = user_row
    return 1.0 if row.clicked else 0.0


flow = Dataflow("search_session_reduce")
events = op.input("input", flow, TestingSource(IMAGINE_THESE_EVENTS_STREAM_FROM_CLIENTS))
# Sessions are per user: key by the user id as a string, as the seed does.
keyed = op.key_on("initial_session", events, lambda e: str(e.user))
searches = search_ctr("sessionizer", keyed, flush=False)
op.output("out", op.map("calc_ctr", searches.rows, calc_ctr), StdOutSink())
# Nothing is late without times, but nothing is dropped silently either.
op.output("late", searches.late, StdOutSink())

if __name__ == "__main__":
    run_main(flow)
