"""Measure one peer on one or more data sets, in this (fresh) process.

    python benchmarks/measure.py --peer NAME [--peer ...] --gap MS [--reps K] [--budget S] DIR...

Each DIR holds users.npy and times.npy (written by run.py).  For each, one
JSON line on stdout: the run times, the peak memory of the first run beyond
what the process held before it, and whether the answer is the same
partition of events into sessions as sessionize's.  run.py starts one such
process per (peer, data set), so peaks never mix and no peer inherits
another's threads, caches or heap.  Only --quick, whose figures are not
kept, passes several --peer: the peers of one engine, which then starts once.

Peak memory, Linux only: after the inputs are loaded (and the peer's own
input prepared), writing "5" to /proc/self/clear_refs resets the process's
peak RSS (VmHWM) to its current RSS; VmHWM read after the run, minus the RSS
before it, is what the run needed beyond its inputs (its outputs included).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time

import numpy as np

from partition import check_table, compare_partitions


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def reset_peak() -> int | None:
    """Reset VmHWM to the current RSS; returns that RSS in bytes, or None
    where the kernel does not support it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_kib("VmRSS") * 1024
    except OSError:
        return None


def peak_since_reset(rss_before: int | None) -> int | None:
    if rss_before is None:
        return None
    return _status_kib("VmHWM") * 1024 - rss_before


def _busy_seconds() -> float:
    """CPU time spent by everything on the machine (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def _descendants_cpu_seconds(root: int) -> float:
    """CPU time of root's live descendants (and of the children they have
    waited for), from /proc/<pid>/stat."""
    kids: dict[int, list[tuple[int, int]]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # the name may hold spaces
        ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        kids.setdefault(int(fields[1]), []).append((int(name), ticks))
    total, todo = 0, [root]
    while todo:
        for pid, ticks in kids.get(todo.pop(), ()):
            total += ticks
            todo.append(pid)
    return total / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    """The peer's CPU time: this process's threads, and the processes it
    started (an engine's JVM, Spark's or Flink's, does the peer's work; it
    is not another process's load)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (me.ru_utime + me.ru_stime + waited.ru_utime + waited.ru_stime
            + _descendants_cpu_seconds(os.getpid()))


class Timer:
    """Wall time of a run, and how many cores other processes kept busy
    meanwhile (this is a shared machine; /proc/stat counts in 10 ms ticks,
    so the figure means little for runs much shorter than 0.1 s)."""

    def __enter__(self):
        self.busy, self.own = _busy_seconds(), _own_cpu_seconds()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self.cpu_seconds = _own_cpu_seconds() - self.own
        others = (_busy_seconds() - self.busy) - self.cpu_seconds
        self.others_cores = max(0.0, others) / self.seconds if self.seconds > 0 else 0.0


def output_bytes(result) -> int:
    """Bytes of numpy arrays a peer returned (a SessionTable's columns)."""
    cols = getattr(result, "columns", None)
    if cols is not None and not isinstance(result, np.ndarray):
        return sum(getattr(result, c).nbytes for c in cols)
    if isinstance(result, np.ndarray):
        return result.nbytes
    return 0


def check(peer, result, users, times, gap) -> str | None:
    """None when the peer's answer is right; otherwise what is wrong."""
    import sessionize

    if peer.kind == "floor":
        return None
    ref = sessionize.assign(users, times, gap=gap, inclusive=peer.inclusive)
    if peer.kind == "table":
        return check_table(result, users, times, ref)
    try:
        labels = peer.labels(result, len(users))
    except Exception as e:  # engine_peers.WrongAnswer and anything unexpected
        return f"{type(e).__name__}: {e}"
    return compare_partitions(labels, ref)


def measure(peer, users, times, gap, reps: int, budget_s: float) -> dict:
    """Times of up to `reps` runs (stopping once `budget_s` is spent), the
    first run's peak memory, and the check of the first run's answer."""
    state = peer.prepare(users, times, gap)
    gc.collect()
    rss_before = reset_peak()
    with Timer() as t:
        result = peer.run(state)
    runs = [(t.seconds, t.others_cores, t.cpu_seconds)]
    peak = peak_since_reset(rss_before)
    out = output_bytes(result)
    problem = check(peer, result, users, times, gap)
    del result
    while len(runs) < reps and sum(r[0] for r in runs) < budget_s:
        gc.collect()
        with Timer() as t:
            result = peer.run(state)
        runs.append((t.seconds, t.others_cores, t.cpu_seconds))
        del result
    best_s, others, cpu_s = min(runs)
    return {
        "runs_s": [r[0] for r in runs],
        "best_s": best_s,
        "cpu_s": cpu_s,                     # the peer's CPU time in the best run
        "others_cores": round(others, 2),  # other processes' load during it
        "peak_bytes": peak,
        "rss_before_bytes": rss_before,
        "output_bytes": out,
        "ok": problem is None,
        "problem": problem,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peer", required=True, action="append",
                    help="a peer of peers.PEERS; several run one after the other")
    ap.add_argument("--gap", type=int, required=True, help="gap in milliseconds")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--budget", type=float, default=10.0,
                    help="stop repeating once this many seconds are spent")
    ap.add_argument("data", nargs="+", help="directories with users.npy, times.npy")
    args = ap.parse_args(argv)

    from peers import PEERS

    for name in args.peer:
        peer = PEERS[name]
        peer.setup()  # imports, untimed and before any peak is measured
        for d in args.data:
            users = np.load(os.path.join(d, "users.npy"))
            times = np.load(os.path.join(d, "times.npy"))
            try:
                rec = measure(peer, users, times, args.gap, args.reps, args.budget)
            except Exception as e:  # a crashing peer is reported, not fatal
                rec = {"ok": False, "problem": f"crashed: {type(e).__name__}: {e}"}
            rec.update(peer=name, data=d, n=len(users))
            print(json.dumps(rec), flush=True)
            del users, times
            gc.collect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
