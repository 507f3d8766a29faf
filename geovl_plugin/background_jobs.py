"""Runtime jobs of the interactive tools, run off the GUI thread so the window never
blocks while a tile encodes or a model answers.

Jobs run one at a time in one thread, in the order they were queued: runtime jobs, and
work of QGIS's own that would block the window (rendering a web layer). A lane holds at most one waiting job: a new click replaces the decode still
waiting, and the answer of a job that was superseded while it ran is dropped, so no
queue of stale previews builds up. Results come back as Qt signals on the GUI thread.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from qgis.core import QgsProcessingException, QgsProcessingFeedback
from qgis.PyQt.QtCore import QObject, pyqtSignal

from ..processing.runtime_link import run_job
from ..processing.settings import cache_folder


class _LaneFeedback(QgsProcessingFeedback):
    """A job's events as the owner's signals: progress of the lane, and its log lines."""

    def __init__(self, jobs: "BackgroundJobs", lane: str):
        super().__init__()
        self._jobs, self._lane = jobs, lane
        self.progressChanged.connect(lambda percent: jobs.progress.emit(lane, percent))

    def pushInfo(self, text: str) -> None:
        self._jobs.info.emit(self._lane, text)

    def pushWarning(self, text: str) -> None:
        self._jobs.info.emit(self._lane, text)


class BackgroundJobs(QObject):
    finished = pyqtSignal(str, int, object)   # lane, ticket, the job's values (what the work returned)
    failed = pyqtSignal(str, int, str)        # lane, ticket, the sentence for the user
    progress = pyqtSignal(str, float)         # lane, percent
    info = pyqtSignal(str, str)               # lane, a log line of the job

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._changed = threading.Condition()
        self._waiting: OrderedDict[str, tuple[int, Callable[[QgsProcessingFeedback], object]]] = OrderedDict()
        self._latest: dict[str, int] = {}
        self._running: tuple[str, int, QgsProcessingFeedback] | None = None
        self._tickets = 0
        self._stopping = False
        self._thread: threading.Thread | None = None

    def submit(self, lane: str, job: str, arguments: dict, activity: str) -> int:
        """Queue runtime job `job` in `lane`, replacing the lane's waiting job; returns its
        ticket. Its values come back in `finished`."""
        arguments = {**arguments, "environment": {"GEOVL_CACHE_DIR": cache_folder()}}
        return self.submit_call(lane, lambda feedback: run_job(job, arguments, feedback, activity))

    def submit_call(self, lane: str, work: Callable[[QgsProcessingFeedback], object]) -> int:
        """Queue `work(feedback)` in `lane` as `submit` does; what it returns comes back in
        `finished`, the sentence of a QgsProcessingException or ValueError in `failed`."""
        with self._changed:
            self._tickets += 1
            self._latest[lane] = self._tickets
            self._waiting.pop(lane, None)
            self._waiting[lane] = (self._tickets, work)
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._serve, daemon=True, name="geovl-interactive")
                self._thread.start()
            self._changed.notify_all()
            return self._tickets

    def is_current(self, lane: str, ticket: int) -> bool:
        with self._changed:
            return self._latest.get(lane) == ticket

    def busy(self, lane: str) -> bool:
        """Whether the lane has a job running or waiting."""
        with self._changed:
            return lane in self._waiting or (self._running is not None and self._running[0] == lane)

    def cancel(self, lane: str) -> None:
        """Drop the lane's waiting job and cancel its running one (whose answer is dropped)."""
        with self._changed:
            self._waiting.pop(lane, None)
            self._latest[lane] = -1
            if self._running is not None and self._running[0] == lane:
                self._running[2].cancel()

    def shut_down(self) -> None:
        with self._changed:
            self._stopping = True
            self._waiting.clear()
            if self._running is not None:
                self._running[2].cancel()
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(10)

    def _serve(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._waiting or self._stopping)
                if self._stopping:
                    return
                lane, (ticket, work) = self._waiting.popitem(last=False)
                feedback = _LaneFeedback(self, lane)
                self._running = (lane, ticket, feedback)
            try:
                values = work(feedback)
            except (QgsProcessingException, ValueError) as exc:
                self._deliver(lane, ticket, failure=str(exc))
            except Exception as exc:   # the job's arguments: a bug here must not end the thread
                self._deliver(lane, ticket, failure=f"{type(exc).__name__}: {exc}")
            else:
                self._deliver(lane, ticket, values=values)

    def _deliver(self, lane: str, ticket: int, values: dict | None = None, failure: str = "") -> None:
        with self._changed:
            self._running = None
            if self._stopping or self._latest.get(lane) != ticket:
                return     # superseded or cancelled while it ran
        if failure:
            self.failed.emit(lane, ticket, failure)
        else:
            self.finished.emit(lane, ticket, values)
