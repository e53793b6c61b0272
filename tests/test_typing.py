"""Type checkers see the installed package as a user's code does: the C
modules' stubs match the built modules (mypy.stubtest), the typed usage file
passes mypy --strict and pyright's strict mode, and the misuses in
tests/typecheck/misuse.py are caught, each where it is marked.  The same for
the engine adapters (usage_engines.py, misuse_engines.py) where Apache Beam
and Bytewax are installed (skipped otherwise; failed with
SESSIONIZE_REQUIRE_ENGINES=1).

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

from engines.require import engine

TYPECHECK = pathlib.Path(__file__).resolve().parent / "typecheck"
USAGE = TYPECHECK / "usage.py"
MISUSE = TYPECHECK / "misuse.py"
USAGE_ENGINES = TYPECHECK / "usage_engines.py"
MISUSE_ENGINES = TYPECHECK / "misuse_engines.py"
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


def _need_engines() -> None:
    engine("apache_beam", dist="apache-beam")
    engine("bytewax", dist="bytewax")


def _marked_errors(path: pathlib.Path = MISUSE) -> dict[int, str]:
    """{line: mypy error code} of the lines a misuse file marks `# error: code`."""
    marks = {}
    for i, line in enumerate(path.read_text().splitlines(), 1):
        m = re.search(r"# error: ([a-z-]+)$", line)
        if m:
            marks[i] = m.group(1)
    return marks


def _mypy(files: tuple[pathlib.Path, ...], cwd: pathlib.Path) -> dict[str, dict[int, str]]:
    """mypy --strict's errors in `files`, one run: {file name: {line: error code}}."""
    p = _run([sys.executable, "-m", "mypy", "--strict", "--show-error-codes",
              "--no-error-summary", *map(str, files)], cwd)
    errors: dict[str, dict[int, str]] = {f.name: {} for f in files}
    for line in p.stdout.splitlines():
        m = re.match(r"(?:.*[/\\])?(\w+\.py):(\d+): error: .*\[([a-z-]+)\]$", line)
        assert m is not None or ": note: " in line, p.stdout + p.stderr
        if m:
            errors[m.group(1)][int(m.group(2))] = m.group(3)
    return errors


def _pyright_lines(exe: str, files: tuple[pathlib.Path, ...],
                   cwd: pathlib.Path) -> dict[str, set[int]]:
    """The lines of pyright's errors in `files` (strict: each file says so),
    one run: {file name: {line}}."""
    p = _run([exe, "--outputjson", "--pythonpath", sys.executable, *map(str, files)], cwd)
    errors: dict[str, set[int]] = {f.name: set() for f in files}
    for d in json.loads(p.stdout)["generalDiagnostics"]:
        if d["severity"] == "error":
            errors[pathlib.Path(d["file"]).name].add(d["range"]["start"]["line"] + 1)
    return errors


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory) -> dict[str, dict[int, str]]:
    """mypy --strict's errors in usage.py and misuse.py, one run for both."""
    _need("mypy")
    _need("polars")
    return _mypy((USAGE, MISUSE), tmp_path_factory.mktemp("mypy"))


@pytest.fixture(scope="module")
def pyright_errors(tmp_path_factory) -> dict[str, set[int]]:
    """pyright's error lines in usage.py and misuse.py, one run for both."""
    exe = _pyright()
    _need("polars")
    return _pyright_lines(exe, (USAGE, MISUSE), tmp_path_factory.mktemp("pyright"))


@pytest.fixture(scope="module")
def mypy_engine_errors(tmp_path_factory) -> dict[str, dict[int, str]]:
    """mypy --strict's errors in usage_engines.py and misuse_engines.py."""
    _need("mypy")
    _need_engines()
    return _mypy((USAGE_ENGINES, MISUSE_ENGINES), tmp_path_factory.mktemp("mypy_engines"))


@pytest.fixture(scope="module")
def pyright_engine_errors(tmp_path_factory) -> dict[str, set[int]]:
    """pyright's error lines in usage_engines.py and misuse_engines.py."""
    exe = _pyright()
    _need_engines()
    return _pyright_lines(exe, (USAGE_ENGINES, MISUSE_ENGINES),
                          tmp_path_factory.mktemp("pyright_engines"))


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


def test_engine_usage_passes_mypy_strict(mypy_engine_errors):
    assert mypy_engine_errors[USAGE_ENGINES.name] == {}


def test_engine_usage_passes_pyright_strict(pyright_engine_errors):
    assert pyright_engine_errors[USAGE_ENGINES.name] == set()


def test_engine_usage_runs(tmp_path):
    _need_engines()
    p = _run([sys.executable, str(USAGE_ENGINES)], tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr


def test_mypy_catches_each_engine_misuse_where_marked(mypy_engine_errors):
    assert mypy_engine_errors[MISUSE_ENGINES.name] == _marked_errors(MISUSE_ENGINES)


def test_pyright_catches_each_engine_misuse_where_marked(pyright_engine_errors):
    assert pyright_engine_errors[MISUSE_ENGINES.name] == set(_marked_errors(MISUSE_ENGINES))
