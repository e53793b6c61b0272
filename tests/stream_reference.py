"""A slow, literal model of SPEC.md section 3 (the streaming Sessionizer).

Pure Python over plain ints, no numpy, no code shared with the C core.  It
keeps every accepted event of every key it holds and, after each event or
watermark move, recomputes that key's sessions with ``reference.py``'s batch
model, then judges lateness and emits by scanning those sessions.  Plain and
obviously correct beats fast: every step is O(events held).

    ref = StreamReference(gap, max_duration=None, max_duration_mode="restart",
                          inclusive=True, delay=0, allowed_lateness=0,
                          emit="final", collect=False, on_late="return")
    ref.push(key, t, value=None) -> list of RSession / RLate
    ref.push_many(keys, times, values=None) -> list
    ref.advance(watermark) -> list
    ref.flush() -> list
    ref.late_count, ref.watermark (None before anything, math.inf after flush)

The rules, as the brief states them (t, gap, ... all ints in one unit):

- watermark = max(time seen) - delay, or what advance() set; never moves
  back; None (-infinity) at first, +infinity after flush().
- A session's last joining time ``lj``: with inclusive=True
  min(end + gap, cap), cap = start + max (restart) or block_end - 1 (fixed);
  with inclusive=False min(end + gap - 1, start + max - 1 or block_end - 1).
  Without a cap end + gap / end + gap - 1.
- Final once watermark > lj + allowed_lateness.  emit="final": emitted once,
  when final, revision 0.  emit="update": emitted (revision 0) as soon as
  watermark > lj, re-emitted with revision + 1 whenever its events change
  while it is past lj and not final; a changed session takes the id of the
  earliest emitted record it overlaps and lists the others in ``replaces``.
  Becoming final without a change emits nothing in update mode.  A
  session "changes" when its events or its window_end change (a fixed-mode
  block can move when an earlier event extends the inactivity session);
  an ordinal (index) shifted by a new session before it is no change.
- An event is late, judged after the watermark took its own time, iff
  t < watermark and (a) t <= lj of the key's last final session, or (b)
  the session holding it, after inserting it, is final.  Late events are
  counted, and returned (RLate), dropped or raised per ``on_late``.
- A key is forgotten when all its sessions are final and the watermark is
  past last_end + 2 * gap + allowed_lateness; ``index`` counts sessions since
  the key was last held, and a forgotten key that comes back is new (its
  position in the emission order too).
- Within one step, emissions are ordered by (lj, the key's order of
  appearance since it was last held, start).

Two knobs exist only to explore how an implementation differs from the
literal rules (the smallest cases are the last tests of
tests/test_stream_props.py): ``merge_keeps`` ("emitted": the earliest
emitted record keeps its id, the literal rule; "time": the earliest in time)
and ``expiry_span`` ("gap": 2 * gap, the literal rule; "join": twice the
joining span, 2 * (gap - 1) when not inclusive).

Known hole in the rules themselves (tests/test_stream_reference.py::
test_forgetting_breaks_invariant): once a key is forgotten, rule (a) is gone,
and an open session of the key can grow back, one gap at a time, to a
forgotten final session; the model follows the rules, and counts such events
in ``reached_forgotten`` (a diagnostic; it changes nothing).
"""
import math
from collections import namedtuple

from reference import reference_sessions

RSession = namedtuple("RSession", "key start end window_end count index revision "
                                  "id replaces values final")
RLate = namedtuple("RLate", "key time value")

EMITS = ("final", "update")
ON_LATE = ("return", "drop", "raise")


class RefLateEventError(ValueError):
    def __init__(self, event, sessions, position):
        super().__init__(f"late event {event!r} at position {position}")
        self.event = event
        self.sessions = sessions
        self.position = position


class _Key:
    """What the model holds for one key since it was last held."""

    def __init__(self, obj, seq):
        self.obj = obj          # the key as first pushed since held
        self.seq = seq          # order of appearance (emission tie-break)
        self.events = []        # (t, event number, value), arrival order
        self.final_sets = []    # event-number sets of its final sessions
        self.last_final_lj = None
        self.last_final_end = None
        self.records = []       # update mode: dicts id, events, revision


class StreamReference:
    def __init__(self, gap, *, max_duration=None, max_duration_mode="restart",
                 inclusive=True, delay=0, allowed_lateness=0, emit="final",
                 collect=False, on_late="return", merge_keeps="emitted",
                 expiry_span="gap"):
        assert gap > 0 and delay >= 0 and allowed_lateness >= 0
        assert max_duration is None or max_duration > 0
        assert max_duration_mode in ("restart", "fixed")
        assert emit in EMITS and on_late in ON_LATE
        assert merge_keeps in ("emitted", "time")
        assert expiry_span in ("gap", "join")
        self.gap = gap
        self.max = max_duration
        self.mode = max_duration_mode
        self.inclusive = inclusive
        self.delay = delay
        self.lateness = allowed_lateness
        self.emit = emit
        self.collect = collect
        self.on_late = on_late
        self.merge_keeps = merge_keeps
        self.expiry_span = expiry_span
        self.watermark = None   # None: -infinity
        self.late_count = 0
        self.keys = {}          # key -> _Key, in order of appearance
        self.next_seq = 0
        self.next_event = 0
        self.next_id = 0
        self.pushed = 0
        # Diagnostics only (they change nothing): for each forgotten key, the
        # last time an event could have joined or chained with its last
        # session, and how many accepted events reached back to it; those
        # are the events for which forgetting breaks the SPEC invariant
        # (tests/test_stream_reference.py::test_forgetting_breaks_invariant).
        self.forgotten_reach = {}
        self.reached_forgotten = 0

    # ---- the session rules -------------------------------------------------

    def _sessions(self, events):
        """The batch sessions of one key's events (arrival order), each a dict
        with start, end, count, index, window_end, lj, members (event
        numbers, time order, ties in arrival order), values."""
        times = [t for t, _, _ in events]
        ids, sess = reference_sessions(
            [0] * len(events), times, self.gap, max_duration=self.max,
            mode=self.mode, inclusive=self.inclusive)
        # inactivity sessions (the gap rule alone): the fixed blocks' origin
        g_ids, g_sess = reference_sessions(
            [0] * len(events), times, self.gap, inclusive=self.inclusive)
        order = sorted(range(len(events)), key=lambda i: times[i])  # stable
        out = []
        for g, s in enumerate(sess):
            members = [i for i in order if ids[i] == g]
            s = dict(s)
            s["members"] = tuple(events[i][1] for i in members)
            s["values"] = tuple(events[i][2] for i in members)
            assert s["count"] == len(members)
            span = self.gap if self.inclusive else self.gap - 1
            lj = s["end"] + span
            if self.max is not None and self.mode == "restart":
                lj = min(lj, s["start"] + self.max - (0 if self.inclusive else 1))
            elif self.max is not None:
                origin = g_sess[g_ids[members[0]]]["start"]
                k = (s["start"] - origin) // self.max
                block_end = origin + (k + 1) * self.max
                lj = min(lj, block_end - 1)
                assert s["end"] < block_end
            s["lj"] = lj
            out.append(s)
        # the last joining times increase along a key's sessions, so the
        # final ones are always a prefix
        for a, b in zip(out, out[1:]):
            assert a["lj"] < b["start"] <= b["lj"], (a, b)
        return out

    def _past(self, x):
        """watermark > x"""
        w = self.watermark
        return w is not None and w > x

    def _is_final(self, s):
        return self._past(s["lj"] + self.lateness)

    # ---- events ------------------------------------------------------------

    def _late(self, key, t):
        """Whether an event (key, t), the watermark already moved by it, is
        late; literally rules (a) and (b)."""
        if not self._past(t):
            return False  # t >= watermark: never late
        ks = self.keys.get(key)
        if ks is not None and ks.final_sets and t <= ks.last_final_lj:
            return True   # (a)
        held = list(ks.events) if ks is not None else []
        probe = -1
        sessions = self._sessions(held + [(t, probe, None)])
        (mine,) = [s for s in sessions if probe in s["members"]]
        if self._is_final(mine):
            return True   # (b)
        # Not late: then no final session changes (what (a) is for).
        if ks is not None:
            for fs, s in zip(ks.final_sets, sessions):
                assert set(s["members"]) == fs, "accepted event changes a final session"
        return False

    def _push_one(self, key, t, value, position, emitted_in_call):
        self.pushed += 1
        if self.watermark != math.inf:
            w = t - self.delay
            if self.watermark is None or w > self.watermark:
                self.watermark = w
        if self._late(key, t):
            self.late_count += 1
            ev = RLate(key, t, value)
            if self.on_late == "raise":
                raise RefLateEventError(ev, list(emitted_in_call), position)
            out = [ev] if self.on_late == "return" else []
            assert self._step() == []  # nothing moved
            return out
        if key in self.forgotten_reach and t <= self.forgotten_reach[key]:
            self.reached_forgotten += 1
        ks = self.keys.get(key)
        if ks is None:
            ks = self.keys[key] = _Key(key, self.next_seq)
            self.next_seq += 1
        ks.events.append((t, self.next_event, value))
        self.next_event += 1
        return self._step()

    def push(self, key, t, value=None):
        hash(key)
        return self._push_one(key, t, value, 0, [])

    def push_many(self, keys, times, values=None):
        keys, times = list(keys), list(times)
        assert len(keys) == len(times)
        values = [None] * len(keys) if values is None else list(values)
        out = []
        for i, (k, t, v) in enumerate(zip(keys, times, values)):
            out.extend(self._push_one(k, t, v, i, [x for x in out if isinstance(x, RSession)]))
        return out

    def advance(self, watermark):
        if self.watermark is None or watermark > self.watermark:
            self.watermark = watermark
        return self._step()

    def flush(self):
        self.watermark = math.inf
        out = self._step()
        assert not self.keys
        return out

    # ---- a watermark step: what is due, in emission order -------------------

    def _item(self, ks, s, ident, revision, replaces, final):
        return RSession(ks.obj, s["start"], s["end"], s["window_end"], s["count"],
                        s["index"], revision, ident, tuple(replaces),
                        s["values"] if self.collect else None, final)

    def _step(self):
        pending = []  # (sort key, producer); ids are given in emission order
        for ks in self.keys.values():
            sessions = self._sessions(ks.events)
            for fs, s in zip(ks.final_sets, sessions):
                assert set(s["members"]) == fs, "a final session changed"
            claimed = set()  # records already matched in this step
            for i in range(len(ks.final_sets), len(sessions)):
                s = sessions[i]
                final = self._is_final(s)
                if self.emit == "final":
                    if final:
                        pending.append(((s["lj"], ks.seq, s["start"]),
                                        self._final_emitter(ks, s)))
                elif self._past(s["lj"]):
                    pending.append(((s["lj"], ks.seq, s["start"]),
                                    self._update_emitter(ks, s, final, claimed)))
                if final:
                    # final sessions are a prefix: lj grows along the key
                    assert len(ks.final_sets) == i
                    ks.final_sets.append(set(s["members"]))
                    ks.last_final_lj = s["lj"]
                    ks.last_final_end = s["end"]
        pending.sort(key=lambda p: p[0])
        out = []
        for _, produce in pending:
            item = produce()
            if item is not None:
                out.append(item)
        # forget keys with nothing open, long enough after their last end
        for key in list(self.keys):
            ks = self.keys[key]
            if len(ks.final_sets) != len(self._sessions(ks.events)):
                continue
            assert not ks.records
            span = self.gap if self.expiry_span == "gap" else (
                self.gap if self.inclusive else self.gap - 1)
            if self._past(ks.last_final_end + 2 * span + self.lateness):
                del self.keys[key]
                reach = ks.last_final_end + (self.gap if self.inclusive else self.gap - 1)
                self.forgotten_reach[key] = max(reach, self.forgotten_reach.get(key, reach))
        return out

    def _new_id(self):
        self.next_id += 1
        return self.next_id - 1

    def _final_emitter(self, ks, s):
        return lambda: self._item(ks, s, self._new_id(), 0, (), True)

    def _update_emitter(self, ks, s, final, claimed):
        """Matches session s (past its lj) with the records of what was last
        emitted for the key.  Matching is decided now, in time order within
        the key (which the emission order keeps); the id of a new record is
        given when it is produced, in emission order."""
        members = set(s["members"])
        over = [r for r in ks.records
                if r["events"] & members and id(r) not in claimed]
        if (len(over) == 1 and over[0]["events"] == members
                and over[0]["window_end"] == s["window_end"]):
            claimed.add(id(over[0]))
            if final:
                ks.records.remove(over[0])
            return lambda: None  # unchanged since last emitted
        rec = {"id": None, "events": members, "revision": 0, "start": s["start"],
               "window_end": s["window_end"]}
        if over:
            if self.merge_keeps == "emitted":
                keep = min(over, key=lambda r: r["id"])
            else:
                keep = min(over, key=lambda r: r["start"])
            others = sorted((r for r in over if r is not keep),
                            key=lambda r: r["start"])
            rec["id"] = keep["id"]
            rec["revision"] = keep["revision"] + 1
            replaces = [r["id"] for r in others]
            for r in over:
                ks.records.remove(r)
        else:
            replaces = []
        claimed.add(id(rec))
        if not final:
            ks.records.append(rec)

        def produce():
            if rec["id"] is None:
                rec["id"] = self._new_id()
            return self._item(ks, s, rec["id"], rec["revision"], replaces, final)
        return produce


def canonical_ids(items):
    """Items with ids renamed in order of first appearance (id, then each of
    replaces), so two runs compare whatever numbers the ids start from."""
    names = {}

    def name(i):
        if i not in names:
            names[i] = len(names)
        return names[i]

    out = []
    for it in items:
        if hasattr(it, "replaces"):
            it = it._replace(id=name(it.id),
                             replaces=tuple(name(r) for r in it.replaces))
        out.append(it)
    return out


def _self_check():
    """Hand-worked cases, so the model is not merely self-consistent."""
    # final mode: emitted when the watermark passes end + gap
    r = StreamReference(10)
    assert r.push("a", 0) == []
    assert r.push("a", 10) == []           # exactly gap apart: joins
    assert r.push("b", 20) == []           # watermark 20 = lj of a: not past
    out = r.push("b", 21)
    assert [(x.key, x.start, x.end, x.count, x.window_end) for x in out] == [
        ("a", 0, 10, 2, 20)]
    assert r.push("a", 20) == [RLate("a", 20, None)]   # joins a final session
    assert r.push("a", 21) == []           # t >= watermark: never late
    assert r.late_count == 1
    out = r.flush()
    # both lj 31: "a" appeared first
    assert [(x.key, x.start, x.end) for x in out] == [("a", 21, 21), ("b", 20, 21)]
    assert r.push("a", 5) == [RLate("a", 5, None)]     # after flush: late

    # delay: the watermark trails the largest time
    r = StreamReference(10, delay=5)
    r.push(1, 100)
    assert r.watermark == 95
    assert r.push(1, 96) == []             # >= watermark: never late
    assert r.push(1, 80) == [RLate(1, 80, None)]   # {80}: lj 90 < 95, final
    assert r.push(1, 86) == []             # {86}: lj 96, still open
    assert r.push(1, 90) == []             # joins {86}: lj 100

    # allowed lateness + update mode: fire at lj, re-fire on a late change
    r = StreamReference(10, allowed_lateness=15, emit="update")
    r.push("k", 0)
    out = r.advance(11)
    assert [(x.start, x.end, x.revision, x.final) for x in out] == [(0, 0, 0, False)]
    out = r.push("k", 5)
    assert [(x.start, x.end, x.count, x.revision, x.final) for x in out] == []
    # (lj moved to 15: not past any more; re-fired when the watermark passes it)
    out = r.advance(16)
    assert [(x.start, x.end, x.count, x.revision, x.id) for x in out] == [
        (0, 5, 2, 1, 0)]
    assert r.advance(31) == []             # final, unchanged: nothing more
    assert r.push("k", 14) == [RLate("k", 14, None)]
    r = StreamReference(10, allowed_lateness=30, emit="update")
    r.push("k", 20)
    r.push("x", 40)                         # k's {20} fires: id 0
    r.push("k", 5)                          # {5}, lj 15 < 40: fires, id 1
    out = r.push("k", 12)                   # bridges {5} and {20}
    assert [(x.start, x.end, x.count, x.id, x.revision, x.replaces) for x in out] == [
        (5, 20, 3, 0, 1, (1,))]
    # the key is forgotten after last_end + 2 gaps + lateness
    r = StreamReference(10)
    r.push("k", 0)
    assert [x.index for x in r.advance(11)] == [0]
    r.advance(20)
    assert "k" in r.keys
    r.advance(21)
    assert "k" not in r.keys
    r.push("k", 21)
    assert [x.index for x in r.flush()] == [0]


_self_check()
