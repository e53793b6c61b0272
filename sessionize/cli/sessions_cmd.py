"""`python -m sessionize sessions`: a file of events in, the Spark seed's
session rows out, through the streaming Sessionizer in chunks, so memory
holds the open sessions and one number per key, never the whole input.

The row (the seed's schema): the key under its own field name, session_id
('<key>_session_<n>', n counting the key's sessions from 1 in time order),
session_start_time_ms, session_end_time_ms, session_duration_seconds,
event_count, and with --collect the field's values in time order.
Rows come out as sessions close (as a streaming job writes them), not in
the one-shot API's key order; each row equals the one-shot API's row.
"""

from __future__ import annotations

import os
import sys
import time

from .. import _durations
from .._core import SessionizeError
from .._sessionizer import Sessionizer
from . import events_in, formats
from .badrecords import BadRecords
from .errors import UsageError
from .progress import Progress
from .push import push_chunk
from .writers import WRITERS

NS_PER_MS = 1_000_000
ALL_DELAY = 2**62  # --delay all: the watermark never passes an event before the end
OPTION_NAMES = {"key": "--key", "time": "--time", "value": "--collect"}


def duration_ns(text: str, option: str, allow_zero: bool = False) -> int:
    """'30min', '2h', '500ms', '1h30min' (the package's duration strings), or
    a bare number of seconds, as int64 ns."""
    if allow_zero and text.strip() in ("0", "0s"):
        return 0
    try:
        value = text
        if text.strip().replace(".", "", 1).isdigit():
            value = text.strip() + "s"
        return _durations.to_unit(value, "ns", 1, option)
    except SessionizeError as e:
        raise UsageError(str(e)) from None


def session_columns(key_field: str, collect_as: str | None) -> list:
    cols = [key_field, "session_id", "session_start_time_ms", "session_end_time_ms",
            "session_duration_seconds", "event_count"]
    return cols + [collect_as] if collect_as else cols


class SessionNumbers:
    """n of '<key>_session_<n>': one count per key seen, for the whole run.
    The Sessionizer forgets a key between its sessions (its `index` restarts),
    so the count lives here: memory grows with keys, not events."""

    def __init__(self, collect: bool):
        self._seen: dict = {}
        self._collect = collect
        self.sessions = 0

    def rows(self, items) -> list:
        seen, out = self._seen, []
        for s in items:
            n = seen.get(s.key, 0) + 1
            seen[s.key] = n
            row = (s.key, f"{s.key}_session_{n}", s.start // NS_PER_MS, s.end // NS_PER_MS,
                   (s.end - s.start) / 1e9, s.count)
            out.append(row + (list(s.values),) if self._collect else row)
        self.sessions += len(out)
        return out


def run(args) -> int:
    started = time.monotonic()
    gap = duration_ns(args.gap, "--gap")
    cap = duration_ns(args.max_duration, "--max-duration") if args.max_duration else None
    delay = ALL_DELAY if args.delay == "all" else duration_ns(args.delay, "--delay", True)
    in_fmt = formats.format_of(args.input, args.format, "INPUT")
    out_fmt = formats.format_of(args.output or "-", args.output_format, "-o", default=in_fmt)
    collect_as = args.collect_as or (f"{args.collect}_list" if args.collect else None)
    fields = {"key": args.key, "time": args.time}
    if args.collect:
        fields["value"] = args.collect
    sz = Sessionizer(gap, max_duration=cap, max_duration_mode=args.max_duration_mode,
                     inclusive=not args.exclusive, delay=delay, collect=bool(args.collect),
                     on_late="raise")
    bad = BadRecords(args.skip_bad, "row" if in_fmt == "parquet" else "line")
    numbers = SessionNumbers(bool(args.collect))
    late_hint = (f"before the watermark (the newest time so far minus --delay {args.delay}); "
                 "sort the input by time or give a larger --delay")
    src = formats.open_input(args.input)
    size = os.path.getsize(args.input) if args.input != "-" and in_fmt != "parquet" \
        and not args.input.endswith(".gz") else None
    progress = Progress(size, not args.quiet)
    out = formats.Output(args.output)
    events = 0
    try:
        writer = WRITERS[out_fmt](out.file, session_columns(args.key, collect_as), collect_as)
        chunks = formats.READERS[in_fmt](src, fields, {"key", "time"}, args.chunk_size,
                                         OPTION_NAMES)
        for ev, stop in events_in.prepare(chunks, args.time_unit, bad):
            arrays = [ev.keys, ev.times, ev.others.get("value")]
            items = push_chunk(sz.push_many, ev.lines, arrays, bad, late_hint)
            writer.write(numbers.rows(items))
            events += len(ev)
            progress.update(events, _position(src))
            if stop is not None:
                bad.add(*stop)  # raises: the run stops at its first bad record
        writer.write(numbers.rows(sz.flush()))
        writer.close()
        out.commit()
    except BaseException:
        out.discard()
        raise
    finally:
        progress.close()
        if src is not sys.stdin.buffer:
            src.close()
    seconds = time.monotonic() - started
    events -= sz.late_count  # late events were pushed, then refused
    print(f"sessionize: {events:,} events, {numbers.sessions:,} sessions, "
          f"{bad.summary()}, {seconds:.1f} s", file=sys.stderr)
    return 0


def _position(f) -> int | None:
    try:
        return f.tell()
    except (OSError, ValueError):
        return None
