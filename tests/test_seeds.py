"""The Apache Beam seed (seeds/beam-session-windows.md), exactly.

Thanos's events come 1, 2, 4, 8 and 16 s after t0, Groot's 2, 4 and 10 s
after; `window.Sessions(5)` (events exactly 5 s apart do not share a
session: inclusive=False).  Beam logs:

    User Groot had 2 event(s) in 0:00:07 session
    User Groot had 1 event(s) in 0:00:05 session
    User Thanos had 4 event(s) in 0:00:12 session
    User Thanos had 1 event(s) in 0:00:05 session
"""
import datetime as dt

import numpy as np
import pytest

import sessionize

T0 = 1554117322.904395  # a time.time() as the seed's run had it
THANOS = "Thanos"
GROOT = "Groot"


def beam_micros(seconds):
    """apache_beam.utils.timestamp.Timestamp.of(seconds).micros"""
    return int(seconds * 1000000)


def seed_events():
    thanos = [{"user_id": THANOS, "value": f"event_{e}", "timestamp": T0 + 2**e}
              for e in range(5)]
    groot = [{"user_id": GROOT, "value": f"event_{e}", "timestamp": T0 + s}
             for e, s in enumerate([2, 4, 10])]
    return thanos + groot  # beam.Create(user1_data + user2_data)


def window_duration(table, i):
    """window.end - window.start, as Beam's to_utc_datetime() difference."""
    us = (beam_micros_of_output(table.window_end[i])
          - beam_micros_of_output(table.start[i]))
    return dt.timedelta(microseconds=us)


def beam_micros_of_output(x):
    # output seconds are micros / 1e6; round() recovers the micros exactly
    return round(float(x) * 1e6)


@pytest.mark.parametrize("times_as", ["array", "list"])
def test_beam_seed(times_as):
    events = seed_events()
    keys = [e["user_id"] for e in events]
    times = [e["timestamp"] for e in events]
    if times_as == "array":
        times = np.array(times)
    table = sessionize.sessions(keys, times, gap=5, inclusive=False)
    ids = sessionize.assign(keys, times, gap=5, inclusive=False)

    assert len(table) == 4
    rows = [(table.key[i], int(table.count[i]), window_duration(table, i))
            for i in range(len(table))]
    assert rows == [
        (THANOS, 4, dt.timedelta(seconds=12)),
        (THANOS, 1, dt.timedelta(seconds=5)),
        (GROOT, 2, dt.timedelta(seconds=7)),
        (GROOT, 1, dt.timedelta(seconds=5)),
    ]
    assert ids.tolist() == [0, 0, 0, 0, 1, 2, 2, 3]
    assert table.index.tolist() == [0, 1, 0, 1]
    # the caller's own strings come back, in an object column
    assert table.key.dtype == object
    assert table.key[0] is THANOS and table.key[2] is GROOT

    # times come back as float seconds, exactly Beam's micros / 1e6
    assert table.start.dtype == np.float64
    starts = [beam_micros(T0 + s) / 1e6 for s in (1, 16, 2, 10)]
    ends = [beam_micros(T0 + s) / 1e6 for s in (8, 16, 4, 10)]
    assert table.start.tolist() == starts
    assert table.end.tolist() == ends
    assert table.window_end.tolist() == [
        (beam_micros(T0 + s) + 5_000_000) / 1e6 for s in (8, 16, 4, 10)]


def test_beam_seed_first_logs_unmerged_windows():
    """The seed's first log: each event alone has window [t, t + 5)."""
    times = np.array([T0 + 2**e for e in range(5)])
    table = sessionize.sessions(np.arange(5), times, gap=5, inclusive=False)
    assert [window_duration(table, i) for i in range(5)] == [
        dt.timedelta(seconds=5)] * 5


@pytest.mark.parametrize("gap", [5, 5.0, dt.timedelta(seconds=5), "5s",
                                 "5000ms"])
def test_beam_seed_gap_forms(gap):
    events = seed_events()
    keys = np.array([e["user_id"] for e in events])
    times = np.array([e["timestamp"] for e in events])
    table = sessionize.sessions(keys, times, gap=gap, inclusive=False)
    assert table.count.tolist() == [4, 1, 2, 1]
    assert table.key.dtype == keys.dtype
    assert table.key.tolist() == [THANOS, THANOS, GROOT, GROOT]


def test_exactly_gap_apart_engine_table():
    """SPEC's engine table: Groot's last event exactly 5 s after the one
    before: a new session in Beam (inclusive=False), the same in Flink,
    Spark, Bytewax and Kafka Streams (inclusive=True, the default)."""
    keys = [GROOT, GROOT, GROOT]
    times = np.array([T0 + 2, T0 + 4, T0 + 4])
    times[2] = (beam_micros(T0 + 4) + 5_000_000) / 1e6  # exactly gap, in micros
    assert beam_micros(times[2]) - beam_micros(times[1]) == 5_000_000
    beam = sessionize.sessions(keys, times, gap=5, inclusive=False)
    flink = sessionize.sessions(keys, times, gap=5)
    assert beam.count.tolist() == [2, 1]
    assert flink.count.tolist() == [3]
