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
