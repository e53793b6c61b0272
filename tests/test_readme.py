"""The README's set-up commands are the ones CI runs, and its examples hold."""

import pathlib
import re

import numpy as np

import sessionize

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _shell_blocks():
    return re.findall(r"```sh\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_install_and_test_commands_that_ci_runs():
    blocks = _shell_blocks()
    assert len(blocks) >= 2
    install, tests = blocks[0].strip(), blocks[1].strip()
    assert "pip install" in install and "sessionize demo" in install
    assert "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert install in ci.splitlines()
    assert tests in ci.splitlines()


def test_readme_notebook_example_gives_what_it_shows():
    users = np.array(["ann", "bob", "ann", "ann", "bob", "ann"])
    times = np.array(["2026-11-21T09:00", "2026-11-21T09:05", "2026-11-21T09:20",
                      "2026-11-21T10:30", "2026-11-21T09:50", "2026-11-21T10:40"],
                     dtype="datetime64[s]")
    assert sessionize.assign(users, times, gap="30min").tolist() == [0, 2, 0, 1, 3, 1]
    t = sessionize.sessions(users, times, gap="30min")
    assert len(t) == 4
    assert t.key.tolist() == ["ann", "ann", "bob", "bob"]
    assert t.count.tolist() == [2, 2, 1, 1]
    assert t.window_end[1] == np.datetime64("2026-11-21T11:10:00")
    assert "array([0, 2, 0, 1, 3, 1])" in README


def test_demo_runs_on_shipped_sample(capsys):
    from sessionize.__main__ import main

    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "sample clickstream:" in out and "sessions" in out
    # the sample has sessions long enough for the 2-hour cap to matter
    m = re.search(r"without the cap: (\d+) sessions; the 2 h cap makes (\d+)", out)
    assert m and int(m.group(2)) > int(m.group(1))
