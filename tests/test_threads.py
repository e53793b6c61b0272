"""Two threads change how fast a result comes, never what it is.

Inputs of 2**18 events or more run their passes in two parts on two
threads (csrc/parallel.c); set_threads(1) keeps them on one.  The C tests
cut small inputs in two parts as well; these check the binding's switch
and large inputs, in each path the core takes.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import sessionize

N = 400_000  # above the 2**18 threshold


def _events(order: str, seed: int):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, 20_000, N)
    times = np.cumsum(rng.exponential(200.0, N)).astype(np.int64)
    if order == "sorted":
        o = np.lexsort((times, users))
        return users[o], times[o]
    if order == "shuffled":
        o = rng.permutation(N)
        return users[o], times[o]
    times = times + rng.integers(0, 50, N)  # a log's jitter
    return users, times


@pytest.fixture
def one_thread_then_default():
    yield
    sessionize.set_threads(0)


@pytest.mark.parametrize("order", ["log", "sorted", "shuffled"])
@pytest.mark.parametrize("keys", ["int", "str"])
def test_two_threads_same_as_one(order, keys, one_thread_then_default):
    users, times = _events(order, seed=len(order))
    k = users if keys == "int" else users.astype("U8")
    sessionize.set_threads(1)
    one = sessionize.assign(k, times, gap=1_000, max_duration=20_000)
    t1 = sessionize.sessions(k, times, gap=1_000)
    sessionize.set_threads(0)
    two = sessionize.assign(k, times, gap=1_000, max_duration=20_000)
    t2 = sessionize.sessions(k, times, gap=1_000)
    np.testing.assert_array_equal(one, two)
    for col in ("key", "start", "end", "count", "index", "window_end"):
        np.testing.assert_array_equal(getattr(t1, col), getattr(t2, col))


def test_errors_are_the_first_with_two_threads(one_thread_then_default):
    users, times = _events("sorted", seed=3)
    bad = times.astype("M8[ms]")
    bad[N - 10] = np.datetime64("NaT")
    bad[N // 2 + 7] = np.datetime64("NaT")
    for n in (1, 0):
        sessionize.set_threads(n)
        with pytest.raises(sessionize.SessionizeError, match=rf"times\[{N // 2 + 7}\]"):
            sessionize.assign(users, bad, gap=np.timedelta64(1, "s"))


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_set_threads_rejects(bad):
    with pytest.raises(ValueError, match="n: expected an int >= 0"):
        sessionize.set_threads(bad)


def test_environment_variable():
    code = "import sessionize"
    env = dict(os.environ, SESSIONIZE_THREADS="x")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "SESSIONIZE_THREADS" in r.stderr
    env["SESSIONIZE_THREADS"] = "1"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
