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


def test_readme_is_short_and_links_into_the_docs():
    """The README is the front page (at most about 200 lines); the rest is in
    docs/, and every relative link of the README resolves in the checkout."""
    assert len(README.splitlines()) <= 220
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [x for x in links if "://" not in x]
    assert any(x.startswith("docs/") for x in local)
    for target in local:
        assert (ROOT / target).exists(), f"README links to {target}, which is not there"
    # the command that builds and serves the site locally
    assert "mkdocs serve" in README and (ROOT / "mkdocs.yml").is_file()


def test_user_facing_text_names_what_it_refers_to():
    """No "seed" in the README or the docs: each engine's example is named
    for what it is (the Apache Beam session-windows example, the Bytewax
    search-session tutorial, ...)."""
    pages = [ROOT / "README.md"] + sorted(
        p for p in (ROOT / "docs").rglob("*.md") if "benchmarks" not in p.relative_to(ROOT / "docs").parts)
    # included in the site whole: the changelog and the C API's header
    pages += [ROOT / "CHANGELOG.md", ROOT / "csrc" / "sessionize.h"]
    for page in pages:
        text = page.read_text()
        text = re.sub(r"--seed|seed corpus|fuzz-seeds|Seed\s+corpus", "", text)
        assert not re.search(r"\bseeds?\b", text, flags=re.I), f"{page.name} says 'seed'"


def test_version_is_written_once_and_agrees():
    """sessionize.__version__ is the version (pyproject reads it statically);
    the C header's SZ_VERSION_STRING and the changelog's latest release say
    the same."""
    v = sessionize.__version__
    header = (ROOT / "csrc" / "sessionize.h").read_text()
    m = re.search(r'#define SZ_VERSION_STRING "([^"]+)"', header)
    assert m and m.group(1) == v
    parts = {k: re.search(rf"#define SZ_VERSION_{k} (\d+)", header).group(1)
             for k in ("MAJOR", "MINOR", "PATCH")}
    assert ".".join(parts[k] for k in ("MAJOR", "MINOR", "PATCH")) == v
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = { attr = "sessionize.__version__" }' in pyproject
    released = re.findall(r"^## \[?(\d+\.\d+\.\d+)", (ROOT / "CHANGELOG.md").read_text(), flags=re.M)
    assert released and released[0] == v, "CHANGELOG.md's latest release is not __version__"
