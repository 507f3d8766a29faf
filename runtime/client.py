"""The QGIS side of the runtime: start a worker, run jobs on it, cancel them, and say
plainly when it died. Standard library only (it runs inside QGIS's Python).

A `Runtime` holds the one warm worker of this process: started on first use, kept while
it lives (its loaded models stay loaded), replaced when it has died. Jobs from several
threads run on it at once; each waits for its own events.
"""
from __future__ import annotations

import collections
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from typing import Callable

from . import messages
from .i18n import tr

# How long a cancelled job may take to stop before its worker is killed (and replaced).
CANCEL_GRACE_S = 5.0
# How long a stopping worker may take to exit once its input is closed.
STOP_GRACE_S = 3.0
STDERR_LINES_KEPT = 20

Log = Callable[[str], None]


class WorkerStopped(Exception):
    """The worker process ended; the message is the sentence for the user."""


class JobFailed(Exception):
    """The job ended with an error event."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def package_parent() -> str:
    """The folder that holds the `geovl` package (what the worker needs on its path)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def worker_environment(base: dict | None = None) -> dict:
    """The worker's environment: this process's, without the Python settings of QGIS's own
    interpreter (its PYTHONPATH/PYTHONHOME would load QGIS's packages into the runtime)."""
    env = {k: v for k, v in (base if base is not None else os.environ).items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONEXECUTABLE", "VIRTUAL_ENV")}
    env["PYTHONPATH"] = package_parent()
    env["PYTHONNOUSERSITE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def follow_job(events: queue.Queue, on_event: Callable[[dict], None], cancelled: Callable[[], bool],
               send_cancel: Callable[[], None], gave_up: Callable[[], Exception],
               stopped: Callable[[float | None], Exception]) -> dict:
    """The values of a job whose events arrive in `events`, whatever the transport: its
    progress, info and warning events go to `on_event`; an error event raises JobFailed.
    The queue may also carry an exception (raised) or None (the transport ended: the
    exception `stopped(percent done)` is raised). `cancelled()` true sends the cancel
    once; a job still running CANCEL_GRACE_S later raises `gave_up()`."""
    percent, cancel_sent = None, None
    while True:
        if cancel_sent is None and cancelled():
            cancel_sent = time.monotonic()
            send_cancel()
        elif cancel_sent is not None and time.monotonic() - cancel_sent > CANCEL_GRACE_S:
            raise gave_up()
        try:
            event = events.get(timeout=0.1)
        except queue.Empty:
            continue
        if isinstance(event, Exception):
            raise event
        if event is None:
            raise stopped(percent)
        if event["type"] == "result":
            return event.get("values") or {}
        if event["type"] == "error":
            raise JobFailed(event.get("kind", "internal"), event.get("message", ""))
        if event["type"] == "progress":
            percent = event.get("percent")
        on_event(event)


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return tr("still running")
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = tr("signal")
        if -returncode == signal.SIGKILL:
            return tr("signal {}, {}, killed: often for lack of memory").format(-returncode, name)
        return tr("signal {}, {}").format(-returncode, name)
    return tr("exit code {}").format(returncode)


class Worker:
    """One worker process and the jobs running on it."""

    def __init__(self, python: str, log: Log):
        self._log = log
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES_KEPT)
        self._jobs: dict[str, queue.Queue] = {}
        self._jobs_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self.ready = threading.Event()
        self.ended = threading.Event()
        self.started_at = time.monotonic()
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # Windows: no console window
        self._process = subprocess.Popen(
            [python, "-m", "geovl.runtime.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=worker_environment(), creationflags=flags)
        self.pid = self._process.pid
        self._readers = [threading.Thread(target=self._read_events, daemon=True, name="geovl-worker-events"),
                         threading.Thread(target=self._read_log, daemon=True, name="geovl-worker-log")]
        for reader in self._readers:
            reader.start()

    @property
    def alive(self) -> bool:
        return not self.ended.is_set() and self._process.poll() is None

    def run(self, job: str, arguments: dict, on_event: Callable[[dict], None],
            cancelled: Callable[[], bool] = lambda: False, activity: str = "") -> dict:
        """Run `job` and return its result's values. `on_event` gets its progress, info and
        warning events (in this thread). Raises JobFailed, or WorkerStopped when the worker
        dies under it; `activity` names the job in that sentence ("segmenting")."""
        job_id = uuid.uuid4().hex
        events: queue.Queue = queue.Queue()
        with self._jobs_lock:
            self._jobs[job_id] = events
        if self.ended.is_set():  # died before this job was listed, so its reader will not tell it
            events.put(None)
        try:
            self._send(messages.run(job_id, job, arguments))
            return follow_job(events, on_event, cancelled, lambda: self._send(messages.cancel(job_id)),
                              self._gave_up, lambda percent: WorkerStopped(self._stopped_sentence(activity, percent)))
        finally:
            with self._jobs_lock:
                self._jobs.pop(job_id, None)

    def _gave_up(self) -> JobFailed:
        self.kill()
        return JobFailed("cancelled", tr("The run was cancelled; the GeoVL runtime did not stop in time and was "
                                         "restarted. No output was written."))

    def stop(self) -> None:
        """End the worker: its input closes (it cancels its jobs and exits), then a kill.
        What it says while stopping goes to stderr, not to `log`: at exit the log (QGIS's
        message log) may already be gone, and writing to it then crashes the process."""
        self._log = _print_to_stderr
        try:
            self._process.stdin.close()
        except OSError:
            pass
        try:
            self._process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.kill()
        for reader in self._readers:
            reader.join(STOP_GRACE_S)
        for pipe in (self._process.stdout, self._process.stderr):
            pipe.close()

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()

    def _send(self, message: dict) -> None:
        try:
            with self._send_lock:
                self._process.stdin.write(messages.encode(message))
                self._process.stdin.flush()
        except (OSError, ValueError):  # the pipe is closed: the reader thread reports the exit
            pass

    def _read_events(self) -> None:
        for line in self._process.stdout:
            try:
                message = messages.decode(line)
            except ValueError:
                self._log(tr("GeoVL runtime: a line that is not a message: {!r}").format(line[:200]))
                continue
            if message["type"] == "ready":
                self.ready.set()
                continue
            with self._jobs_lock:
                events = self._jobs.get(message.get("id"))
            if events is not None:
                events.put(message)
        self._process.wait()
        self.ended.set()
        with self._jobs_lock:
            for events in self._jobs.values():
                events.put(None)

    def _read_log(self) -> None:
        for raw in self._process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._stderr_tail.append(line)
                self._log(line)

    def _stopped_sentence(self, activity: str, percent: float | None) -> str:
        self._process.wait()
        how = describe_exit(self._process.returncode)
        if not self.ready.is_set():
            last = self._stderr_tail[-1] if self._stderr_tail else tr("no message")
            return tr("GeoVL's runtime could not start ({}): {}. Open Plugins › GeoVL › Runtime… to see what is "
                      "wrong and press Repair.").format(how, last)
        state = tr("{:.0f} % done; {}").format(percent, how) if percent is not None else how
        return tr("The GeoVL runtime stopped while {} ({}). Nothing was written. Run the algorithm again: a new "
                  "runtime starts.").format(activity or tr("running the job"), state)


def _print_to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


class Runtime:
    """The warm worker of this process, made from `python` (the runtime's interpreter)."""

    def __init__(self, python: str, log: Log = _print_to_stderr):
        self.python, self._log = python, log
        self._worker: Worker | None = None
        self._lock = threading.Lock()

    def worker(self) -> Worker:
        with self._lock:
            if self._worker is None or not self._worker.alive:
                self._worker = Worker(self.python, self._log)
            return self._worker

    def run(self, job: str, arguments: dict, on_event: Callable[[dict], None],
            cancelled: Callable[[], bool] = lambda: False, activity: str = "") -> dict:
        return self.worker().run(job, arguments, on_event, cancelled, activity)

    def stop(self) -> None:
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
