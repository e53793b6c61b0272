"""The command line's commands and options (argparse)."""

from __future__ import annotations

import argparse
import os
import sys

from .formats import FORMATS

EPILOG_SESSIONS = """\
example (the Spark Structured Streaming sessionization pipeline's job: 30 min inactivity, 2 h sessions cut in blocks):
  python -m sessionize sessions clicks.jsonl -o sessions.parquet --key uuid \\
      --time event_timestamp --gap 30min --max-duration 2h \\
      --max-duration-mode fixed --collect page_name --collect-as pages_visited

a gap per event (a checkout keeps its session open an hour, a page view ten minutes):
  python -m sessionize sessions clicks.csv --key uuid --time event_timestamp \\
      --gap-field gap --gap 1h

per-session aggregates of the collected field (first page, distinct pages):
  python -m sessionize sessions clicks.jsonl --key uuid --time event_timestamp \\
      --gap 30min --collect page_name --agg first_page=first --agg pages=n_unique
"""


def _chunk(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def _io(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="INPUT",
                   help="events: .jsonl, .csv or .parquet (optionally .gz); '-' is standard input")
    p.add_argument("-o", "--output", metavar="OUTPUT",
                   help="where the rows go (format from the extension); default standard output")
    p.add_argument("--format", choices=FORMATS, help="INPUT's format, when its name does not say")
    p.add_argument("--output-format", choices=FORMATS,
                   help="OUTPUT's format when its name does not say (default: INPUT's)")
    p.add_argument("--time-unit", choices=("s", "ms", "us", "ns"), default="ms",
                   help="unit of numeric times (default ms: epoch milliseconds, as the Spark Structured Streaming sessionization pipeline)")
    p.add_argument("--delay", default="10min",
                   help="how far behind the newest time an event may arrive (e.g. 10min); "
                        "an event later than that is a bad record; default 10min, the Spark "
                        "sessionization pipeline's watermark; 0 for strict time order; 'all' takes any order "
                        "(holding every session open until the end)")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip bad records (and count them) instead of stopping at the first")
    p.add_argument("--chunk-size", type=_chunk, default=20_000, metavar="N",
                   help="lines (Parquet: rows) read and pushed at a time (default 20000; "
                        "memory grows with it, by about 1.7 kB a line with one block read "
                        "ahead, speed hardly)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _prog() -> str:
    """How the user started us: the `sessionize` command or `python -m sessionize`."""
    name = os.path.basename(sys.argv[0] if sys.argv else "")
    return "sessionize" if name in ("sessionize", "sessionize.exe") else "python -m sessionize"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog=_prog(),
        description="Sessionize event files; generate clickstreams; run the demo.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser("demo", help="sessionize the sample data shipped with the package")
    d.add_argument("--png", metavar="PATH",
                   help="where to write the plots when matplotlib is installed "
                        "(default: sessionize-demo.png in the temporary directory)")
    d.add_argument("--no-png", action="store_true", help="write no plots")

    s = sub.add_parser("sessions", help="events in, one row per session out",
                       epilog=EPILOG_SESSIONS, formatter_class=argparse.RawDescriptionHelpFormatter)
    _io(s)
    s.add_argument("--key", required=True, metavar="FIELD", help="the user field (e.g. uuid)")
    s.add_argument("--time", required=True, metavar="FIELD",
                   help="the time field: a number, a numeric string or ISO-8601")
    s.add_argument("--gap", required=True,
                   help="inactivity that ends a session: 30min, 90s, 1h (a bare number is "
                        "seconds); with --gap-field, the longest gap an event may have")
    s.add_argument("--gap-field", metavar="FIELD",
                   help="a field holding each event's own gap (Flink's withDynamicGap, Spark's "
                        "session_window over a gap column): a duration string (10min, 90s, "
                        "'10 minutes'), a number in --time-unit (default ms, as numeric times; "
                        "unlike --gap's bare seconds), or a Parquet duration; a session then "
                        "lasts to the largest time + gap of its events, written as "
                        "session_window_end_time_ms; a gap that is missing, zero, negative "
                        "or longer than --gap is a bad record")
    s.add_argument("--max-duration", help="longest session, e.g. 2h")
    s.add_argument("--max-duration-mode", choices=("restart", "fixed"), default="restart",
                   help="restart: a new session at the first event past the cap (default); "
                        "fixed: cut into blocks of the cap from the session's start")
    s.add_argument("--exclusive", action="store_true",
                   help="events exactly --gap apart are in different sessions (Apache Beam); "
                        "default: the same session (Flink, Spark, Bytewax)")
    s.add_argument("--collect", metavar="FIELD",
                   help="a field whose values each session lists, in time order")
    s.add_argument("--collect-as", metavar="NAME",
                   help="the list's column name (default FIELD_list; the Spark pipeline's: pages_visited)")
    s.add_argument("--agg", metavar="NAME=HOW", action="append", default=[],
                   help="a column NAME of the --collect field's HOW per session: count, sum, "
                        "min, max, mean, first, last, n_unique or list (as "
                        "sessionize.sessions(agg=...)); repeatable; with --agg the list "
                        "column is written only when --collect-as names it")

    c = sub.add_parser("ctr", help="search events in, one row per search, and the click-through rate")
    _io(c)
    c.add_argument("--key", required=True, metavar="FIELD", help="the user field")
    c.add_argument("--kind", required=True, metavar="FIELD",
                   help="the event kind: APP_OPEN, SEARCH, RESULTS, CLICK, APP_CLOSE, TIMEOUT, "
                        "the Bytewax search-session tutorial's class names (AppOpen, Search, ClickResult, ...) or 0-5")
    c.add_argument("--time", metavar="FIELD",
                   help="the time field (without it, input order is time order)")
    c.add_argument("--gap", help="inactivity that ends a user session (needs --time)")
    c.add_argument("--query", metavar="FIELD", help="a field written with each search's row")
    c.add_argument("--no-flush", action="store_true",
                   help="drop the user sessions still open at the end (the Bytewax search-session tutorial's first version)")

    g = sub.add_parser("generate", help="write a realistic clickstream in the Spark Structured Streaming sessionization pipeline's schema")
    g.add_argument("-o", "--output", metavar="OUTPUT", help="file (.jsonl, .csv, .parquet); default stdout")
    g.add_argument("--output-format", choices=FORMATS)
    g.add_argument("--events", type=_chunk, default=100_000, help="how many (default 100000)")
    g.add_argument("--users", type=_chunk, help="how many users (default events / 10)")
    g.add_argument("--order", choices=("log", "sorted", "shuffled"), default="log",
                   help="log: time order with up to 2 s of jitter (default); sorted by user "
                        "and time; shuffled")
    g.add_argument("--search", action="store_true",
                   help="a search app's log in the Bytewax search-session tutorial's event kinds instead")
    g.add_argument("--seed", type=int, default=0)
    return top
