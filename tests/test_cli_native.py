"""The command line's native (Arrow) path: whole blocks of good records go
to the columnar Sessionizer as Arrow columns, and a block holding a bad
record is re-read by the exact Python reader, so bad records keep their
line numbers and reasons wherever they fall: in the first, a middle or the
last block of a file.  Expected rows come from the one-shot API."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from engines.require import optional
from cli_expect import canonical, read_clicks_jsonl, read_output, seed_rows
from test_cli import SEED_ARGS, cli

pa = optional("pyarrow", extra="cli")

from sessionize.cli import arrow_events, formats  # noqa: E402

FIELDS = {"key": "uuid", "time": "event_timestamp", "value": "page_name"}


@pytest.fixture(scope="module")
def clicks(tmp_path_factory):
    d = tmp_path_factory.mktemp("native")
    for ext in ("jsonl", "csv", "parquet"):
        cli("generate", "--events", 30000, "--users", 1000, "--seed", 5, "-o", d / f"c.{ext}")
    return d, read_clicks_jsonl((d / "c.jsonl").read_text())


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_the_generated_clickstream_takes_the_native_path_in_every_block(clicks, fmt):
    d, (keys, times, pages) = clicks
    with open(d / f"c.{fmt}", "rb") as f:
        blocks = list(formats.NATIVE_READERS[fmt](f, FIELDS, {"key", "time"}, 4000))
    assert len(blocks) >= 7
    evs = [arrow_events.events(b, "ms") for b in blocks]
    assert all(e is not None for e in evs)
    got_lines = np.concatenate([e.lines for e in evs])
    first = 1 if fmt == "parquet" else 2 if fmt == "csv" else 1
    assert got_lines.tolist() == list(range(first, first + len(keys)))
    assert np.concatenate([e.times for e in evs]).tolist() == [t * 10**6 for t in times]
    assert sum((e.keys.to_pylist() for e in evs), []) == keys
    assert sum((e.values.tolist() for e in evs), []) == pages


def _with_bad_lines(text: str, header: bool, at: list, bad: str) -> str:
    lines = text.splitlines(keepends=True)
    for i in sorted(at):  # line numbers in the new file, 1-based
        lines.insert(i - 1, bad)
    return "".join(lines)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_bad_records_in_the_first_a_middle_and_the_last_block(clicks, fmt, tmp_path):
    d, (keys, times, _) = clicks
    text = (d / f"c.{fmt}").read_text()
    n_lines = len(text.splitlines())
    bad = '{"uuid": "x", "event_timestamp": "soon"}\n' if fmt == "jsonl" else "x,1,2\n"
    # line 3 is in the first block, the middle one in a middle block, the
    # last line of the file in the last block (chunks of 1000 lines)
    at = [3, n_lines // 2, n_lines + 3]
    src = tmp_path / f"bad.{fmt}"
    src.write_text(_with_bad_lines(text, fmt == "csv", at, bad))
    out = tmp_path / "s.jsonl"
    p = cli("sessions", src, "-o", out, *SEED_ARGS, "--chunk-size", 1000, check_rc=2)
    err = p.stderr.decode()
    reason = ("time: time 'soon' is neither a number nor an ISO-8601 time" if fmt == "jsonl"
              else "3 fields where the header has 8")
    assert f"line 3: {reason}" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob("s.jsonl.tmp*"))
    p = cli("sessions", src, "-o", out, *SEED_ARGS, "--chunk-size", 1000, "--skip-bad")
    err = p.stderr.decode()
    assert f"3 bad records skipped (lines {at[0]}, {at[1]}, {at[2]};" in err
    assert canonical(read_output(out, "jsonl")) == seed_rows(keys, times, gap="30min")


def test_blank_lines_keep_line_numbers_on_the_native_path(tmp_path):
    src = tmp_path / "e.jsonl"
    src.write_text('{"uuid": "a", "event_timestamp": "1000"}\n\n   \n'
                   '{"uuid": "a", "event_timestamp": "2000"}\n\n'
                   '{"uuid": "", "event_timestamp": "3000"}\n')
    p = cli("sessions", src, *SEED_ARGS, check_rc=2)
    assert "line 6: uuid: empty key" in p.stderr.decode()
    with open(src, "rb") as f:
        block, = formats.NATIVE_READERS["jsonl"](f, FIELDS, {"key", "time"}, 100)
    assert block.parse()[0].tolist() == [1, 4, 6]
    assert arrow_events.events(block, "ms") is None  # the empty key: the exact path


def test_mixed_key_types_keep_their_types_in_text_output(tmp_path):
    # a block whose keys are both strings and integers goes the exact way;
    # JSON lines keep each key's type, CSV writes both as text
    src = tmp_path / "e.jsonl"
    src.write_text("".join(json.dumps({"uuid": k, "event_timestamp": t}) + "\n"
                           for k, t in [("u1", 0), (7, 1000), ("u1", 2000)]))
    rows = [json.loads(s) for s in cli("sessions", src, *SEED_ARGS).stdout.decode().splitlines()]
    assert sorted((r["uuid"], r["event_count"]) for r in rows if r["uuid"] == 7) == [(7, 1)]
    assert [r["event_count"] for r in rows if r["uuid"] == "u1"] == [2]
    p = cli("sessions", src, *SEED_ARGS, "-o", tmp_path / "s.parquet", check_rc=2)
    assert "keys are both strings and integers" in p.stderr.decode()


def test_text_writers_spell_rows_as_the_python_writers(tmp_path):
    # quotes, commas, backslashes, non-ASCII and a control character in
    # keys and collected values: the Arrow-built text equals json.dumps'
    # and csv.writer's
    from sessionize.cli import writers

    keys = ['a"b', "c,d", "e\\f", "gé", "h\ti"]
    src = tmp_path / "e.jsonl"
    src.write_text("".join(json.dumps({"uuid": k, "event_timestamp": str(1000 * i),
                                       "page": f'{k}|"x"'}) + "\n"
                           for i, k in enumerate(keys)))
    for fmt in ("jsonl", "csv"):
        got = cli("sessions", src, *SEED_ARGS, "--collect", "page", "--output-format", fmt,
                  "--delay", "0").stdout
        buf = io.BytesIO()
        cols = ["uuid", "session_id", "session_start_time_ms", "session_end_time_ms",
                "session_duration_seconds", "event_count", "page_list"]
        w = writers.WRITERS[fmt](buf, cols, "page_list")
        w.write([(k, f"{k}_session_1", i, i, 0.0, 1, [f'{k}|"x"']) for i, k in
                 zip(range(0, 5000, 1000), keys)])
        w.close()
        assert sorted(got.splitlines()) == sorted(buf.getvalue().splitlines())


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("bad_first", [False, True])
def test_a_byte_order_mark_opens_a_file(tmp_path, fmt, bad_first):
    # native path, and the exact path (a bad record in the first block)
    events = [("a", 0), ("a", 60_000), ("b", 30_000), ("a", 4_000_000)]
    if fmt == "jsonl":
        body = "".join(json.dumps({"uuid": k, "event_timestamp": str(t)}) + "\n"
                       for k, t in events)
        bad = '{"uuid": "c", "event_timestamp": "soon"}\n'
    else:
        body = "uuid,event_timestamp\n" + "".join(f"{k},{t}\n" for k, t in events)
        bad = "c,soon\n"
    if bad_first:
        body += bad
    src = tmp_path / f"e.{fmt}"
    src.write_bytes(b"\xef\xbb\xbf" + body.encode())
    out = tmp_path / "s.jsonl"
    p = cli("sessions", src, "-o", out, *SEED_ARGS, *(["--skip-bad"] if bad_first else []))
    assert canonical(read_output(out, "jsonl")) == seed_rows([k for k, _ in events],
                                                             [t for _, t in events], gap="30min")
    if bad_first:
        assert f"1 bad records skipped (lines {len(events) + 1 + (fmt == 'csv')};" in \
            p.stderr.decode()


def test_an_iso_time_finer_than_a_nanosecond_is_a_bad_record(tmp_path):
    src = tmp_path / "e.jsonl"
    src.write_text('{"uuid": "a", "event_timestamp": "2026-10-01T16:00:00.1234567890Z"}\n'
                   '{"uuid": "a", "event_timestamp": "2026-10-01T16:00:00.1234567891Z"}\n')
    p = cli("sessions", src, *SEED_ARGS, check_rc=2)
    assert "line 2: time: time '2026-10-01T16:00:00.1234567891Z' is finer than a nanosecond" \
        in p.stderr.decode()


def test_integer_key_1_and_string_key_1_do_not_share_a_session_id(tmp_path):
    src = tmp_path / "e.jsonl"
    src.write_text('{"uuid": 1, "event_timestamp": 0}\n'
                   '{"uuid": "u", "event_timestamp": 1000}\n'
                   '{"uuid": "1", "event_timestamp": 9000000}\n')
    out = tmp_path / "s.jsonl"
    p = cli("sessions", src, "-o", out, *SEED_ARGS, "--delay", "all", check_rc=2)
    err = p.stderr.decode()
    assert "the integer key 1 and the string key '1' would share the session id 1_session_1" \
        in err
    assert not out.exists() and not list(tmp_path.glob("s.jsonl.tmp*"))
    # keys of both types that cannot collide are fine ('01' is not 1's spelling)
    src.write_text('{"uuid": 1, "event_timestamp": 0}\n{"uuid": "01", "event_timestamp": 0}\n')
    rows = [json.loads(s) for s in cli("sessions", src, *SEED_ARGS).stdout.decode().splitlines()]
    assert sorted(r["session_id"] for r in rows) == ["01_session_1", "1_session_1"]


def test_bad_rows_in_the_first_a_middle_and_the_last_parquet_batch(clicks, tmp_path):
    import pyarrow.parquet as pq

    d, (keys, times, _) = clicks
    n = len(keys)
    at = [3, n // 2, n]  # row numbers, 1-based: batches of 1000 rows
    uuid = [None if i + 1 in at else k for i, k in enumerate(keys)]
    src = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"uuid": uuid, "event_timestamp": [str(t) for t in times]}), src)
    out = tmp_path / "s.csv"
    p = cli("sessions", src, "-o", out, *SEED_ARGS, "--chunk-size", 1000, check_rc=2)
    assert "row 3: uuid: missing value (null)" in p.stderr.decode()
    assert not out.exists() and not list(tmp_path.glob("s.csv.tmp*"))
    p = cli("sessions", src, "-o", out, *SEED_ARGS, "--chunk-size", 1000, "--skip-bad")
    assert f"3 bad records skipped (rows {at[0]}, {at[1]}, {at[2]};" in p.stderr.decode()
    good = [i for i in range(n) if i + 1 not in at]
    assert canonical(read_output(out, "csv")) == seed_rows(
        [keys[i] for i in good], [times[i] for i in good], gap="30min")
