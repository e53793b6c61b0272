# pyright: strict
"""Misuses of the public API that type checkers must catch: every line
marked ``# error: <mypy code>`` is an error for mypy --strict (with that
code) and for pyright, and no other line is (tests/test_typing.py, .ci/run).

Never run: some of these calls would raise.
"""

from __future__ import annotations

import numpy as np

import sessionize

users = np.array(["ann", "bob", "ann"])
times = np.array([0, 5, 100])

sessionize.assign(users, times, gap=30, max_duration=60, max_duration_mode="fixd")  # error: arg-type
sessionize.sessions(users, times, gap=30, max_duration=60, max_duration_mode="fixd")  # error: call-overload
sessionize.sessions(users, times, gap=30, agg={"n": (times, "median")})  # error: dict-item
sessionize.assign(users, times)  # error: call-arg
sessionize.assign(users, times, gap=30, on_bad_gap="skip")  # error: arg-type
sessionize.Sessionizer(30, on_late="ignore")  # error: call-overload
sessionize.Sessionizer(30, emit="all")  # error: call-overload
sessionize.SearchSessionizer(on_late="skip")  # error: call-overload
sessionize.assign(users, times, gap="30min", time_unit="min")  # error: arg-type
sessionize.sessions(users, times, gap=30).plot.durations(unit="minutes")  # error: arg-type

# results are what they are, not Any
ids: list[int] = sessionize.assign(users, times, gap=30)  # error: assignment
t = sessionize.sessions(users, times, gap=30)
t.revenue  # error: attr-defined
sessionize.Sessionizer(30, columnar=True).push(1, 2)[0]  # error: index
sessionize.Sessionizer(30).flush().sessions  # error: attr-defined
