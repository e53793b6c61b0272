"""The Flink seed's job (seeds/flink-session-windows.md) on sessionize.flink.

The seed reads visits from Kafka, takes each visit's event_time as the
timestamp (VisitTimestampAssigner) with a 20-minute bounded-out-of-orderness
watermark, keys by visit_id, and sessionizes with
EventTimeSessionWindows.with_gap(10 min) and allowed_lateness(15 min), each
firing turned into a JSON session (VisitToSessionConverter) and written to
Kafka.  Here the source is small generated visits (pages 1-5 minutes apart,
visits 11-60 minutes apart, up to 19 minutes of disorder) and the sink is
stdout; the window is sessionize.flink.SessionWindowFunction.  The same job
also runs Flink's own windows on the same stream and checks that both give
the same sessions.

    .venv-flink/bin/python examples/flink_session_windows.py --users 20
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone

from pyflink.common import Duration, Types, WatermarkStrategy
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import OutputTag, StreamExecutionEnvironment
from pyflink.datastream.functions import MapFunction, ProcessWindowFunction
from pyflink.datastream.window import EventTimeSessionWindows, Time

from sessionize.flink import SESSION_TYPE, SessionWindowFunction

T0 = datetime(2024, 6, 1, tzinfo=timezone.utc)
MS = timedelta(milliseconds=1)
GAP, OUT_OF_ORDERNESS, LATENESS = timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=15)


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def iso(ms: int) -> str:
    """Flink's epoch milliseconds as the seed's ISO times."""
    return (EPOCH + ms * MS).isoformat()


def generate_visits(n_users: int, seed: int = 1):
    """Visits as the seed's generator sends them: dicts with visit_id,
    user_id, page, event_time (ISO), in arrival order."""
    rnd = random.Random(seed)
    visits = []
    for u in range(n_users):
        t = (T0 - EPOCH) // MS + rnd.randrange(0, 30) * 60_000
        for v in range(rnd.randint(1, 3)):
            visit_id, user_id = f"{u}_{v}", f"user-{u}"
            for _ in range(rnd.randint(1, 25)):
                page = rnd.choice(["index", "main", "home", "about", "contact", "categories",
                                   f"category_{rnd.randrange(20)}", f"page_{rnd.randrange(20)}"])
                arrival = t + rnd.randint(0, 19 * 60) * 1000
                visits.append((arrival, dict(visit_id=visit_id, user_id=user_id, page=page,
                                             event_time=iso(t))))
                t += rnd.randint(60, 300) * 1000
            t += rnd.randint(11, 60) * 60_000
    visits.sort(key=lambda x: x[0])
    return [json.dumps(v) for _, v in visits]


class VisitTimestampAssigner(TimestampAssigner):
    def extract_timestamp(self, value, record_timestamp):
        t = datetime.fromisoformat(json.loads(value)["event_time"])
        return (t - EPOCH) // MS


class VisitToSessionConverter(MapFunction):
    """A sessionize StreamSession -> the seed's session JSON."""

    def map(self, s):
        visits = [json.loads(v) for v in s.values]
        return json.dumps({
            "visit_id": s.key,
            "start_time": iso(s.start),
            "end_time": iso(s.end),
            "visited_pages": [[{"page": v["page"], "event_time": v["event_time"]}
                               for v in visits]],
            "user_id": sorted({v["user_id"] for v in visits}),
            "data_processing_context": {"generation_time": datetime.now().isoformat(),
                                        "revision": s.revision, "final": s.final},
        })


class FlinkWindowPages(ProcessWindowFunction):
    """Flink's own windows, for the check: (visit_id, start, end, pages)."""

    def process(self, key, context, elements):
        w = context.window()
        yield ("flink", key, w.start, w.end, tuple(sorted(elements)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--parallelism", type=int, default=1)
    args = ap.parse_args(argv)

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(args.parallelism)
    env.set_python_executable(sys.executable)  # Flink's Python workers need pyflink
    visits = env.from_collection(generate_visits(args.users), type_info=Types.STRING())
    keyed = (visits
             .assign_timestamps_and_watermarks(
                 WatermarkStrategy.for_bounded_out_of_orderness(
                     Duration.of_millis(OUT_OF_ORDERNESS // MS))
                 .with_timestamp_assigner(VisitTimestampAssigner()))
             .key_by(lambda v: json.loads(v)["visit_id"], key_type=Types.STRING()))

    late_visits = OutputTag("late-visits", Types.STRING())
    sessions = keyed.process(SessionWindowFunction(GAP, allowed_lateness=LATENESS,
                                                   late_tag=late_visits), SESSION_TYPE)
    as_json = sessions.map(VisitToSessionConverter(), Types.STRING())

    # the seed's own windows, on the same stream
    flink_late = OutputTag("flink-late-visits", Types.STRING())
    flink_windows = (keyed.window(EventTimeSessionWindows.with_gap(Time.milliseconds(GAP // MS)))
                     .allowed_lateness(LATENESS // MS)
                     .side_output_late_data(flink_late)
                     .process(FlinkWindowPages(), Types.PICKLED_BYTE_ARRAY()))
    ours = sessions.map(lambda s: ("ours", s.key, s.start, s.window_end, tuple(sorted(s.values))),
                        Types.PICKLED_BYTE_ARRAY())
    out = (as_json.map(lambda j: ("json", j), Types.PICKLED_BYTE_ARRAY())
           .union(ours, flink_windows,
                  sessions.get_side_output(late_visits).map(lambda v: ("late", v),
                                                            Types.PICKLED_BYTE_ARRAY()),
                  flink_windows.get_side_output(flink_late).map(lambda v: ("flink_late", v),
                                                                Types.PICKLED_BYTE_ARRAY())))
    got: dict = {"ours": Counter(), "flink": Counter(), "late": [], "flink_late": []}
    with out.execute_and_collect("flink-session-windows-seed") as results:
        for r in results:
            if r[0] == "json":
                print(r[1])
            elif r[0] in ("ours", "flink"):
                got[r[0]][r[1:]] += 1
            else:
                got[r[0]].append(r[1])
    fired = sum(got["ours"].values())
    print(f"{fired} session firings, {len(got['late'])} late visits "
          f"(Flink: {sum(got['flink'].values())}, {len(got['flink_late'])})")
    if got["ours"] != got["flink"] or sorted(got["late"]) != sorted(got["flink_late"]):
        print("DIFFERENT from EventTimeSessionWindows", file=sys.stderr)
        return 1
    print("same sessions as EventTimeSessionWindows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
