"""The runtime's messages: one JSON object a line, each shape as DESIGN.md names it."""
from __future__ import annotations

import math

import pytest

from geovl.runtime import messages


def test_every_message_survives_a_line():
    sent = [messages.run("1", "segment", {"prompts": [{"coords": [[0.5, 1.5]]}], "text": "ü\nline"}),
            messages.cancel("1"), messages.ready(42), messages.progress("1", 12.3456),
            messages.info("1", "loading…"), messages.warning("1", "careful"),
            messages.result("1", {"features": "/tmp/x.gpkg", "count": 3}),
            messages.error("1", "model", "The model cannot be found.")]
    for message in sent:
        line = messages.encode(message)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert messages.decode(line) == message
    assert messages.decode(messages.encode(messages.progress("1", 12.3456)))["percent"] == 12.35


def test_an_unknown_error_kind_is_internal():
    assert messages.error("1", "weird", "x")["kind"] == "internal"
    assert {messages.error("1", kind, "x")["kind"] for kind in messages.ERROR_KINDS} == set(messages.ERROR_KINDS)


@pytest.mark.parametrize("line", [b"not json\n", b"[1, 2]\n", b'{"id": "1"}\n', b'{"type": 3}\n'])
def test_a_line_that_is_not_a_message_is_refused(line):
    with pytest.raises(ValueError):
        messages.decode(line)


def test_nan_never_goes_on_the_wire():
    """NaN is not JSON: a value like that is a bug to see, not a line other readers choke on."""
    with pytest.raises(ValueError):
        messages.encode(messages.result("1", {"score": math.nan}))
