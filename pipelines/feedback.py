"""How a pipeline reports progress and learns it was cancelled (processing/ adapts
QgsProcessingFeedback to this; scripts can pass None)."""
from __future__ import annotations

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
