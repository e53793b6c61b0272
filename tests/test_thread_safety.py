"""Two threads at once: the batch API gives what it gives alone, and a
Sessionizer or SearchSessionizer shared by two threads is safe.

The batch functions keep no state between calls (the core is reentrant), so
calls running together, each releasing the GIL while the core works, give
each the result it gives alone.  A stream object holds state; each of its
methods holds the object's lock (sessionize/_streamcommon.h), so two threads
pushing into one object see their calls applied one after the other, never
interleaved inside a call.  The checks: every event lands in exactly one
final session, and the sessions are those of the batch API (and of one
thread pushing alone) over the same events.
"""

import threading
from collections import Counter

import numpy as np
import pytest

import sessionize

N = 300_000  # above the core's two-part threshold and the GIL-release size


def _events(seed: int, n: int = N, users: int = 5_000):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, users, n)
    times = np.cumsum(rng.exponential(50.0, n)).astype(np.int64)
    times = times + rng.integers(0, 400, n)  # out of order within a key
    return keys, times


def _run_together(fns):
    """Runs every fn at the same moment on its own thread; returns results."""
    barrier = threading.Barrier(len(fns))
    out: list = [None] * len(fns)
    errors: list = []

    def run(i, fn):
        try:
            barrier.wait()
            out[i] = fn()
        except BaseException as e:  # reported by the test, not swallowed
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return out


def test_batch_api_from_two_threads_gives_what_it_gives_alone():
    inputs = [_events(1), _events(2)]
    alone = [sessionize.assign(k, t, gap=300, max_duration=5_000) for k, t in inputs]
    tables = [sessionize.sessions(k.astype("U6"), t, gap=300) for k, t in inputs]
    for _ in range(3):
        both = _run_together([lambda k=k, t=t: sessionize.assign(k, t, gap=300,
                                                                 max_duration=5_000)
                              for k, t in inputs])
        for a, b in zip(alone, both):
            np.testing.assert_array_equal(a, b)
        both = _run_together([lambda k=k, t=t: sessionize.sessions(k.astype("U6"), t,
                                                                   gap=300)
                              for k, t in inputs])
        for a, b in zip(tables, both):
            for col in ("key", "start", "end", "count", "index", "window_end"):
                np.testing.assert_array_equal(getattr(a, col), getattr(b, col))


def test_search_ctr_from_two_threads_gives_what_it_gives_alone():
    rng = np.random.default_rng(7)
    inputs = []
    for _ in range(2):
        keys = rng.integers(0, 3_000, N)
        kinds = rng.integers(0, 6, N).astype(np.uint8)
        times = np.cumsum(rng.exponential(20.0, N)).astype(np.int64)
        inputs.append((keys, kinds, times))
    alone = [sessionize.search_ctr(k, d, t, gap=500) for k, d, t in inputs]
    both = _run_together([lambda a=a: sessionize.search_ctr(*a, gap=500) for a in inputs])
    for a, b in zip(alone, both):
        for col in ("key", "session", "search", "clicked", "clicks"):
            np.testing.assert_array_equal(getattr(a, col), getattr(b, col))


def _finals(records):
    return Counter((r.key, r.start, r.end, r.count) for r in records
                   if isinstance(r, sessionize.StreamSession))


@pytest.mark.parametrize("chunk", [1, 97, 8_192])  # 8192: pushes without the GIL
def test_one_sessionizer_two_threads(chunk):
    keys, times = _events(3, n=60_000 if chunk > 1 else 12_000, users=500)
    # a delay longer than the whole span: however the two threads interleave,
    # no event is late, so the final sessions are the batch's
    delay = int(times.max() - times.min()) + 1
    sz = sessionize.Sessionizer(gap=300, max_duration=5_000, delay=delay)
    halves = [np.arange(len(keys))[i::2] for i in range(2)]

    def feed(idx):
        out = []
        for lo in range(0, len(idx), chunk):
            part = idx[lo:lo + chunk]
            if chunk == 1:
                out += sz.push(int(keys[part[0]]), int(times[part[0]]))
            else:
                out += sz.push_many(keys[part], times[part])
        return out

    pushed = _run_together([lambda h=h: feed(h) for h in halves])
    got = sum((Counter() if p is None else _finals(p) for p in pushed), Counter())
    got += _finals(sz.flush())
    assert sz.late_count == 0
    assert sum(n * c for (_, _, _, c), n in got.items()) == len(keys)  # none lost
    table = sessionize.sessions(keys, times, gap=300, max_duration=5_000)
    want = Counter(zip(table.key.tolist(), table.start.tolist(), table.end.tolist(),
                       table.count.tolist()))
    assert got == want
    assert sz.stats()["keys"] == 0


def test_one_search_sessionizer_two_threads():
    rng = np.random.default_rng(11)
    n = 80_000
    keys = rng.integers(0, 800, n)
    kinds = rng.integers(0, 6, n).astype(np.uint8)
    times = np.cumsum(rng.exponential(20.0, n)).astype(np.int64)
    delay = int(times.max() - times.min()) + 1  # nothing late, whatever the order
    # each thread pushes its own keys (each key's events in one order), so
    # the rows per key are those of one thread pushing everything
    mine = [np.flatnonzero(keys % 2 == i) for i in range(2)]

    def rows_of(out):
        return Counter((r.key, r.time, r.clicks) for r in out)

    def feed(sz, idx, chunk):
        out = []
        for lo in range(0, len(idx), chunk):
            part = idx[lo:lo + chunk]
            out += sz.push_many(keys[part], kinds[part], times[part])
        return out

    alone = sessionize.SearchSessionizer(gap=500, delay=delay)
    want = rows_of(feed(alone, np.arange(n), 5_000) + alone.flush())
    for chunk in (64, 8_192):
        sz = sessionize.SearchSessionizer(gap=500, delay=delay)
        pushed = _run_together([lambda m=m: feed(sz, m, chunk) for m in mine])
        got = rows_of(pushed[0] + pushed[1] + sz.flush())
        assert got == want
        assert sz.late_count == 0


def test_lock_lets_a_callback_use_the_same_object():
    """The lock is re-entrant for its holder: a push whose time conversion
    calls back into Python (configuring the stream on the first event) works
    from any thread, and a second thread waits instead of failing."""
    import datetime as dt

    sz = sessionize.Sessionizer(gap=dt.timedelta(seconds=30), delay=dt.timedelta(days=1))
    t0 = dt.datetime(2024, 1, 1)
    out = _run_together([
        lambda: sum((sz.push("a", t0 + dt.timedelta(seconds=i)) for i in range(2_000)), []),
        lambda: sum((sz.push("b", t0 + dt.timedelta(seconds=i)) for i in range(2_000)), []),
    ])
    final = out[0] + out[1] + sz.flush()
    assert sorted((s.key, s.count) for s in final) == [("a", 2_000), ("b", 2_000)]
    assert sz.late_count == 0


class _YieldingKey:
    """A key whose hashing lets other threads run (time.sleep(0) releases
    the GIL) in the middle of the call that holds the stream: every other
    thread then finds the object held and waits for it."""

    def __init__(self, name):
        self.name = name

    def __hash__(self):
        import time
        time.sleep(0)
        return hash(self.name)

    def __eq__(self, other):
        return isinstance(other, _YieldingKey) and other.name == self.name


def test_four_threads_wait_for_a_held_stream_in_turn():
    """Four threads push into one Sessionizer, each call giving up the GIL
    inside it: the waiting threads pass one at a time, each gets the object
    once it is free (a waiter passed while another thread took the object
    waits again), none is stranded, and the result is one thread's."""
    rng = np.random.default_rng(5)
    n, users = 4_000, 40
    names = [f"u{u}" for u in rng.integers(0, users, n)]
    times = np.cumsum(rng.integers(1, 30, n)).tolist()
    delay = times[-1] + 1  # nothing late, whatever the interleaving
    keys = {name: _YieldingKey(name) for name in set(names)}

    def finals(out):
        return Counter((s.key.name, s.start, s.end, s.count) for s in out)

    alone = sessionize.Sessionizer(gap=100, delay=delay)
    want = finals([s for k, t in zip(names, times) for s in alone.push(keys[k], t)]
                  + alone.flush())
    sz = sessionize.Sessionizer(gap=100, delay=delay)

    def feed(part):
        out = []
        for i in part:
            out += sz.push(keys[names[i]], times[i])
            if i % 7 == 0:
                out += sz.advance(times[i] - delay)  # a second method, same object
        return out

    parts = [range(i, n, 4) for i in range(4)]
    got = sum((finals(p) for p in _run_together([lambda p=p: feed(p) for p in parts])),
              Counter())
    got += finals(sz.flush())
    assert got == want
    assert sum(c * m for (_, _, _, c), m in got.items()) == n
    assert sz.late_count == 0 and sz.stats()["keys"] == 0
