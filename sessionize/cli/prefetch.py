"""Reading ahead: blocks are read in order on the caller's thread and
parsed and converted on worker threads (Arrow's parsers and kernels
release the GIL), while the caller sessionizes and writes the block before
them.  A few blocks ahead at most: memory holds those, not the file."""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

WORKERS = 2  # one block parsed per core of the small machines the CLI is measured on


def ahead(items: Iterator, convert: Callable, workers: int = WORKERS) -> Iterator[tuple]:
    """(item, convert(item)) for each item of `items`, in order; up to
    `workers` conversions run on worker threads while the caller handles
    the item before them.  A worker's exception is raised in the caller at
    its item; when the caller stops early (an error, Ctrl-C), conversions
    not started are cancelled and running ones finish (a block each)."""
    pending: deque = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="sessionize-read") as pool:
        try:
            for item in items:
                pending.append((item, pool.submit(convert, item)))
                if len(pending) > workers:
                    item, done = pending.popleft()
                    yield item, done.result()
            while pending:
                item, done = pending.popleft()
                yield item, done.result()
        finally:
            for _, f in pending:
                f.cancel()
