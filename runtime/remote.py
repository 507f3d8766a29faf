"""The QGIS side of a GeoVL server (runtime/serve.py): the same `run` as the local
runtime's, over HTTP. Standard library only (it runs inside QGIS's Python).

Before a job, each input file the server cannot see in place is sent in chunks (read a
window at a time, never whole), once: the server keeps it by its SHA-256. Outputs are
written in the job's folder on the server and fetched back to the paths the job named,
under a temp name, then renamed. Events stream back as they do from the local worker.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import queue
import re
import ssl
import threading
import urllib.parse
import uuid
from typing import Callable

from . import job_files, messages
from .client import JobFailed, WorkerStopped, follow_job
from .i18n import tr

CHUNK_BYTES = 8 << 20
CONNECT_TIMEOUT_S = 10.0
# Files GDAL reads beside a raster (statistics and nodata, overviews, masks, world files).
SIDECAR_SUFFIXES = (".aux.xml", ".ovr", ".msk")
WORLD_FILES = (".tfw", ".tifw", ".wld", ".jgw", ".pgw")


class RemoteRuntime:
    """Jobs on the GeoVL server at `url`, authorised by `token`; `ca_file` trusts a
    server certificate of its own (self-signed)."""

    def __init__(self, url: str, token: str, ca_file: str | None = None):
        parts = urllib.parse.urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise JobFailed("input", tr("'{}' is not a GeoVL server address: give it as http://host:port or "
                                        "https://host:port.").format(url))
        self.url, self.token, self.ca_file = url.strip().rstrip("/"), token.strip(), ca_file or None
        self._parts = parts
        self._sent: dict[tuple, str] = {}      # (path, size, mtime) -> the reference the server knows it by
        self._lock = threading.Lock()

    def status(self) -> dict:
        """The server's status (protocol, jobs running); JobFailed with a sentence when it
        cannot be reached or refuses the token."""
        return self._call("GET", "status")

    def run(self, job: str, arguments: dict, on_event: Callable[[dict], None],
            cancelled: Callable[[], bool] = lambda: False, activity: str = "") -> dict:
        try:
            return self._run(job, arguments, on_event, cancelled, activity)
        except JobFailed as exc:
            if exc.kind != "gone":
                raise
            with self._lock:   # the server dropped what it had been sent: send it again
                self._sent.clear()
            return self._run(job, arguments, on_event, cancelled, activity)

    def stop(self) -> None:
        """Nothing runs here: a job running on the server stops when its stream closes."""

    def _run(self, job: str, arguments: dict, on_event, cancelled, activity: str) -> dict:
        remote, outputs = self._remote_arguments(job, arguments, on_event, cancelled)
        job_id = uuid.uuid4().hex
        events: queue.Queue = queue.Queue()
        threading.Thread(target=self._stream, args=(messages.run(job_id, job, remote), events), daemon=True,
                         name="geovl-remote-events").start()
        try:
            def stopped(percent: float | None) -> WorkerStopped:
                state = tr(" ({:.0f} % done)").format(percent) if percent is not None else ""
                return WorkerStopped(tr("The GeoVL server at {} stopped answering while {}{}. Nothing was written. "
                                        "Check that it still runs, then run the algorithm again.").format(
                                            self.url, activity or tr("running the job"), state))

            values = follow_job(events, on_event, cancelled, lambda: self._call("POST", f"jobs/{job_id}/cancel", {}),
                                lambda: JobFailed("cancelled", tr("The run was cancelled; the GeoVL server did not "
                                                                  "stop it in time. No output was written here.")),
                                stopped)
            return self._fetch_outputs(job_id, values, outputs)
        finally:
            try:
                self._call("DELETE", f"jobs/{job_id}")
            except JobFailed:
                pass   # the server is gone; it cleans old job folders when it starts

    def _remote_arguments(self, job: str, arguments: dict, on_event, cancelled) -> tuple[dict, dict[str, str]]:
        """The job's arguments with its files as references, and its outputs (reference ->
        local path)."""
        if job not in job_files.INPUTS:
            return arguments, {}
        remote = {key: value for key, value in arguments.items() if key != "environment"}
        for key in job_files.INPUTS[job]:
            if arguments.get(key):
                remote[key] = self._input(arguments[key], on_event, cancelled)
        outputs: dict[str, str] = {}
        for key in job_files.OUTPUTS[job]:
            local = arguments.get(key)
            if not local:
                continue
            reference = f"{job_files.OUTPUT}{key}{_suffix(local)}"
            remote[key], outputs[reference] = reference, local
            if key in job_files.REUSED_OUTPUTS and os.path.isfile(local):
                remote.setdefault("start_from", {})[key] = self._upload(local, on_event, cancelled)
        return remote, outputs

    def _input(self, path: str, on_event, cancelled) -> str:
        """The name the server reads `path` by: the path itself where it sees the same
        file, else the reference of the copy sent to it."""
        try:
            return self._visible_or_sent(path, on_event, cancelled)
        except OSError as exc:
            raise JobFailed("input", tr("Cannot read {} to send it to the GeoVL server ({}): check that the file "
                                        "exists and can be read.").format(path, exc.strerror or exc)) from exc

    def _visible_or_sent(self, path: str, on_event, cancelled) -> str:
        stat = os.stat(path)
        key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            known = self._sent.get(key)
        if known:
            return known
        try:
            seen = self._call("POST", "stat", {"path": os.path.abspath(path)})
            same = seen.get("found") and seen.get("sample_sha256") == job_files.sample_hash(path)
        except JobFailed as exc:
            if exc.kind != "refused":
                raise
            same = False
        name = os.path.abspath(path) if same else self._upload(path, on_event, cancelled)
        with self._lock:
            self._sent[key] = name
        return name

    def _upload(self, path: str, on_event, cancelled) -> str:
        """Send `path` and the files GDAL reads beside it; returns its reference."""
        bundle = file_sha256(path, cancelled)
        name = upload_name(os.path.basename(path))
        files = [(path, name)] + [(side, name + suffix) for suffix in SIDECAR_SUFFIXES
                                  if os.path.isfile(side := path + suffix)]
        stem = os.path.splitext(path)[0]
        files += [(world, os.path.splitext(name)[0] + suffix) for suffix in WORLD_FILES
                  if os.path.isfile(world := stem + suffix)]
        for local, remote_name in files:
            self._send_file(local, bundle, remote_name, bundle if local == path else file_sha256(local, cancelled),
                            on_event, cancelled)
        return f"{job_files.UPLOAD}{bundle}/{name}"

    def _send_file(self, path: str, bundle: str, name: str, sha256: str, on_event, cancelled) -> None:
        address = f"uploads/{bundle}/{name}"
        state = self._call("GET", address)
        if state.get("complete"):
            return
        size, offset = os.path.getsize(path), int(state.get("size", 0))
        if size > CHUNK_BYTES:
            on_event(messages.info("", tr("Sending {} to the GeoVL server ({:.0f} MB).").format(
                os.path.basename(path), size / 1e6)))
        with open(path, "rb") as file:
            file.seek(offset)
            while offset < size:
                if cancelled():
                    raise JobFailed("cancelled", tr("The run was cancelled while sending {} to the GeoVL server; "
                                                    "nothing was written.").format(os.path.basename(path)))
                chunk = file.read(CHUNK_BYTES)
                answer = self._call("PUT", f"{address}?offset={offset}", chunk, {"X-GeoVL-Size": str(size)},
                                    accept=(200, 409))
                offset = int(answer["size"])
                if offset != file.tell():
                    file.seek(offset)
        self._call("POST", f"{address}?sha256={sha256}", {})

    def _fetch_outputs(self, job_id: str, values: dict, outputs: dict[str, str]) -> dict:
        """Fetch the job's output files to their local paths; the values with those paths."""
        for reference, local in outputs.items():
            name = reference[len(job_files.OUTPUT):]
            self._download(f"jobs/{job_id}/files/{name}", local)
        return {key: outputs.get(value, value) if isinstance(value, str) else value for key, value in values.items()}

    def _download(self, address: str, local: str) -> None:
        connection = self._connection()
        try:
            connection.request("GET", self._path(address), headers=self._headers())
            response = connection.getresponse()
            if response.status == 404:
                return   # the job wrote no such file (nothing to show for it)
            if response.status != 200:
                raise self._refusal(response.status, _error_text(response.read()))
            expected = int(response.getheader("Content-Length", "-1"))
            partial = f"{local}.{os.getpid()}.partial{_suffix(local)}"
            try:
                with open(partial, "wb") as file:
                    while chunk := response.read(CHUNK_BYTES):
                        file.write(chunk)
                    file.flush()
                    os.fsync(file.fileno())
                    written = file.tell()
                if written != expected:
                    raise JobFailed("internal", tr("The output {} came back from the GeoVL server cut short ({} of "
                                                   "{} bytes); run again.").format(local, written, expected))
                os.replace(partial, local)
            except OSError as exc:
                raise JobFailed("input", tr("Cannot write the output {} fetched from the GeoVL server ({}). Is the "
                                            "disk full?").format(local, exc.strerror or exc)) from exc
            finally:
                if os.path.exists(partial):
                    os.remove(partial)
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc) from exc
        finally:
            connection.close()

    def _stream(self, message: dict, events: queue.Queue) -> None:
        """The job's events into `events`; None when the stream ends without its end."""
        body = messages.encode(message)
        connection = self._connection(timeout=None)
        try:
            connection.request("POST", self._path("jobs"), body=body,
                               headers={**self._headers(), "Content-Type": "application/json"})
            response = connection.getresponse()
            if response.status != 200:
                events.put(self._refusal(response.status, _error_text(response.read())))
                return
            for line in response:
                try:
                    events.put(messages.decode(line))
                except ValueError:
                    continue
        except (OSError, http.client.HTTPException) as exc:
            events.put(self._unreachable(exc))
            return
        finally:
            connection.close()
        events.put(None)

    def _call(self, method: str, address: str, body: dict | bytes | None = None, headers: dict | None = None,
              accept: tuple[int, ...] = (200,)) -> dict:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode("utf-8")
        connection = self._connection()
        try:
            connection.request(method, self._path(address), body=data, headers={**self._headers(), **(headers or {})})
            response = connection.getresponse()
            text = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc) from exc
        finally:
            connection.close()
        if response.status not in accept:
            raise self._refusal(response.status, _error_text(text))
        try:
            return json.loads(text.decode("utf-8"))
        except ValueError:
            raise JobFailed("internal", tr("{} answered, but not as a GeoVL server: check the address in Plugins › "
                                           "GeoVL › Runtime….").format(self.url)) from None

    def _connection(self, timeout: float | None = CONNECT_TIMEOUT_S) -> http.client.HTTPConnection:
        host, port = self._parts.hostname, self._parts.port
        if self._parts.scheme == "https":
            context = ssl.create_default_context(cafile=self.ca_file)
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def _path(self, address: str) -> str:
        return f"{self._parts.path.rstrip('/')}/v1/{address}"

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def _refusal(self, status: int, text: str) -> JobFailed:
        if status == 401:
            return JobFailed("refused", tr("The GeoVL server at {} refused the token. Paste the token its `serve` "
                                           "command printed into Plugins › GeoVL › Runtime….").format(self.url))
        if status == 410:    # an upload the server no longer has
            return JobFailed("gone", text)
        return JobFailed("refused" if status in (403, 413) else "input",
                         tr("The GeoVL server at {} refused the request (HTTP {}): {}").format(self.url, status, text))

    def _unreachable(self, exc: Exception) -> JobFailed:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return JobFailed("internal", tr("Cannot reach the GeoVL server at {} ({}). Check that `python -m "
                                        "geovl.runtime.serve` runs there and the address in Plugins › GeoVL › "
                                        "Runtime….").format(self.url, reason))


def file_sha256(path: str, cancelled: Callable[[], bool] = lambda: False) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            if cancelled():
                raise JobFailed("cancelled", tr("The run was cancelled; nothing was written."))
            digest.update(chunk)
    return digest.hexdigest()


def upload_name(basename: str) -> str:
    """A file name the server accepts (letters, digits, '.', '_', '-'), keeping the suffix
    GDAL may need to tell the format."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", basename).lstrip("._-")
    return (name or "raster")[-200:]


def _suffix(path: str) -> str:
    return os.path.splitext(path)[1] if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", os.path.splitext(path)[1]) else ""


def _error_text(body: bytes) -> str:
    try:
        return str(json.loads(body.decode("utf-8")).get("error", ""))
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")
