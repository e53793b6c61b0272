"""Reading ahead and writing behind: blocks are read in order on the caller's thread and
parsed and converted on worker threads (Arrow's parsers and kernels
release the GIL), while the caller sessionizes and writes the block before
them.  A few blocks ahead at most: memory holds those, not the file.
The sessions a block closes are made rows and written on a thread of their
own (Behind), in order, one batch behind the pushes at most."""

from __future__ import annotations

import queue
import threading
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


class Behind:
    """Tasks run in order on one thread of their own, at most `depth` not
    yet finished: submit() waits for the oldest beyond that and raises its
    exception, if any.  finish() waits for all (raising the first error);
    stop(), after an error of the caller's, cancels what has not started,
    waits for what has, and returns the first exception of a task (None
    when none failed), so the caller can say the error that came first."""

    def __init__(self, depth: int = 1):
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sessionize-write")
        self._pending: deque = deque()
        self._depth = depth

    def submit(self, fn: Callable, *args) -> None:
        self._pending.append(self._pool.submit(fn, *args))
        while len(self._pending) > self._depth:
            self._pending.popleft().result()

    def finish(self) -> None:
        while self._pending:
            self._pending.popleft().result()
        self._pool.shutdown()

    def stop(self) -> BaseException | None:
        first = None
        for f in self._pending:
            f.cancel()
        self._pool.shutdown(wait=True)
        for f in self._pending:
            if first is None and not f.cancelled() and f.exception() is not None:
                first = f.exception()
        self._pending.clear()
        return first


_DONE = object()


def threaded(items: Iterator, depth: int = 2) -> Iterator:
    """The items of `items`, produced on a thread of its own (reading the
    input: its system calls, the text cut into blocks, Parquet's pages
    decoded), at most `depth` ahead of the caller.  An exception of the
    producer is raised in the caller where its item would have been; when
    the caller stops early, the producer stops at its next item."""
    q: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def produce():
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            end = (_DONE, None)
        except BaseException as e:  # said in the caller, at its place
            end = (None, e)
        while not stop.is_set():
            try:
                q.put(end, timeout=0.1)
                return
            except queue.Full:
                continue

    t = threading.Thread(target=produce, name="sessionize-input", daemon=True)
    t.start()
    try:
        while True:
            item, error = q.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        # the producer ends after the item it is reading; standard input
        # that never ends is not waited for (the thread is a daemon)
        t.join(timeout=5)
