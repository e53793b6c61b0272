"""sessionize.flink against PyFlink's own session windows: events/s of each.

    .venv-flink/bin/python benchmarks/flink_bench.py --events 200000

Run with the Flink venv's python (apache-flink cannot share the main venv).
One process, one local mini-cluster per job, the same generated input for
every job: visits of many users (pages 1-5 min apart, sessions 11-60 min
apart, arrival with up to 19 min of disorder and 2% of events 20-120 min
late), the Flink seed's settings (gap 10 min, bounded out-of-orderness 20
min with Flink's periodic watermarks, allowed lateness 15 min), parallelism
1, PyFlink's default bundles.  Jobs:

- flink: ``window(EventTimeSessionWindows.with_gap)`` + allowed lateness +
  late side output + a ProcessWindowFunction returning (key, start, end,
  pages): PyFlink runs the window operator itself in the Python worker;
- sessionize: ``process(SessionWindowFunction(...))`` emitting StreamSessions
  with the pages;
- sessionize, restoring from bytes: the same, its live-object cache off
  (each element restores the key's Sessionizer from the state's bytes);
- baseline: a KeyedProcessFunction that only reads and writes one ValueState
  per element: what any Python keyed function pays in PyFlink (the Beam
  Fn API bridge, state round trips), the floor for both.

Each job's time is from execute to the last result, minus nothing: the job
start is in it (a warm-up job starts the JVM and the Python workers' first
compile first).  Prints events/s and the ratios to flink.
"""

from __future__ import annotations

import argparse
import random
import sys
import time


def generate(n_events: int, seed: int = 7):
    rnd = random.Random(seed)
    n_users = max(1, n_events // 40)
    events = []
    clocks = [rnd.randrange(0, 30) * 60_000 for _ in range(n_users)]
    left = [rnd.randint(1, 25) for _ in range(n_users)]
    while len(events) < n_events:
        u = rnd.randrange(n_users)
        events.append((f"user_{u}", clocks[u], f"page_{rnd.randrange(20)}"))
        clocks[u] += rnd.randint(60, 300) * 1000
        left[u] -= 1
        if left[u] == 0:
            clocks[u] += rnd.randint(11, 60) * 60_000
            left[u] = rnd.randint(1, 25)
    arrivals = []
    for i, (k, t, v) in enumerate(events):
        lag = (rnd.randint(20, 120) * 60_000 if rnd.random() < 0.02
               else rnd.randint(0, 19 * 60) * 1000)
        arrivals.append((t + lag, i, (k, t, v)))
    arrivals.sort()
    return [e for _, _, e in arrivals]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--skip-from-bytes", action="store_true")
    args = ap.parse_args(argv)

    from pyflink.common import Duration, Types, WatermarkStrategy
    from pyflink.common.watermark_strategy import TimestampAssigner
    from pyflink.datastream import (KeyedProcessFunction, OutputTag,
                                    StreamExecutionEnvironment)
    from pyflink.datastream.functions import ProcessWindowFunction
    from pyflink.datastream.state import ValueStateDescriptor
    from pyflink.datastream.window import EventTimeSessionWindows, Time

    from sessionize.flink import SESSION_TYPE, SessionWindowFunction

    gap, ooo, lateness = 10 * 60_000, 20 * 60_000, 15 * 60_000
    events = generate(args.events)

    class ByTime(TimestampAssigner):
        def extract_timestamp(self, value, record_timestamp):
            return value[1]

    class Pages(ProcessWindowFunction):
        def process(self, key, context, elements):
            w = context.window()
            yield key, w.start, w.end, tuple(e[2] for e in elements)

    class FromBytes(SessionWindowFunction):
        def _load(self, key):
            self._live.clear()
            return super()._load(key)

    class Baseline(KeyedProcessFunction):
        def open(self, ctx):
            self.st = ctx.get_state(ValueStateDescriptor("n", Types.PRIMITIVE_ARRAY(Types.BYTE())))

        def process_element(self, value, ctx):
            b = self.st.value()
            self.st.update(b"x" if b is None else b + b"x" if len(b) < 20 else b"x")
            return iter(())

    def job(name, data, kind):
        env = StreamExecutionEnvironment.get_execution_environment()
        env.set_parallelism(1)
        env.set_python_executable(sys.executable)
        typ = Types.TUPLE([Types.STRING(), Types.LONG(), Types.STRING()])
        keyed = (env.from_collection(data, type_info=typ)
                 .assign_timestamps_and_watermarks(
                     WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(ooo))
                     .with_timestamp_assigner(ByTime()))
                 .key_by(lambda e: e[0], key_type=Types.STRING()))
        late = OutputTag("late", Types.TUPLE([Types.STRING(), Types.LONG(), Types.STRING()]))
        if kind == "flink":
            out = (keyed.window(EventTimeSessionWindows.with_gap(Time.milliseconds(gap)))
                   .allowed_lateness(lateness).side_output_late_data(late)
                   .process(Pages(), Types.PICKLED_BYTE_ARRAY()))
        elif kind == "baseline":
            out = keyed.process(Baseline(), Types.PICKLED_BYTE_ARRAY())
        else:
            cls = FromBytes if kind == "from_bytes" else SessionWindowFunction
            out = keyed.process(cls(gap, allowed_lateness=lateness, late_tag=late,
                                    value=lambda e: e[2]), SESSION_TYPE)
        t0 = time.perf_counter()
        n_out = 0
        with out.execute_and_collect(name) as results:
            for _ in results:
                n_out += 1
        return time.perf_counter() - t0, n_out

    job("warm-up", events[:2000], "sessionize")
    kinds = ["flink", "sessionize", "baseline"] + ([] if args.skip_from_bytes else ["from_bytes"])
    secs = {}
    for kind in kinds:
        secs[kind], n_out = job(kind, events, kind)
        print(f"{kind:>11}: {secs[kind]:7.1f} s  {len(events) / secs[kind]:9.0f} events/s  "
              f"({n_out} outputs)", flush=True)
    for kind in kinds[1:]:
        print(f"{kind} / flink speed: {secs['flink'] / secs[kind]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
