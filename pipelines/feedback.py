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
