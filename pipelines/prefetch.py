"""Run a producer (tile reading and preprocessing) in a thread, a few items ahead of the
consumer (the model), so I/O overlaps inference."""
from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
_END = object()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield `items`, produced in a background thread at most `depth` ahead.

    Exceptions in the producer are raised in the consumer; closing the generator early
    (cancel, error) stops the producer before returning.
    """
    ready: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                pass
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # re-raised in the consumer
            put(_Failure(exc))
        finally:  # a generator's clean-up (closing what it opened) runs in the thread that opened it
            close = getattr(iterator, "close", None)
            if close:
                close()

    worker = threading.Thread(target=produce, name="geovl-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        worker.join()
