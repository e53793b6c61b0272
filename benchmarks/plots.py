"""PNG plots: throughput against N, log-log, one line per peer, one plot per order."""

from __future__ import annotations

import os

TARGET_LINES = {"log": (50e6, "target 50 M/s"), "sorted": (300e6, "target 300 M/s")}


def write(directory, records, peers, titles):
    """Writes <directory>/<order>.png for each order; returns {order: path}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(directory, exist_ok=True)
    paths = {}
    for order, title in titles.items():
        recs = [r for r in records if r["order"] == order and r.get("best_s")]
        if not recs:
            continue
        fig, ax = plt.subplots(figsize=(8, 5.5))
        for i, name in enumerate(peers):
            pts = sorted((r["n"], r["n"] / r["best_s"], r["ok"])
                         for r in recs if r["peer"] == name)
            if not pts:
                continue
            style = dict(marker="o", markersize=4, linewidth=2.4 if name.startswith(
                "sessionize") else 1.3, color=f"C{i % 10}")
            if name == "copy floor":
                style.update(color="black", linestyle="--", marker=".")
            ax.plot([n for n, _, _ in pts], [e for _, e, _ in pts], label=name, **style)
            wrong = [(n, e) for n, e, ok in pts if not ok]
            if wrong:
                ax.plot(*zip(*wrong), "x", color="red", markersize=10,
                        label=f"{name}: WRONG answer")
        if order in TARGET_LINES:
            y, label = TARGET_LINES[order]
            ax.axhline(y, color="grey", linestyle=":", linewidth=1)
            ax.text(0.01, y * 1.08, label, transform=ax.get_yaxis_transform(),
                    fontsize=8, color="grey")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("events N (users N/10, at most 1 M)")
        ax.set_ylabel("events per second")
        ax.set_title(f"sessionizing {title}")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8, loc="best")
        fig.tight_layout()
        path = os.path.join(directory, f"{order}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths[order] = path
    return paths
