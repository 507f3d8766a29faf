"""`python -m geovl.runtime.worker`: runs GeoVL jobs for one QGIS process.

Reads messages (runtime/messages.py) from stdin and writes them to stdout, one JSON
object a line. Each job runs in a thread of its own, so jobs from two Processing threads
are served at the same time and `cancel` is read while a job runs; loaded models are
shared through the resolver's cache. Whatever the libraries print goes to stderr (which
QGIS shows in its GeoVL log tab), never into the message stream. The worker ends when its
input closes: when QGIS quits or dies, so does its worker.
"""
from __future__ import annotations

import importlib
import os
import sys
import threading
import traceback
from typing import BinaryIO

from . import messages

# A job that is still running when the input closes gets this long to stop at its next
# batch before the process exits under it.
STOP_GRACE_S = 5.0
# Progress is sent when it moved by this many percent (tiles can be milliseconds apart).
PROGRESS_STEP = 0.5


class Channel:
    """The outgoing half of the transport: whole lines, one writer at a time."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: dict) -> None:
        line = messages.encode(message)
        with self._lock:
            self._stream.write(line)
            self._stream.flush()


class JobFeedback:
    """pipelines.feedback.Feedback of one job: events out, cancel in."""

    def __init__(self, channel: Channel, job_id: str, cancel: threading.Event):
        self._channel, self._id, self._cancel = channel, job_id, cancel
        self._sent = -PROGRESS_STEP

    def progress(self, percent: float) -> None:
        if abs(percent - self._sent) >= PROGRESS_STEP or (percent >= 100 and self._sent < 100):
            self._sent = percent
            self._channel.send(messages.progress(self._id, percent))

    def info(self, message: str) -> None:
        self._channel.send(messages.info(self._id, message))

    def warning(self, message: str) -> None:
        self._channel.send(messages.warning(self._id, message))

    def cancelled(self) -> bool:
        return self._cancel.is_set()


def run_one(channel: Channel, message: dict, cancel: threading.Event) -> None:
    """Run the job of a `run` message and send its result or error."""
    from ..errors import Cancelled, GeoVLError, InputError, ModelError
    from .jobs import run_job

    job_id = message.get("id", "")
    try:
        values = run_job(message.get("job", ""), message.get("arguments") or {}, JobFeedback(channel, job_id, cancel))
        reply = messages.result(job_id, values)
    except Cancelled as exc:
        reply = messages.error(job_id, "cancelled", str(exc))
    except ModelError as exc:
        reply = messages.error(job_id, "model", str(exc))
    except (InputError, GeoVLError) as exc:
        reply = messages.error(job_id, "input", str(exc))
    except MemoryError:
        reply = messages.error(job_id, "internal", "The GeoVL runtime ran out of memory. Use a smaller tile size or "
                                                   "model, or close other programs, and run again.")
    except Exception as exc:  # a bug: the user gets a sentence, the log the traceback
        traceback.print_exc(file=sys.stderr)
        reply = messages.error(job_id, "internal", f"GeoVL failed: {type(exc).__name__}: {exc}. The details are in "
                                                   "the GeoVL log (View › Log Messages).")
    channel.send(reply)


def serve(incoming: BinaryIO, channel: Channel) -> None:
    """Read messages until the input closes; each `run` starts a job thread."""
    running: dict[str, tuple[threading.Thread, threading.Event]] = {}
    channel.send(messages.ready(os.getpid()))
    for line in incoming:
        try:
            message = messages.decode(line)
        except ValueError as exc:
            print(f"GeoVL worker: ignored a line that is not a message ({exc})", file=sys.stderr, flush=True)
            continue
        if message["type"] == "run":
            running = {key: job for key, job in running.items() if job[0].is_alive()}
            cancel = threading.Event()
            thread = threading.Thread(target=run_one, args=(channel, message, cancel), daemon=True,
                                      name=f"geovl-job-{message.get('job')}")
            running[message.get("id", "")] = (thread, cancel)
            thread.start()
        elif message["type"] == "cancel" and message.get("id") in running:
            running[message["id"]][1].set()
    for _, cancel in running.values():
        cancel.set()
    for thread, _ in running.values():
        thread.join(STOP_GRACE_S)


def main() -> None:
    # The message stream is a private copy of stdout; fd 1 then points at stderr, so a
    # library that prints cannot break a message.
    channel = Channel(os.fdopen(os.dup(sys.stdout.fileno()), "wb"))
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    importlib.import_module(".jobs", __package__)  # the engine's imports, before `ready`: a broken runtime fails here

    serve(sys.stdin.buffer, channel)


if __name__ == "__main__":
    main()
