"""The command line's main job against a short SQL query and a polars
pipeline: the same job on the same files, each run in a fresh process,
wall time and peak resident memory recorded, every answer checked equal.

    python benchmarks/cli_case.py --data DIR [--events 2000000] [--users 100000]
                                  [--formats jsonl,csv,parquet,parquet_ts]
                                  [--before PYTHONPATH] [--repeat N] [--json FILE]

The job (the Spark seed's): per user (`uuid`), sessions ended by 30 min of
inactivity (`> 30 min` opens a new one, Spark's and Flink's rule), each
written as one Parquet row: uuid, session_id ('<uuid>_session_<n>', n from 1
in time order), start and end (epoch ms), duration in seconds, event count,
and the pages visited in time order (ties in input order).

Inputs, written once into DIR by `python -m sessionize generate` (the
package's synthetic clickstream in the seed's schema, 10 % of events per
user on average): JSON lines, CSV, Parquet with the seed's epoch-ms
strings, and Parquet with typed timestamps (`parquet_ts`, the string column
cast to timestamp[ms, UTC]).

Tools:
- `sessionize`: `python -m sessionize sessions IN -o OUT.parquet ...`;
- `duckdb`: one SQL statement (window functions lag/sum, GROUP BY, list
  ORDER BY) in a Python process, COPY ... TO Parquet;
- `polars`: a lazy query (sort, shift, cumulative sum, group_by, list),
  written with write_parquet;
- `sessionize (before)`, with --before: the command line of an older
  checkout (a PYTHONPATH holding it), for the before/after.

Wall time is the child's, from spawn to exit (interpreter start and imports
included, as a user sees it); peak memory is the child's maximum resident
set, measured by a bare interpreter that starts it (getrusage).  Each answer is read back, sorted by session_id and
compared column by column with sessionize's (the duration, end - start
over 1000, to within one unit in the last place).  With --repeat N the
tools take turns N times per format and each keeps its best wall time (and
its highest peak); the load average before each format is recorded, as the
figures of a shared machine are only comparable within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GAP_MS = 30 * 60 * 1000

FILES = {"jsonl": "clicks.jsonl", "csv": "clicks.csv", "parquet": "clicks.parquet",
         "parquet_ts": "clicks_ts.parquet"}

DUCKDB = r"""
import sys, duckdb
fmt, src, out, gap = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
scan = {
    "jsonl": f"read_json('{src}', format='newline_delimited', columns="
             "{uuid: 'VARCHAR', event_timestamp: 'VARCHAR', page_name: 'VARCHAR'})",
    "csv": f"read_csv('{src}', header=true, all_varchar=true)",
    "parquet": f"read_parquet('{src}')",
    "parquet_ts": f"read_parquet('{src}')",
}[fmt]
t = "epoch_ms(event_timestamp)" if fmt == "parquet_ts" else "CAST(event_timestamp AS BIGINT)"
duckdb.sql(f'''
COPY (
  WITH ev AS (
    SELECT uuid, {t} AS t, page_name, row_number() OVER () AS i FROM {scan}),
  flagged AS (
    SELECT *, CASE WHEN lag(t) OVER w IS NULL OR t - lag(t) OVER w > {gap} THEN 1 ELSE 0 END
              AS new
    FROM ev WINDOW w AS (PARTITION BY uuid ORDER BY t, i)),
  numbered AS (
    SELECT *, sum(new) OVER (PARTITION BY uuid ORDER BY t, i ROWS UNBOUNDED PRECEDING) AS n
    FROM flagged)
  SELECT uuid, uuid || '_session_' || n AS session_id,
         min(t) AS session_start_time_ms, max(t) AS session_end_time_ms,
         CAST(max(t) - min(t) AS DOUBLE) / 1000 AS session_duration_seconds,
         count(*) AS event_count, list(page_name ORDER BY t, i) AS pages_visited
  FROM numbered GROUP BY uuid, n
) TO '{out}' (FORMAT parquet)
''')
"""

POLARS = r"""
import sys, polars as pl
fmt, src, out, gap = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cols = ["uuid", "event_timestamp", "page_name"]
if fmt == "jsonl":
    lf = pl.scan_ndjson(src, schema={c: pl.Utf8 for c in cols})
elif fmt == "csv":
    lf = pl.scan_csv(src, schema_overrides={c: pl.Utf8 for c in cols}).select(cols)
else:
    lf = pl.scan_parquet(src).select(cols)
ts = pl.col("event_timestamp")
t = ts.dt.epoch("ms") if fmt == "parquet_ts" else ts.cast(pl.Int64)
g = (lf.with_row_index("i").with_columns(t=t).sort(["uuid", "t", "i"])
     .with_columns(new=(pl.col("uuid") != pl.col("uuid").shift())
                   | (pl.col("t") - pl.col("t").shift() > gap))
     .with_columns(s=pl.col("new").fill_null(True).cast(pl.Int64).cum_sum())
     .with_columns(n=pl.col("s") - pl.col("s").min().over("uuid") + 1)
     .group_by(["uuid", "n"], maintain_order=True)
     .agg(session_start_time_ms=pl.col("t").min(), session_end_time_ms=pl.col("t").max(),
          event_count=pl.len(), pages_visited=pl.col("page_name"))
     .select("uuid", session_id=pl.col("uuid") + "_session_" + pl.col("n").cast(pl.Utf8),
             session_start_time_ms="session_start_time_ms",
             session_end_time_ms="session_end_time_ms",
             session_duration_seconds=(pl.col("session_end_time_ms")
                                       - pl.col("session_start_time_ms")) / 1000,
             event_count="event_count", pages_visited="pages_visited"))
g.collect().write_parquet(out)
"""


def sessionize_cmd(fmt: str, src: str, out: str) -> list:
    return [sys.executable, "-m", "sessionize", "sessions", src, "-o", out, "-q",
            "--key", "uuid", "--time", "event_timestamp", "--gap", "30min",
            "--collect", "page_name", "--collect-as", "pages_visited"]


# The measuring parent: a bare interpreter (no pyarrow), so that the
# child's peak, which counts the pages it shares with its parent between
# fork and exec, is the tool's own.
MEASURE = r"""
import os, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t0
import resource
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
sys.stderr.buffer.write(p.stderr)
print(wall, peak)
sys.exit(p.returncode)
"""


def run_measured(cmd: list, env: dict | None = None, cwd: str | None = None):
    """(wall seconds, peak RSS in MB) of one fresh child process.  Run from
    `cwd` (the data folder): `python -m` puts the working folder first on
    sys.path, which from the checkout would shadow --before's PYTHONPATH."""
    p = subprocess.run([sys.executable, "-S", "-c", MEASURE, *cmd], env=env, cwd=cwd,
                       capture_output=True)
    if p.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    wall, peak = map(float, p.stdout.split())
    return wall, peak


def make_inputs(data: str, events: int, users: int, formats: list) -> None:
    """The input files of `formats` that DIR lacks, generated."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    os.makedirs(data, exist_ok=True)
    for fmt in [f for f in ("jsonl", "csv", "parquet") if f in formats
                or (f == "parquet" and "parquet_ts" in formats)]:
        path = os.path.join(data, FILES[fmt])
        if not os.path.exists(path):
            subprocess.run([sys.executable, "-m", "sessionize", "generate", "--events",
                            str(events), "--users", str(users), "-o", path], check=True)
    ts_path = os.path.join(data, FILES["parquet_ts"])
    if "parquet_ts" in formats and not os.path.exists(ts_path):
        t = pq.read_table(os.path.join(data, FILES["parquet"]))
        i = t.schema.get_field_index("event_timestamp")
        typed = pc.cast(pc.cast(t["event_timestamp"], pa.int64()), pa.timestamp("ms", "UTC"))
        pq.write_table(t.set_column(i, "event_timestamp", typed), ts_path)


def canonical(path: str):
    """The answer as a pyarrow table of common types, sorted by session_id."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    schema = pa.schema([("uuid", pa.string()), ("session_id", pa.string()),
                        ("session_start_time_ms", pa.int64()),
                        ("session_end_time_ms", pa.int64()),
                        ("session_duration_seconds", pa.float64()),
                        ("event_count", pa.int64()),
                        ("pages_visited", pa.list_(pa.string()))])
    t = t.select(schema.names).cast(schema)
    return t.sort_by("session_id")


def same(got, want, what: str) -> None:
    """Equal column by column; the duration within one unit in the last
    place (polars divides by 1000 as a multiplication by 0.001)."""
    import numpy as np

    if got.num_rows != want.num_rows:
        raise SystemExit(f"{what}: {got.num_rows} sessions, not {want.num_rows}")
    for name in want.column_names:
        g, w = got[name], want[name]
        if name == "session_duration_seconds":
            ok = np.allclose(g.to_numpy(), w.to_numpy(), rtol=2.3e-16, atol=0)
        else:
            ok = g.equals(w)
        if not ok:
            raise SystemExit(f"{what}: column {name} differs from the first tool's")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="folder for the inputs and outputs")
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--formats", default="jsonl,csv,parquet,parquet_ts")
    ap.add_argument("--tools", default="sessionize,duckdb,polars")
    ap.add_argument("--before", help="PYTHONPATH of an older sessionize, measured as well")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per tool and format, taking turns; the best wall kept")
    ap.add_argument("--json", help="write the results here")
    a = ap.parse_args()
    make_inputs(a.data, a.events, a.users, a.formats.split(","))
    env = dict(os.environ)  # the sessionize this interpreter imports
    tools = {
        "sessionize": lambda f, s, o: (sessionize_cmd(f, s, o), env),
        "duckdb": lambda f, s, o: ([sys.executable, "-c", DUCKDB, f, s, o, str(GAP_MS)], env),
        "polars": lambda f, s, o: ([sys.executable, "-c", POLARS, f, s, o, str(GAP_MS)], env),
    }
    order = a.tools.split(",")
    if a.before:
        tools["sessionize (before)"] = lambda f, s, o: (
            sessionize_cmd(f, s, o), {**os.environ, "PYTHONPATH": a.before})
        order.append("sessionize (before)")
    results = []
    for fmt in a.formats.split(","):
        src = os.path.join(a.data, FILES[fmt])
        want = None
        load = [round(x, 2) for x in os.getloadavg()]
        best: dict = {}
        for turn in range(a.repeat):
            for tool in order:
                out = os.path.join(a.data, f"out-{fmt}-{tool.split()[0]}"
                                            f"{'-before' * ('(' in tool)}.parquet")
                cmd, tool_env = tools[tool](fmt, src, out)
                wall, peak = run_measured(cmd, tool_env, cwd=a.data)
                got = canonical(out)
                if want is None:
                    want = got
                else:
                    same(got, want, f"{tool} on {fmt}")
                walls, peaks = best.setdefault(tool, ([], []))
                walls.append(wall)
                peaks.append(peak)
                print(f"{fmt:11} {tool:20} {wall:7.2f} s {peak:7.0f} MB  "
                      f"{got.num_rows:,} sessions  (turn {turn + 1}, load {os.getloadavg()[0]:.2f})",
                      flush=True)
                os.remove(out)
        for tool in order:
            walls, peaks = best[tool]
            results.append(dict(format=fmt, tool=tool, wall_s=round(min(walls), 2),
                                peak_mb=round(max(peaks)), sessions=want.num_rows,
                                walls_s=[round(w, 2) for w in walls], load_before=load))
    if a.json:
        sys.path.insert(0, HERE)
        from machine import describe

        with open(a.json, "w") as f:
            json.dump(dict(machine=describe(), events=a.events, users=a.users,
                           repeat=a.repeat, results=results), f, indent=1)


if __name__ == "__main__":
    main()
