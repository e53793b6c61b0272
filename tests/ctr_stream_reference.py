"""A slow, obviously correct model of SearchSessionizer, built from the seeds.

Per key it keeps what the seeds' dataflows keep: the open user session as a
list of event objects (Bytewax's reduce state), appended to in time order,
and closed (the seeds' session_has_closed, widened to Timeout; the window
seed's gap) into search sessions by split_into_searches / has_search /
calc_ctr from tests/ctr_reference.py.  Streaming adds only the watermark
(SPEC.md section 3): events before it are late; events after it wait,
sorted by (time, arrival), until it reaches them; a session whose last
event is a gap behind it closes.

Rows of one call come in the README's close order: (flushed?, moment,
rank, ordinal) with an event close at its time, a gap close at the first
time no event could still join (last + gap, + 1 when inclusive), gap closes
first at equal moments; flushed sessions by their first search.  Session
numbers count the sessions with a search, in emission order.
"""

from __future__ import annotations

import bisect

from ctr_reference import (
    KIND_CLASSES, calc_ctr, clicks_of, has_search, is_search, split_into_searches,
)


class Model:
    def __init__(self, gap=None, inclusive=True, delay=0, times=True):
        self.gap, self.inclusive, self.delay, self.times = gap, inclusive, delay, times
        self.wm = None          # None: -infinity; "inf" after flush
        self.max_seen = None
        self.n = 0              # ordinals issued
        self.sessions = {}      # key -> list of (t, ord, event object)
        self.buffers = {}       # key -> sorted list of (t, ord, kind)
        self.pending = []       # (close key, rows of the session)
        self.number = 0
        self.late_count = 0

    # the seeds' rule, one event at a time
    def _too_far(self, a, b):
        if self.gap is None:
            return False
        return b - a > self.gap if self.inclusive else b - a >= self.gap

    def _close(self, key, order):
        session = self.sessions.pop(key)
        objs = [e for _, _, e in session]
        searches = [s for s in split_into_searches(objs) if has_search(s)]
        if searches:
            ords = {id(e): o for _, o, e in session}
            times = {id(e): t for t, _, e in session}
            rows = [(key, ords[id(s[0])], times[id(s[0])] if self.times else None,
                     calc_ctr(s) == 1.0, clicks_of(s)) for s in searches]
            self.pending.append((order, rows))

    def _gap_moment(self, last):
        return last + self.gap + (1 if self.inclusive else 0)

    def _enter(self, key, t, o, kind):
        cur = self.sessions.get(key)
        if cur and self._too_far(cur[-1][0], t):
            last_t, last_o, _ = cur[-1]
            self._close(key, (0, self._gap_moment(last_t), 0, last_o))
        obj = KIND_CLASSES[kind](*([key] + (["x"] if kind in (1, 2, 3) else [])))
        self.sessions.setdefault(key, []).append((t, o, obj))
        if type(obj).__name__ in ("AppClose", "Timeout"):
            self._close(key, (0, t, 1, o))

    def _settle(self):
        """Everything the watermark has reached."""
        if self.wm is None:
            return
        for key in sorted(self.buffers, key=repr):
            buf = self.buffers[key]
            while buf and buf[0][0] <= self.wm:
                t, o, kind = buf.pop(0)
                self._enter(key, t, o, kind)
            if not buf:
                del self.buffers[key]
        for key in list(self.sessions):
            last_t, last_o, _ = self.sessions[key][-1]
            if self._too_far(last_t, self.wm):
                self._close(key, (0, self._gap_moment(last_t), 0, last_o))

    def _emit(self):
        out = []
        for _, rows in sorted(self.pending, key=lambda p: p[0]):
            for key, o, t, clicked, clicks in rows:
                out.append(("row", key, self.number, o, t, clicked, clicks))
            self.number += 1
        self.pending = []
        return out

    def push(self, events):
        """events: (key, kind, time or None); returns the call's records."""
        lates = []
        for key, kind, t in events:
            o = self.n
            self.n += 1
            if not self.times:
                t = o
            if self.wm != "inf" and (self.max_seen is None or t > self.max_seen):
                self.max_seen = t
                w = t - self.delay
                if self.wm is None or w > self.wm:
                    self.wm = w
                    self._settle()
            if self.wm == "inf" or (self.wm is not None and t < self.wm):
                self.late_count += 1
                lates.append(("late", key, t if self.times else None))
                continue
            if self.wm is not None and t <= self.wm:
                self._enter(key, t, o, kind)
            else:
                bisect.insort(self.buffers.setdefault(key, []), (t, o, kind))
        return self._emit() + lates

    def advance(self, w):
        if self.wm != "inf" and (self.wm is None or w > self.wm):
            self.wm = w
            self._settle()
        return self._emit()

    def flush(self):
        if self.wm != "inf":
            if self.max_seen is not None and (self.wm is None or self.max_seen > self.wm):
                self.wm = self.max_seen
            self._settle()
            for key in list(self.sessions):
                session = self.sessions[key]
                first = next(((t, o) for t, o, e in session if is_search(e)), None)
                if first is None:
                    del self.sessions[key]
                else:
                    self._close(key, (1, first[0], 0, first[1]))
        self.wm = "inf"
        return self._emit()
