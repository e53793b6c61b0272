"""sessionize.flink against PyFlink's own session windows (run here).

One Flink job (one mini-cluster start: tests/engines/flink_run.py) runs,
for each input, PyFlink's EventTimeSessionWindows.with_gap(10 min) +
allowed_lateness(15 min) + side_output_late_data, and
sessionize.flink.SessionWindowFunction with the same settings, on the same
keyed stream with a bounded-out-of-orderness watermark of 20 min emitted
after every element.  The inputs are the Flink seed's generated visits
(tests/test_stream_flink.py's generator: pages 1-5 min apart, up to 20 min
of disorder, some events 20-35 min late (allowed) and 40-120 min late (too
late)) and the hand-made cases of that file.

Asserted: every firing (key, window start, window end, contents), re-firings
after late data included, is the same multiset in both; the late side
outputs are the same; where they differ it is only on the events the model
of Flink in test_stream_flink.py predicts (an event that would reach into a
window Flink already purged: late for us, a new window for Flink).  The
Flink job is also checked against that model, so the model's knowledge is
Flink's.  A variant restoring each key's Sessionizer from the state's bytes
at every call (as after a restore from a checkpoint) emits the same.

Skips when pyflink is not importable, unless SESSIONIZE_REQUIRE_FLINK=1
(CI's .venv-flink), then fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from engines.flink_run import import_pyflink, local_env, run_side_by_side
from test_stream_flink import DELAY, GAP, LATENESS, MIN, flink, generate_visits, ours

SEEDS = range(3)
CASES = {
    # test_stream_flink's hand-made cases: (events, what they show)
    "refire": [("u", 0, "a"), ("u", 5 * MIN, "b"), ("v", 40 * MIN, "c"),
               ("u", 3 * MIN, "late-but-allowed")],
    "bridge": [("u", 0, "a"), ("u", 12 * MIN, "b"), ("v", 43 * MIN, "c"),
               ("u", 6 * MIN, "bridge")],
    "too_late": [("u", 0, "a"), ("v", 60 * MIN, "b"), ("u", 1 * MIN, "too late")],
    "joins_purged": [("u", 0, "a"), ("v", 46 * MIN, "b"), ("u", 10 * MIN, "joins a")],
}


def model_difference(events):
    """The events the model says we judge late and Flink does not."""
    _, got = ours(events, DELAY - 1)
    our_late = {x.value for c in got for x in c if type(x).__name__ == "LateEvent"}
    flink_late = {r[3] for c in flink(events) for r in c if r[0] == "late"}
    assert flink_late <= our_late
    return our_late - flink_late


def model_fires(events):
    return Counter((r[1], r[2], r[3], tuple(sorted(v for _, v in r[4])))
                   for c in flink(events) for r in c if r[0] == "fire")


@pytest.fixture(scope="module")
def runs():
    import_pyflink()
    inputs = {}
    for seed in SEEDS:
        events = generate_visits(seed)
        inputs[f"seed{seed}"] = events
        extra = model_difference(events)
        if extra:  # the same visits without the events where the semantics part
            inputs[f"seed{seed}-agreeing"] = [e for e in events if e[2] not in extra]
    inputs.update(CASES)
    env = local_env()
    out = run_side_by_side(env, list(inputs.values()), gap_ms=GAP,
                           out_of_orderness_ms=DELAY, lateness_ms=LATENESS)
    return {name: (inputs[name], run) for name, run in zip(inputs, out)}


def agreeing(runs):
    return [name for name, (events, _) in runs.items() if not model_difference(events)]


def test_flink_job_is_the_model(runs):
    """The harness's Flink job does what test_stream_flink's model of Flink
    says, on every input (so the differences below are Flink's own)."""
    for name, (events, run) in runs.items():
        assert Counter(run["flink_fires"]) == model_fires(events), name
        model_late = [r[3] for c in flink(events) for r in c if r[0] == "late"]
        assert sorted(run["flink_late"]) == sorted(model_late), name


def test_same_firings_and_late_output_as_flink(runs):
    names = agreeing(runs)
    assert sum(n.startswith("seed") for n in names) >= len(SEEDS)
    for name in names:
        _, run = runs[name]
        assert Counter(run["our_fires"]) == Counter(run["flink_fires"]), name
        assert sorted(run["our_late"]) == sorted(run["flink_late"]), name
    # the generated visits really exercised late data: re-firings and drops
    generated = [runs[n][1] for n in names if n.startswith("seed")]
    assert any(s.revision > 0 for r in generated for s in r["our_sessions"])
    assert sum(len(r["flink_late"]) for r in generated) > 0


def test_differences_are_only_where_the_model_says(runs):
    """On the raw visits: our late output holds Flink's plus exactly the
    events that reach into a window Flink already purged."""
    for name, (events, run) in runs.items():
        extra = model_difference(events)
        assert set(run["flink_late"]) <= set(run["our_late"]), name
        assert set(run["our_late"]) - set(run["flink_late"]) == extra, name


def test_hand_made_cases(runs):
    _, run = runs["refire"]
    first, again = sorted((s for s in run["our_sessions"] if s.key == "u"),
                          key=lambda s: s.revision)
    assert (first.id, first.revision, again.revision) == (again.id, 0, 1)
    assert again.values == ("a", "late-but-allowed", "b")
    assert Counter(run["our_fires"]) == Counter(run["flink_fires"])
    _, run = runs["bridge"]
    merged = [s for s in run["our_sessions"] if s.count == 3]
    assert [(s.start, s.window_end, s.revision, len(s.replaces)) for s in merged] == [
        (0, 22 * MIN, 1, 1)]
    assert Counter(run["our_fires"]) == Counter(run["flink_fires"])
    _, run = runs["too_late"]
    assert run["our_late"] == run["flink_late"] == ["too late"]
    # the documented difference: Flink opens a new window over the purged one
    _, run = runs["joins_purged"]
    assert run["our_late"] == ["joins a"] and run["flink_late"] == []
    assert ("u", 10 * MIN, 20 * MIN, ("joins a",)) in run["flink_fires"]


def test_restoring_from_state_bytes_changes_nothing(runs):
    """Each key's Sessionizer restored from its ValueState bytes at every
    element and timer (as after a checkpoint restore) emits the same."""
    for name, (_, run) in runs.items():
        assert Counter(run["from_bytes"]) == Counter(run["our_sessions"]), name


def test_seed_example_runs():
    """examples/flink_session_windows.py, the Flink seed's job on the
    adapter, as a script; its own check compares with Flink's windows."""
    import_pyflink()
    root = Path(__file__).resolve().parent.parent
    # the sessionize these tests import (installed, or the checkout)
    import sessionize
    package_parent = str(Path(sessionize.__file__).resolve().parent.parent)
    # the job above left PyFlink's worker settings in os.environ
    # (PYFLINK_GATEWAY_DISABLED...): a fresh script must start its own gateway
    env = {k: v for k, v in os.environ.items() if "FLINK" not in k.upper()
           or k == "SESSIONIZE_REQUIRE_FLINK"}
    proc = subprocess.run([sys.executable, str(root / "examples" / "flink_session_windows.py"),
                           "--users", "20"],
                          capture_output=True, text=True, timeout=600, cwd=root,
                          env={**env, "PYTHONPATH": package_parent})
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('{"visit_id"')]
    assert lines, proc.stdout[-2000:]
    assert "same sessions as EventTimeSessionWindows" in proc.stdout
