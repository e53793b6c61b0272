"""The search-CTR benchmark case: search_ctr against pandas and pure Python.

    python benchmarks/ctr_case.py [--events 10000000] [--users 1000000] [--reps 5]

`search_events(n)` generates a deterministic search log: users open the app,
search (one to a handful of times), get results, click some of them, and
close the app (or time out, or just leave), sessions hours apart, events
seconds apart, all users interleaved in time order.  `run(n)` times
`search_ctr` in its array forms (without times, as the first Bytewax seed
runs; with times and a 30-minute gap), the streaming form
(`SearchSessionizer.push_many` on chunks of 100 k events, then `flush`, both
ways) and, on a smaller slice, its list of events form; it times the peers (a vectorized pandas idiom, and the seed's
own pure-Python logic on a slice) and checks that every one gives exactly
the rows search_ctr gives.  A wrong answer is reported, not timed.

The harness (benchmarks/run.py) wires `run` in; it returns a dict of
figures (seconds, events per second, ratios).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import sessionize
from sessionize import events as ev
from sessionize.synthetic import search_events  # also what `generate --search` writes

APP_OPEN, SEARCH, RESULTS, CLICK, APP_CLOSE, TIMEOUT = range(6)
START_MS = 1_790_870_400_000  # 2026-10-01, epoch milliseconds
GAP_MS = 30 * 60 * 1000


# ---- peers -----------------------------------------------------------------------

def pandas_idiom(users, kinds, flush=True):
    """search_ctr(users, kinds, flush=...) as a pandas user would write it:
    input order is time order, sessions end at APP_CLOSE/TIMEOUT.  Returns
    (session, search, clicks) in search_ctr's row order."""
    import pandas as pd

    n = len(users)
    df = pd.DataFrame({"u": users, "k": kinds, "pos": np.arange(n)})
    df = df.sort_values(["u", "pos"], kind="stable")
    close = df["k"].isin([APP_CLOSE, TIMEOUT]).astype(np.int64)
    df["sess"] = close.groupby(df["u"], sort=False).cumsum() - close
    is_search = (df["k"] == SEARCH).astype(np.int64)
    df["snum"] = is_search.groupby([df["u"], df["sess"]], sort=False).cumsum()
    df = df[df["snum"] > 0]                                  # the part before a search
    keys = [df["u"], df["sess"], df["snum"]]
    rows = pd.DataFrame({
        "search": df["pos"].groupby(keys, sort=False).first(),  # the SEARCH itself
        "clicks": (df["k"] == CLICK).groupby(keys, sort=False).sum(),
    }).reset_index()
    sess = df.groupby(["u", "sess"], sort=False).agg(
        close_pos=("pos", "last"), last_kind=("k", "last"), first=("pos", "first"))
    closed = sess["last_kind"].isin([APP_CLOSE, TIMEOUT])
    sess["phase"] = np.where(closed, 0, 1)
    sess["order"] = np.where(closed, sess["close_pos"], sess["first"])
    if not flush:
        sess = sess[closed]
    sess = sess.sort_values(["phase", "order"])
    sess["session"] = np.arange(len(sess))
    rows = rows.merge(sess[["session"]], left_on=["u", "sess"], right_index=True)
    rows = rows.sort_values(["session", "search"])
    return (rows["session"].to_numpy(), rows["search"].to_numpy(),
            rows["clicks"].to_numpy())


def python_seed(users, kinds):
    """The first seed's logic in plain Python (reduce with AppClose/Timeout
    ending a session, split at searches, CTR per search), on tuples: the
    step search_ctr replaces.  Returns (search, clicks) in emission order,
    which is search_ctr(..., flush=False)'s row order."""
    state: dict = {}
    out = []
    for pos, (user, kind) in enumerate(zip(users.tolist(), kinds.tolist())):
        session = state.get(user)
        if session is None:
            session = state[user] = []
        session.append((pos, kind))
        if kind == APP_CLOSE or kind == TIMEOUT:
            del state[user]
            search = None
            for p, k in session:
                if k == SEARCH:
                    if search is not None:
                        out.append(search)
                    search = [p, 0]
                elif k == CLICK and search is not None:
                    search[1] += 1
            if search is not None:
                out.append(search)
    return [s for s, _ in out], [c for _, c in out]


def to_events(users, kinds, times=None):
    """The same log as sessionize.events objects (for the list form)."""
    classes = [ev.AppOpen, ev.Search, ev.Results, ev.ClickResult, ev.AppClose, ev.Timeout]
    out = []
    tl = times.tolist() if times is not None else None
    for i, (u, k) in enumerate(zip(users.tolist(), kinds.tolist())):
        cls = classes[k]
        t = tl[i] if tl is not None else None
        if k == SEARCH:
            out.append(cls(u, "query", t))
        elif k == RESULTS:
            out.append(cls(u, ["a", "b"], t))
        elif k == CLICK:
            out.append(cls(u, "a", t))
        else:
            out.append(cls(u, t))
    return out


# ---- timing ------------------------------------------------------------------------

def stream_ctr(users, kinds, times=None, gap=None, chunk=100_000):
    """The streaming form: SearchSessionizer.push_many on chunks, then flush;
    its rows as (session, search, clicks) arrays."""
    sz = sessionize.SearchSessionizer(gap)
    rows = []
    for i in range(0, len(users), chunk):
        rows += sz.push_many(users[i:i + chunk], kinds[i:i + chunk],
                             None if times is None else times[i:i + chunk])
    rows += sz.flush()
    return rows


def same_rows(rows, table) -> bool:
    """Streamed rows == a search_ctr table's, grouped into the same sessions
    (the numbering may differ: each call orders only what it closes)."""
    def grouped(triples):
        sessions: dict = {}
        for session, search, clicks in triples:
            sessions.setdefault(session, []).append((search, clicks))
        return sorted(sessions.values())
    return grouped((r.session, r.search, r.clicks) for r in rows) == grouped(
        zip(table.session.tolist(), table.search.tolist(), table.clicks.tolist()))


def best_of(fn, reps):
    best, result = float("inf"), None
    for _ in range(reps):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def run(n: int = 10_000_000, n_users: int | None = None, reps: int = 5,
        list_events: int = 1_000_000, python_events: int = 1_000_000,
        peers: bool = True) -> dict:
    """Times search_ctr and its peers on n generated events; every peer's rows
    are checked against search_ctr's.  Returns the figures."""
    users, kinds, times = search_events(n, n_users)
    out: dict = {"events": n, "users": int(len(np.unique(users)))}

    sec, t = best_of(lambda: sessionize.search_ctr(users, kinds), reps)
    out.update(arrays_s=sec, arrays_eps=n / sec, searches=len(t), ctr=t.ctr)
    sec, t_nf = best_of(lambda: sessionize.search_ctr(users, kinds, flush=False), reps)
    out.update(arrays_noflush_s=sec, arrays_noflush_eps=n / sec)
    sec, t_gap = best_of(lambda: sessionize.search_ctr(users, kinds, times, gap=GAP_MS), reps)
    out.update(arrays_gap_s=sec, arrays_gap_eps=n / sec, searches_gap=len(t_gap))
    sec, t_times = best_of(lambda: sessionize.search_ctr(users, kinds, times), reps)
    out.update(arrays_times_s=sec, arrays_times_eps=n / sec)
    assert t_times.search.tolist() == t.search.tolist()  # the log is in time order

    # the streaming form, chunks of 100 k, beside the batch
    sec, rows = best_of(lambda: stream_ctr(users, kinds), max(1, reps // 2))
    ok = same_rows(rows, t)
    out.update(stream_s=sec if ok else None, stream_eps=n / sec if ok else None,
               stream_ok=ok)
    sec, rows = best_of(lambda: stream_ctr(users, kinds, times, GAP_MS), max(1, reps // 2))
    ok = same_rows(rows, t_gap)
    out.update(stream_gap_s=sec if ok else None, stream_gap_eps=n / sec if ok else None,
               stream_gap_ok=ok)
    del rows

    m = min(n, list_events)
    events = to_events(users[:m], kinds[:m])
    sec, t_list = best_of(lambda: sessionize.search_ctr(events), max(1, reps // 2))
    out.update(list_events=m, list_s=sec, list_eps=m / sec)
    small = sessionize.search_ctr(users[:m], kinds[:m])
    assert t_list.search.tolist() == small.search.tolist(), "list form disagrees"
    assert t_list.clicks.tolist() == small.clicks.tolist(), "list form disagrees"

    if peers:
        sec, (p_sess, p_search, p_clicks) = best_of(lambda: pandas_idiom(users, kinds), 1)
        ok = (np.array_equal(p_sess, t.session) and np.array_equal(p_search, t.search)
              and np.array_equal(p_clicks, t.clicks))
        out.update(pandas_s=sec if ok else None, pandas_ok=ok,
                   pandas_ratio=sec / out["arrays_s"] if ok else None)
        m = min(n, python_events)
        sec, (py_search, py_clicks) = best_of(lambda: python_seed(users[:m], kinds[:m]), 1)
        ours_sec, ours = best_of(lambda: sessionize.search_ctr(users[:m], kinds[:m],
                                                               flush=False), reps)
        ok = py_search == ours.search.tolist() and py_clicks == ours.clicks.tolist()
        out.update(python_events=m, python_s=sec if ok else None, python_ok=ok,
                   python_ratio=sec / ours_sec if ok else None)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--users", type=int, default=None, help="default: events / 10")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--list-events", type=int, default=1_000_000)
    ap.add_argument("--python-events", type=int, default=1_000_000)
    ap.add_argument("--no-peers", action="store_true")
    a = ap.parse_args()
    r = run(a.events, a.users, a.reps, a.list_events, a.python_events, not a.no_peers)
    print(f"{r['events']:,} events, {r['users']:,} users, {r['searches']:,} searches, "
          f"CTR {r['ctr']:.4f} (best of {a.reps})")
    print(f"search_ctr(users, kinds)              {r['arrays_s']*1e3:8.1f} ms  "
          f"{r['arrays_eps']/1e6:6.1f} M events/s")
    print(f"search_ctr(users, kinds, flush=False) {r['arrays_noflush_s']*1e3:8.1f} ms  "
          f"{r['arrays_noflush_eps']/1e6:6.1f} M events/s")
    print(f"search_ctr(users, kinds, times)       {r['arrays_times_s']*1e3:8.1f} ms  "
          f"{r['arrays_times_eps']/1e6:6.1f} M events/s")
    print(f"search_ctr(..., times, gap=30min)     {r['arrays_gap_s']*1e3:8.1f} ms  "
          f"{r['arrays_gap_eps']/1e6:6.1f} M events/s")
    for name, label in (("stream", "SearchSessionizer.push_many (100 k)  "),
                        ("stream_gap", "  ... with times, gap=30min        ")):
        if r[f"{name}_ok"]:
            print(f"{label}  {r[f'{name}_s']*1e3:8.1f} ms  "
                  f"{r[f'{name}_eps']/1e6:6.1f} M events/s")
        else:
            print(f"{label}: WRONG ANSWER")
    print(f"search_ctr(events), {r['list_events']:,} objects  {r['list_s']*1e3:8.1f} ms  "
          f"{r['list_eps']/1e6:6.1f} M events/s")
    if "pandas_ok" in r:
        if r["pandas_ok"]:
            print(f"pandas idiom                          {r['pandas_s']*1e3:8.1f} ms  "
                  f"{r['pandas_ratio']:.1f}x slower")
        else:
            print("pandas idiom: WRONG ANSWER")
        if r["python_ok"]:
            print(f"pure Python (seed logic), {r['python_events']:,} events "
                  f"{r['python_s']*1e3:8.1f} ms  {r['python_ratio']:.1f}x slower")
        else:
            print("pure Python (seed logic): WRONG ANSWER")


if __name__ == "__main__":
    main()
