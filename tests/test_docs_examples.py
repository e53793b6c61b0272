"""Every code block of README.md and docs/ runs, and gives the output it shows.

The convention (docs/testing.md says it to writers of the docs):

- A page's ```python blocks run in order, in one namespace (a fresh one per
  page), in a temporary working directory.  A ```text block right after a
  block (nothing but blank lines between) is that block's output: what it
  prints must be the same, line for line (trailing spaces ignored); a line
  ``...`` stands for any number of lines, and ``...`` inside a line for any
  text.
- ```sh blocks whose commands are all ``sessionize ...`` (or ``python -m
  sessionize ...``) run too, in the same directory, with this interpreter's
  ``python -m sessionize``; their standard output is compared the same way.
  Set-up blocks (pip, venv, pytest, make, mkdocs, bash .ci/run, ...) are not
  run: CI runs them itself.
- A block whose page imports an optional package that is missing here
  (Apache Beam, Bytewax, pyspark, PyFlink, polars, DuckDB, matplotlib, ...)
  is skipped with the reason, and so are the page's blocks after it (they may
  use what it defined).  ``<!-- requires: module -->`` on the line before a
  block names one that the imports do not show.
- A block that cannot run here at all (a Kafka source needs a broker) has
  ``<!-- not run: the reason -->`` on the line before it; the reason must be
  given.  Other fences (```text alone, ```c, ```yaml, ...) are not code to run.

``python tests/test_docs_examples.py`` prints how many blocks each page has,
and of which kind.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def pages():
    out = [ROOT / "README.md"]
    if DOCS.is_dir():
        # docs/benchmarks links to benchmarks/, whose results pages
        # benchmarks/run.py writes: no examples there
        out += sorted(p for p in DOCS.rglob("*.md") if "benchmarks" not in p.relative_to(DOCS).parts)
    return [p for p in out if p.is_file()]


FENCE = re.compile(r"^(\s*)(`{3,})\s*([\w+-]*)[^\n]*$")
MARK = re.compile(r"^\s*<!--\s*(not run|requires)\s*:?\s*(.*?)\s*-->\s*$")


class Block:
    def __init__(self, lang, code, line, mark, output):
        self.lang, self.code, self.line = lang, code, line
        self.mark = mark          # ("not run", reason) / ("requires", modules) / None
        self.output = output      # the text block shown after it, or None

    def __repr__(self):
        return f"<{self.lang} block at line {self.line}>"


def blocks(text):
    """The fenced blocks of a Markdown page, each with the mark before it and
    the ```text block after it."""
    lines = text.splitlines()
    raw = []                      # (lang, code, line, mark, end line)
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, ticks, lang = m.group(1), m.group(2), m.group(3).lower()
        j = i + 1
        body = []
        while j < len(lines) and not re.match(r"^\s*" + ticks + r"\s*$", lines[j]):
            body.append(lines[j])
            j += 1
        code = textwrap.dedent("\n".join(body)) + "\n"
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        mk = MARK.match(lines[k]) if k >= 0 else None
        mark = (mk.group(1), mk.group(2)) if mk else None
        raw.append((lang, code, i + 1, mark, j))
        i = j + 1
    out = []
    for n, (lang, code, line, mark, end) in enumerate(raw):
        output = None
        if n + 1 < len(raw) and raw[n + 1][0] == "text" and lang in ("python", "py", "sh", "c"):
            between = lines[end + 1:raw[n + 1][2] - 1]
            if all(not s.strip() for s in between):
                output = raw[n + 1][1]
        out.append(Block(lang, code, line, mark, output))
    # a text block that is an output is not a block of its own
    outputs = {id(b) for b in out}
    shown = set()
    for n, b in enumerate(out):
        if b.output is not None:
            shown.add(n + 1)
    return [b for n, b in enumerate(out) if n not in shown and id(b) in outputs]


# ----------------------------------------------------------------- outputs

def _norm(s):
    lines = [ln.rstrip() for ln in s.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines


def output_matches(expected, got):
    exp, act = _norm(expected), _norm(got)
    parts = []
    for ln in exp:
        if ln.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(x) for x in ln.split("...")) + r"\n")
    return re.fullmatch("".join(parts), "\n".join(act) + "\n", flags=re.S) is not None


# ------------------------------------------------------------ requirements

# what a module of the package needs that the [test] extra does not bring
NEEDS = {
    "sessionize.beam": "apache_beam", "sessionize.bytewax": "bytewax",
    "sessionize.spark": "pyspark", "sessionize.flink": "pyflink",
    "sessionize.plot": "matplotlib",
}


def _available(mod):
    try:
        return importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):
        return False


def missing_modules(block):
    """The modules a python block needs that are not installed."""
    wanted = []
    if block.mark and block.mark[0] == "requires":
        wanted += block.mark[1].replace(",", " ").split()
    try:
        tree = ast.parse(block.code)
    except SyntaxError:
        tree = None
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name in NEEDS:
                wanted.append(NEEDS[name])
            elif not name.startswith("sessionize"):
                wanted.append(name.split(".")[0])
    if ".plot." in block.code:
        wanted.append("matplotlib")
    return [m for m in dict.fromkeys(wanted) if not _available(m)]


# -------------------------------------------------------------- sh blocks

CLI = re.compile(r"^(?:\S*python3?\s+-m\s+sessionize|sessionize)\s")
SETUP = re.compile(r"\b(pip|venv|pytest|make|mkdocs|bash|git|apt-get|cd|python3?\s+-m\s+build)\b")


def sh_commands(code):
    """The commands of an sh block, continuation lines joined."""
    cmds, cur = [], ""
    for ln in code.splitlines():
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("$ "):
            s = s[2:]
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cmds.append(cur + s)
        cur = ""
    return cmds


def sh_kind(block):
    cmds = sh_commands(block.code)
    if cmds and all(CLI.match(c + " ") for c in cmds):
        return "cli"
    if cmds and all(SETUP.search(c) for c in cmds):
        return "setup"
    return "unknown"


def run_cli(cmd, cwd):
    argv = shlex.split(cmd)
    while argv[0] != "sessionize" and not argv[0].endswith("sessionize"):
        argv.pop(0)      # python -m sessionize: drop the interpreter and -m
    argv = [sys.executable, "-m", "sessionize"] + argv[1:]
    env = dict(os.environ, COLUMNS="100")
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, f"{cmd!r} exited {r.returncode}: {r.stderr}"
    return r.stdout


def run_c(code, tmp):
    """Compiles a C example against the core's sources and runs it."""
    src = pathlib.Path(tmp) / "example.c"
    src.write_text(code)
    csrc = ROOT / "csrc"
    sources = sorted(str(p) for p in csrc.glob("*.c")) + [str(csrc / "vendor" / "nanoarrow" / "nanoarrow.c")]
    exe = pathlib.Path(tmp) / "example"
    # a C program of its own: not under the sanitizer runtime a sanitized
    # test run preloads into Python
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    r = subprocess.run(["cc", "-std=c11", "-O1", "-pthread", "-I", str(csrc), "-I",
                        str(csrc / "vendor" / "nanoarrow"), str(src), *sources, "-o", str(exe), "-lm"],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, f"the C example does not compile: {r.stderr[-3000:]}"
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, f"the C example exited {r.returncode}: {r.stderr}"
    return r.stdout


# ------------------------------------------------------------------- runs

def classify(block):
    """What the tests do with a block: run, not-run (marked), setup, other."""
    if block.mark and block.mark[0] == "not run":
        return "not run"
    if block.lang in ("python", "py"):
        return "python"
    if block.lang == "c" and "int main" in block.code:
        return "c"
    if block.lang in ("sh", "bash", "console", "shell"):
        return {"cli": "cli", "setup": "setup"}.get(sh_kind(block), "unknown sh")
    return "other"


def run_page(path, tmp_path, monkeypatch):
    """Runs a page's blocks; returns counts by what happened to them."""
    counts = {"run": 0, "compared": 0, "skipped": 0, "not run": 0, "setup": 0}
    skip_reason = None
    namespace = {"__name__": "__docs__"}
    monkeypatch.chdir(tmp_path)
    # as in an activated venv: `python` (Spark's and Flink's Python workers
    # start it) is this interpreter
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    for b in blocks(path.read_text()):
        kind = classify(b)
        where = f"{path.relative_to(ROOT)}:{b.line}"
        if kind == "not run":
            assert b.mark[1], f"{where}: '<!-- not run: ... -->' needs its reason"
            counts["not run"] += 1
            continue
        if kind == "setup":
            counts["setup"] += 1
            continue
        assert kind != "unknown sh", (
            f"{where}: an sh block is run when all its commands are `sessionize ...`; "
            "this one is not, nor a set-up command: mark it <!-- not run: reason -->")
        if kind == "c" and (shutil.which("cc") is None or not (ROOT / "csrc").is_dir()):
            counts["skipped"] += 1    # no compiler, or no csrc/ beside the tests
            continue
        if kind not in ("python", "cli", "c"):
            continue
        if kind == "python":
            missing = missing_modules(b)
            if missing and skip_reason is None:
                skip_reason = f"{where} needs {', '.join(missing)}"
        if skip_reason is not None:
            counts["skipped"] += 1
            continue
        if kind == "python":
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                try:
                    exec(compile(b.code, where, "exec"), namespace)
                except Exception as e:
                    raise AssertionError(f"{where}: the block raised {e!r}") from e
            got = buf.getvalue()
        elif kind == "c":
            got = run_c(b.code, tmp_path)
        else:
            got = "".join(run_cli(c, tmp_path) for c in sh_commands(b.code))
        counts["run"] += 1
        if b.output is not None:
            assert output_matches(b.output, got), (
                f"{where}: the block printed\n{got}\nbut the page shows\n{b.output}")
            counts["compared"] += 1
    return counts, skip_reason


PAGES = pages()


# Pages whose examples start an engine's own runtime (Beam's gRPC threads,
# Spark's JVM started through a fork, Flink's mini-cluster) each run in a
# process of their own: in one process, a JVM launched after Beam's threads
# exited before it started (seen once in CI), and one engine's leftovers
# would make another page's result depend on the order of the pages.
ISOLATED = "docs/engines/"
_PAGE_ENV = "SESSIONIZE_DOCS_PAGE"


def _in_own_process(path) -> None:
    page = str(path.relative_to(ROOT))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                        f"{__file__}::test_page_examples[{page}]"],
                       capture_output=True, text=True, timeout=1800,
                       env={**os.environ, _PAGE_ENV: page})
    tail = (r.stdout + r.stderr)[-6000:]
    if r.returncode != 0:
        pytest.fail(f"{page}, run in its own process:\n{tail}", pytrace=False)
    m = re.search(r"SKIPPED \[\d+\] [^:]+:\d+: (.*)", r.stdout)
    if m and " passed" not in r.stdout:
        pytest.skip(m.group(1))


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_examples(path, tmp_path, monkeypatch):
    page = str(path.relative_to(ROOT))
    if page.startswith(ISOLATED) and os.environ.get(_PAGE_ENV) != page:
        _in_own_process(path)
        return
    counts, skip_reason = run_page(path, tmp_path, monkeypatch)
    print(f"{path.relative_to(ROOT)}: {counts}")
    if skip_reason:
        # a CI run that promises the engines (SESSIONIZE_REQUIRE_ENGINES=1: all
        # but PyFlink; SESSIONIZE_REQUIRE_FLINK=1: PyFlink) cannot skip them
        flink = "pyflink" in skip_reason
        if os.environ.get("SESSIONIZE_REQUIRE_FLINK" if flink else "SESSIONIZE_REQUIRE_ENGINES") == "1":
            pytest.fail(f"the engines are required, but {skip_reason}", pytrace=False)
        if counts["run"] == 0:
            pytest.skip(skip_reason)


def test_the_docs_are_found_and_have_examples():
    assert (ROOT / "README.md").is_file()
    assert DOCS.is_dir() and len(PAGES) > 10, "docs/ not found beside tests/"
    python = sum(classify(b) == "python" for p in PAGES for b in blocks(p.read_text()))
    assert python >= 30


def test_not_run_marks_give_their_reason():
    for p in PAGES:
        for b in blocks(p.read_text()):
            if b.mark and b.mark[0] == "not run":
                assert len(b.mark[1]) > 10, f"{p}:{b.line}: a 'not run' mark needs its reason"


def test_output_matching():
    assert output_matches("a\n...\nd", "a\nb\nc\nd\n")
    assert output_matches("x = ...!", "x = 42!")
    assert not output_matches("a\nb", "a\nc")
    assert output_matches("a  \n\n", "\na")


def test_block_parsing():
    page = textwrap.dedent("""\
        ```python
        print(1)
        ```

        ```text
        1
        ```

        <!-- not run: needs a Kafka broker -->
        ```python
        consume()
        ```

        === "tab"

            ```python
            x = 2
            ```
        """)
    bs = blocks(page)
    assert [b.lang for b in bs] == ["python", "python", "python"]
    assert bs[0].output.strip() == "1"
    assert bs[1].mark == ("not run", "needs a Kafka broker")
    assert bs[2].code == "x = 2\n"


if __name__ == "__main__":
    total = {}
    for p in PAGES:
        kinds = {}
        for b in blocks(p.read_text()):
            k = classify(b) + (" + output" if b.output is not None else "")
            kinds[k] = kinds.get(k, 0) + 1
            total[k] = total.get(k, 0) + 1
        print(f"{str(p.relative_to(ROOT)):32} {kinds}")
    print("total", total)
