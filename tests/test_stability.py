"""References and memory stay put over 100 thousand calls of each main API.

A leaked reference (a key, a value, an array, an output object) or a leaked
allocation per call is invisible in one call and fatal in a pipeline that
runs for weeks.  Each API here runs a warm-up, then 100 000 calls; then the
inputs' reference counts are what they were, Python's traced memory
(tracemalloc: objects and PyMem buffers) has not grown, and neither has the
process's resident memory (the C core's own malloc, which tracemalloc does
not see).  The bounds are far below one leaked byte per call.
"""

import gc
import os
import pickle
import sys
import tracemalloc

import numpy as np
import pytest

import sessionize

CALLS = 100_000
WARMUP = 2_000


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


class _Key:
    """A key object of the caller's own class: refcounted, hashable."""

    def __init__(self, n):
        self.n = n

    def __hash__(self):
        return hash(self.n)

    def __eq__(self, other):
        return isinstance(other, _Key) and other.n == self.n


KEYS = [_Key(i) for i in range(8)]
VALUE = object()
ARR_K = np.array([3, 1, 3, 2, 1, 3, 2, 2, 1, 3], dtype=np.int64)
ARR_S = np.array(["a", "b", "a", "c", "b", "a", "c", "c", "b", "a"])
ARR_T = np.array([0, 1, 4, 7, 20, 21, 40, 41, 60, 90], dtype=np.int64)
ARR_D = ARR_T.astype("M8[s]")
KINDS = np.array([0, 1, 2, 3, 1, 3, 4, 1, 3, 4], dtype=np.uint8)
LIST_K = [KEYS[i % 3] for i in range(10)]


def _batch_assign(i):
    sessionize.assign(ARR_K, ARR_T, gap=5, max_duration=30)


def _batch_sessions(i):
    sessionize.sessions(LIST_K, ARR_D, gap="5s")


def _batch_str_sessions(i):
    t = sessionize.sessions(ARR_S, ARR_T, gap=5)
    list(t.rows())


def _search_ctr(i):
    sessionize.search_ctr(LIST_K, KINDS, ARR_T, gap=10)


def _bad_input(i):
    try:
        sessionize.assign(LIST_K, [0, 1, float("nan")] + [0] * 7, gap=5)
    except sessionize.SessionizeError:
        pass


def _make_streaming():
    sz = sessionize.Sessionizer(gap=5, collect=True, emit="update", allowed_lateness=3)

    def call(i):
        # keys come back every 8 calls, past the gap: every session
        # completes and every key is freed within a few calls
        sz.push(KEYS[i % 8], i, VALUE)
        if i % 97 == 0:
            sz.push_many(KEYS[:4], [i] * 4, [VALUE] * 4)
        if i % 1009 == 0:
            sz.push(KEYS[0], i - 1000, VALUE)  # late
    return sz, call


def _make_search_streaming():
    sz = sessionize.SearchSessionizer(gap=5)

    def call(i):
        sz.push(KEYS[i % 8], int(KINDS[i % 10]), i // 2, VALUE)
    return sz, call


def _make_pickling():
    sz = sessionize.Sessionizer(gap=5, collect=True)
    for i in range(20):
        sz.push(KEYS[i % 4], i, VALUE)

    def call(i):
        pickle.loads(pickle.dumps(sz))
    return sz, call


BATCH = {
    "assign": _batch_assign,
    "sessions_object_keys": _batch_sessions,
    "sessions_str_keys": _batch_str_sessions,
    "search_ctr": _search_ctr,
    "bad_input": _bad_input,
}
STREAMING = {
    "Sessionizer": _make_streaming,
    "SearchSessionizer": _make_search_streaming,
    "pickle": _make_pickling,
}


def _refcounts():
    return [sys.getrefcount(x) for x in (*KEYS, VALUE, ARR_K, ARR_S, ARR_T, ARR_D, KINDS)]


def _check_stable(call, calls):
    for i in range(WARMUP):
        call(i)
    gc.collect()
    refs0 = _refcounts()
    rss0 = _rss()
    tracemalloc.start()
    try:
        for i in range(WARMUP, WARMUP + calls // 10):
            call(i)
        gc.collect()
        traced0, _ = tracemalloc.get_traced_memory()
        for i in range(WARMUP + calls // 10, WARMUP + calls):
            call(i)
        gc.collect()
        traced1, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss1 = _rss()
    assert _refcounts() == refs0, "a reference leaked (or was stolen)"
    # 9/10 of the calls after the traced baseline: under 1 byte per call
    assert traced1 - traced0 < 64 * 1024, f"Python memory grew by {traced1 - traced0} bytes"
    if os.environ.get("SESSIONIZE_SANITIZED") != "1":  # ASan quarantines what is freed
        assert rss1 - rss0 < 16 * 1024 * 1024, f"resident memory grew by {rss1 - rss0} bytes"


@pytest.mark.parametrize("name", list(BATCH))
def test_batch_api_is_stable(name):
    _check_stable(BATCH[name], CALLS)


@pytest.mark.parametrize("name", list(STREAMING))
def test_streaming_api_is_stable(name):
    gc.collect()
    before = _refcounts()
    sz, call = STREAMING[name]()
    # a snapshot round trip (the checksum, a restore's checks) costs ~50x a
    # push: a tenth of the calls still puts a leak of one object per call
    # far past the 64 kB bound
    _check_stable(call, CALLS // 10 if name == "pickle" else CALLS)
    sz.flush()
    del sz, call
    gc.collect()
    # the object let go of every key and value it held
    assert _refcounts() == before
