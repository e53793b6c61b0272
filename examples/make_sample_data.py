"""Writes the samples shipped in sessionize/data/ (run from the repository
root; the outputs are committed):

    sample_clicks.csv       a small, deterministic clickstream in the Spark
                            seed's event schema (uuid, event_timestamp in epoch
                            ms as a string, page_name)
    sample_searches.jsonl   a search app's log in the Bytewax seeds' event kinds
                            (user, type, time in epoch ms, query), made by the
                            benchmarks' generator (sessionize.synthetic)
"""

import csv
import json
import random

PAGES = ["home", "search", "selection", "details", "cart", "checkout", "confirmation"]
KIND_NAMES = ["AppOpen", "Search", "Results", "ClickResult", "AppClose", "Timeout"]
QUERIES = ["dogs", "cats", "fruit", "hotels in lisbon", "flights", "rain jacket"]


def main(path="sessionize/data/sample_clicks.csv", users=40, seed=7):
    rng = random.Random(seed)
    start = 1_790_870_400_000  # 2026-10-01T16:00:00Z in ms
    rows = []
    for u in range(users):
        uuid = f"user-{u:04d}"
        t = start + rng.randrange(0, 3_600_000)
        binge = u % 8 == 0  # steady users whose sessions run into the 2-hour cap
        for _ in range(rng.randrange(150, 260) if binge else rng.randrange(5, 120)):
            rows.append((t, uuid, rng.choice(PAGES)))
            if binge:
                t += rng.randrange(20_000, 600_000)
                continue
            # heavy-tailed gaps: mostly seconds, sometimes over half an hour
            t += int(rng.paretovariate(1.2) * 20_000) if rng.random() < 0.93 else rng.randrange(1_800_000, 7_200_000)
    rows.sort()
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["uuid", "event_timestamp", "page_name"])
        for t, uuid, page in rows:
            w.writerow([uuid, str(t), page])


def searches(path="sessionize/data/sample_searches.jsonl", events=3000, users=60, seed=7):
    from sessionize.synthetic import SEARCH, search_events

    rng = random.Random(seed)
    uid, kinds, ms = search_events(events, users, seed)
    with open(path, "w") as f:
        for u, k, t in zip(uid.tolist(), kinds.tolist(), ms.tolist()):
            row = {"user": f"user-{u % 10**6:04d}", "type": KIND_NAMES[k], "time": t}
            if k == SEARCH:
                row["query"] = rng.choice(QUERIES)
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
    searches()
