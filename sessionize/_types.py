"""The names of the public API's types: the modes as ``Literal`` types, so a
type checker catches ``max_duration_mode="fixd"`` before a run does, and
what a duration or an event column may be.

The useful ones are exported by ``sessionize`` (``sessionize.MaxDurationMode``,
...) for annotating code that passes them on.
"""

from __future__ import annotations

import datetime
from typing import Literal, Mapping, TypeAlias, Union

import numpy as np

# max_duration_mode: what a max_duration cap does to a long session
MaxDurationMode: TypeAlias = Literal["restart", "fixed"]
# on_late: what a stream does with an event too late to join a session
OnLate: TypeAlias = Literal["return", "drop", "raise"]
# emit: a Sessionizer gives each session once, or again at every change
Emit: TypeAlias = Literal["final", "update"]
# the aggregates of sessions(..., agg={"out": (values, how)})
AggHow: TypeAlias = Literal["count", "sum", "min", "max", "mean", "first", "last",
                            "n_unique", "list"]
# time_unit=: the unit of integer epoch times
TimeUnit: TypeAlias = Literal["s", "ms", "us", "ns"]
#: what to do with a missing, zero or negative per-event gap
OnBadGap: TypeAlias = Literal["raise", "drop"]
# the units of t.plot.durations(unit=...)
PlotUnit: TypeAlias = Literal["s", "min", "h", "d"]

# gap, max_duration, delay, allowed_lateness: an int in the times' unit,
# float seconds, or a duration with its unit ("30min", timedelta,
# numpy.timedelta64); which of these the times take is checked at run time.
Duration: TypeAlias = Union[int, float, str, datetime.timedelta, np.timedelta64]

# keys, times and values: numpy arrays, lists and tuples, pandas and polars
# series, Arrow arrays (anything with __arrow_c_array__).  Their contents
# and lengths are checked at run time, and Arrow's and polars' columns have
# no static type here, so any object is accepted.
Column: TypeAlias = object

# agg=: {"out": (values, how)}, values a column or the name of one in values=
AggSpec: TypeAlias = Mapping[str, tuple[Column, AggHow]]
