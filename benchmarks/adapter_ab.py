"""An engine adapter before and after a change, and the engine's own peer,
in one process, interleaved (the order turning each round, a gc.collect()
before each run), best of K, wall and CPU time: the ratios hold on a busy
machine where absolute figures do not.  A fresh process per run (run.py,
measure.py) collects garbage differently: check a gain there too.

    python benchmarks/adapter_ab.py bytewax [--rev main] [--n 100000] [--reps 3]
    python benchmarks/adapter_ab.py beam [--rev main] [--n 30000]
    python benchmarks/adapter_ab.py spark [--rev main] [--n 1000000]

"before" is sessionize/<engine>.py as it is at --rev (read with git show and
loaded as a module of the installed package), "after" the working tree's.
Every run's answer is checked as run.py checks it (the same partition of
the events into sessions as sessionize's).  Data: clickstream.py, the log
order, N events from N/10 users, gap 30 min, seed 1; the engine peers'
prepare() turns them into the engine's input, untimed.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import peers  # noqa: E402,F401  (engine_peers imports peers first)
import engine_peers as ep  # noqa: E402
from clickstream import clickstream  # noqa: E402
from partition import compare_partitions  # noqa: E402

GAP_MS = 30 * 60 * 1000


def load_before(engine: str, rev: str):
    """sessionize/<engine>.py at rev, as module sessionize._<engine>_before
    (the file stays in the package until this process exits: Spark's Python
    workers import it to unpickle the functions it runs)."""
    import atexit

    import sessionize

    src = subprocess.run(["git", "-C", HERE, "show", f"{rev}:sessionize/{engine}.py"],
                         check=True, capture_output=True, text=True).stdout
    path = os.path.join(os.path.dirname(sessionize.__file__), f"_{engine}_before.py")
    name = f"sessionize._{engine}_before"
    with open(path, "w") as f:
        f.write(src)
    atexit.register(os.unlink, path)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def swapped(engine: str, module):
    """A context in which `sessionize.<engine>` is `module` (the peers import
    it by name inside their run functions)."""
    import contextlib

    import sessionize

    @contextlib.contextmanager
    def ctx():
        name = f"sessionize.{engine}"
        saved = sys.modules[name], getattr(sessionize, engine)
        sys.modules[name] = module
        setattr(sessionize, engine, module)
        try:
            yield
        finally:
            sys.modules[name] = saved[0]
            setattr(sessionize, engine, saved[1])
    return ctx


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("engine", choices=["bytewax", "beam", "spark"])
    ap.add_argument("--rev", default="main")
    ap.add_argument("--n", type=int)
    ap.add_argument("--order", default="log")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    n = args.n or {"bytewax": 100_000, "beam": 30_000, "spark": 1_000_000}[args.engine]
    users, times = clickstream(n, min(1_000_000, max(1_000, n // 10)), args.order, seed=1)

    import contextlib

    import sessionize
    from sessionize import assign

    if args.engine == "bytewax":
        ep._bytewax_sessionize_setup()
        engine_peer, ours = ep.BYTEWAX_NO_WAKE_UPS, ep.BYTEWAX_SESSIONIZE
        label = "bytewax no wake-ups"
    elif args.engine == "beam":
        ep._beam_sessionize_setup()
        engine_peer, ours = ep.BEAM, ep.BEAM_SESSIONIZE
        label = "beam"
    else:
        ep._spark_sessionize_setup()
        engine_peer, ours = ep.SPARK, ep.SPARK_SESSIONIZE
        label = "spark"
    import importlib

    after_mod = importlib.import_module(f"sessionize.{args.engine}")
    before_mod = load_before(args.engine, args.rev)
    want = assign(users, times, gap=GAP_MS, inclusive=ours.inclusive)
    state = ours.prepare(users, times, GAP_MS)

    runs = {
        label: (engine_peer.run, contextlib.nullcontext),
        f"sessionize @ {args.rev}": (ours.run, swapped(args.engine, before_mod)),
        "sessionize @ working tree": (ours.run, swapped(args.engine, after_mod)),
    }
    best = {k: float("inf") for k in runs}
    cpu = dict(best)
    for rep in range(args.reps):
        # the order turns each round: no variant always runs after another
        names = list(runs)
        names = names[rep % len(names):] + names[:rep % len(names)]
        for name in names:
            run, ctx = runs[name]
            with ctx():
                gc.collect()
                c0, t0 = time.process_time(), time.perf_counter()
                result = run(state)
                dt, dc = time.perf_counter() - t0, time.process_time() - c0
            labels = ours.labels(result, n)
            wrong = compare_partitions(labels, want)
            if wrong:
                print(f"{name}: WRONG answer: {wrong}", file=sys.stderr)
                return 1
            best[name] = min(best[name], dt)
            cpu[name] = min(cpu[name], dc)
    load = os.getloadavg()
    print(f"{args.engine}, {args.order} order, N = {n:,}, best of {args.reps}, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("  (CPU: this process's CPU time, all its threads; the JVM's and Spark's "
          "Python workers' are not in it)" if args.engine == "spark" else
          "  (CPU: this process's CPU time, all its threads: less disturbed by other "
          "jobs than wall time)")
    for name in runs:
        t, c = best[name], cpu[name]
        print(f"  {name:28s} wall {t:7.3f} s {best[label] / t:6.2f}x   "
              f"CPU {c:7.3f} s {cpu[label] / c:6.2f}x  (x: the engine's time / this one's)")
    r = f"sessionize @ {args.rev}", "sessionize @ working tree"
    print(f"  after / before: wall {best[r[0]] / best[r[1]]:.2f}x, "
          f"CPU {cpu[r[0]] / cpu[r[1]]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
