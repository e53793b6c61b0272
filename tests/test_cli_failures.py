"""Every way a run of the command line can fail ends with one clear line
on standard error and the documented exit code (sessionize/cli/errors.py),
never a traceback, and leaves no partial or temporary output behind."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time

import pytest

from engines.require import optional
from test_cli import PACKAGE_PARENT, SEED_ARGS, cli

optional("pyarrow", extra="cli")

EVENTS = "".join(f'{{"uuid": "u{i % 7}", "event_timestamp": "{1000 * i}"}}\n'
                 for i in range(2000))


def _events(tmp_path, name="e.jsonl"):
    src = tmp_path / name
    src.write_text(EVENTS)
    return src


def _only(tmp_path, *names):
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


def _clean_fail(p, rc: int, *parts: str):
    err = p.stderr.decode()
    assert p.returncode == rc, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for part in parts:
        assert part in err, err


@pytest.mark.parametrize("how", ["same path", "another path", "hard link"])
def test_output_naming_the_input_is_refused_and_the_input_kept(tmp_path, how):
    src = _events(tmp_path)
    before = src.read_bytes()
    target = {"same path": str(src), "another path": f"{tmp_path}/./e.jsonl",
              "hard link": str(tmp_path / "link.jsonl")}[how]
    if how == "hard link":
        os.link(src, target)
    p = cli("sessions", src, "-o", target, *SEED_ARGS, check_rc=None)
    _clean_fail(p, 2, "that is the input file")
    assert src.read_bytes() == before
    _only(tmp_path, "e.jsonl", *(["link.jsonl"] if how == "hard link" else []))


def test_output_naming_a_directory(tmp_path):
    src = _events(tmp_path)
    (tmp_path / "d").mkdir()
    _clean_fail(cli("sessions", src, "-o", tmp_path / "d", *SEED_ARGS, check_rc=None), 2,
                "is a directory")
    _only(tmp_path, "e.jsonl", "d")
    assert list((tmp_path / "d").iterdir()) == []


def test_a_parquet_name_on_a_file_that_is_not_parquet(tmp_path):
    src = _events(tmp_path, "e.parquet")  # JSON lines under a Parquet name
    out = tmp_path / "s.csv"
    _clean_fail(cli("sessions", src, "-o", out, *SEED_ARGS, check_rc=None), 2,
                f"INPUT {src}: not a Parquet file")
    _only(tmp_path, "e.parquet")


def test_a_damaged_gzip_and_text_that_is_not_utf8(tmp_path):
    gz = tmp_path / "e.jsonl.gz"
    gz.write_bytes(b"\x1f\x8b\x08\x00garbage, not a gzip stream")
    _clean_fail(cli("sessions", gz, "-o", tmp_path / "s.jsonl", *SEED_ARGS, check_rc=None), 2,
                "not a whole gzip stream")
    latin = tmp_path / "e.csv"
    latin.write_bytes(b"uuid,event_timestamp\n\xe9t\xe9,1000\n")
    _clean_fail(cli("sessions", latin, "-o", tmp_path / "s.csv", *SEED_ARGS, check_rc=None), 2,
                "not UTF-8")
    _only(tmp_path, "e.jsonl.gz", "e.csv")


def test_standard_output_to_dev_full():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    src_text = EVENTS.encode()
    with open("/dev/full", "wb") as full:
        p = subprocess.run([sys.executable, "-m", "sessionize", "sessions", "-", *SEED_ARGS],
                           input=src_text, stdout=full, stderr=subprocess.PIPE,
                           env={**os.environ, "PYTHONPATH": PACKAGE_PARENT})
    _clean_fail(p, 1, "standard output: No space left on device")


def _small_files():
    # a file size limit stands in for a full disk: writes past it fail
    # with EFBIG as they would with ENOSPC (SIGXFSZ ignored, so the write
    # returns the error instead of killing the process)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_a_full_disk_leaves_no_output(tmp_path, fmt):
    src = tmp_path / "e.jsonl"
    src.write_text("".join(f'{{"uuid": "u{i}", "event_timestamp": "{1000 * i}"}}\n'
                           for i in range(3000)))  # 3000 sessions: more than 20 kB out
    out = tmp_path / f"s.{fmt}"
    p = subprocess.run([sys.executable, "-m", "sessionize", "sessions", str(src), "-o", str(out),
                        *SEED_ARGS], capture_output=True, preexec_fn=_small_files,
                       env={**os.environ, "PYTHONPATH": PACKAGE_PARENT})
    _clean_fail(p, 1, f"-o {out}: File too large")
    _only(tmp_path, "e.jsonl")


@pytest.mark.parametrize("sig, rc, said", [(signal.SIGINT, 130, "interrupted"),
                                           (signal.SIGTERM, 143, "terminated")])
def test_a_signal_removes_the_temporary_output(tmp_path, sig, rc, said):
    # standard input held open: the run waits for more events, its
    # temporary output already created, when the signal comes
    out = tmp_path / "s.jsonl"
    p = subprocess.Popen([sys.executable, "-m", "sessionize", "sessions", "-", "-o", str(out),
                          *SEED_ARGS], stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={**os.environ, "PYTHONPATH": PACKAGE_PARENT})
    try:
        p.stdin.write(EVENTS.encode())
        p.stdin.flush()
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob("s.jsonl.tmp-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(tmp_path.glob("s.jsonl.tmp-*"))
        time.sleep(0.3)  # into the read of standard input
        p.send_signal(sig)
        err = p.communicate(timeout=30)[1].decode()
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == rc, err
    assert said in err and "Traceback" not in err
    _only(tmp_path)
