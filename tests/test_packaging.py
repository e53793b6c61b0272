"""What users get is the installed package: every module and data file of
the source tree is in it, the console command is `python -m sessionize`,
the metadata carries the license and the version, and a source tree whose
extension is not built says what to do.

CI runs this suite against the wheel built from the sdist, installed in a
fresh venv, from a folder outside the checkout (SESSIONIZE_EXPECT_INSTALLED=1);
the README's test command runs it against the editable install."""

from __future__ import annotations

import importlib.metadata
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig

import pytest

import sessionize

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE = ROOT / "sessionize"
INSTALLED = pathlib.Path(sessionize.__file__).resolve().parent


def _package_files(top: pathlib.Path) -> set[str]:
    """The files a run needs: modules, stubs, markers, data (no build products)."""
    keep = {".py", ".pyi", ".typed", ".csv", ".jsonl"}
    return {p.relative_to(top).as_posix() for p in top.rglob("*")
            if p.is_file() and p.suffix in keep and "__pycache__" not in p.parts}


def test_the_imported_package_is_the_one_ci_installed():
    if os.environ.get("SESSIONIZE_EXPECT_INSTALLED") != "1":
        pytest.skip("only in CI's run against the installed wheel")
    # (the venv itself may sit inside the checkout, as CI's does)
    assert INSTALLED != SOURCE.resolve() and "site-packages" in INSTALLED.parts, (
        f"sessionize was imported from {INSTALLED}, not from the installed wheel")


def test_every_module_and_data_file_is_installed():
    want = _package_files(SOURCE)
    assert {"cli/__init__.py", "py.typed", "_core.pyi", "data/sample_clicks.csv"} <= want
    missing = want - _package_files(INSTALLED)
    assert not missing, f"not in the installed package: {sorted(missing)}"


def test_each_extension_module_is_built():
    for name in ("_core", "_stream", "_ctr_stream"):
        mod = __import__(f"sessionize.{name}", fromlist=["_"])
        assert pathlib.Path(mod.__file__).suffix in (".so", ".pyd"), mod.__file__


def test_console_command_is_python_m_sessionize():
    scripts = pathlib.Path(sysconfig.get_path("scripts"))
    exe = shutil.which("sessionize", path=str(scripts))
    assert exe is not None, f"no `sessionize` command in {scripts}"
    a = subprocess.run([exe, "--help"], capture_output=True, text=True)
    b = subprocess.run([sys.executable, "-m", "sessionize", "--help"], capture_output=True,
                       text=True)
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    # the same help, the program named as the user started it
    assert a.stdout.startswith("usage: sessionize ")
    assert a.stdout == b.stdout.replace("python -m sessionize", "sessionize")
    assert "demo" in a.stdout and "sessions" in a.stdout


def test_metadata_has_the_license_and_the_version():
    meta = importlib.metadata.metadata("sessionize")
    assert meta["License-Expression"] == "Apache-2.0"
    assert importlib.metadata.version("sessionize") == sessionize.__version__
    files = [f for f in importlib.metadata.files("sessionize") or []
             if f.name == "LICENSE"]
    assert files, "LICENSE is not in the installed distribution"
    text = files[0].locate().read_text()
    assert "Apache License" in text and "Version 2.0" in text
    assert text == (ROOT / "LICENSE").read_text()


def test_a_source_tree_without_the_extension_says_what_to_do(tmp_path):
    tree = tmp_path / "checkout"
    shutil.copytree(SOURCE, tree / "sessionize",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    (tree / "setup.py").write_text("")
    # -S: no site-packages, so no editable install's finder, only the tree
    p = subprocess.run([sys.executable, "-S", "-c", "import sessionize"], cwd=tree,
                       capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(tree)})
    assert p.returncode == 1
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: sessionize's C extension is not built"), p.stderr
    assert "pip install ." in last and "build_ext --inplace" in last
    assert "partially initialized" not in last
