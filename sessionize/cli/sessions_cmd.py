"""`python -m sessionize sessions`: a file of events in, the Spark Structured Streaming pipeline's
session rows out, through the streaming Sessionizer in chunks, so memory
holds the open sessions and one number per key, never the whole input.

The row (the Spark pipeline's schema): the key under its own field name, session_id
('<key>_session_<n>', n counting the key's sessions from 1 in time order),
session_start_time_ms, session_end_time_ms, session_duration_seconds,
event_count, and with --collect the field's values in time order; with
--gap-field (each event's own gap, --gap the longest) also
session_window_end_time_ms, the largest time + gap of the session's events.
Rows come out as sessions close (as a streaming job writes them), not in
the one-shot API's key order; each row equals the one-shot API's row.
"""

from __future__ import annotations

import gc
import os
import sys
import time

from .. import _durations
from .._core import SessionizeError
from .._sessionizer import Sessionizer
from . import arrow_events, events_in, formats, prefetch
from .badrecords import BadRecords
from .errors import UsageError, need
from .gapfields import GapRule
from .progress import Progress
from .push import push_columns
from .session_rows import NS_PER_MS, SessionRows
from .table_writers import TABLE_WRITERS

ALL_DELAY = 2**62  # --delay all: the watermark never passes an event before the end
OPTION_NAMES = {"key": "--key", "time": "--time", "value": "--collect", "gap": "--gap-field"}


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


def parse_aggs(specs: list, collect: str | None, key: str, window_end: bool = False) -> list:
    """--agg NAME=HOW options as [(NAME, HOW)], checked."""
    from .._agg import HOWS
    from .session_rows import session_columns

    out: list = []
    taken = set(session_columns(key, None, window_end=window_end))
    for spec in specs:
        name, sep, how = spec.rpartition("=")
        if not sep or not name:
            raise UsageError(f"--agg {spec}: expected NAME=HOW, e.g. first_page=first")
        if how not in HOWS:
            raise UsageError(f"--agg {spec}: unknown aggregate {how!r}; expected one of "
                             f"{', '.join(HOWS)}")
        if name in taken:
            raise UsageError(f"--agg {spec}: the row already has a column {name!r}; "
                             "choose another name")
        taken.add(name)
        out.append((name, how))
    if out and not collect:
        raise UsageError("--agg: aggregates the --collect field; give --collect FIELD")
    return out


def run(args) -> int:
    started = time.monotonic()
    pa = need("pyarrow", "The sessions command's Arrow readers and writers", "cli")
    need("pyarrow.compute", "The sessions command's Arrow readers and writers", "cli")
    # the C allocator gives freed blocks back; Arrow's default (mimalloc)
    # kept ~40 MB more at the peak, and was no faster here (2 M events of
    # JSON lines: 3.4 s, 156 MB against 3.8 s, 195 MB)
    pa.set_memory_pool(pa.system_memory_pool())
    _keep_freed_memory()
    gap = duration_ns(args.gap, "--gap")
    cap = duration_ns(args.max_duration, "--max-duration") if args.max_duration else None
    delay = ALL_DELAY if args.delay == "all" else duration_ns(args.delay, "--delay", True)
    in_fmt = formats.format_of(args.input, args.format, "INPUT")
    out_fmt = formats.format_of(args.output or "-", args.output_format, "-o", default=in_fmt)
    gap_rule = GapRule(args.gap_field, gap, args.gap) if args.gap_field else None
    aggs = parse_aggs(args.agg, args.collect, args.key, gap_rule is not None)
    collect_as = args.collect_as or (f"{args.collect}_list" if args.collect and not aggs
                                     else None)
    fields = {"key": args.key, "time": args.time}
    if args.collect:
        fields["value"] = args.collect
    if gap_rule is not None:
        fields["gap"] = args.gap_field
    required = {"key", "time"} | ({"gap"} if gap_rule is not None else set())
    # with --skip-bad every late event of a chunk comes back at once (no
    # re-push of the rest per late event); without, the first one stops
    sz = Sessionizer(gap, max_duration=cap, max_duration_mode=args.max_duration_mode,
                     inclusive=not args.exclusive, delay=delay, collect=bool(args.collect),
                     on_late="return" if args.skip_bad else "raise", columnar=True,
                     # --gap-field: --gap bounds the events' own gaps, which
                     # gapfields has checked (a bad one is a bad record)
                     **({"per_event_gaps": True} if gap_rule is not None else {}))
    bad = BadRecords(args.skip_bad, "row" if in_fmt == "parquet" else "line")
    rows = SessionRows(args.key, collect_as, aggs, window_end=gap_rule is not None)
    late_hint = (f"its session was already final at the watermark (the newest time so "
                 f"far minus --delay {args.delay}); sort the input by time or give a larger "
                 "--delay")
    formats.refuse_output_as_input(args.input, args.output)
    src = formats.open_input(args.input)
    size = os.path.getsize(args.input) if args.input != "-" and in_fmt != "parquet" \
        and not args.input.endswith(".gz") else None
    progress = Progress(size, not args.quiet)
    out = formats.Output(args.output)
    events = 0

    def write(sessions):
        table, int_keys = rows.table(sessions)
        writer.write(table, int_keys)

    def push(lines, keys, times, values, gaps):
        behind.submit(write, push_columns(sz, lines, keys, times, values, bad, late_hint,
                                          gaps))

    # the loop makes no reference cycles (blocks, tables and arrays are
    # freed by their counts); the collector's passes over the keys and
    # values the sessionizer holds cost ~2 % of a run for nothing
    gc_was_on = gc.isenabled()
    gc.disable()
    behind = prefetch.Behind(depth=2)
    blocks = None
    try:
        writer = TABLE_WRITERS[out_fmt](out.file, rows.names, collect_as)
        # read (and Parquet decoded) on a thread of its own
        blocks = prefetch.threaded(formats.NATIVE_READERS[in_fmt](
            src, fields, required, args.chunk_size, OPTION_NAMES))
        # the next block read, parsed and converted while this one is pushed
        for block, ev in prefetch.ahead(
                blocks, lambda block: arrow_events.events(block, args.time_unit, gap_rule)):
            if ev is not None:  # every record good: Arrow columns straight in
                push(ev.lines, ev.keys, ev.times, ev.values, ev.gaps)
                events += len(ev)
            else:  # a record to refuse, or one Arrow cannot type: the exact path
                for e, stop in events_in.prepare(block.exact(), args.time_unit, bad,
                                                 gap=gap_rule):
                    push(e.lines, e.keys, e.times, e.others.get("value"), e.gaps)
                    events += len(e)
                    if stop is not None:
                        bad.add(*stop)  # raises: the run stops at its first bad record
            if progress.on:  # (tell() is a system call, and a GIL hand-over)
                progress.update(events, _position(src))
        behind.submit(write, sz.flush().sessions)
        behind.finish()
        writer.close()
        out.commit()
    except BaseException as e:
        # the rows of earlier pushes are made and written before this
        # error is said: one of theirs, if any, came first
        earlier = behind.stop()
        out.discard()
        if earlier is not None and earlier is not e:
            raise earlier from None
        raise
    finally:
        if blocks is not None:
            blocks.close()  # the reading thread stopped before the input is closed
        if gc_was_on:
            gc.enable()
        progress.close()
        if src is not sys.stdin.buffer:
            src.close()
    seconds = time.monotonic() - started
    events -= sz.late_count  # late events were pushed, then refused
    print(f"sessionize: {events:,} events, {rows.sessions:,} sessions, "
          f"{bad.summary()}, {seconds:.1f} s", file=sys.stderr)
    return 0


def _keep_freed_memory() -> None:
    """glibc's malloc maps blocks of more than 128 KiB-32 MiB (a threshold
    it moves) afresh each time and gives the top of the heap back when
    more than twice that is free: the run allocates a few MB per block
    (the text, Arrow's columns, numpy's arrays) and frees them a moment
    later, so every page was faulted in anew: 0.1-0.3 s of system time
    on 2 M events.  Up to 64 MiB is taken from the heap, and 256 MiB may
    stay free in it, reused by the next blocks; the peak is unchanged
    (the same few blocks are alive at once).  Elsewhere, nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    mallopt(M_MMAP_THRESHOLD, 64 << 20)
    mallopt(M_TRIM_THRESHOLD, 256 << 20)


def _position(f) -> int | None:
    try:
        return f.tell()
    except (OSError, ValueError):
        return None
