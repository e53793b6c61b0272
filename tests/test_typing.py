"""Type checkers see the installed package as a user's code does: the C
modules' stubs match the built modules (mypy.stubtest), the typed usage file
passes mypy --strict and pyright's strict mode, and the misuses in
tests/typecheck/misuse.py are caught, each where it is marked.

Every checker runs from a folder outside the checkout, so the package is the
installed one (the editable install must be visible to them: pyproject.toml,
[tool.distutils.editable_wheel]).  mypy, pyright and polars are not in the
[test] extra: without them these skip, and .ci/run installs them.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

TYPECHECK = pathlib.Path(__file__).resolve().parent / "typecheck"
USAGE = TYPECHECK / "usage.py"
MISUSE = TYPECHECK / "misuse.py"
C_MODULES = ("sessionize._core", "sessionize._stream", "sessionize._ctr_stream")


def _need(module: str) -> None:
    pytest.importorskip(module, reason=f"{module} is not installed (CI installs it)")


def _run(args: list[str], cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


def _pyright() -> str:
    _need("pyright")
    exe = shutil.which("pyright", path=str(pathlib.Path(sys.executable).parent))
    if exe is None:
        pytest.skip("no pyright command next to this Python")
    return exe


def _marked_errors() -> dict[int, str]:
    """{line: mypy error code} of the lines misuse.py marks `# error: code`."""
    marks = {}
    for i, line in enumerate(MISUSE.read_text().splitlines(), 1):
        m = re.search(r"# error: ([a-z-]+)$", line)
        if m:
            marks[i] = m.group(1)
    return marks


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory) -> dict[str, dict[int, str]]:
    """mypy --strict's errors in usage.py and misuse.py, one run for both:
    {file name: {line: error code}}."""
    _need("mypy")
    _need("polars")
    p = _run([sys.executable, "-m", "mypy", "--strict", "--show-error-codes",
              "--no-error-summary", str(USAGE), str(MISUSE)],
             tmp_path_factory.mktemp("mypy"))
    errors: dict[str, dict[int, str]] = {USAGE.name: {}, MISUSE.name: {}}
    for line in p.stdout.splitlines():
        m = re.match(r"(?:.*[/\\])?(\w+\.py):(\d+): error: .*\[([a-z-]+)\]$", line)
        assert m is not None or ": note: " in line, p.stdout + p.stderr
        if m:
            errors[m.group(1)][int(m.group(2))] = m.group(3)
    return errors


@pytest.fixture(scope="module")
def pyright_errors(tmp_path_factory) -> dict[str, set[int]]:
    """The lines of pyright's errors (strict: both files say so) in usage.py
    and misuse.py, one run for both: {file name: {line}}."""
    exe = _pyright()
    _need("polars")
    p = _run([exe, "--outputjson", "--pythonpath", sys.executable, str(USAGE), str(MISUSE)],
             tmp_path_factory.mktemp("pyright"))
    errors: dict[str, set[int]] = {USAGE.name: set(), MISUSE.name: set()}
    for d in json.loads(p.stdout)["generalDiagnostics"]:
        if d["severity"] == "error":
            errors[pathlib.Path(d["file"]).name].add(d["range"]["start"]["line"] + 1)
    return errors


def test_stubs_match_the_built_modules(tmp_path):
    _need("mypy")
    p = _run([sys.executable, "-m", "mypy.stubtest", *C_MODULES], tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr


def test_usage_passes_mypy_strict(mypy_errors):
    assert mypy_errors[USAGE.name] == {}


def test_usage_passes_pyright_strict(pyright_errors):
    assert pyright_errors[USAGE.name] == set()


def test_usage_runs(tmp_path):
    _need("polars")
    p = _run([sys.executable, str(USAGE)], tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr


def test_mypy_catches_each_misuse_where_marked(mypy_errors):
    assert mypy_errors[MISUSE.name] == _marked_errors()


def test_pyright_catches_each_misuse_where_marked(pyright_errors):
    assert pyright_errors[MISUSE.name] == set(_marked_errors())
