"""Helpers for tests/test_engine_boundaries.py: running Apache Beam, Bytewax and
Spark themselves on boundary-heavy data and comparing their sessions with
sessionize's.  Each engine module imports its engine only inside its functions,
so importing this package needs none of them."""
