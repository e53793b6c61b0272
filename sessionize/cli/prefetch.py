"""Reading ahead: the next block is read, parsed (Arrow releases the GIL)
and converted on a second thread while the main thread sessionizes and
writes the current one, so the two halves of the work overlap.  One block
ahead at most: memory holds two blocks, not the file."""

from __future__ import annotations

import queue
import threading
from typing import Callable, Iterator

_DONE = object()


def ahead(items: Iterator, convert: Callable) -> Iterator[tuple]:
    """(item, convert(item)) for each item of `items`, the next one made on
    a worker thread while the caller handles this one.  An exception in
    the worker is raised in the caller, at the item it stopped at; when
    the caller stops early (an error, Ctrl-C), the worker stops at its
    next item."""
    q: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def work():
        try:
            for item in items:
                out = (item, convert(item))
                while not stop.is_set():
                    try:
                        q.put(out, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as e:  # handed to the caller, raised there
            q.put(e)

    t = threading.Thread(target=work, name="sessionize-read-ahead", daemon=True)
    t.start()
    try:
        while True:
            got = q.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stop.set()
        try:  # let a worker blocked on a full queue see the stop
            q.get_nowait()
        except queue.Empty:
            pass
        t.join(timeout=5)
