"""`python -m sessionize generate`: the benchmarks' clickstream
(sessionize.synthetic, the same code and seeds) written in the Spark Structured Streaming pipeline's
event schema, or with --search a search app's log in the Bytewax search-session tutorial's
event kinds.  Written in chunks, so any size fits in memory."""

from __future__ import annotations

import json
import sys

import numpy as np

from .. import synthetic
from . import formats
from .errors import need

CHUNK = 200_000
_KIND_NAMES = np.array(["AppOpen", "Search", "Results", "ClickResult", "AppClose", "Timeout"])
_QUERIES = np.array(["dogs", "cats", "fruit", "hotels in lisbon", "flights", "rain jacket",
                     "laptop", "pizza near me", "weather", "train times"])


def click_columns(uid: np.ndarray, ms: np.ndarray, seed: int, part: int) -> dict:
    """The Spark Structured Streaming pipeline's event fields as numpy columns, for one chunk of the
    clickstream's users and times (the strings are made a chunk at a time:
    20 million of them at once would take gigabytes)."""
    n = len(uid)
    pages = synthetic.page_names(n, seed * 1_000_003 + part)
    rng = np.random.default_rng([seed, 2, part])
    ids = rng.integers(0, 2**63 - 1, n, dtype=np.int64)
    card = rng.integers(1, 9, n)
    event_value = np.where(pages == "selection", np.char.add(np.char.add("card-", card.astype(str)),
                                                           "-selected"), "")
    booking = np.where(pages == "booking", np.char.add("booking-", (ids % 10**8).astype(str)), "")
    return {
        "event_id": np.char.add("evt-", np.char.zfill(np.char.mod("%x", ids), 16)),
        "page_name": pages,
        "event_timestamp": ms.astype(str),   # epoch ms as a string, as the Spark pipeline sends it
        "booking_details": booking,
        "uuid": synthetic.user_names(uid),
        "event_name": np.char.add("user-", pages),
        "event_type": np.full(n, "user-action"),
        "event_value": event_value,
    }


def search_columns(uid: np.ndarray, kinds: np.ndarray, ms: np.ndarray, seed: int,
                   part: int) -> dict:
    n = len(uid)
    rng = np.random.default_rng([seed, 3, part])
    query = np.where(kinds == synthetic.SEARCH, _QUERIES[rng.integers(0, len(_QUERIES), n)], "")
    return {"user": uid, "type": _KIND_NAMES[kinds], "time": ms, "query": query}


def _jsonl_click(cols: dict, f) -> None:
    d = json.dumps
    rows = zip(*(cols[k].tolist() for k in cols))
    f.write("".join(
        f'{{"event_id": "{eid}", "page_name": "{page}", "event_timestamp": "{ts}", '
        f'"booking_details": "{book}", "uuid": "{uuid}", "event_details": {{"event_name": '
        f'"{name}", "event_type": "{typ}", "event_value": {d(val)}}}}}\n'
        for eid, page, ts, book, uuid, name, typ, val in rows).encode())


def _jsonl_search(cols: dict, f) -> None:
    rows = zip(cols["user"].tolist(), cols["type"].tolist(), cols["time"].tolist(),
               cols["query"].tolist())
    f.write("".join(
        f'{{"user": {u}, "type": "{k}", "time": {t}' + (f', "query": "{q}"}}\n' if q else "}\n")
        for u, k, t, q in rows).encode())


def _csv(cols: dict, f, header: bool) -> None:
    import csv
    import io

    text = io.TextIOWrapper(f, encoding="utf-8", newline="")
    w = csv.writer(text)
    if header:
        w.writerow(list(cols))
    w.writerows(zip(*(cols[k].tolist() for k in cols)))
    text.flush()
    text.detach()


def _arrow_table(cols: dict, search: bool):
    pa = need("pyarrow", "Parquet files", "parquet")
    if search:
        return pa.table({k: pa.array(v) for k, v in cols.items()})
    details = pa.StructArray.from_arrays(
        [pa.array(cols[k]) for k in ("event_name", "event_type", "event_value")],
        ["event_name", "event_type", "event_value"])
    flat = {k: pa.array(cols[k]) for k in ("event_id", "page_name", "event_timestamp",
                                            "booking_details", "uuid")}
    return pa.table({**flat, "event_details": details})


def run(args) -> int:
    fmt = formats.format_of(args.output or "-", args.output_format, "-o", default="jsonl")
    n, users = args.events, args.users or max(1, args.events // 10)
    # one draw for the whole stream (the generator's order is global), then
    # written in chunks
    drawn = synthetic.search_events(n, users, args.seed) if args.search else \
        synthetic.clickstream(n, users, args.order, args.seed)
    out = formats.Output(args.output)
    try:
        writer = None
        for lo in range(0, max(n, 1), CHUNK):
            sl = [a[lo:lo + CHUNK] for a in drawn]
            part = search_columns(*sl, args.seed, lo // CHUNK) if args.search else \
                click_columns(*sl, args.seed, lo // CHUNK)
            if fmt == "jsonl":
                (_jsonl_search if args.search else _jsonl_click)(part, out.file)
            elif fmt == "csv":
                _csv(part, out.file, header=lo == 0)
            else:
                table = _arrow_table(part, args.search)
                if writer is None:
                    pq = need("pyarrow.parquet", "Parquet files", "parquet")
                    writer = pq.ParquetWriter(out.file, table.schema)
                writer.write_table(table)
        if writer is not None:
            writer.close()
        out.commit()
    except BaseException:
        out.discard()
        raise
    what = "search events" if args.search else "click events"
    print(f"sessionize: wrote {n:,} {what} of {users:,} users", file=sys.stderr)
    return 0
