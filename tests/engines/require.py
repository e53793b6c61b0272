"""Import an engine or an optional package, or skip: unless
SESSIONIZE_REQUIRE_ENGINES=1, then fail.

    beam = engine("apache_beam", dist="apache-beam", minversion="2.50")

Without the variable a missing (or too old) engine skips the test with the
reason; with it, the test fails, so a CI run that promises the engines cannot
go green by skipping them all.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import shutil
import subprocess

import pytest

INSTALL_HINT = "pip install -e '.[test,engines]'"


def optional(module: str, *, extra: str):
    """An optional package's module (pyarrow, polars, ...), or a skip naming
    the extra that installs it (a failure when SESSIONIZE_REQUIRE_ENGINES=1)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        unavailable(f"{module} is not importable ({e}); it comes with "
                    f"pip install 'sessionize[{extra}]'")


def required() -> bool:
    return os.environ.get("SESSIONIZE_REQUIRE_ENGINES") == "1"


def unavailable(reason: str):
    """Skip with `reason`, or fail with it when the engines are required."""
    if required():
        pytest.fail(f"SESSIONIZE_REQUIRE_ENGINES=1 but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def engine(module: str, *, dist: str, minversion: str | None = None):
    """The imported engine module, or a skip (a failure when required)."""
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        unavailable(f"{module} is not importable ({e}); install it with {INSTALL_HINT}")
    if minversion is not None:
        have = importlib.metadata.version(dist)
        if _version_tuple(have) < _version_tuple(minversion):
            unavailable(f"{dist} {have} is older than {minversion}; {INSTALL_HINT}")
    return mod


def java_major() -> int | None:
    """The major version of `java` on PATH, or None when there is none."""
    java = shutil.which("java")
    if java is None:
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True,
                             timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if m is None:
        return None
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 and m.group(2) else major  # "1.8" is 8


def require_java(min_major: int) -> None:
    major = java_major()
    if major is None:
        unavailable("Spark needs Java and `java -version` does not answer on PATH "
                    "(apt-get install openjdk-17-jre-headless)")
    if major < min_major:
        unavailable(f"this pyspark needs Java >= {min_major}, `java` on PATH is {major}")
