"""The benchmarks' clickstreams: the generator lives in the package
(sessionize/synthetic.py) so that `python -m sessionize generate` writes
the same data the benchmarks measure."""

from sessionize.synthetic import ORDERS, START_MS, clickstream

__all__ = ["ORDERS", "START_MS", "clickstream"]
