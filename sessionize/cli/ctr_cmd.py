"""`python -m sessionize ctr`: a search app's event log in, one row per
search out (the Bytewax search-session tutorial's search sessions), and the click-through rate
in the summary; streamed through SearchSessionizer in chunks.

Row: the key under its own field name, session (the search session's
number, 0, 1, ... in the order they close), search_time_ms (with --time),
the --query field's value, clicked (the Bytewax tutorial's CTR of 1.0 or 0.0 as a
bool) and clicks."""

from __future__ import annotations

import sys
import time


from .. import events as _events
from .._core import SessionizeError
from .._search_stream import SearchSessionizer
from . import events_in, formats
from .badrecords import BadRecords
from .errors import UsageError
from .progress import Progress
from .push import push_chunk
from .sessions_cmd import ALL_DELAY, NS_PER_MS, duration_ns
from .writers import WRITERS

OPTION_NAMES = {"key": "--key", "kind": "--kind", "time": "--time", "value": "--query"}


def _bad_kinds(chunk) -> list:
    """(position, reason) of the kinds that are not event kinds."""
    kinds = chunk.columns["kind"]
    try:
        _events.normalize_kinds(list(kinds))
        return []
    except (SessionizeError, TypeError):
        pass
    verdict, out = {}, []
    for i, k in enumerate(kinds):
        h = (type(k), k) if isinstance(k, (str, int)) else None
        if h not in verdict:
            try:
                _events.normalize_kinds([k])
                verdict[h] = None
            except (SessionizeError, TypeError) as e:
                verdict[h] = "kind: " + str(e).split(": ", 1)[-1]
        if verdict[h]:
            out.append((i, verdict[h]))
    return out


def run(args) -> int:
    started = time.monotonic()
    if args.gap and not args.time:
        raise UsageError("--gap: the gap rule needs times; give --time")
    gap = duration_ns(args.gap, "--gap") if args.gap else None
    delay = ALL_DELAY if args.delay == "all" else duration_ns(args.delay, "--delay", True)
    in_fmt = formats.format_of(args.input, args.format, "INPUT")
    out_fmt = formats.format_of(args.output or "-", args.output_format, "-o", default=in_fmt)
    fields = {"key": args.key, "kind": args.kind}
    if args.time:
        fields["time"] = args.time
    if args.query:
        fields["value"] = args.query
    columns = [args.key, "session"] + (["search_time_ms"] if args.time else []) \
        + ([args.query] if args.query else []) + ["clicked", "clicks"]
    sz = SearchSessionizer(gap, delay=delay if args.time else 0, on_late="raise")
    bad = BadRecords(args.skip_bad, "row" if in_fmt == "parquet" else "line")
    late_hint = (f"before the watermark (the newest time so far minus --delay {args.delay}); "
                 "sort the input by time or give a larger --delay")
    formats.refuse_output_as_input(args.input, args.output)
    src = formats.open_input(args.input)
    progress = Progress(None, not args.quiet)
    out = formats.Output(args.output)
    events = searches = clicked = clicks = 0

    def rows(items):
        nonlocal searches, clicked, clicks
        out_rows = []
        for r in items:
            row = (r.key, r.session)
            if args.time:
                row += (r.time // NS_PER_MS,)
            if args.query:
                row += (r.value,)
            out_rows.append(row + (bool(r.clicked), int(r.clicks)))
            clicked += bool(r.clicked)
            clicks += int(r.clicks)
        searches += len(out_rows)
        return out_rows

    try:
        writer = WRITERS[out_fmt](out.file, columns, None)
        required = {"key", "kind"} | ({"time"} if args.time else set())
        chunks = formats.READERS[in_fmt](src, fields, required, args.chunk_size, OPTION_NAMES)
        for ev, stop in events_in.prepare(chunks, args.time_unit, bad, _bad_kinds):
            kinds = _events.normalize_kinds(list(ev.others["kind"]))
            arrays = [ev.keys, kinds, ev.times, ev.others.get("value")]
            writer.write(rows(push_chunk(sz.push_many, ev.lines, arrays, bad, late_hint)))
            events += len(ev)
            progress.update(events, None)
            if stop is not None:
                bad.add(*stop)
        if not args.no_flush:
            writer.write(rows(sz.flush()))
        writer.close()
        out.commit()
    except BaseException:
        out.discard()
        raise
    finally:
        progress.close()
        if src is not sys.stdin.buffer:
            src.close()
    events -= sz.late_count
    ctr = f"{clicked / searches:.4f}" if searches else "nan (no search)"
    cps = f"{clicks / searches:.3f}" if searches else "nan"
    print(f"sessionize: {events:,} events, {searches:,} searches, click-through rate {ctr}, "
          f"{cps} clicks per search, {bad.summary()}, {time.monotonic() - started:.1f} s",
          file=sys.stderr)
    return 0
