"""What the numbers were measured on: machine, software versions, date."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata

PACKAGES = ("sessionize", "numpy", "pandas", "polars", "duckdb", "pyarrow",
            "bytewax", "apache-beam")


def _cpu_model() -> str:
    """The model name, plus family/model and the widest vector extension,
    since a VM often reports only a generic name."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if ":" in line:
                    k, v = (s.strip() for s in line.split(":", 1))
                    info.setdefault(k, v)
    except OSError:
        return platform.processor() or "unknown CPU"
    flags = info.get("flags", "").split()
    vec = next((v for v in ("avx512f", "avx2", "sse4_2") if v in flags), None)
    extra = ", ".join(x for x in (
        f"family {info['cpu family']} model {info['model']}" if "model" in info else "",
        vec.upper().replace("F", "").replace("_", ".") if vec else "",
    ) if x)
    name = info.get("model name", platform.processor() or "unknown CPU")
    return f"{name} ({extra})" if extra else name


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def _git_commit() -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        rev = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--", "../csrc",
                                "../sessionize"], capture_output=True, text=True).stdout.strip()
        return rev + (" (core or binding modified)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> dict:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": {p: _version(p) for p in PACKAGES},
        "commit": _git_commit(),
    }
