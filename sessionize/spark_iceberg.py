"""The streaming job's sink: sessions into an Apache Iceberg table, exactly once.

    from sessionize.spark_iceberg import IcebergSink

    sink = IcebergSink("/data/warehouse")          # SQLite catalog in that folder
    (sz.stream_sessions(events, key="user", time="ts", gap="30 minutes",
                        max_duration="2 hours")
       .writeStream.outputMode("append")
       .option("checkpointLocation", "/data/checkpoint")
       .foreachBatch(sink).start())

Each micro-batch of :func:`sessionize.spark.stream_sessions` goes, from
``foreachBatch`` on the driver, through pyiceberg: the sessions to ``table``
(``<key>, start, end, count, index, window_end``), the late and bad rows to
``rejects`` (``<key>, time, kind``).  No server: the catalog is pyiceberg's
SQL catalog on a SQLite file in the warehouse folder (``catalog=`` takes any
other pyiceberg catalog instead), the data Parquet files under it.

Exactly once across restarts: Spark replays a micro-batch whose commit it
had not recorded when the query stopped (same batch id, same rows: the
function and its state are deterministic).  Each append to a table is one
Iceberg snapshot, atomic, whose summary records ``sessionize.job`` and
``sessionize.batch-id``; before appending, the sink looks for the largest
batch id recorded for its job in that table and skips a batch at or below
it.  A crash before the snapshot's commit leaves at most unreferenced data
files (not in the table); after it, the replay is skipped.  The two tables
are checked each on its own, so a crash between them is replayed for the
second only.  ``job`` names one query's checkpoint: a new checkpoint (whose
batch ids start at 0 again) needs a new ``job``.
"""

from __future__ import annotations

import os
from typing import Any

try:
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover - the extra is missing
    raise ImportError("sessionize.spark_iceberg needs pyarrow and pyiceberg: "
                      "pip install 'sessionize[spark,iceberg]'") from None

from ._core import SessionizeError

__all__ = ["IcebergSink"]

JOB_PROPERTY = "sessionize.job"
BATCH_PROPERTY = "sessionize.batch-id"


class IcebergSink:
    """A ``foreachBatch`` function writing stream_sessions' output to Iceberg
    tables, each batch once (module docstring)."""

    def __init__(self, warehouse: str | os.PathLike[str] | None = None, *,
                 table: str = "sessionize.sessions", rejects: str = "sessionize.rejects",
                 job: str = "sessionize", catalog: Any = None) -> None:
        if catalog is None and warehouse is None:
            raise TypeError("warehouse: a folder for the SQLite catalog and the data, "
                            "or pass catalog= (a pyiceberg Catalog)")
        for name, value in (("table", table), ("rejects", rejects), ("job", job)):
            if not isinstance(value, str) or not value:
                raise TypeError(f"{name}: expected a non-empty str, got {value!r}")
        if "." not in table or "." not in rejects:
            raise SessionizeError("table and rejects: names as 'namespace.table'")
        self.warehouse = None if warehouse is None else os.path.abspath(os.fspath(warehouse))
        self.table, self.rejects, self.job = table, rejects, job
        self._catalog = catalog

    @property
    def catalog(self):
        if self._catalog is None:
            try:
                from pyiceberg.catalog.sql import SqlCatalog
            except ImportError as e:
                raise ImportError(f"IcebergSink needs pyiceberg with its SQLite catalog ({e}): "
                                  "pip install 'sessionize[iceberg]'") from None

            os.makedirs(self.warehouse, exist_ok=True)
            self._catalog = SqlCatalog(
                "sessionize", uri=f"sqlite:///{os.path.join(self.warehouse, 'catalog.db')}",
                warehouse=f"file://{self.warehouse}")
        return self._catalog

    def __call__(self, batch_df: Any, batch_id: int) -> None:
        """foreachBatch's function: the batch's sessions and rejects, each
        table once per batch id."""
        sessions, rejects = self.split(batch_df)
        self.append("sessions", sessions, batch_id)
        self.append("rejects", rejects, batch_id)

    def split(self, batch_df):
        """A micro-batch of stream_sessions' output as two Arrow tables: the
        sessions, and the late and bad rows (``<key>, time, kind``)."""
        data = batch_df.toArrow()
        if "kind" not in data.column_names:
            raise SessionizeError("batch_df: no 'kind' column; pass the output of "
                                  "sessionize.spark.stream_sessions")
        key = data.column_names[0]
        is_session = pc.equal(data.column("kind"), "session")
        sessions = _utc(data.filter(is_session).drop_columns(["kind"]))
        other = data.filter(pc.invert(is_session))
        rejects = _utc(pa.table({key: other.column(key), "time": other.column("start"),
                                 "kind": other.column("kind")}))
        return sessions, rejects

    def append(self, which: str, data, batch_id: int) -> None:
        """Appends `data` to the "sessions" or "rejects" table as one Iceberg
        snapshot recording `batch_id`, unless this job recorded that batch
        (or a later one) there already.  The table is created from the
        first batch's schema."""
        name = self._name(which)
        catalog = self.catalog
        catalog.create_namespace_if_not_exists(name.rsplit(".", 1)[0])
        table = catalog.create_table_if_not_exists(name, schema=data.schema)
        if len(data) == 0 or self.last_batch(table) >= batch_id:
            return  # nothing to write, or written before a restart
        table.append(data, snapshot_properties={JOB_PROPERTY: self.job,
                                                BATCH_PROPERTY: str(batch_id)})

    def _name(self, which: str) -> str:
        name = {"sessions": self.table, "rejects": self.rejects}.get(which)
        if name is None:
            raise SessionizeError(f"which: 'sessions' or 'rejects', got {which!r}")
        return name

    def last_batch(self, table) -> int:
        """The largest batch id this job wrote to `table` (-1 for none)."""
        last = -1
        for snap in table.snapshots():
            summary = snap.summary
            if summary is not None and summary.get(JOB_PROPERTY) == self.job:
                last = max(last, int(summary.get(BATCH_PROPERTY)))
        return last

    def read(self, which: str = "sessions"):
        """The whole table as Arrow: "sessions" or "rejects" (empty before
        anything was written)."""
        name = self._name(which)
        if not self.catalog.table_exists(name):
            return None
        return self.catalog.load_table(name).scan().to_arrow()

    def counts(self) -> dict:
        """Rows written: {"session": n, "late": n, "bad": n}."""
        out = {"session": 0, "late": 0, "bad": 0}
        sessions, rejects = self.read("sessions"), self.read("rejects")
        if sessions is not None:
            out["session"] = len(sessions)
        if rejects is not None:
            for kind, n in zip(*_value_counts(rejects.column("kind"))):
                out[kind] = n
        return out


def _value_counts(col):
    vc = pc.value_counts(col)
    return vc.field("values").to_pylist(), vc.field("counts").to_pylist()


def _utc(table):
    """Zoned timestamps as UTC (the same instants): Iceberg's timestamptz."""
    fields = []
    for f in table.schema:
        if pa.types.is_timestamp(f.type) and f.type.tz is not None:
            f = f.with_type(pa.timestamp("us", tz="UTC"))
        fields.append(f)
    return table.cast(pa.schema(fields))
