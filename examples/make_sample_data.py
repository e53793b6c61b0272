"""Writes sessionize/data/sample_clicks.csv: a small, deterministic clickstream
in the Spark seed's event schema (uuid, event_timestamp in epoch ms as a
string, page_name).  Run from the repository root; the output is committed."""

import csv
import random

PAGES = ["home", "search", "selection", "details", "cart", "checkout", "confirmation"]


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


if __name__ == "__main__":
    main()
