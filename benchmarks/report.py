"""RESULTS.md from the measured records (see run.py for what a record holds)."""

from __future__ import annotations

import targets

ORDER_TITLES = {
    "log": "time-ordered with jitter (a log)",
    "sorted": "sorted by (user, time)",
    "shuffled": "shuffled",
    "log64": "a log with 64-bit user ids (hashes, not a sequence)",
}


def extrapolate(records, peers, sizes):
    """For peers with a max_n: at each size above their largest run, a record
    with the per-event cost of that run (flagged `extrapolated_from`)."""
    out = []
    for name, peer in peers.items():
        if peer.max_n is None:
            continue
        for order in {r["order"] for r in records}:
            runs = [r for r in records if r["peer"] == name and r["order"] == order
                    and r.get("best_s")]
            if not runs:
                continue
            last = max(runs, key=lambda r: r["n"])
            for n in sizes:
                if n > last["n"]:
                    out.append({**last, "n": n, "best_s": last["best_s"] * n / last["n"],
                                "runs_s": [], "peak_bytes": None, "output_bytes": None,
                                "extrapolated_from": last["n"]})
    return out


def _eps(x):
    x = x / 1e6
    return f"{x:.3g} M" if x >= 0.01 else f"{x * 1e3:.3g} k"


def _n(n):
    return f"{n / 1e6:g} M" if n >= 1e6 else f"{n / 1e3:g} k"


def _answer(rec, peer):
    if rec.get("ok"):
        if peer.kind == "floor":
            return "n/a"
        where = f" (checked at {_n(rec['extrapolated_from'])})" if rec.get(
            "extrapolated_from") else ""
        return "same" + where
    return f"**WRONG**: {rec.get('problem')}"


def _order_table(records, extra, peers, order, n):
    ours = targets.find(records, targets.OURS, order, n)
    lines = [
        "| peer | events/s | time | first run | time / `assign`'s | peak beyond inputs "
        "| answer | how |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for name, peer in peers.items():
        rec = next((r for r in records + extra
                    if r["peer"] == name and r["order"] == order and r["n"] == n), None)
        if rec is None:
            continue
        if not rec.get("best_s"):
            lines.append(f"| {name} | — | — | — | — | — | {_answer(rec, peer)} | {peer.note} |")
            continue
        mark = " †" if rec.get("extrapolated_from") else ""
        speed = "WRONG" if not rec["ok"] else _eps(n / rec["best_s"]) + mark
        ratio = (f"{rec['best_s'] / ours['best_s']:.3g}x"
                 if ours and rec["ok"] and name != targets.OURS else "")
        if rec.get("peak_bytes") is None:
            mem = "—"
        else:
            mem = f"{rec['peak_bytes'] / n:.1f} B/event"
            if peer.kind == "table":
                extra_b = targets.sessions_extra_bytes_per_event(rec)
                mem += f" ({extra_b:.1f} beyond outputs)"
        threads = "" if peer.threads == "1" else f" ({peer.threads} cores)"
        first = f"{rec['runs_s'][0]:.3g} s" if rec.get("runs_s") else "—"
        lines.append(f"| {name} | {speed} | {rec['best_s']:.3g} s{mark} | {first} | {ratio} | {mem} "
                     f"| {_answer(rec, peer)} | {peer.note}{threads} |")
    return "\n".join(lines)


def _scaling_table(records, peers, order, sizes):
    head = "| peer | " + " | ".join(_n(n) for n in sizes) + " |"
    lines = [head, "| --- |" + " ---: |" * len(sizes)]
    for name in peers:
        cells = []
        for n in sizes:
            rec = next((r for r in records
                        if r["peer"] == name and r["order"] == order and r["n"] == n), None)
            if rec is None:
                cells.append("")
            elif not rec.get("best_s") or not rec["ok"]:
                cells.append("WRONG" if rec.get("best_s") else "failed")
            else:
                cells.append(f"{n / rec['best_s'] / 1e6:.3g}")
        if any(cells):
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _load_note(records, settings):
    min_s = settings.get("disturbed_min_s", 0.05)
    loads = [r["others_cores"] for r in records
             if r.get("others_cores") is not None and r.get("best_s", 0) >= min_s]
    if not loads:
        return "- Other processes' load was not recorded."
    limit = settings.get("max_others_cores", 0.25)
    busy = sum(x > limit for x in loads)
    redo = ("" if settings.get("quick") else
            f" A measurement whose best run overlapped with more than {limit:g} busy "
            f"cores was redone (up to twice, keeping the fastest) once the cores were "
            f"idle again, if they were within 10 s; not Bytewax's and Beam's, whose "
            f"figures are orders of magnitude.")
    return (f"- This is a shared machine: during the best runs (those of at least "
            f"{min_s:g} s), other processes kept on average {sum(loads) / len(loads):.2f} "
            f"cores busy, at most {max(loads):.2f}.{redo} {busy} of {len(loads)} "
            f"such runs still overlapped with more than {limit:g} (`results.json`: "
            f"`others_cores`).")


def _mark(met):
    return {True: "yes", False: "**no**", None: "—"}[met]


def _ctr_section(c):
    """The search-CTR case (benchmarks/ctr_case.py): its rows as measured."""
    def row(form, s, eps, ok=True, ratio=None):
        if s is None:
            return None
        ratio = c["arrays_eps"] / eps if eps and form != first else None
        rel = f"{ratio:.3g}x" if ratio else ""
        return (f"| {form} | {_eps(eps)} | {s:.3g} s | {rel} | "
                f"{'same' if ok else '**WRONG**'} |")
    first = "`search_ctr(users, kinds)` (no times: the first seed)"
    rows = [
        row(first, c.get("arrays_s"),
            c.get("arrays_eps")),
        row("the same, `flush=False`", c.get("arrays_noflush_s"), c.get("arrays_noflush_eps")),
        row("`search_ctr(users, kinds, times)`", c.get("arrays_times_s"),
            c.get("arrays_times_eps")),
        row("`search_ctr(..., times, gap=30 min)`", c.get("arrays_gap_s"),
            c.get("arrays_gap_eps")),
        row("`SearchSessionizer.push_many` (chunks of 100 k) + `flush`, no times",
            c.get("stream_s"), c.get("stream_eps"), c.get("stream_ok", True)),
        row("`SearchSessionizer.push_many`, times and gap", c.get("stream_gap_s"),
            c.get("stream_gap_eps"), c.get("stream_gap_ok", True)),
        row(f"`search_ctr(events)`, {_n(c['list_events'])} event objects",
            c.get("list_s"), c.get("list_eps")) if c.get("list_events") else None,
        row("pandas idiom (sort, grouped cumsums, merge)", c.get("pandas_s"),
            c["events"] / c["pandas_s"] if c.get("pandas_s") else None,
            c.get("pandas_ok", True)),
        row(f"the seeds' logic in plain Python, {_n(c.get('python_events', 0))} events",
            c.get("python_s"), c["python_events"] / c["python_s"] if c.get("python_s") else None,
            c.get("python_ok", True)),
    ]
    return ["", f"## Search CTR ({_n(c['events'])} events, {_n(c['users'])} users, "
            f"{c['searches']:,} searches; `benchmarks/ctr_case.py`)", "",
            "Every form's rows are checked against `search_ctr`'s; *time / batch* is "
            "the peer's per-event time over `search_ctr(users, kinds)`'s. Target: "
            "50 M events/s.", "",
            "| form | events/s | time | time / batch | answer |",
            "| --- | ---: | ---: | ---: | --- |"] + [r for r in rows if r] + [""]


# adapter peer -> the same engine pipeline with the engine's own session windows
# adapter peer -> the engine's own pipeline(s) it replaces
ADAPTER_PAIRS = {"beam + sessionize": ("beam",),
                 "bytewax + sessionize": ("bytewax", "bytewax no wake-ups"),
                 "spark + sessionize": ("spark",),
                 "spark + sessionize per key": ("spark",)}


def _adapter_section(records, orders):
    """Each engine pipeline's time over the same pipeline with sessionize's
    adapter, at the largest N both measured (never extrapolated)."""
    lines = []
    for adapter, owns in ADAPTER_PAIRS.items():
        for own in owns:
            for order in orders:
                both = {}
                for r in records:
                    if r["order"] == order and r.get("best_s") and r["peer"] in (adapter, own):
                        both.setdefault(r["n"], {})[r["peer"]] = r["best_s"]
                ns = [n for n, d in both.items() if len(d) == 2]
                if ns:
                    n = max(ns)
                    a, o = both[n][adapter], both[n][own]
                    lines.append(f"| {own} | {adapter} | {ORDER_TITLES[order]} | {_n(n)} "
                                 f"| {o:.3g} s | {a:.3g} s | {o / a:.2g}x |")
    if not lines:
        return []
    return ["## Engine pipelines: their own session windows vs sessionize's adapter", "",
            "The same pipeline on the same events, timed end to end, at the "
            "largest N both ran: Beam's and Bytewax's start-up included; Spark's "
            "JVM started and the DataFrame cached before the clock starts.", "",
            "| engine | adapter | order | N | engine's own | with the adapter | ratio |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: |"] + lines + [""]


def write(path, records, peers, machine, settings, plot_files, ctr=None):
    sizes = sorted({r["n"] for r in records})
    orders = [o for o in ORDER_TITLES if any(r["order"] == o for r in records)]
    n_top = sizes[-1]
    users_top = next(r["users"] for r in records if r["n"] == n_top)
    extra = extrapolate(records, peers, sizes)
    v = machine["versions"]
    out = [
        "# Benchmark results",
        "",
        f"Written by `python benchmarks/run.py` on {machine['date']}"
        + (f", sessionize at commit {machine['commit']}" if machine.get("commit") else "")
        + ". Do not edit by hand: rerun it.",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory_gib']:.1f} GiB, {machine['os']}.",
        f"- Python {machine['python']}; " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        f"- Data: `benchmarks/clickstream.py`, seed {settings['seed']}: N events from "
        f"N/10 users (at least 1 k, at most 1 M), heavy-tailed gaps; the three arrival "
        f"orders are permutations of the same events, with user ids 0 to users - 1; "
        f"the fourth data set is the log again with each user id hashed to 64 bits "
        f"(array peers only). Gap {settings['gap_ms'] // 60000} "
        f"min, `inclusive=True` (Beam is compared with `inclusive=False`, its semantics).",
        f"- Time: best of up to {settings['reps']} runs (fewer once a peer has spent "
        f"{settings['budget_s']:g} s), each peer in its own fresh process on the same data. "
        "Every peer starts from the numpy arrays and ends with one session label per "
        "event in input order (the engines: with their own output); turning the arrays "
        "into Python lists or event tuples for the dict loop, Bytewax and Beam is not "
        "timed.",
        "- *first run*: the first of those runs, in a process that has not yet "
        "allocated that much memory: it includes the kernel's first handing out of the "
        "pages (for the fast peers, often several times the best run).",
        "- Peak memory: the first run's peak RSS (VmHWM, reset through "
        "`/proc/self/clear_refs`) minus the RSS before it, so beyond the inputs; it "
        "includes the outputs (8 B/event for a label array).",
        "- Every answer is compared with sessionize's: the same partition of events "
        "into sessions (`benchmarks/partition.py`); `sessions()` is checked against "
        "`assign()` (rows, counts, keys, starts, ends). A wrong answer is reported as "
        "WRONG, not as a speed.",
        _load_note(records, settings),
        "- † extrapolated: the peer ran up to the size in its *answer* column; its "
        "per-event cost there is carried to larger N (optimistic for Bytewax, whose "
        "per-event cost grows with N).",
        "",
        f"## Targets ({_n(n_top)} events, {_n(users_top)} users)",
        "",
        "| target | measured | met |",
        "| --- | --- | --- |",
    ]
    out += [f"| {t} | {m} | {_mark(ok)} |" for t, m, ok in targets.evaluate(records)]
    for order in orders:
        out += ["", f"## {_n(n_top)} events, {_n(users_top)} users: {ORDER_TITLES[order]}",
                "", _order_table(records, extra, peers, order, n_top)]
    out += ["", "## Throughput against N (M events/s, measured only)", ""]
    for order in orders:
        out += [f"### {ORDER_TITLES[order]}", "", _scaling_table(records, peers, order, sizes),
                ""]
    out += _adapter_section(records, orders)
    if ctr:
        out += _ctr_section(ctr)
    if plot_files:
        out += ["## Plots", ""]
        out += [f"![{ORDER_TITLES[o]}]({p})" for o, p in plot_files.items()]
        out.append("")
    with open(path, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")
