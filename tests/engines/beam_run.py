"""Apache Beam (Python SDK, DirectRunner): session windows as the engine computes them."""

from __future__ import annotations

import glob
import json
import os
import tempfile


def beam_sessions(events, gap, runner: str = "DirectRunner") -> list[tuple]:
    """Run Beam on (key, id, seconds) events; sorted (key, start_us, end_us, ids) rows.

    The pipeline: TimestampedValue -> WindowInto(Sessions(gap)) -> GroupByKey ->
    a DoFn reading the merged IntervalWindow through DoFn.WindowParam.  `gap` and
    the timestamps are what Beam takes: int or float seconds.  `runner` is
    "DirectRunner" (batch: the portable FnApiRunner, in memory, one worker) or
    "BundleBasedDirectRunner" (the older, non-portable one).
    """
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.transforms import window

    class EmitWindow(beam.DoFn):
        def process(self, kv, w=beam.DoFn.WindowParam):
            key, ids = kv
            yield json.dumps([key, w.start.micros, w.end.micros, sorted(ids)])

    opts = PipelineOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    with tempfile.TemporaryDirectory() as d:
        prefix = os.path.join(d, "sessions")
        with beam.Pipeline(runner=runner, options=opts) as p:
            _ = (
                p
                | "events" >> beam.Create(list(events))
                | "stamp" >> beam.Map(lambda e: window.TimestampedValue((e[0], e[1]), e[2]))
                | "sessions" >> beam.WindowInto(window.Sessions(gap))
                | "group" >> beam.GroupByKey()
                | "window" >> beam.ParDo(EmitWindow())
                | "global" >> beam.WindowInto(window.GlobalWindows())
                | "write" >> beam.io.WriteToText(prefix)
            )
        rows = []
        for path in glob.glob(prefix + "*"):
            with open(path) as f:
                rows += [json.loads(line) for line in f if line.strip()]
    return sorted((k, int(s), int(e), tuple(ids)) for k, s, e, ids in rows)


IN_MEMORY = ("--direct_num_workers=1", "--direct_running_mode=in_memory")
MULTI_PROCESSING = ("--direct_num_workers=2", "--direct_running_mode=multi_processing")


def run_branches(build, options=IN_MEMORY) -> dict[str, list]:
    """Run one pipeline and collect the rows of each of its branches.

    `build(p)` adds the pipeline's transforms and returns {name: PCollection
    of JSON-able rows}; each branch is written out with WriteToText (so it
    works with worker processes too) and read back: {name: [row, ...]}, rows
    as JSON gives them back (tuples become lists), in no particular order.
    """
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.transforms import window

    with tempfile.TemporaryDirectory() as d:
        with beam.Pipeline(runner="DirectRunner", options=PipelineOptions(list(options))) as p:
            branches = build(p)
            for name, rows in branches.items():
                _ = (rows
                     | f"{name}: global" >> beam.WindowInto(window.GlobalWindows())
                     | f"{name}: json" >> beam.Map(json.dumps)
                     | f"{name}: write" >> beam.io.WriteToText(os.path.join(d, name)))
        out = {}
        for name in branches:
            out[name] = []
            for path in glob.glob(os.path.join(d, name + "-*")):
                with open(path) as f:
                    out[name] += [json.loads(line) for line in f if line.strip()]
    return out
