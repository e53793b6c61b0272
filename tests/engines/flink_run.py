"""Runs PyFlink's own session windows and sessionize.flink side by side.

    runs = run_side_by_side(env, [events, ...])

Each event list (of (key, time ms, value)) becomes its own pipeline in one
Flink job (one mini-cluster start for all of them): a collection source,
timestamps from the element, per-element bounded-out-of-orderness
watermarks (tests/flink/PerEventOutOfOrderness.java, compiled here), keyed
by the key, then both

- Flink's ``window(EventTimeSessionWindows.with_gap(gap))
  .allowed_lateness(lateness).side_output_late_data(tag)`` with a
  ProcessWindowFunction reporting each firing (key, start, end, contents),
- ``sessionize.flink.SessionWindowFunction(gap, allowed_lateness, late_tag)``.

With ``dynamic=True`` each event is (key, time ms, value, gap ms), and the
two operators are ``EventTimeSessionWindows.with_dynamic_gap`` (an extractor
returning the element's gap) and ``SessionWindowFunction(gap_ms, gap_of=...)``,
``gap_ms`` then the longest gap (the adapter's bound).

Parallelism 1: the watermark each element meets is then fixed by the input
order, the same for both operators and for the model in
tests/test_stream_flink.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .require import unavailable

JAVA_SOURCE = Path(__file__).resolve().parent.parent / "flink" / "PerEventOutOfOrderness.java"
REQUIRE_VAR = "SESSIONIZE_REQUIRE_FLINK"
INSTALL_HINT = ("python3.11 -m venv .venv-flink && .venv-flink/bin/pip install -e "
                "'.[test,flink]' (Flink cannot share the engines venv: it pins apache-beam<=2.61)")


def flink_unavailable(reason: str):
    """Skip, or fail when SESSIONIZE_REQUIRE_FLINK=1 (CI's Flink venv)."""
    import pytest

    if os.environ.get(REQUIRE_VAR) == "1":
        pytest.fail(f"{REQUIRE_VAR}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def import_pyflink():
    try:
        import pyflink  # noqa: F401
        import sessionize.flink as adapter
    except ImportError as e:
        flink_unavailable(f"pyflink is not importable ({e}); {INSTALL_HINT}")
    return adapter


def watermark_jar(workdir: Path) -> Path:
    """Compiles PerEventOutOfOrderness.java against the installed Flink."""
    import pyflink

    javac, jar = shutil.which("javac"), shutil.which("jar")
    if javac is None or jar is None:
        flink_unavailable("javac/jar are not on PATH (a JDK, e.g. openjdk-17-jdk-headless, "
                          "compiles the test's watermark generator)")
    flink_lib = Path(pyflink.__file__).parent / "lib"
    classpath = os.pathsep.join(str(p) for p in flink_lib.glob("flink-dist-*.jar"))
    classes = workdir / "classes"
    classes.mkdir(parents=True, exist_ok=True)
    subprocess.run([javac, "--release", "17", "-d", str(classes), "-cp", classpath,
                    str(JAVA_SOURCE)], check=True, capture_output=True, timeout=300)
    out = workdir / "per-event-watermarks.jar"
    subprocess.run([jar, "cf", str(out), "-C", str(classes), "."], check=True,
                   capture_output=True, timeout=300)
    return out


def local_env(parallelism: int = 1):
    """A StreamExecutionEnvironment running Python workers on this
    interpreter (the default `python` on PATH may lack pyflink), with the
    per-element watermark generator on its class path."""
    from pyflink.common import Configuration
    from pyflink.datastream import StreamExecutionEnvironment

    workdir = Path(tempfile.mkdtemp(prefix="sessionize-flink-"))
    jar = watermark_jar(workdir)
    config = Configuration()
    # A Python operator holds back each watermark until its bundle is done
    # (AbstractPythonFunctionOperator.processWatermark): with bundles of one
    # element, every element meets the watermark of the elements before it.
    config.set_integer("python.fn-execution.bundle.size", 1)
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(parallelism)
    env.set_python_executable(sys.executable)
    env.add_jars(jar.as_uri())
    return env


def per_event_watermarks(out_of_orderness_ms: int):
    """WatermarkStrategy: Flink's bounded out-of-orderness, after every element."""
    from pyflink.common import WatermarkStrategy
    from pyflink.java_gateway import get_gateway

    j = get_gateway().jvm.sessionize.flinktest.PerEventOutOfOrderness(out_of_orderness_ms)
    return WatermarkStrategy(j)


def run_side_by_side(env, inputs, *, gap_ms: int, out_of_orderness_ms: int,
                     lateness_ms: int, dynamic: bool = False):
    """-> one dict per input: flink_fires / our_fires as lists of (key,
    start, end exclusive, sorted values), flink_late / our_late as lists of
    values, our_sessions the StreamSessions emitted, from_bytes those of a
    SessionWindowFunction that restores from state at every call."""
    from pyflink.common import Types
    from pyflink.common.watermark_strategy import TimestampAssigner
    from pyflink.datastream import OutputTag
    from pyflink.datastream.functions import ProcessWindowFunction
    from pyflink.datastream.window import (EventTimeSessionWindows,
                                           SessionWindowTimeGapExtractor, Time)

    from sessionize.flink import SESSION_TYPE, SessionWindowFunction

    def event_type():  # a fresh one per use: PyFlink caches the Java twin on it,
        # which cannot be pickled with a function that holds it
        fields = [Types.STRING(), Types.LONG(), Types.STRING()]
        return Types.TUPLE(fields + [Types.LONG()] if dynamic else fields)

    class OwnGap(SessionWindowTimeGapExtractor):
        def extract(self, element):
            return element[3]

    def own_gap(e):
        return e[3]

    if dynamic:
        assigner = EventTimeSessionWindows.with_dynamic_gap(OwnGap())
        per_event = dict(gap_of=own_gap)
    else:
        assigner = EventTimeSessionWindows.with_gap(Time.milliseconds(gap_ms))
        per_event = {}

    class ByTime(TimestampAssigner):
        def extract_timestamp(self, value, record_timestamp):
            return value[1]

    class Firing(ProcessWindowFunction):
        def __init__(self, pid):
            self.pid = pid

        def process(self, key, context, elements):
            w = context.window()
            yield ("flink", self.pid, (key, w.start, w.end,
                                       tuple(sorted(e[2] for e in elements))))

    class FromBytes(SessionWindowFunction):
        """Restores the key's Sessionizer from the state's bytes at every
        element and timer, as after a restore from a checkpoint (the real
        one keeps the live object while the state hands back its bytes)."""

        def _load(self, key):
            self._live.clear()
            return super()._load(key)

    streams = []
    for pid, events in enumerate(inputs):
        src = env.from_collection(list(events), type_info=event_type())
        keyed = (src.assign_timestamps_and_watermarks(
                     per_event_watermarks(out_of_orderness_ms).with_timestamp_assigner(ByTime()))
                 .key_by(lambda e: e[0], key_type=Types.STRING()))
        flink_late = OutputTag(f"flink-late-{pid}", event_type())
        windows = (keyed.window(assigner)
                   .allowed_lateness(lateness_ms)
                   .side_output_late_data(flink_late)
                   .process(Firing(pid), Types.PICKLED_BYTE_ARRAY()))
        our_late = OutputTag(f"our-late-{pid}", event_type())
        ours = keyed.process(SessionWindowFunction(gap_ms, allowed_lateness=lateness_ms,
                                                   late_tag=our_late,
                                                   value=lambda e: e[2], **per_event),
                             SESSION_TYPE)
        from_bytes = keyed.process(FromBytes(gap_ms, allowed_lateness=lateness_ms,
                                             value=lambda e: e[2], **per_event), SESSION_TYPE)
        streams += [
            from_bytes.map(lambda s, p=pid: ("from_bytes", p, s), Types.PICKLED_BYTE_ARRAY()),
            windows,
            windows.get_side_output(flink_late).map(
                lambda e, p=pid: ("flink_late", p, e[2]), Types.PICKLED_BYTE_ARRAY()),
            ours.map(lambda s, p=pid: ("ours", p, s), Types.PICKLED_BYTE_ARRAY()),
            ours.get_side_output(our_late).map(
                lambda e, p=pid: ("our_late", p, e[2]), Types.PICKLED_BYTE_ARRAY()),
        ]
    allout = streams[0].union(*streams[1:])
    runs = [dict(flink_fires=[], our_fires=[], flink_late=[], our_late=[], our_sessions=[],
                 from_bytes=[]) for _ in inputs]
    with allout.execute_and_collect("sessionize-vs-flink") as results:
        for kind, pid, item in results:
            run = runs[pid]
            if kind == "flink":
                run["flink_fires"].append(item)
            elif kind == "ours":
                run["our_sessions"].append(item)
                run["our_fires"].append((item.key, item.start, item.window_end,
                                         tuple(sorted(item.values))))
            else:
                run[kind].append(item)
    return runs
