"""ISO-8601 time strings, as JSON and CSV exports carry them, side by side.

    python benchmarks/iso_case.py [--events 2000000] [--users 200000] [--reps 3]
                                  [--json FILE]

`assign` on time-ordered events of string users whose times are ISO
strings with a 'Z' (an Arrow table, as a file reader gives it), against the
peers doing the same from the same strings: polars (`str.to_datetime`, then
sort, diff, cumulative sum), DuckDB (a cast to TIMESTAMPTZ, then LAG and SUM
OVER), pandas (`to_datetime`, then sort, groupby diff, cumsum).  Also
sessionize on the strings as a numpy `U` array and a list, and on the same
instants already parsed (an Arrow timestamp column): the difference is
what the parsing costs.  Every answer is checked against sessionize's on
epoch integers; one process, best of --reps, ratios to sessionize on Arrow
strings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
GAP_MS = 30 * 60 * 1000


def _data(n: int, users: int):
    sys.path.insert(0, HERE)
    from clickstream import clickstream

    from sessionize.synthetic import user_names

    ids, ms = clickstream(n, users, "log", seed=0)
    ms = ms.astype(np.int64)
    iso = np.datetime_as_string(ms.view("M8[ms]"), unit="ms")
    iso = np.char.add(iso, "Z")
    return user_names(ids.astype(np.int64)), ms, iso


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labellings group the events alike (labels may differ)."""
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    pairs = np.unique(np.stack([ia.ravel(), ib.ravel()]), axis=1)
    return pairs.shape[1] == ia.max() + 1 == ib.max() + 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--users", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args(argv)

    import pyarrow as pa

    import sessionize

    names, ms, iso = _data(a.events, a.users)
    want = sessionize.assign(names, ms, gap=GAP_MS)
    table = pa.table({"u": pa.array(names), "ts": pa.array(iso.tolist(), pa.string())})
    stamps = pa.array(ms, pa.timestamp("ms", "UTC"))

    def sz_arrow():
        return sessionize.assign(table["u"], table["ts"], gap="30min")

    def sz_numpy_u():
        return sessionize.assign(names, iso, gap="30min")

    def sz_list():
        return sessionize.assign(names, iso_list, gap="30min")

    def sz_parsed():
        return sessionize.assign(table["u"], stamps, gap="30min")

    iso_list = iso.tolist()

    def polars_run():
        import polars as pl

        df = pl.from_arrow(table)
        out = (df.with_row_index("i")
               .with_columns(pl.col("ts").str.to_datetime(time_unit="ms", time_zone="UTC"))
               .sort("u", "ts")
               .select("i", ((pl.col("u") != pl.col("u").shift())
                             | (pl.col("ts").diff() > pl.duration(minutes=30)))
                       .fill_null(True).cum_sum().alias("s")))
        ids = np.empty(len(df), dtype=np.int64)
        ids[out["i"].to_numpy()] = out["s"].to_numpy()
        return ids

    def duckdb_run():
        import duckdb

        con = duckdb.connect()
        try:
            con.register("raw", table.append_column("i", pa.array(np.arange(len(table)))))
            r = con.sql("""
                SELECT i, SUM(new) OVER w AS s, hash(u) AS h FROM (
                  SELECT i, u, t, CASE WHEN t - LAG(t) OVER (PARTITION BY u ORDER BY t, i)
                                       <= INTERVAL 30 MINUTE THEN 0 ELSE 1 END AS new
                  FROM (SELECT i, u, CAST(ts AS TIMESTAMPTZ) AS t FROM raw))
                WINDOW w AS (PARTITION BY u ORDER BY t, i ROWS UNBOUNDED PRECEDING)
            """).fetchnumpy()
        finally:
            con.close()
        pairs = np.empty((len(table), 2), dtype=np.int64)
        i = np.asarray(r["i"])
        pairs[i, 0] = np.asarray(r["h"]).astype(np.int64)
        pairs[i, 1] = np.asarray(r["s"])
        return np.unique(pairs, axis=0, return_inverse=True)[1].reshape(len(table))

    def pandas_run():
        import pandas as pd

        df = pd.DataFrame({"u": names, "t": pd.to_datetime(iso, utc=True)})
        df = df.sort_values(["u", "t"], kind="stable")
        new = (df.groupby("u", sort=False)["t"].diff().gt(pd.Timedelta(minutes=30))
               | df["u"].ne(df["u"].shift()))
        return pd.Series(new.cumsum().to_numpy() - 1, index=df.index).sort_index().to_numpy()

    runs = {
        "sessionize, Arrow string times": sz_arrow,
        "sessionize, numpy U times": sz_numpy_u,
        "sessionize, list of str times": sz_list,
        "sessionize, times parsed already (Arrow timestamp)": sz_parsed,
        "polars (str.to_datetime, sort, diff, cum_sum)": polars_run,
        "DuckDB (CAST AS TIMESTAMPTZ, LAG, SUM OVER)": duckdb_run,
        "pandas (to_datetime, sort, groupby diff, cumsum)": pandas_run,
    }
    results = {}
    for name, fn in runs.items():
        try:
            best = float("inf")
            for _ in range(a.reps):
                t0 = time.perf_counter()
                got = fn()
                best = min(best, time.perf_counter() - t0)
        except ImportError as e:
            print(f"{name}: skipped ({e})")
            continue
        assert _same_partition(np.asarray(got), want), f"{name}: different sessions"
        results[name] = best
    base = results["sessionize, Arrow string times"]
    print(f"{a.events:,} events of {a.users:,} string users, ISO 'Z' times, gap 30 min; "
          f"best of {a.reps}, load {os.getloadavg()[0]:.1f}")
    print(f"{'':<54}{'seconds':>9}{'M ev/s':>9}{'x sessionize':>14}")
    for name, t in results.items():
        print(f"{name:<54}{t:9.3f}{a.events / t / 1e6:9.1f}{t / base:14.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"events": a.events, "users": a.users, "seconds": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
