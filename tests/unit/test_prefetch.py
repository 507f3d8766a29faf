"""The reader thread: order kept, producer errors raised in the consumer, early stop."""
import threading

import pytest

from geovl.pipelines.prefetch import prefetch


def test_items_arrive_in_order():
    """Everything produced is yielded once, in order."""
    assert list(prefetch(iter(range(50)), depth=2)) == list(range(50))


def test_producer_error_is_raised_in_the_consumer():
    """An exception in the producer thread surfaces at the consumer, after the items before it."""
    def produce():
        yield 1
        raise ValueError("bad tile")

    seen = []
    with pytest.raises(ValueError, match="bad tile"):
        for item in prefetch(produce()):
            seen.append(item)
    assert seen == [1]


def test_closing_early_stops_the_producer():
    """Leaving the loop early stops the producer thread before prefetch returns."""
    produced = []

    def produce():
        for i in range(10_000):
            produced.append(i)
            yield i

    items = prefetch(produce(), depth=2)
    assert next(items) == 0
    items.close()
    assert not any(t.name == "geovl-prefetch" for t in threading.enumerate())
    assert len(produced) <= 5


@pytest.mark.parametrize("stop_early", [False, True])
def test_a_generator_is_cleaned_up_in_the_thread_that_ran_it(stop_early):
    """What a producer opens (a raster, with its GDAL environment) is closed in the thread
    that opened it, whether the consumer reads everything or stops early."""
    threads = {}

    def produce():
        threads["opened"] = threading.current_thread()
        try:
            yield from range(100)
        finally:
            threads["closed"] = threading.current_thread()

    items = prefetch(produce(), depth=2)
    if stop_early:
        next(items)
        items.close()
    else:
        assert list(items) == list(range(100))
    assert threads["closed"] is threads["opened"] and threads["opened"] is not threading.current_thread()
