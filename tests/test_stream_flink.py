"""The Flink seed (seeds/flink-session-windows.md) on the streaming API.

The seed's job: EventTimeSessionWindows.withGap(10 min), a bounded
out-of-orderness watermark of 20 min, allowed lateness 15 min, each firing
written to Kafka ("duplicates" are re-firings of a window after late data).
Here: Sessionizer(gap="10min", delay=..., allowed_lateness="15min",
emit="update", collect=True) on generated visits with late events, against a
small model of Flink's documented window semantics (FlinkModel below, read
from Flink's source: BoundedOutOfOrdernessWatermarks emits max - delay - 1 ms;
TimeWindow.intersects merges windows [t, t + gap) that touch; EventTimeTrigger
fires when the watermark reaches window.maxTimestamp() = end - 1 and on every
element added to a window already past it; WindowOperator drops or
side-outputs an element whose merged window has maxTimestamp + lateness <=
watermark, and purges a window at that cleanup time without firing).

What matches (asserted below):
- with delay = Flink's out-of-orderness - 1 ms, every session fires in the
  same call as Flink's window does, with the same events, and re-fires on the
  same late events (revision + 1, same id), merged windows included; the
  events Flink side-outputs are exactly our LateEvents;
- with the same delay as Flink, we fire one millisecond of event time later:
  Flink fires at watermark = maxTimestamp, while an event at exactly
  end + gap could still join (and make the window fire again);
- nothing is emitted when a fired window becomes final (Flink purges
  silently); flush() fires what Flink's final watermark fires.
What differs (asserted in test_difference_*):
- an event that would join or precede a session already final (purged in
  Flink) is late for us; Flink starts a new window that overlaps the purged
  one and fires it as a second session;
- each firing carries id/revision/replaces (Flink's gives no link between
  firings: the docs tell users to deduplicate), values in time order (Flink's
  window contents are in arrival order), and final=True when nothing more
  can come.
"""
import datetime as dt
import random

import pytest

from sessionize import LateEvent, Sessionizer, StreamSession

MS = dt.timedelta(milliseconds=1)
MIN = 60_000  # ms
GAP, DELAY, LATENESS = 10 * MIN, 20 * MIN, 15 * MIN
T0 = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)


def at(ms):
    return T0 + ms * MS


def ms_of(t):
    return (t - T0) // MS


class FlinkModel:
    """One keyed WindowOperator with EventTimeSessionWindows, EventTimeTrigger,
    allowedLateness and a late-data side output, fed by a
    BoundedOutOfOrdernessWatermarks generator that emits a watermark after
    every element (an auto-watermark interval shorter than the gap between
    elements).  Times in ms.  Output: ("fire", key, start, end_exclusive,
    sorted contents) and ("late", key, t, value)."""

    def __init__(self, gap, delay, lateness):
        self.gap, self.delay, self.lateness = gap, delay, lateness
        self.max_ts = None
        self.wm = -2**63
        self.windows = {}  # key -> list of [start, end, contents]
        self.purged = {}   # key -> largest end of a window purged

    def _fire(self, key, w):
        return ("fire", key, w[0], w[1], tuple(sorted(w[2])))

    def element(self, key, t, v):
        out = []
        ws = self.windows.setdefault(key, [])
        new = [t, t + self.gap, [(t, v)]]
        # TimeWindow.mergeWindows: windows that intersect (touching counts)
        merged = [w for w in ws if w[0] <= new[1] and w[1] >= new[0]]
        start = min([new[0]] + [w[0] for w in merged])
        end = max([new[1]] + [w[1] for w in merged])
        max_ts = end - 1
        if max_ts + self.lateness <= self.wm:  # isWindowLate(actualWindow)
            # every merged window would be late too, so already purged
            assert not merged
            out.append(("late", key, t, v))
        else:
            contents = [e for w in merged for e in w[2]] + [(t, v)]
            for w in merged:
                ws.remove(w)
            win = [start, end, contents]
            ws.append(win)
            if max_ts <= self.wm:  # EventTimeTrigger.onElement: FIRE
                out.append(self._fire(key, win))
        self.max_ts = t if self.max_ts is None else max(self.max_ts, t)
        out += self.watermark(self.max_ts - self.delay - 1)
        return out

    def watermark(self, w):
        """Timers up to w, in timestamp order: the trigger's at maxTimestamp
        (FIRE), the cleanup at maxTimestamp + lateness (purge)."""
        out = []
        if w <= self.wm:
            return out
        timers = []
        for key, ws in self.windows.items():
            for win in ws:
                m = win[1] - 1
                if self.wm < m <= w:
                    timers.append((m, 0, key, win))
                if m + self.lateness <= w:
                    timers.append((m + self.lateness, 1, key, win))
        self.wm = w
        for _, kind, key, win in sorted(timers, key=lambda x: (x[0], x[1])):
            if kind == 0:
                out.append(self._fire(key, win))
            else:
                self.windows[key].remove(win)
                self.purged[key] = max(self.purged.get(key, win[1]), win[1])
        return out

    def end_of_input(self):
        return self.watermark(2**63 - 1)


def generate_visits(seed, n_users=25, late_share=0.08):
    """Visits like the seed's generator: pages every 1-5 minutes (whole
    seconds), sessions 11-60 minutes apart; arrival with up to 20 minutes of
    disorder, and some events held back 20-35 minutes (late but allowed) or
    40-120 minutes (too late)."""
    rnd = random.Random(seed)
    events = []
    for u in range(n_users):
        t = rnd.randrange(0, 30) * MIN
        for _ in range(rnd.randint(1, 3)):
            for _ in range(rnd.randint(1, 25)):
                events.append((f"user_{u}", t, f"page_{rnd.randrange(20)}"))
                t += rnd.randint(60, 300) * 1000
            t += rnd.randint(11, 60) * MIN
    arrivals = []
    for i, (k, t, v) in enumerate(events):
        r = rnd.random()
        if r < late_share / 2:
            lag = rnd.randint(20, 35) * MIN
        elif r < late_share:
            lag = rnd.randint(40, 120) * MIN
        else:
            lag = rnd.randint(0, 19 * 60) * 1000
        arrivals.append((t + lag, i, (k, t, f"{v}#{i}")))
    arrivals.sort()
    return [e for _, _, e in arrivals]


def ours(events, delay_ms, on_late="return"):
    sz = Sessionizer("10min", delay=delay_ms * MS, allowed_lateness="15min",
                     emit="update", collect=True, on_late=on_late)
    calls = []
    for k, t, v in events:
        calls.append(sz.push(k, at(t), v))
    calls.append(sz.flush())
    return sz, calls


def flink(events):
    f = FlinkModel(GAP, DELAY, LATENESS)
    calls = [f.element(k, t, v) for k, t, v in events]
    calls.append(f.end_of_input())
    return calls


def compare(events):
    """Ours (delay 20 min - 1 ms) and the Flink model, call by call; the
    items of one call compared per key (Flink orders timers of equal time
    arbitrarily across keys).  Returns the differing calls."""
    sz, got = ours(events, DELAY - 1)
    want = flink(events)
    by_value = {v: t for _, t, v in events}
    diffs = []
    for i, (g, w) in enumerate(zip(got, want)):
        mine = []
        for x in g:
            if isinstance(x, LateEvent):
                mine.append(("late", x.key, ms_of(x.time), x.value))
            else:
                contents = tuple(sorted((by_value[v], v) for v in x.values))
                mine.append(("fire", x.key, ms_of(x.start), ms_of(x.window_end), contents))
        key = lambda r: (r[1], r[2])
        if sorted(mine, key=key) != sorted(w, key=key):
            diffs.append((i, sorted(mine, key=key), sorted(w, key=key)))
    return sz, got, diffs


def purged_reach(events):
    """For each event, the largest end (last + gap) of a window of its key
    that Flink had purged when it arrived (None: none)."""
    f = FlinkModel(GAP, DELAY, LATENESS)
    reach = []
    for k, t, v in events:
        reach.append(f.purged.get(k))
        f.element(k, t, v)
    return reach


@pytest.mark.parametrize("seed", range(8))
def test_generated_visits_match_flink(seed):
    """Every call fires the same sessions with the same events as Flink, and
    the same events are late, except the events Flink lets open a window
    over one it already purged (late for us: test_difference_*); without
    those, everything is the same."""
    events = generate_visits(seed)
    sz, got, diffs = compare(events)
    flink_late = {r[3] for c in flink(events) for r in c if r[0] == "late"}
    our_late = {x.value for c in got for x in c if isinstance(x, LateEvent)}
    assert flink_late <= our_late
    reach = purged_reach(events)
    extra = our_late - flink_late
    for i, (k, t, v) in enumerate(events):
        if v in extra:  # joins or precedes a window Flink purged
            assert reach[i] is not None and t <= reach[i], (k, t, v)
    if extra:
        events = [e for e in events if e[2] not in extra]
        sz, got, diffs = compare(events)
    assert diffs == []
    # the seed's late data really exercised both paths
    fired = [x for c in got for x in c if isinstance(x, StreamSession)]
    assert any(x.revision > 0 for x in fired)
    assert sz.late_count > 0


def test_fires_when_watermark_passes_window_end():
    """The seed's first output: a session ending 01:10:00 fired at Flink
    watermark 01:19:59.999, i.e. once an event at 01:40:00 was seen."""
    last = 70 * MIN
    events = [("u", t * MIN, "p") for t in range(0, 71, 5)]
    events.append(("v", last + GAP + DELAY, "c"))
    n = len(events)
    f = flink(events)
    assert [r[:4] for r in f[n - 1]] == [("fire", "u", 0, last + GAP)]
    assert all(r[0] != "fire" for c in f[:n - 1] for r in c)
    # delay = 20 min - 1 ms: the same call
    _, calls = ours(events, DELAY - 1)
    assert [(x.key, ms_of(x.window_end), x.count) for x in calls[n - 1]] == [
        ("u", last + GAP, 15)]
    # delay = 20 min: one millisecond of event time later, when no event
    # can still join (Flink's window could still take one at 01:20:00)
    _, calls = ours(events + [("v", last + GAP + DELAY + 1, "d")], DELAY)
    assert calls[n - 1] == []
    assert [(x.key, x.revision, x.final) for x in calls[n]] == [("u", 0, False)]


def test_allowed_late_event_refires_with_a_revision():
    events = [("u", 0, "a"), ("u", 5 * MIN, "b"), ("v", 40 * MIN, "c"),
              ("u", 3 * MIN, "late-but-allowed")]
    _, calls = ours(events, DELAY - 1)
    (first,) = calls[2]
    (again,) = calls[3]
    assert (first.revision, again.revision) == (0, 1) and first.id == again.id
    assert again.values == ("a", "late-but-allowed", "b") and not again.final
    f = flink(events)
    assert [r[4] for r in f[3]] == [((0, "a"), (3 * MIN, "late-but-allowed"), (5 * MIN, "b"))]


def test_bridging_late_event_fires_the_merged_session():
    # [0, 10) and [12, 22) both fired, neither purged (at 24:59.999)
    events = [("u", 0, "a"), ("u", 12 * MIN, "b"), ("v", 43 * MIN, "c"),
              ("u", 6 * MIN, "bridge")]
    _, calls = ours(events, DELAY - 1)
    assert [(x.start, x.end) for x in calls[2]] == [(at(0), at(0)), (at(12 * MIN), at(12 * MIN))]
    (merged,) = calls[3]
    assert merged.count == 3 and merged.revision == 1
    assert merged.id in {x.id for x in calls[2]}
    assert set(merged.replaces) == {x.id for x in calls[2]} - {merged.id}
    f = flink(events)
    assert [(r[2], r[3], len(r[4])) for r in f[3]] == [(0, 22 * MIN, 3)]


def test_too_late_event_goes_to_the_late_output():
    events = [("u", 0, "a"), ("v", 60 * MIN, "b"), ("u", 1 * MIN, "too late")]
    sz, calls = ours(events, DELAY - 1)
    assert calls[2] == [LateEvent("u", at(1 * MIN), "too late")]
    assert sz.late_count == 1
    assert flink(events)[2] == [("late", "u", 1 * MIN, "too late")]
    # on_late="drop" is Flink without a side output: counted, not returned
    sz, calls = ours(events, DELAY - 1, on_late="drop")
    assert calls[2] == [] and sz.late_count == 1


def test_final_without_change_emits_nothing():
    """Flink purges a fired window at maxTimestamp + lateness silently; in
    update mode the last revision stands."""
    events = [("u", 0, "a"), ("v", 31 * MIN, "b"), ("w", 47 * MIN, "c"),
              ("x", 200 * MIN, "d")]
    _, calls = ours(events, DELAY - 1)
    assert [x.key for x in calls[1]] == ["u"]
    assert all(x.key != "u" for c in calls[2:] for x in c)
    f = flink(events)
    assert all(r[1] != "u" for c in f[2:] for r in c)


def test_difference_event_joining_a_purged_session():
    """Ours: late (it would change a session already final).  Flink: the
    window was purged, so the event opens a new window that overlaps it and
    fires as a second session."""
    events = [("u", 0, "a"), ("v", 46 * MIN, "b"), ("u", 10 * MIN, "joins a")]
    _, calls = ours(events, DELAY - 1)
    assert calls[2] == [LateEvent("u", at(10 * MIN), "joins a")]
    f = flink(events)
    assert f[2] == [("fire", "u", 10 * MIN, 20 * MIN, ((10 * MIN, "joins a"),))]


def test_difference_ids_and_order_of_values():
    """Each of our firings says which session it revises (id, revision,
    replaces); values come in time order, Flink's contents in arrival order."""
    events = [("u", 0, "a"), ("u", 5 * MIN, "b"), ("v", 40 * MIN, "c"),
              ("u", 2 * MIN, "x")]
    _, calls = ours(events, DELAY - 1)
    assert calls[3][0].values == ("a", "x", "b")
    assert calls[3][0].id == calls[2][0].id
