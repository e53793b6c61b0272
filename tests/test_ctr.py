"""search_ctr's API and promises: the result table, the event classes, the
kinds, the close order's edge cases, untouched inputs, no leaks, threads."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import math
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import sessionize
from sessionize import events as ev
from sessionize.events import AppClose, AppOpen, ClickResult, Results, Search, Timeout

import ctr_reference as ref

A, S, R, C, X, T = range(6)  # APP_OPEN, SEARCH, RESULTS, CLICK, APP_CLOSE, TIMEOUT


def rows(table):
    return list(zip(table.key.tolist(), table.session.tolist(), table.search.tolist(),
                    table.clicked.tolist(), table.clicks.tolist()))


# ---- kinds ---------------------------------------------------------------------

def test_kind_constants():
    assert [sessionize.APP_OPEN, sessionize.SEARCH, sessionize.RESULTS, sessionize.CLICK,
            sessionize.APP_CLOSE, sessionize.TIMEOUT] == [0, 1, 2, 3, 4, 5]
    assert sessionize.Kind.SEARCH is ev.SEARCH is sessionize.SEARCH
    assert isinstance(sessionize.SEARCH, int)
    assert [cls.kind for cls in ev.EVENT_CLASSES] == list(sessionize.Kind)


@pytest.mark.parametrize("names", [
    ["APP_OPEN", "SEARCH", "RESULTS", "CLICK", "APP_CLOSE", "TIMEOUT"],
    ["app_open", "search", "results", "click", "app_close", "timeout"],
    ["AppOpen", "Search", "Results", "ClickResult", "AppClose", "Timeout"],
])
def test_kind_names(names):
    for form in (names, tuple(names), np.array(names), np.array(names, dtype=object),
                 np.array([n.encode() for n in names])):
        assert ev.normalize_kinds(form).tolist() == [0, 1, 2, 3, 4, 5]


def test_kinds_mixed_ints_and_names_in_a_list():
    assert ev.normalize_kinds([0, "SEARCH", sessionize.CLICK, np.int8(4)]).tolist() == \
        [0, 1, 3, 4]


def test_kind_dtypes():
    for dtype in ("int8", "uint8", "int16", "uint32", "int64", "uint64"):
        assert ev.normalize_kinds(np.arange(6, dtype=dtype)).tolist() == list(range(6))


# ---- the event classes ------------------------------------------------------------

def test_event_classes_take_the_seeds_arguments():
    assert Search(user=1, query="dogs") == Search(1, "dogs")
    assert Results(1, ["a"]).items == ["a"]
    assert ClickResult(1, "rover").item == "rover"
    assert AppOpen(2).user == 2 and AppClose(2).time is None
    assert Timeout(3, time=5).time == 5
    assert Search(1, "q", 7).time == 7


def test_event_classes_are_frozen_and_pickle():
    e = Search(1, "dogs", time=dt.datetime(2024, 1, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.user = 2
    assert pickle.loads(pickle.dumps(e)) == e
    if sys.version_info >= (3, 10):
        assert not hasattr(e, "__dict__")  # slots


def test_to_arrays():
    events = [AppOpen("ann"), Search("ann", "q"), ClickResult("bob", "i")]
    users, kinds, times = ev.to_arrays(events)
    assert users == ["ann", "ann", "bob"]
    assert kinds.dtype == np.uint8 and kinds.tolist() == [0, 1, 3]
    assert times is None
    users, kinds, times = ev.to_arrays(iter(events))  # any iterable of events
    assert kinds.tolist() == [0, 1, 3]
    obj = np.empty(3, dtype=object)
    obj[:] = events
    assert ev.to_arrays(obj)[0] == ["ann", "ann", "bob"]  # or an object array
    assert sessionize.search_ctr(tuple(events)).search.tolist() == [1]


def test_to_arrays_times():
    utc = dt.timezone.utc
    aware = [AppOpen(1, time=dt.datetime(2024, 1, 1, 12, tzinfo=utc)),
             Search(1, "q", time=dt.datetime(2024, 1, 1, 14, tzinfo=dt.timezone(dt.timedelta(hours=2))))]
    _, _, t = ev.to_arrays(aware)
    assert t.dtype == np.dtype("M8[us]")
    assert t.tolist() == [dt.datetime(2024, 1, 1, 12)] * 2  # both 12:00 UTC
    naive = [AppOpen(1, time=dt.datetime(2024, 1, 1, 12, 0, 0, 5))]
    assert ev.to_arrays(naive)[2].tolist() == [dt.datetime(2024, 1, 1, 12, 0, 0, 5)]
    assert ev.to_arrays([AppOpen(1, time=5), AppOpen(1, time=6)])[2].tolist() == [5, 6]
    assert ev.to_arrays([AppOpen(1, time=1.5)])[2].dtype == np.float64


# ---- the result table ----------------------------------------------------------------

def seed():
    return [AppOpen(user=1), Search(user=1, query="dogs"), Results(1, ["fido", "rover"]),
            ClickResult(1, "rover"), Search(1, "cats"), Results(1, ["fluffy", "kathy"]),
            ClickResult(1, "fluffy"), AppOpen(2), ClickResult(1, "kathy"), Search(2, "fruit"),
            AppClose(1), AppClose(2)]


def test_table():
    t = sessionize.search_ctr(seed())
    assert len(t) == 3
    assert t.columns == ("key", "session", "search", "clicked", "clicks")
    assert t["clicks"] is t.clicks
    with pytest.raises(KeyError):
        t["ctr"]
    assert t.session.dtype == np.int64 and t.search.dtype == np.int64
    assert t.clicked.dtype == bool and t.clicks.dtype == np.int64
    assert t.key.dtype == object  # the caller's own user values
    assert list(t.rows())[2] == sessionize.SearchRow(2, 1, 9, False, 0)
    assert t.ctr == pytest.approx(2 / 3) and t.clicks_per_search == pytest.approx(1.0)
    assert "3 searches" in repr(t)
    again = pickle.loads(pickle.dumps(t))
    assert rows(again) == rows(t)


def test_by_key():
    t = sessionize.search_ctr(seed())
    k = t.by_key()
    assert isinstance(k, sessionize.SearchKeyTable)
    assert k.key.tolist() == [1, 2]
    assert k.sessions.tolist() == [1, 1]
    assert k.searches.tolist() == [2, 1]
    assert k.clicked.tolist() == [2, 0]
    assert k.clicks.tolist() == [3, 0]
    assert k.ctr.tolist() == [1.0, 0.0]
    assert k.clicks_per_search.tolist() == [1.5, 0.0]


@pytest.mark.parametrize("keys,order", [
    (np.array([5, 3, 5, 3, 7, 5]), [3, 5, 7]),
    (np.array(list("babacb")), ["a", "b", "c"]),
    (["b", "a", "b", "a", "c", "b"], ["a", "b", "c"]),
])
def test_by_key_orders_keys_by_their_first_row(keys, order):
    # 3/a closes at position 3, then 5/b at 5; 7/c is flushed at the end
    t = sessionize.search_ctr(keys, [S, S, C, X, S, X])
    assert t.key.tolist() == order
    k = t.by_key()
    assert k.key.tolist() == order
    assert k.searches.tolist() == [1, 1, 1] and k.clicks.tolist() == [0, 1, 0]
    assert k.key.dtype == t.key.dtype


def test_empty_result():
    t = sessionize.search_ctr([1, 1], [A, C])
    assert len(t) == 0
    assert math.isnan(t.ctr) and math.isnan(t.clicks_per_search)
    assert len(t.by_key()) == 0
    # an empty table still shows its columns' types (tests/test_display.py)
    assert repr(t).splitlines()[0] == "<SearchTable: 0 searches>"
    assert repr(t).endswith("[0 rows x 5 columns]")
    e = sessionize.search_ctr([])
    assert len(e) == 0 and math.isnan(e.ctr)
    assert len(sessionize.search_ctr(np.array([], dtype=np.int64), np.array([], dtype=np.uint8))) == 0


def test_to_pandas():
    pd = pytest.importorskip("pandas")
    t = sessionize.search_ctr(seed())
    df = t.to_pandas()
    assert list(df.columns) == list(t.columns)
    assert df["clicked"].tolist() == [True, True, False]
    assert df["clicked"].mean() == pytest.approx(t.ctr)
    kd = t.by_key().to_pandas()
    assert kd["ctr"].tolist() == [1.0, 0.0]
    assert isinstance(kd, pd.DataFrame)


def test_key_types_come_back():
    kinds = [S, C, S]
    assert sessionize.search_ctr(np.array([3, 3, 4], dtype=np.int16), kinds).key.dtype == np.int16
    assert sessionize.search_ctr(np.array(["ann", "ann", "bo"]), kinds).key.tolist() == \
        ["ann", "bo"]
    tup = ("u", 1)
    got = sessionize.search_ctr([tup, tup, ("u", 2)], kinds).key
    assert got[0] is tup


def test_search_positions_look_up_queries():
    events = seed()
    t = sessionize.search_ctr(events)
    assert [events[i].query for i in t.search] == ["dogs", "cats", "fruit"]


# ---- the rules' edge cases (the README's list) ------------------------------------------

def test_click_before_any_search_is_dropped():
    t = sessionize.search_ctr([1] * 4, [C, S, C, C])
    assert rows(t) == [(1, 0, 1, True, 2)]


def test_click_after_close_before_next_search_is_dropped():
    t = sessionize.search_ctr([1] * 5, [S, X, C, S, X])
    assert rows(t) == [(1, 0, 0, False, 0), (1, 1, 3, False, 0)]


def test_session_without_search_gives_no_row_and_no_number():
    t = sessionize.search_ctr([1, 1, 2, 2, 1, 1], [A, X, S, X, S, X])
    assert rows(t) == [(2, 0, 2, False, 0), (1, 1, 4, False, 0)]


def test_app_open_does_not_split_a_session():
    t = sessionize.search_ctr([1, 1, 1, 1], [S, A, C, X])
    assert rows(t) == [(1, 0, 0, True, 1)]


def test_event_after_close_starts_the_next_session_whatever_its_kind():
    t = sessionize.search_ctr([1] * 5, [S, X, R, S, C])
    assert rows(t) == [(1, 0, 0, False, 0), (1, 1, 3, True, 1)]


def test_timeout_closes_like_app_close():
    a = sessionize.search_ctr([1, 1, 1, 1], [S, X, S, C], flush=False)
    b = sessionize.search_ctr([1, 1, 1, 1], [S, T, S, C], flush=False)
    assert rows(a) == rows(b) == [(1, 0, 0, False, 0)]


def test_flushed_sessions_come_last_in_order_of_first_search():
    keys = [1, 2, 3, 2, 3, 4]
    kinds = [S, S, S, C, X, A]
    t = sessionize.search_ctr(keys, kinds)
    # 3 closes at position 4; then the flushed ones, by first search: 1, 2
    assert [(k, s) for k, s, *_ in rows(t)] == [(3, 0), (1, 1), (2, 2)]
    assert [k for k, *_ in rows(sessionize.search_ctr(keys, kinds, flush=False))] == [3]


def test_close_order_follows_times_not_positions():
    keys = [1, 2, 1, 2]
    kinds = [S, S, X, X]
    times = np.array([0, 1, 9, 5])  # user 2 closes first in time
    t = sessionize.search_ctr(keys, kinds, times)
    assert t.key.tolist() == [2, 1]


def test_gap_closes_at_window_end_inclusive_and_exclusive():
    # user 1 searches at 0; user 2 searches at 5 and closes at 10 or 11
    keys = [1, 2, 2, 1]
    kinds = [S, S, X, A]
    for close_at, incl, first in [(10, True, 2), (11, True, 1), (10, False, 1),
                                  (9, False, 2)]:
        times = np.array([0, 5, close_at, 40])
        t = sessionize.search_ctr(keys, kinds, times, gap=10, inclusive=incl)
        assert t.key.tolist()[0] == first, (close_at, incl)
        assert rows(t) == ref.reference_ctr(keys, kinds, times.tolist(), 10, True, incl)


def test_watermark_ends_a_quiet_users_session():
    # user 1 searched at 0; user 2's event at 11 proves 1's gap of 10 passed
    t = sessionize.search_ctr([1, 2], [S, A], np.array([0, 11]), gap=10, flush=False)
    assert rows(t) == [(1, 0, 0, False, 0)]
    t = sessionize.search_ctr([1, 2], [S, A], np.array([0, 10]), gap=10, flush=False)
    assert rows(t) == []


def test_searches_in_time_order_within_a_session():
    t = sessionize.search_ctr([1, 1, 1, 1], [S, C, S, X], np.array([5, 6, 1, 9]))
    assert t.search.tolist() == [2, 0] and t.clicks.tolist() == [0, 1]


def test_ties_keep_input_order():
    t = sessionize.search_ctr([1, 1, 1], [S, C, S], np.array([3, 3, 3]))
    assert rows(t) == [(1, 0, 0, True, 1), (1, 0, 2, False, 0)]


def test_int64_extremes():
    big = np.iinfo(np.int64).max
    t = sessionize.search_ctr([1, 1, 2], [S, C, S], np.array([big - 5, big, -big]))
    # both flushed: by first search time, and -big comes first
    assert rows(t) == [(2, 0, 2, False, 0), (1, 1, 0, True, 1)]
    assert rows(t) == ref.reference_ctr([1, 1, 2], [S, C, S], [big - 5, big, -big])


# ---- promises ----------------------------------------------------------------------------

def random_log(n, n_users, seed=0, shuffle=False):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, n_users, n)
    kinds = rng.choice(np.array([0, 1, 1, 2, 3, 3, 4, 5], dtype=np.uint8), n)
    times = np.sort(rng.integers(0, n * 3, n))
    if shuffle:
        p = rng.permutation(n)
        keys, kinds, times = keys[p], kinds[p], times[p]
    return keys, kinds, times


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("gap", [None, 20])
def test_large_input_matches_reference(shuffle, gap):
    keys, kinds, times = random_log(20000, 300, seed=3, shuffle=shuffle)
    want = ref.reference_ctr(keys.tolist(), kinds.tolist(), times.tolist(), gap, True, True)
    assert rows(sessionize.search_ctr(keys, kinds, times, gap=gap)) == want
    # string and object keys give the same rows
    skeys = np.array([f"user{k}" for k in keys.tolist()])
    got = sessionize.search_ctr(skeys, kinds, times, gap=gap)
    assert [r[1:] for r in rows(got)] == [r[1:] for r in want]
    got = sessionize.search_ctr(skeys.tolist(), kinds, times, gap=gap)
    assert [r[1:] for r in rows(got)] == [r[1:] for r in want]


def test_inputs_not_mutated():
    keys, kinds, times = random_log(3000, 50, shuffle=True)
    before = keys.copy(), kinds.copy(), times.copy()
    sessionize.search_ctr(keys, kinds, times, gap=7)
    names = [sessionize.Kind(k).name for k in kinds.tolist()]
    names0 = list(names)
    sessionize.search_ctr(keys.tolist(), names)
    assert all(np.array_equal(a, b) for a, b in zip((keys, kinds, times), before))
    assert names == names0


def test_any_array_layout():
    keys, kinds, times = random_log(2000, 40)
    want = rows(sessionize.search_ctr(keys, kinds, times, gap=9))
    k2 = np.repeat(keys, 2)[::2]
    kd2 = np.repeat(kinds, 2)[::2]
    t2 = times.astype(">i8")
    assert rows(sessionize.search_ctr(k2, kd2, t2, gap=9)) == want


def test_no_reference_leaks():
    marker = ("a user", 1)
    keys = [marker, "b", marker, marker]
    kinds = ["SEARCH", "SEARCH", "CLICK", "APP_CLOSE"]
    events = [Search(marker, "q"), ClickResult(marker, "i")]
    for _ in range(10):
        sessionize.search_ctr(keys, kinds)
        sessionize.search_ctr(events)
    gc.collect()
    before = sys.getrefcount(marker)
    for _ in range(1000):
        t = sessionize.search_ctr(keys, kinds)
        t.by_key()
        del t
        sessionize.search_ctr(events)
    for _ in range(100):  # and on the error paths
        with pytest.raises(sessionize.SessionizeError):
            sessionize.search_ctr(keys, kinds[:-1] + ["NOPE"])
        with pytest.raises(sessionize.SessionizeError):
            sessionize.search_ctr(keys, np.array([1, 1, 3, 99], dtype=np.uint8))
    gc.collect()
    assert sys.getrefcount(marker) == before


def test_no_array_leaks():
    keys, kinds, times = random_log(1000, 17)
    counts = [sys.getrefcount(a) for a in (keys, kinds, times)]
    for _ in range(300):
        sessionize.search_ctr(keys, kinds, times, gap=5)
        sessionize.search_ctr(keys, kinds)
    gc.collect()
    assert [sys.getrefcount(a) for a in (keys, kinds, times)] == counts


def test_threads_give_the_same_answer():
    keys, kinds, times = random_log(200000, 5000, seed=4, shuffle=True)
    want = rows(sessionize.search_ctr(keys, kinds, times, gap=30))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(
            lambda _: rows(sessionize.search_ctr(keys, kinds, times, gap=30)), range(6)))
    assert all(r == want for r in results)


def test_readme_ctr_example_gives_what_it_shows():
    import pathlib
    # the search-CTR guide (docs/guides/search-ctr.md), where the README's example went
    readme = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "guides" / "search-ctr.md").read_text()
    t = sessionize.search_ctr(seed_events_as_in_readme(), flush=False)
    assert t.clicked.tolist() == [True, True, False]
    assert t.ctr == pytest.approx(2 / 3) and t.clicks_per_search == 1.0
    df = t.by_key().to_pandas() if _has_pandas() else None
    if df is not None:
        assert df.values.tolist() == [[1, 1, 2, 2, 3, 1.0, 1.5], [2, 1, 1, 0, 0, 0.0, 0.0]]
    assert "[ True  True False] ['dogs', 'cats', 'fruit']" in readme
    for name in ("APP_OPEN", "SEARCH", "RESULTS", "CLICK", "APP_CLOSE", "TIMEOUT"):
        value = int(getattr(sessionize, name))
        assert f"| `sessionize.{name}` | {value} |" in readme


def seed_events_as_in_readme():
    return [AppOpen(user=1), Search(user=1, query="dogs"),
            Results(1, ["fido", "rover", "buddy"]), ClickResult(1, "rover"),
            Search(1, "cats"), Results(1, ["fluffy", "burrito", "kathy"]),
            ClickResult(1, "fluffy"), AppOpen(2), ClickResult(1, "kathy"),
            Search(2, "fruit"), AppClose(1), AppClose(2)]


def _has_pandas():
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True
