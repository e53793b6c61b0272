"""python -m sessionize demo: the main job on the sample data shipped inside
the package (a clickstream in the Spark seed's schema), with the Spark
seed's rules: 30 minutes of inactivity ends a session, 2 hours caps it."""

from __future__ import annotations

import argparse
import csv
import sys
from importlib import resources

import numpy as np

from . import sessions


def _load_sample():
    keys, times = [], []
    with resources.files("sessionize").joinpath("data/sample_clicks.csv").open() as f:
        for row in csv.DictReader(f):
            keys.append(row["uuid"])
            times.append(int(row["event_timestamp"]))  # epoch ms, sent as strings
    return np.array(keys), np.array(times, dtype="datetime64[ms]")


def _bar(n: int, most: int, width: int = 40) -> str:
    return "#" * max(1, round(width * n / most)) if n else ""


def demo(out=sys.stdout) -> int:
    keys, times = _load_sample()
    restart = sessions(keys, times, gap="30min", max_duration="2h", max_duration_mode="restart")
    for mode in ("fixed",):
        t = sessions(keys, times, gap="30min", max_duration="2h", max_duration_mode=mode)
        minutes = (t.end - t.start) / np.timedelta64(1, "m")
        users = len(np.unique(t.key))
        print(f"sample clickstream: {len(keys)} events, {users} users", file=out)
        print(f"rules: 30 min inactivity, 2 h cap ({mode} mode) -> {len(t)} sessions, "
              f"{len(t) / users:.2f} per user, {np.mean(t.count):.1f} events each", file=out)
        edges = [0, 1, 5, 15, 30, 60, 90, 120.001]
        hist, _ = np.histogram(minutes, bins=edges)
        print("session duration (minutes):", file=out)
        for lo, hi, n in zip(edges, edges[1:], hist):
            print(f"  {lo:>4g} - {min(hi, 120):<4g} {n:5d} {_bar(n, hist.max())}", file=out)
        first = t.to_dict()
        print("first sessions:", file=out)
        for i in range(3):
            print(f"  {first['key'][i]} #{first['index'][i]}: {first['start'][i]} .. "
                  f"{first['end'][i]}, {first['count'][i]} events", file=out)
    uncapped = sessions(keys, times, gap="30min")
    print(f"without the cap: {len(uncapped)} sessions; the 2 h cap makes {len(t)} in fixed "
          f"mode (the seed's batch job), {len(restart)} in restart mode (its streaming job)",
          file=out)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sessionize")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="sessionize the sample data shipped with the package")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
