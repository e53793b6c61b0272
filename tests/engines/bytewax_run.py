"""Bytewax >= 0.20: collect_window with SessionWindower and an EventClock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The EventClock's "system now", frozen: the watermark is then the largest
# event time seen (wait_for_system_duration=0) and never drifts with the wall
# clock between batches, so an event 1 us after the previous one is never
# judged late because the dataflow took longer than 1 us to reach it.
FROZEN_NOW = datetime(2000, 1, 1, tzinfo=timezone.utc)


def micros_of(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(microseconds=1)


def aware_of_micros(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def bytewax_sessions(events, gap: timedelta):
    """Run Bytewax on (key, id, aware UTC datetime) events, fed in the given order.

    Returns (rows, late): rows sorted (key, open_us, close_us, ids) joining each
    closed window's `.down` items with its `.meta` WindowMetadata; late is the
    `.late` stream's items.
    """
    import bytewax.operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.operators.windowing import EventClock, SessionWindower, collect_window
    from bytewax.testing import TestingSink, TestingSource, run_main

    down, meta, late = [], [], []
    flow = Dataflow("sessionize_boundaries")
    inp = op.input("inp", flow, TestingSource(list(events)))
    keyed = op.key_on("key", inp, lambda e: e[0])
    clock = EventClock(
        lambda e: e[2],
        wait_for_system_duration=timedelta(0),
        now_getter=lambda: FROZEN_NOW,
    )
    wo = collect_window("sessions", keyed, clock, SessionWindower(gap=gap))
    op.output("down", wo.down, TestingSink(down))
    op.output("meta", wo.meta, TestingSink(meta))
    op.output("late", wo.late, TestingSink(late))
    run_main(flow)

    values = {(k, wid): [e[1] for e in vals] for k, (wid, vals) in down}
    metas = {(k, wid): m for k, (wid, m) in meta}
    assert len(values) == len(down) and len(metas) == len(meta), "window ids repeat"
    assert values.keys() == metas.keys(), (sorted(values), sorted(metas))
    rows = sorted(
        (k, micros_of(metas[k, wid].open_time), micros_of(metas[k, wid].close_time),
         tuple(sorted(ids)))
        for (k, wid), ids in values.items()
    )
    return rows, late
