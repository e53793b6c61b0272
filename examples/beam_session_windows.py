"""The Beam seed's session-window pipeline, on sessionize.

seeds/beam-session-windows.md (the StackOverflow answer "Session windows in
Apache Beam with Python") keys two users' events on `user_id`, windows them
into `window.Sessions(5)`, groups by key and logs each session's event count
and duration.  Here `sessionize.beam.Sessionize(5)` takes the place of the
`WindowInto` + `GroupByKey` pair; the rest of the pipeline, `AnalyzeSession`
included, is the seed's: it reads the same `IntervalWindow` through
`DoFn.WindowParam` and gets each session's events in `session.values`.

    python examples/beam_session_windows.py            # sessionize
    python examples/beam_session_windows.py --beam     # the seed's own WindowInto + GroupByKey

Both print the seed's four sessions:

    >>> User Groot had 2 event(s) in 0:00:07 session
    >>> User Groot had 1 event(s) in 0:00:05 session
    >>> User Thanos had 4 event(s) in 0:00:12 session
    >>> User Thanos had 1 event(s) in 0:00:05 session

One change to the data: the seed stamps each event `time.time() + offset`,
calling `time.time()` per event; here one whole second `now` is taken first,
so every offset is exact and the durations print as whole seconds, as the
seed's own printout shows them.  Thanos's events are 2**event seconds after
`now` (the seed's code); Groot's 2*event**2 (0, 2 and 8 s: what the seed's log
shows for them).
"""

from __future__ import annotations

import argparse
import logging
import time

import apache_beam as beam
from apache_beam.transforms import window

from sessionize.beam import BeamSession, Sessionize

session_gap = 5  # seconds, as the seed


def make_data(now: float) -> list[dict]:
    user1_data = [{"user_id": "Thanos", "value": "event_{}".format(event),
                   "timestamp": now + 2**event} for event in range(5)]
    user2_data = [{"user_id": "Groot", "value": "event_{}".format(event),
                   "timestamp": now + 2 * event**2} for event in range(3)]
    return user1_data + user2_data


class AnalyzeSession(beam.DoFn):
    """Prints per session information (the seed's DoFn; with sessionize the
    grouped events are `session.values`)."""

    def process(self, element, window=beam.DoFn.WindowParam):
        user, events = element
        if isinstance(events, BeamSession):  # sessionize's session: its events
            events = events.values
        num_events = str(len(list(events)))
        window_end = window.end.to_utc_datetime()
        window_start = window.start.to_utc_datetime()
        session_duration = window_end - window_start
        line = ">>> User %s had %s event(s) in %s session" % (user, num_events,
                                                              session_duration)
        logging.info(line)
        yield line


def sessions(events, use_sessionize: bool = True):
    """The seed's windowing and grouping, or sessionize in their place."""
    if use_sessionize:
        return events | "user_session_window" >> Sessionize(session_gap)
    return (events
            | "user_session_window" >> beam.WindowInto(
                window.Sessions(session_gap),
                timestamp_combiner=window.TimestampCombiner.OUTPUT_AT_EOW)
            | "Group" >> beam.GroupByKey())


def build(p, data, use_sessionize: bool = True):
    """The pipeline up to AnalyzeSession's lines."""
    events = (p
              | "Create Events" >> beam.Create(data)
              | "Add Timestamps" >> beam.Map(
                  lambda x: beam.window.TimestampedValue(x, x["timestamp"]))
              | "keyed_on_user_id" >> beam.Map(lambda x: (x["user_id"], x)))
    return sessions(events, use_sessionize) | "analyze_session" >> beam.ParDo(AnalyzeSession())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--beam", action="store_true",
                    help="use the seed's WindowInto(Sessions) + GroupByKey instead")
    args, beam_args = ap.parse_known_args(argv)
    logging.getLogger().setLevel(logging.ERROR)  # Beam's own start-up chatter
    data = make_data(float(int(time.time())))
    with beam.Pipeline(argv=beam_args) as p:
        lines = build(p, data, use_sessionize=not args.beam)
        _ = (lines
             | "global" >> beam.WindowInto(window.GlobalWindows())
             | "one list" >> beam.combiners.ToList()
             | "print" >> beam.Map(lambda ls: print("\n".join(sorted(ls)), flush=True)))


if __name__ == "__main__":
    main()
