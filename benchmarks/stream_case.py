"""The streaming API against batch, side by side: issue 20's targets in one run.

    python benchmarks/stream_case.py [--events 10000000] [--users 1000000]
                                     [--push-events 300000] [--reps 3] [--json FILE]

1. Chunked: a time-ordered log (the package's clickstream, put in time
   order as a stream delivers it), pushed in chunks of 100 k with a 5 s
   watermark delay, then flushed; every mode checked to give exactly
   ``sessions()`` of the whole log:
   - batch ``assign`` on the same events (the reference for the ratios);
   - ``columnar=True`` with the int64 ids, and with string ids
     (``user-0001234``) as an Arrow ``string`` column;
   - the object mode (a StreamSession per session) with the int64 ids;
   - ``columnar=True, collect=True`` (each event's page kept, an object
     array of ``str``), against ``collect=False``.
2. ``flush()`` of 1 M open sessions (one event each), both modes, against
   ``sessions()`` on those events (benchmarks/flush_case.py).
3. Per-event ``push`` on 300 k time-ordered events of 30 k string users, gap
   1800 s, delay 0, against a plain-Python dict loop that yields a tuple per
   finished session (the loop a user would write instead), both checked to
   find the same sessions.

Targets (issue 20): columnar push_many >= 30 M events/s and >= 1/3 of
assign's throughput; object mode >= 5 M/s; collect=True within 2x of
collect=False; flush of 1 M sessions <= 1 s and within 3x of sessions();
push >= 1.5x the dict loop.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import sessionize  # noqa: E402
from clickstream import clickstream  # noqa: E402

CHUNK = 100_000
DELAY_MS = 5_000
GAP_MS = 30 * 60 * 1000


def best_of(reps: int, f):
    best, out = float("inf"), None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _log(n: int, users: int):
    ids, ms = clickstream(n, users, "log", seed=0)
    order = np.argsort(ms, kind="stable")
    return ids[order].astype(np.int64), ms[order].astype(np.int64)


def _pages(n: int) -> np.ndarray:
    names = np.array([f"/page/{i}" for i in range(100)], dtype=object)
    return names[np.random.default_rng(1).integers(0, 100, n)]


def _chunked(keys, times, n, values=None, **kw):
    """Pushes the events (and values, with collect=True) in chunks, flushes;
    every table or list the calls returned."""
    z = sessionize.Sessionizer(GAP_MS, delay=DELAY_MS, **kw)
    out = []
    for i in range(0, n, CHUNK):
        v = None if values is None else values[i:i + CHUNK]
        out.append(z.push_many(keys[i:i + CHUNK], times[i:i + CHUNK], v))
    out.append(z.flush())
    return out


def _rows(out, columnar: bool):
    if columnar:
        parts = [b.sessions for b in out]
        keys = np.concatenate([np.asarray(p.key, dtype=object) for p in parts])
        start = np.concatenate([p.start for p in parts])
        count = np.concatenate([p.count for p in parts])
        return len(start), (keys, start, count)
    items = [s for part in out for s in part]
    return len(items), None


def chunked_case(n: int, users: int, reps: int) -> dict:
    import pyarrow as pa

    from sessionize.synthetic import user_names

    ids, ms = _log(n, users)
    names = pa.array(user_names(ids))
    want = sessionize.sessions(ids, ms, gap=GAP_MS)
    r = {"events": n, "users": users}
    r["assign"], labels = best_of(reps, lambda: sessionize.assign(ids, ms, gap=GAP_MS))
    assert labels.max() + 1 == len(want)
    cases = [
        ("columnar int64", ids, dict(columnar=True)),
        ("columnar Arrow string", names, dict(columnar=True)),
        ("columnar collect", ids, dict(columnar=True, collect=True)),
        ("objects int64", ids, dict()),
    ]
    # collect=True: each event's page, as a clickstream carries it (an
    # object array of str, what pandas and Arrow's to_numpy() give); made
    # once, outside the timing, as the other modes' ids and times are
    pages = _pages(n)
    for name, keys, kw in cases:
        values = pages if kw.get("collect") else None
        secs, out = best_of(reps, lambda: _chunked(keys, ms, n, values, **kw))
        count, cols = _rows(out, kw.get("columnar", False))
        assert count == len(want), (name, count, len(want))
        if cols is not None and name == "columnar int64":
            got = sorted(zip(cols[0].tolist(), cols[1].tolist(), cols[2].tolist()))
            assert got == sorted(zip(want.key.tolist(), want.start.tolist(),
                                     want.count.tolist())), name
        del out
        r[name] = secs
    return r


def push_case(n: int, users: int, reps: int) -> dict:
    """Per-event push against the dict loop, string users, seconds."""
    ids, ms = _log(n, users)
    secs = (ms // 1000).tolist()
    names = [f"user-{u:07d}" for u in ids.tolist()]
    gap = 1800

    def dict_loop():
        start, last, count, done = {}, {}, {}, []
        for u, t in zip(names, secs):
            lt = last.get(u)
            if lt is not None and t - lt > gap:
                done.append((u, start[u], lt, count[u]))
                lt = None
            if lt is None:
                start[u], count[u] = t, 0
            last[u] = t
            count[u] += 1
        done.extend((u, start[u], last[u], count[u]) for u in last)
        return done

    def pushes():
        z = sessionize.Sessionizer(gap)
        push = z.push
        out = []
        extend = out.extend
        for u, t in zip(names, secs):
            r = push(u, t)
            if r:
                extend(r)
        out.extend(z.flush())
        return out

    t_loop, loop_out = best_of(reps, dict_loop)
    t_push, push_out = best_of(reps, pushes)
    assert sorted(loop_out) == sorted((s.key, s.start, s.end, s.count) for s in push_out)
    return {"events": n, "users": users, "dict loop": t_loop, "push": t_push,
            "sessions": len(loop_out)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--users", type=int, default=None)
    ap.add_argument("--push-events", type=int, default=300_000)
    ap.add_argument("--flush-sessions", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    users = a.users or a.events // 10
    res = {}

    c = res["chunked"] = chunked_case(a.events, users, a.reps)
    n = c["events"]
    print(f"chunked: {n:,} time-ordered events of {users:,} users, chunks of {CHUNK:,}, "
          f"delay {DELAY_MS // 1000} s")
    print(f"{'':<24}{'seconds':>9}{'M ev/s':>9}{'x assign':>10}")
    for name in ("assign", "columnar int64", "columnar Arrow string", "columnar collect",
                 "objects int64"):
        s = c[name]
        print(f"{name:<24}{s:9.3f}{n / s / 1e6:9.2f}{s / c['assign']:10.2f}")
    print(f"collect=True / collect=False: {c['columnar collect'] / c['columnar int64']:.2f}x")

    from flush_case import run as flush_run

    f = res["flush"] = flush_run(a.flush_sessions, a.reps)
    print(f"\nflush: {a.flush_sessions:,} open sessions, one event each")
    for name in ("flush", "flush columnar", "advance", "advance columnar", "sessions()"):
        print(f"{name:<24}{f[name]:9.3f} s {f[name] / f['sessions()']:8.1f}x sessions()")

    p = res["push"] = push_case(a.push_events, a.push_events // 10, a.reps)
    print(f"\npush: {p['events']:,} events of {p['users']:,} string users, gap 1800 s, "
          f"delay 0 ({p['sessions']:,} sessions)")
    print(f"{'dict loop':<24}{p['dict loop']:9.3f} s")
    print(f"{'Sessionizer.push':<24}{p['push']:9.3f} s "
          f"{p['dict loop'] / p['push']:8.2f}x the dict loop's speed")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
