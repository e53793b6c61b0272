"""What `python -m sessionize sessions` must write, computed apart from the
command line: the one-shot array API (sessionize.assign and sessions) over
the events as the test itself reads them, put in the Spark seed's session
row.  Rows are compared as sorted lists: the command writes them in the
order sessions close, the one-shot API by key."""

from __future__ import annotations

import csv
import io
import json

import numpy as np

import sessionize


def seed_rows(keys, times_ms, values=None, *, key_field="uuid", collect_as=None,
              window_end=False, **settings) -> list:
    """The seed's session rows of these events (times: int epoch ms);
    window_end: with session_window_end_time_ms, as --gap-field writes."""
    keys_o = np.empty(len(keys), dtype=object)
    keys_o[:] = keys
    times = np.asarray(times_ms, dtype=np.int64).astype("datetime64[ms]")
    t = sessionize.sessions(keys_o, times, **settings)
    collected = None
    if values is not None:
        ids = sessionize.assign(keys_o, times, **settings)
        order = np.lexsort((np.arange(len(ids)), times, ids))  # by session, time, input
        collected = [[] for _ in range(len(t))]
        for i in order:
            collected[ids[i]].append(values[i])
    rows = []
    for g in range(len(t)):
        start = int(t.start[g].astype(np.int64))
        end = int(t.end[g].astype(np.int64))
        row = {key_field: t.key[g], "session_id": f"{t.key[g]}_session_{int(t.index[g]) + 1}",
               "session_start_time_ms": start, "session_end_time_ms": end,
               "session_duration_seconds": (end - start) / 1000, "event_count": int(t.count[g])}
        if window_end:
            row["session_window_end_time_ms"] = int(t.window_end[g].astype(np.int64))
        if collected is not None:
            row[collect_as] = collected[g]
        rows.append(row)
    return canonical(rows)


def canonical(rows: list) -> list:
    """Rows as sorted JSON strings, numbers as floats where fractional."""
    out = []
    for r in rows:
        r = dict(r)
        d = r.get("session_duration_seconds")
        if d is not None:
            r["session_duration_seconds"] = float(d)
        out.append(json.dumps(r, sort_keys=True))
    return sorted(out)


def read_output(path, fmt: str, list_column: str | None = None) -> list:
    """The command's output file as plain rows (dicts), typed as JSON would."""
    if fmt == "jsonl":
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    if fmt == "csv":
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        for r in rows:
            for c in ("session_start_time_ms", "session_end_time_ms", "event_count",
                      "session_window_end_time_ms"):
                if c in r:
                    r[c] = int(r[c])
            r["session_duration_seconds"] = float(r["session_duration_seconds"])
            if list_column:
                r[list_column] = json.loads(r[list_column])
        return rows
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def read_clicks_jsonl(text: str):
    """(uuid, epoch ms, page_name) of each event in a JSON-lines clickstream."""
    keys, times, pages = [], [], []
    for line in io.StringIO(text):
        e = json.loads(line)
        keys.append(e["uuid"])
        times.append(int(e["event_timestamp"]))
        pages.append(e["page_name"])
    return keys, times, pages
