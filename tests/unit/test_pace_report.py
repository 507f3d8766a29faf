"""A long run says early how long it will take."""
from __future__ import annotations

import pytest

from geovl.pipelines.feedback import PaceReport, QuietFeedback, format_duration


class Log(QuietFeedback):
    def __init__(self):
        self.infos, self.warnings = [], []

    def info(self, message):
        self.infos.append(message)

    def warning(self, message):
        self.warnings.append(message)


def test_the_pace_is_reported_once_after_the_first_items(monkeypatch):
    clock = iter([100.0, 130.0, 160.0])  # start, then 30 s for the first 3 tiles of 1,000
    monkeypatch.setattr("geovl.pipelines.feedback.time.monotonic", lambda: next(clock))
    log = Log()
    pace = PaceReport(log, 1000)
    pace.done(3)
    pace.done(6)
    assert log.infos == [] and log.warnings == [
        "3 of 1,000 tile(s) in 30 s: about 2.8 h left at this pace on this device."]  # 997 x 10 s


def test_a_short_run_is_announced_as_info_and_a_finished_one_not_at_all(monkeypatch):
    clock = iter([0.0, 20.0, 40.0])
    monkeypatch.setattr("geovl.pipelines.feedback.time.monotonic", lambda: next(clock))
    log = Log()
    pace = PaceReport(log, 4, unit="pair")
    pace.done(4)  # already done: nothing to announce
    pace.done(2)
    assert log.warnings == [] and log.infos == ["2 of 4 pair(s) in 40 s: about 40 s left at this pace on this device."]


@pytest.mark.parametrize("seconds, text", [(42, "42 s"), (720, "12 min"), (3.4 * 3600, "3.4 h"),
                                           (2.1 * 86400, "2.1 days")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
