"""How a pipeline reports progress and learns it was cancelled (processing/ adapts
QgsProcessingFeedback to this; scripts can pass None)."""
from __future__ import annotations

import time
from typing import Protocol

from ..errors import Cancelled


class Feedback(Protocol):
    def progress(self, percent: float) -> None: ...
    def info(self, message: str) -> None: ...
    def warning(self, message: str) -> None: ...
    def cancelled(self) -> bool: ...


class QuietFeedback:
    """Feedback for scripts: no output, never cancelled."""

    def progress(self, percent: float) -> None:
        pass

    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        pass

    def cancelled(self) -> bool:
        return False


def check_cancelled(feedback: Feedback) -> None:
    if feedback.cancelled():
        raise Cancelled("The run was cancelled; no output was written.")


class ProgressRange:
    """Feedback for one stage of a run: its 0-100 % reported as `start`-`end` % of the
    whole (a retrieval index build inside an ask run, say); the rest passes through."""

    def __init__(self, feedback: Feedback, start: float, end: float):
        self._feedback, self._start, self._end = feedback, start, end

    def progress(self, percent: float) -> None:
        self._feedback.progress(self._start + (self._end - self._start) * percent / 100.0)

    def info(self, message: str) -> None:
        self._feedback.info(message)

    def warning(self, message: str) -> None:
        self._feedback.warning(message)

    def cancelled(self) -> bool:
        return self._feedback.cancelled()


LONG_RUN_SECONDS = 3600.0   # a run expected to take longer is announced as a warning


class PaceReport:
    """Once the first items of a long run are done (after `after_s` seconds), says how
    long the whole run will take at that pace: a run of hours is announced early, not
    discovered."""

    def __init__(self, feedback: Feedback, total: int, unit: str = "tile", after_s: float = 10.0):
        self._feedback, self._total, self._unit, self._after_s = feedback, total, unit, after_s
        self._start = time.monotonic()
        self._said = False

    def done(self, count: int) -> None:
        elapsed = time.monotonic() - self._start
        if self._said or count <= 0 or count >= self._total or elapsed < self._after_s:
            return
        self._said = True
        left = elapsed / count * (self._total - count)
        message = (f"{count:,} of {self._total:,} {self._unit}(s) in {format_duration(elapsed)}: about "
                   f"{format_duration(left)} left at this pace on this device.")
        (self._feedback.warning if left > LONG_RUN_SECONDS else self._feedback.info)(message)


def format_duration(seconds: float) -> str:
    """A rough duration, as a person plans with: seconds under two minutes, minutes under
    two hours, hours under two days, then days."""
    if seconds < 120:
        return f"{max(1, round(seconds))} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    if seconds < 172800:
        return f"{seconds / 3600:,.1f} h"
    return f"{seconds / 86400:,.1f} days"
