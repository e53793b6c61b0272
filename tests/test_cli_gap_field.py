"""`sessionize sessions --gap-field FIELD`: each event's own gap, read from
the input in every format (duration strings, numbers in --time-unit,
Parquet durations), with --gap the longest allowed.  The rows equal
sessionize.sessions(keys, times, gap=<the gap column>), window end
included; each kind of bad gap is a bad record naming the field and the
line (row), or skipped and counted with --skip-bad."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engines.require import optional
from cli_expect import canonical, read_clicks_jsonl, read_output, seed_rows
from test_cli import cli

pa = optional("pyarrow", extra="cli")
pq = optional("pyarrow.parquet", extra="cli")

from sessionize.cli import arrow_events, formats, main  # noqa: E402
from sessionize.cli.gapfields import GapRule  # noqa: E402

ARGS = ["--key", "uuid", "--time", "event_timestamp", "--gap", "1h", "--gap-field", "ttl"]
MINUTES = np.array([1, 5, 10, 30, 60])
# the same gap in the spellings a file may hold (a number: --time-unit ms)
SPELLINGS = {1: ["1min", "60s", "60000", "1 minute"], 5: ["5min", "300s", "300000", "5 minutes"],
             10: ["10min", "600s", "600000", "10 minutes"],
             30: ["30min", "1800s", "1800000", "30 minutes"],
             60: ["1h", "60min", "3600000", "1 hour"]}


@pytest.fixture(scope="module")
def clicks(tmp_path_factory):
    """8 000 generated events (log order) of 300 users, a gap per event of
    1 to 60 minutes, written in every format and spelling."""
    d = tmp_path_factory.mktemp("gaps")
    cli("generate", "--events", 8000, "--users", 300, "--seed", 11, "-o", d / "c.jsonl")
    keys, times, _ = read_clicks_jsonl((d / "c.jsonl").read_text())
    rng = np.random.default_rng(4)
    minutes = MINUTES[rng.integers(0, len(MINUTES), len(keys))]
    spelled = [SPELLINGS[m][i % 4] for i, m in enumerate(minutes.tolist())]
    ms = minutes * 60_000
    with open(d / "strings.jsonl", "w") as f:
        for k, t, g in zip(keys, times, spelled):
            f.write(json.dumps({"uuid": k, "event_timestamp": str(t), "ttl": g}) + "\n")
    with open(d / "numbers.jsonl", "w") as f:
        for k, t, g in zip(keys, times, ms.tolist()):
            f.write(json.dumps({"uuid": k, "event_timestamp": t, "ttl": g}) + "\n")
    with open(d / "seconds.jsonl", "w") as f:  # float seconds, --time-unit s
        for k, t, g in zip(keys, times, ms.tolist()):
            f.write(json.dumps({"uuid": k, "event_timestamp": t / 1000,
                                "ttl": g / 1000 + 0.5}) + "\n")
    with open(d / "strings.csv", "w") as f:
        f.write("uuid,event_timestamp,ttl\n")
        f.writelines(f"{k},{t},{g}\n" for k, t, g in zip(keys, times, spelled))
    base = {"uuid": pa.array(keys), "event_timestamp": pa.array(times)}
    pq.write_table(pa.table({**base, "ttl": pa.array(ms, pa.duration("ms"))}),
                   d / "durations.parquet", row_group_size=3000)
    pq.write_table(pa.table({**base, "ttl": pa.array(ms)}), d / "numbers.parquet")
    pq.write_table(pa.table({**base, "ttl": pa.array(spelled)}), d / "strings.parquet")
    return d, keys, times, ms


def _gaps(ms):
    return np.asarray(ms, dtype=np.int64).astype("timedelta64[ms]")


@pytest.mark.parametrize("name", ["strings.jsonl", "numbers.jsonl", "strings.csv",
                                  "durations.parquet", "numbers.parquet", "strings.parquet"])
def test_every_format_equals_sessions_over_the_gap_column(clicks, name, tmp_path):
    d, keys, times, ms = clicks
    out = tmp_path / f"s.{name.split('.')[1]}"
    want = seed_rows(keys, times, gap=_gaps(ms), window_end=True)
    # the scalar gap gives other sessions: the column is what is used
    assert want != seed_rows(keys, times, gap="1h", window_end=True)
    p = cli("sessions", d / name, "-o", out, *ARGS, "--delay", "all", "--chunk-size", 3000)
    assert canonical(read_output(out, out.suffix[1:])) == want
    assert f"8,000 events, {len(want):,} sessions, 0 bad records" in p.stderr.decode()
    # the default delay (10min) on the log's order: nothing late, the same rows
    p = cli("sessions", d / name, "-o", out, *ARGS, "--chunk-size", 3000)
    assert canonical(read_output(out, out.suffix[1:])) == want
    assert f"8,000 events, {len(want):,} sessions, 0 bad records" in p.stderr.decode()


def test_float_seconds_take_gaps_in_seconds(clicks, tmp_path):
    d, keys, times, ms = clicks
    out = tmp_path / "s.jsonl"
    cli("sessions", d / "seconds.jsonl", "-o", out, *ARGS, "--time-unit", "s", "--gap", "2h")
    assert canonical(read_output(out, "jsonl")) == \
        seed_rows(keys, times, gap=_gaps(ms + 500), window_end=True)


def test_out_of_order_with_the_default_delay_is_consistent(clicks, tmp_path):
    # the log shuffled, the default delay (10min): many events are late and
    # skipped; every event is either in a row or counted bad
    d, keys, times, ms = clicks
    lines = (d / "strings.csv").read_text().splitlines(keepends=True)
    order = np.random.default_rng(1).permutation(len(lines) - 1) + 1
    src = tmp_path / "shuffled.csv"
    src.write_text(lines[0] + "".join(lines[i] for i in order))
    out = tmp_path / "s.csv"
    p = cli("sessions", src, "-o", out, *ARGS, "--skip-bad")
    err = p.stderr.decode()
    events = int(err.split("sessionize: ")[1].split(" events")[0].replace(",", ""))
    skipped = int(err.split("sessions, ")[1].split(" bad records")[0].replace(",", ""))
    assert skipped > 0 and "late event" in err
    assert events + skipped == len(keys)
    rows = read_output(out, "csv")
    assert sum(r["event_count"] for r in rows) == events
    # a session's window end is its last event plus a gap of 1 to 60 minutes
    for r in rows:
        reach = r["session_window_end_time_ms"] - r["session_end_time_ms"]
        assert 0 < reach <= 3_600_000


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_good_blocks_take_the_native_path(clicks, fmt):
    d, keys, times, ms = clicks
    name = {"jsonl": "strings.jsonl", "csv": "strings.csv", "parquet": "durations.parquet"}[fmt]
    fields = {"key": "uuid", "time": "event_timestamp", "gap": "ttl"}
    rule = GapRule("ttl", 3_600 * 10**9, "1h")
    with open(d / name, "rb") as f:
        blocks = list(formats.NATIVE_READERS[fmt](f, fields, set(fields), 3000))
    evs = [arrow_events.events(b, "ms", rule) for b in blocks]
    assert len(evs) >= 3 and all(e is not None for e in evs)
    assert np.concatenate([e.gaps for e in evs]).tolist() == (ms * 10**6).tolist()
    # a bound below the longest gap: the blocks go to the exact reader
    short = GapRule("ttl", 30 * 60 * 10**9, "30min")
    assert any(arrow_events.events(b, "ms", short) is None for b in blocks)


# ---- bad gaps -------------------------------------------------------------

# (kind, the gap as JSON, CSV text and Parquet string, the reason said)
BAD = [
    ("zero", 0, "0", "gap 0 must be > 0"),
    ("negative", "-5min", "-5min", "gap '-5min' must be > 0"),
    ("too long", "2h", "2h", "gap '2h' is longer than --gap 1h, the longest a gap may be"),
    ("unreadable", "soon", "soon", "gap 'soon' is not a duration"),
    ("finer than a ns", 1e-7, "0.0000001", "is finer than a nanosecond"),
    ("missing", None, "", "missing gap"),
]


def _write(path, fmt, gaps):
    keys = ["a"] * len(gaps)
    times = [60_000 * i for i in range(len(gaps))]
    if fmt == "jsonl":
        path.write_text("".join(json.dumps({"uuid": k, "event_timestamp": t, "ttl": g}) + "\n"
                                for k, t, g in zip(keys, times, gaps)))
    elif fmt == "csv":
        path.write_text("uuid,event_timestamp,ttl\n" +
                        "".join(f"{k},{t},{g}\n" for k, t, g in zip(keys, times, gaps)))
    else:
        pq.write_table(pa.table({"uuid": keys, "event_timestamp": times,
                                 "ttl": pa.array(gaps, pa.string())}), path)


def _run(args, capsys):
    rc = main([str(a) for a in args])
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
@pytest.mark.parametrize("kind, raw, text, reason", BAD, ids=[b[0] for b in BAD])
def test_each_kind_of_bad_gap_names_the_field_and_the_record(fmt, kind, raw, text, reason,
                                                             tmp_path, capsys):
    good = "10min"
    gaps = [good] * 6
    gaps[3] = raw if fmt == "jsonl" else (None if fmt == "parquet" and raw is None else text)
    src = tmp_path / f"e.{fmt}"
    _write(src, fmt, gaps)
    out = tmp_path / "s.jsonl"
    where = {"jsonl": "line 4", "csv": "line 5", "parquet": "row 4"}[fmt]
    rc, err = _run(["sessions", src, "-o", out, *ARGS, "-q"], capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1, err
    assert f"{where}: ttl: " in err
    # JSON's 0 is a number, the others' '0' a string; Parquet's null is
    # the reader's 'missing value (null)'
    if not (fmt == "parquet" and raw is None):
        assert reason.replace("gap 0", "gap '0'" if fmt != "jsonl" else "gap 0") in err, err
    assert not out.exists()
    rc, err = _run(["sessions", src, "-o", out, *ARGS, "-q", "--skip-bad"], capsys)
    assert rc == 0
    assert f"5 events, 1 sessions, 1 bad records skipped ({where.split()[0]}s " \
           f"{where.split()[1]}; first: {where}: ttl: " in err
    # the other events, a minute apart, are one session reaching 10 min
    # past the last
    [row] = read_output(out, "jsonl")
    assert (row["event_count"], row["session_window_end_time_ms"]) == (5, 15 * 60_000)


def test_a_missing_json_field_a_null_and_a_boolean(tmp_path, capsys):
    src = tmp_path / "e.jsonl"
    src.write_text('{"uuid": "a", "event_timestamp": 0, "ttl": "10min"}\n'
                   '{"uuid": "a", "event_timestamp": 1}\n'
                   '{"uuid": "a", "event_timestamp": 2, "ttl": null}\n'
                   '{"uuid": "a", "event_timestamp": 3, "ttl": true}\n'
                   '{"uuid": "a", "event_timestamp": 4, "ttl": 90000}\n')
    rc, err = _run(["sessions", src, *ARGS, "-q"], capsys)
    assert rc == 2 and "line 2: no field 'ttl'" in err
    out = tmp_path / "s.jsonl"
    rc, err = _run(["sessions", src, "-o", out, *ARGS, "--skip-bad"], capsys)
    assert rc == 0 and "3 bad records skipped (lines 2, 3, 4; first: line 2: no field 'ttl')" \
        in err
    [row] = read_output(out, "jsonl")
    assert (row["event_count"], row["session_window_end_time_ms"]) == (2, 600_000)
    rc, err = _run(["sessions", src, *ARGS, "--skip-bad", "--time-unit", "s"], capsys)
    assert rc == 0 and "first: line 2: no field 'ttl'" in err
    src.write_text('{"uuid": "a", "event_timestamp": 0, "ttl": true}\n')
    rc, err = _run(["sessions", src, *ARGS], capsys)
    assert rc == 2 and "line 1: ttl: gap True is a boolean, not a duration" in err
    src.write_text('{"uuid": "a", "event_timestamp": 0, "ttl": null}\n')
    rc, err = _run(["sessions", src, *ARGS], capsys)
    assert rc == 2 and "line 1: ttl: missing gap" in err


@pytest.mark.parametrize("value, reason", [(0, "gap '0s' must be > 0"),
                                           (-60, "gap '-60s' must be > 0"),
                                           (7200, "gap '7200s' is longer than --gap 1h")])
def test_bad_parquet_durations(tmp_path, capsys, value, reason):
    src = tmp_path / "e.parquet"
    pq.write_table(pa.table({"uuid": ["a"] * 3, "event_timestamp": [0, 1, 2],
                             "ttl": pa.array([60, value, None], pa.duration("s"))}), src)
    out = tmp_path / "s.jsonl"
    rc, err = _run(["sessions", src, "-o", out, *ARGS, "-q"], capsys)
    assert rc == 2 and f"row 2: ttl: {reason}" in err, err
    rc, err = _run(["sessions", src, "-o", out, *ARGS, "-q", "--skip-bad"], capsys)
    assert rc == 0 and f"2 bad records skipped (rows 2, 3; first: row 2: ttl: {reason}" in err


def test_a_bad_gap_in_a_large_file_stops_the_run_without_a_traceback(clicks, tmp_path):
    d, keys, times, ms = clicks
    lines = (d / "strings.jsonl").read_text().splitlines(keepends=True)
    lines[5000] = lines[5000].replace('"ttl": "', '"ttl": "-')
    src = tmp_path / "bad.jsonl"
    src.write_text("".join(lines))
    p = cli("sessions", src, *ARGS, "--chunk-size", 2000, check_rc=2)
    err = p.stderr.decode()
    assert "Traceback" not in err and "line 5001: ttl: gap '-" in err and "must be > 0" in err
    p = cli("sessions", src, "-o", tmp_path / "s.jsonl", *ARGS, "--chunk-size", 2000,
            "--skip-bad", "--delay", "all")
    assert "7,999 events" in p.stderr.decode()
    keep = np.arange(len(keys)) != 5000
    assert canonical(read_output(tmp_path / "s.jsonl", "jsonl")) == seed_rows(
        np.array(keys)[keep].tolist(), np.array(times)[keep], gap=_gaps(ms[keep]),
        window_end=True)


def test_options_around_the_gap_field(tmp_path, capsys):
    src = tmp_path / "e.csv"
    src.write_text("uuid,event_timestamp,ttl\na,0,10min\n")
    rc, err = _run(["sessions", src, "--key", "uuid", "--time", "event_timestamp",
                    "--gap", "1h", "--gap-field", "gap"], capsys)
    assert rc == 2 and "--gap-field gap: no such column in the CSV header" in err
    rc, err = _run(["sessions", src, *ARGS, "--collect", "ttl",
                    "--agg", "session_window_end_time_ms=first"], capsys)
    assert rc == 2 and "the row already has a column 'session_window_end_time_ms'" in err
    help_text = " ".join(cli("sessions", "--help").stdout.decode().split())
    assert "--gap-field FIELD" in help_text and "the longest gap an event may have" in help_text
    assert "a number in --time-unit" in help_text and "--gap-field gap --gap 1h" in help_text


@pytest.mark.parametrize("extra, settings", [
    (["--max-duration", "45min", "--max-duration-mode", "fixed"],
     dict(max_duration="45min", max_duration_mode="fixed")),
    (["--max-duration", "45min"], dict(max_duration="45min")),
    (["--exclusive"], dict(inclusive=False))])
def test_caps_and_exclusive_with_a_gap_per_event(clicks, tmp_path, extra, settings):
    d, keys, times, ms = clicks
    out = tmp_path / "s.jsonl"
    cli("sessions", d / "strings.csv", "-o", out, *ARGS, *extra, "--output-format", "jsonl")
    assert canonical(read_output(out, "jsonl")) == \
        seed_rows(keys, times, gap=_gaps(ms), window_end=True, **settings)
