"""sessionize.beam against Apache Beam itself, the reference model and the seeds.

- `Sessionize` gives the sessions of Beam's own WindowInto(Sessions) +
  GroupByKey, run beside it in the same pipeline, on a few thousand events
  most of them exactly `gap` apart; with the same window and timestamp on
  every session, and the values in time order.
- `max_duration` (which Beam lacks) against tests/reference.py, both modes.
- The DirectRunner in multi_processing mode with two workers, and in
  streaming mode (TestStream): sessions per upstream window.
- The Beam seed's pipeline (examples/beam_session_windows.py) gives the
  seed's four sessions, with Beam's own windows and with Sessionize.
- `SearchCTR` against sessionize.search_ctr on random events, and the two
  Bytewax seeds' CTRs; `OverallCTR`.
- Bad arguments raise errors naming them.

Beam pipelines take seconds to start, so each test runs one pipeline with
several branches.
"""

from __future__ import annotations

import dataclasses
import random
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

import sessionize
from sessionize.events import AppClose, AppOpen, ClickResult, Results, Search, Timeout

from engines.beam_run import IN_MEMORY, MULTI_PROCESSING, run_branches
from engines.data import boundary_events, step_profile
from engines.require import engine
from reference import reference_sessions

ROOT = Path(__file__).resolve().parent.parent
GAP_MS = 5_000  # the tests' gap: 5 s, events on whole milliseconds
ORIGIN_MS = 1_790_870_400_000


@pytest.fixture(scope="module")
def beam():
    return engine("apache_beam", dist="apache-beam", minversion="2.77")


@pytest.fixture(scope="module")
def sbeam(beam):
    import sessionize.beam as sbeam

    return sbeam


def _events(seed: int, n: int, n_keys: int):
    """(key, id, ms) boundary-heavy events; ids in time order, shuffled."""
    ev = boundary_events(seed, GAP_MS, ORIGIN_MS, n_keys=n_keys, n=n)
    p = step_profile(ev.keys, ev.ticks, GAP_MS)
    assert p["gap"] >= n // 5 and p["gap-1"] >= 10 and p["gap+1"] >= 10, p
    rows = [(ev.keys[i], i, ev.ticks[i]) for i in ev.shuffled_ids(seed)]
    return ev, rows


def _stamped(beam, p, rows, label="events"):
    from apache_beam.transforms import window
    from apache_beam.utils.timestamp import Timestamp

    return (p
            | f"{label}: create" >> beam.Create(rows)
            | f"{label}: stamp" >> beam.Map(
                lambda e: window.TimestampedValue((e[0], e[1]), Timestamp(micros=e[2] * 1000))))


def _ours_rows(beam, label):
    """(key, BeamSession) -> a JSON row with the element's window and timestamp."""

    class Row(beam.DoFn):
        def process(self, kv, w=beam.DoFn.WindowParam, ts=beam.DoFn.TimestampParam):
            key, s = kv
            yield [key, s.key, s.start.micros, s.end.micros, s.window_end.micros, s.count,
                   s.index, s.values, w.start.micros, w.end.micros, ts.micros]

    return label >> beam.ParDo(Row())


def _beam_rows(beam, label):
    """Beam's own (key, values) after GroupByKey -> window, timestamp, values."""

    class Row(beam.DoFn):
        def process(self, kv, w=beam.DoFn.WindowParam, ts=beam.DoFn.TimestampParam):
            key, ids = kv
            yield [key, w.start.micros, w.end.micros, ts.micros, sorted(ids)]

    return label >> beam.ParDo(Row())


def _check_our_rows(rows):
    """What every Sessionize output must hold, whatever the settings."""
    by_key = defaultdict(list)
    for key, skey, start, end, wend, count, index, values, wstart, wstop, ts in rows:
        assert skey == key
        assert (wstart, wstop) == (start, wend)  # the element's window is the session's
        assert ts == wend - 1                    # Beam's end-of-window timestamp
        assert count == len(values) and start <= end < wend
        by_key[key].append((start, index))
    for key, sess in by_key.items():  # index: the session's ordinal in its key
        assert [i for _, i in sorted(sess)] == list(range(len(sess))), key


# ---------------------------------------------------------------- Sessionize

def test_sessionize_matches_beams_own_session_windows(beam, sbeam):
    from apache_beam.transforms import window

    ev, rows = _events(seed=7, n=3000, n_keys=40)

    def build(p):
        events = _stamped(beam, p, rows)
        return {
            "ours": events | sbeam.Sessionize(GAP_MS / 1000) | _ours_rows(beam, "ours rows"),
            "theirs": (events
                       | "sessions" >> beam.WindowInto(window.Sessions(GAP_MS / 1000))
                       | beam.GroupByKey()
                       | _beam_rows(beam, "theirs rows")),
        }

    out = run_branches(build)
    ours, theirs = out["ours"], out["theirs"]
    _check_our_rows(ours)
    # values in time order; ties (same ms) by value: ids are in time order
    for r in ours:
        assert r[7] == sorted(r[7])
    got = sorted((k, s, we, tuple(v)) for k, _, s, _, we, _, _, v, _, _, _ in ours)
    want = sorted((k, s, e, tuple(ids)) for k, s, e, _, ids in theirs)
    assert len(want) > 300
    assert got == want
    # Beam's timestamp, once the runner has carried it between steps (ms)
    assert sorted(r[-1] // 1000 for r in ours) == sorted(r[3] // 1000 for r in theirs)
    # and the same partition as sessionize.sessions(inclusive=False) itself
    t = sessionize.sessions(list(ev.keys), np.array(ev.ticks), gap=GAP_MS, inclusive=False)
    assert len(t) == len(ours)


@pytest.mark.parametrize("runner_options", [IN_MEMORY, MULTI_PROCESSING],
                         ids=["in_memory", "multi_processing_2_workers"])
def test_max_duration_and_inclusive_against_the_reference(beam, sbeam, runner_options):
    ev, rows = _events(seed=19, n=2000, n_keys=25)
    settings = {
        # inclusive: chains of exact gaps make the long sessions a cap cuts
        "restart": dict(max_duration=5 * GAP_MS // 2, max_duration_mode="restart",
                        inclusive=True),
        "fixed": dict(max_duration=2 * GAP_MS, max_duration_mode="fixed", inclusive=True),
        "inclusive": dict(inclusive=True),
        # only timestamps through the shuffle (a key's parts from several bundles)
        "bare": dict(inclusive=False, collect=False),
    }
    if runner_options == MULTI_PROCESSING:  # two branches: worker start-up is the cost
        settings = {k: settings[k] for k in ("restart", "bare")}

    def build(p):
        events = _stamped(beam, p, rows)
        out = {}
        for name, kw in settings.items():
            kw = dict(kw)
            if "max_duration" in kw:
                kw["max_duration"] = kw["max_duration"] / 1000  # seconds, as Beam takes them
            out[name] = (events | f"{name}" >> sbeam.Sessionize(GAP_MS / 1000, **kw)
                         | _ours_rows(beam, f"{name} rows"))
        return out

    out = run_branches(build, options=runner_options)
    for name, kw in settings.items():
        ids, sessions = reference_sessions(
            list(ev.keys), list(ev.ticks), GAP_MS, kw.get("max_duration"),
            kw.get("max_duration_mode", "restart"), kw["inclusive"])
        members = defaultdict(list)
        for i, s in enumerate(ids):
            members[s].append(i)
        want = sorted((s["key"], s["start"] * 1000, s["end"] * 1000, s["window_end"] * 1000,
                       s["index"], tuple(members[g])) for g, s in enumerate(sessions))
        if not kw.get("collect", True):
            assert all(r[7] is None for r in out[name])
            got = sorted((k, s, e, we, i, c) for k, _, s, e, we, c, i, _, _, _, _ in out[name])
            assert got == [w[:5] + (len(w[5]),) for w in want], name
            continue
        _check_our_rows(out[name])
        got = sorted((k, s, e, we, i, tuple(v)) for k, _, s, e, we, _, i, v, _, _, _ in out[name])
        assert got == want, name
        if "max_duration" in kw:  # the cap did cut sessions
            assert len(want) > len(sessionize.sessions(list(ev.keys), np.array(ev.ticks),
                                                       gap=GAP_MS, inclusive=kw["inclusive"]))


def test_collect_false_ties_and_unhashable_keys(beam, sbeam):
    """collect=False: values None, same bounds; events at one time come out
    ordered by value (or by pickled bytes when values do not compare); a key
    that cannot be hashed (a list, as Beam allows) still groups."""
    rows = [("a", "z", 0), ("a", "b", 0), ("a", "m", 1000), ("b", {"x": 2}, 0),
            ("b", {"x": 1}, 0), (("t", 1), 3, 0)]

    def build(p):
        from apache_beam.transforms import window
        from apache_beam.utils.timestamp import Timestamp

        events = (p | beam.Create(rows) | beam.Map(
            lambda e: window.TimestampedValue((e[0], e[1]), Timestamp(micros=e[2] * 1000))))
        plain = events | "plain" >> sbeam.Sessionize(5)
        bare = events | "bare" >> sbeam.Sessionize(5, collect=False)
        return {
            "plain": plain | "p" >> beam.MapTuple(lambda k, s: [k, s.count, s.values]),
            "bare": bare | "b" >> beam.MapTuple(lambda k, s: [k, s.count, s.values,
                                                             s.start.micros, s.end.micros]),
        }

    out = run_branches(build)
    plain = {str(k): (c, v) for k, c, v in out["plain"]}
    assert plain["a"] == (3, ["b", "z", "m"])
    import pickle
    want_b = sorted([{"x": 2}, {"x": 1}], key=lambda v: pickle.dumps(v, protocol=4))
    assert plain["b"] == (2, want_b)
    assert plain[str(["t", 1])] == (1, [3])
    bare = {str(k): rest for k, *rest in out["bare"]}
    assert bare["a"] == [3, None, 0, 1_000_000]


# ------------------------------------------------------------- the Beam seed

SEED_LINES = sorted([
    ">>> User Groot had 2 event(s) in 0:00:07 session",
    ">>> User Groot had 1 event(s) in 0:00:05 session",
    ">>> User Thanos had 4 event(s) in 0:00:12 session",
    ">>> User Thanos had 1 event(s) in 0:00:05 session",
])


def _example():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "beam_session_windows", ROOT / "examples" / "beam_session_windows.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_seed_pipeline_gives_its_four_sessions_with_beam_and_with_sessionize(beam, sbeam):
    ex = _example()
    data = ex.make_data(1554203777.0)  # the seed's own clock reading, whole seconds

    out = run_branches(lambda p: {
        "ours": _labelled(beam, p, "ours", lambda q: ex.build(q, data, True)),
        "theirs": _labelled(beam, p, "theirs", lambda q: ex.build(q, data, False)),
    })
    assert sorted(out["ours"]) == SEED_LINES
    assert sorted(out["theirs"]) == SEED_LINES


def _labelled(beam, p, label, build):
    """build(p) under a label, so one pipeline can hold it twice."""

    class Scoped(beam.PTransform):
        def expand(self, pbegin):
            return build(pbegin)

    return p | label >> Scoped()


def test_example_runs_and_prints_the_four_sessions(beam, sbeam):
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "beam_session_windows.py")],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(line for line in r.stdout.splitlines() if line.startswith(">>>")) == SEED_LINES


# ------------------------------------------------------------------ SearchCTR

KINDS = (AppOpen, Search, Results, ClickResult, AppClose, Timeout)


def _random_ctr_events(seed: int, n: int, n_users: int):
    """Seed-style events with distinct integer-second times (so time order is
    unambiguous), each Search with a unique query naming its position."""
    rng = random.Random(seed)
    times = rng.sample(range(100_000, 100_000 + 4 * n), n)
    weights = (1, 5, 3, 5, 1, 1)
    events = []
    for i in range(n):
        user = rng.randrange(n_users)
        cls = rng.choices(KINDS, weights)[0]
        args = {Search: (f"q{i}",), Results: (["x"],), ClickResult: ("x",)}.get(cls, ())
        events.append(cls(user, *args, time=times[i]))
    return events


def _table_rows(events, table):
    """search_ctr's table as per-key {query: (clicked, clicks)} and per-key
    session partitions of queries."""
    rows, parts = defaultdict(dict), defaultdict(lambda: defaultdict(set))
    for key, session, search, clicked, clicks in table.rows():
        q = events[search].query
        rows[key][q] = (bool(clicked), int(clicks))
        parts[key][session].add(q)
    return rows, {k: sorted(map(sorted, v.values())) for k, v in parts.items()}


def _beam_ctr_rows(rows):
    got, parts = defaultdict(dict), defaultdict(lambda: defaultdict(set))
    for key, session, query, clicked, clicks in rows:
        got[key][query] = (clicked, clicks)
        parts[key][session].add(query)
    return got, {k: sorted(map(sorted, v.values())) for k, v in parts.items()}


def test_search_ctr_matches_sessionize_search_ctr_and_the_seeds(beam, sbeam):
    from apache_beam.transforms import window

    events = _random_ctr_events(seed=5, n=1500, n_users=30)
    keys = [e.user for e in events]
    kinds = [type(e).__name__ for e in events]
    times = np.array([e.time for e in events])
    settings = {
        "gap_flush": dict(gap=40, flush=True),
        "gap_noflush": dict(gap=40, flush=False),
        "nogap": dict(flush=True),
        "exclusive": dict(gap=40, flush=True, inclusive=False),
    }
    reduce_seed = seed_events()
    window_seed = [dataclasses.replace(e, time=datetime(2023, 1, 1, tzinfo=timezone.utc)
                                       + timedelta(seconds=i))
                   for i, e in enumerate(seed_events())]

    def to_row(kv):
        key, r = kv
        return [key, r.session, r.search.query, r.clicked, r.clicks]

    def build(p):
        stamped = (p | "random" >> beam.Create(events)
                   | "stamp" >> beam.Map(lambda e: window.TimestampedValue((e.user, e), e.time)))
        out = {name: stamped | name >> sbeam.SearchCTR(**kw) | f"{name} row" >> beam.Map(to_row)
               for name, kw in settings.items()}
        out["event_time"] = (p | "random unstamped" >> beam.Create(events)
                             | "key" >> beam.Map(lambda e: (e.user, e))
                             | "event time" >> sbeam.SearchCTR(gap=40, time="event")
                             | "event time row" >> beam.Map(to_row))
        # the first seed: no times (its position is its timestamp), closed by AppClose
        reduce_rows = (p | "reduce seed" >> beam.Create(list(enumerate(reduce_seed)))
                       | "reduce stamp" >> beam.Map(
                           lambda ie: window.TimestampedValue((ie[1].user, ie[1]), ie[0]))
                       | "reduce ctr" >> sbeam.SearchCTR(flush=False))
        out["reduce"] = reduce_rows | "reduce row" >> beam.Map(to_row)
        out["reduce_overall"] = (reduce_rows | "reduce overall" >> sbeam.OverallCTR()
                                 | "reduce overall list" >> beam.Map(list))
        # the second seed: a 5 s session window, events one second apart (their own times)
        out["window"] = (p | "window seed" >> beam.Create(window_seed)
                         | "window key" >> beam.Map(lambda e: (str(e.user), e))
                         | "window ctr" >> sbeam.SearchCTR(gap=timedelta(seconds=5),
                                                           time="event")
                         | "window row" >> beam.Map(to_row))
        return out

    out = run_branches(build)
    for name, kw in settings.items():
        table = sessionize.search_ctr(keys, kinds, times, **kw)
        want = _table_rows(events, table)
        got = _beam_ctr_rows(out[name])
        assert sum(len(v) for v in want[0].values()) > 50, name
        assert got == want, name
    assert _beam_ctr_rows(out["event_time"]) == _beam_ctr_rows(out["gap_flush"])
    # the seeds: 1.0, 1.0, 0.0 (in the first, key 1's two searches in that order)
    red = sorted(out["reduce"])
    assert [(k, q, c) for k, _, q, c, _ in red] == [(1, "cats", True), (1, "dogs", True),
                                                   (2, "fruit", False)]
    searches, clicked, clicks, ctr, cps = out["reduce_overall"][0]
    assert (searches, clicked, clicks) == (3, 2, 3)
    assert ctr == pytest.approx(2 / 3) and cps == pytest.approx(1.0)
    assert sorted(1.0 if c else 0.0 for _, _, _, c, _ in out["window"]) == [0.0, 1.0, 1.0]


def seed_events():
    # the Bytewax seeds' IMAGINE_THESE_EVENTS_STREAM_FROM_CLIENTS
    return [
        AppOpen(user=1), Search(user=1, query="dogs"), Results(1, ["fido", "rover", "buddy"]),
        ClickResult(1, "rover"), Search(1, "cats"), Results(1, ["fluffy", "burrito", "kathy"]),
        ClickResult(1, "fluffy"), AppOpen(2), ClickResult(1, "kathy"), Search(2, "fruit"),
        AppClose(1), AppClose(2),
    ]


# --------------------------------------------------------------------- errors

@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(gap=0), sessionize.SessionizeError, r"^gap: must be > 0"),
    (dict(gap=-1.5), sessionize.SessionizeError, r"^gap: must be > 0"),
    (dict(gap="soon"), sessionize.SessionizeError, r"^gap: "),
    (dict(gap=None), TypeError, r"^gap: "),
    (dict(gap=5, max_duration=0), sessionize.SessionizeError, r"^max_duration: must be > 0"),
    (dict(gap=5, max_duration=60, max_duration_mode="cap"), sessionize.SessionizeError,
     r"^max_duration_mode: must be 'restart' or 'fixed'"),
    (dict(gap=5, inclusive="yes"), TypeError, r"^inclusive: expected a bool"),
    (dict(gap=5, collect=1), TypeError, r"^collect: expected a bool"),
])
def test_sessionize_bad_arguments(sbeam, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sbeam.Sessionize(**kwargs)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(time="arrival"), ValueError, r"^time: must be 'timestamp' or 'event'"),
    (dict(gap=0), sessionize.SessionizeError, r"^gap: must be > 0"),
    (dict(flush=None), TypeError, r"^flush: expected a bool"),
    (dict(inclusive=1), TypeError, r"^inclusive: expected a bool"),
])
def test_search_ctr_bad_arguments(sbeam, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sbeam.SearchCTR(**kwargs)


def test_input_already_in_session_windows_is_refused(beam, sbeam):
    from apache_beam.transforms import window

    p = beam.Pipeline()
    windowed = (p | beam.Create([("a", 1)])
                | beam.WindowInto(window.Sessions(5)))
    with pytest.raises(ValueError, match=r"^Sessionize: the input is already in merging"):
        _ = windowed | sbeam.Sessionize(5)
    with pytest.raises(ValueError, match=r"^SearchCTR: the input is already in merging"):
        _ = windowed | sbeam.SearchCTR()


def test_search_ctr_names_a_non_event_element(beam, sbeam):
    with pytest.raises(Exception,
                       match=r"SearchCTR: key 'ann': events\[0\]: str is not an event class"):
        with beam.Pipeline() as p:
            _ = (p | beam.Create([("ann", "click")]) | sbeam.SearchCTR())


# ------------------------------------------------------------------ streaming

def test_streaming_sessionizes_each_window_on_its_own(beam, sbeam):
    """In a streaming pipeline (TestStream, watermark moving) Sessionize
    groups in the input's windows: with FixedWindows(20) upstream, events at
    18 and 21 s (within the 5 s gap) are cut at the window bound, where
    Beam's merging Sessions would join them; inside a window the sessions
    are Beam's (events exactly `gap` apart split)."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
    from apache_beam.testing.test_stream import TestStream
    from apache_beam.testing.util import assert_that, equal_to
    from apache_beam.transforms import window

    # the first window's events in two bundles (each add_elements is one), out
    # of time order: a key's parts from several bundles are joined and sorted
    first = [("a", 2, 8), ("a", 0, 1)]
    second = [("a", 1, 3), ("a", 3, 18)]
    later = [("a", 4, 21), ("b", 5, 22)]
    stream = (TestStream()
              .add_elements([window.TimestampedValue((k, i), t) for k, i, t in first])
              .add_elements([window.TimestampedValue((k, i), t) for k, i, t in second])
              .advance_watermark_to(20)
              .add_elements([window.TimestampedValue((k, i), t) for k, i, t in later])
              .advance_watermark_to_infinity())
    opts = PipelineOptions()
    opts.view_as(StandardOptions).streaming = True

    def row(kv, w=beam.DoFn.WindowParam):
        key, s = kv
        return (key, s.values, float(s.start), float(s.window_end), float(w.start),
                float(w.end))

    with beam.Pipeline(options=opts) as p:
        windowed = p | stream | beam.WindowInto(window.FixedWindows(20))
        rows = windowed | "full" >> sbeam.Sessionize(5) | "row" >> beam.Map(row)
        bare = (windowed | "bare" >> sbeam.Sessionize(5, collect=False)
                | "bare row" >> beam.MapTuple(lambda k, s: (k, s.count, s.values,
                                                           float(s.start), float(s.end))))
        assert_that(bare, equal_to([("a", 2, None, 1.0, 3.0), ("a", 1, None, 8.0, 8.0),
                                    ("a", 1, None, 18.0, 18.0), ("a", 1, None, 21.0, 21.0),
                                    ("b", 1, None, 22.0, 22.0)]), label="bare sessions")
        assert_that(rows, equal_to([
            ("a", [0, 1], 1.0, 8.0, 1.0, 8.0),
            ("a", [2], 8.0, 13.0, 8.0, 13.0),     # 8 - 3 == gap: a new session
            ("a", [3], 18.0, 23.0, 18.0, 23.0),   # cut at the window bound (20 s)
            ("a", [4], 21.0, 26.0, 21.0, 26.0),
            ("b", [5], 22.0, 27.0, 22.0, 27.0),
        ]))


def test_sessionize_names_the_key_of_an_event_whose_window_would_overflow(beam, sbeam):
    from apache_beam.transforms import window
    from apache_beam.utils.timestamp import MAX_TIMESTAMP

    with pytest.raises(Exception, match=r"Sessionize: key 'ann': the event at .*"
                                        r"time \+ gap overflows int64"):
        with beam.Pipeline() as p:
            _ = (p | beam.Create([("bob", 1, 0), ("ann", 2, MAX_TIMESTAMP)])
                 | beam.Map(lambda e: window.TimestampedValue((e[0], e[1]), e[2]))
                 | sbeam.Sessionize(60))
