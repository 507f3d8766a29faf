"""`python -m geovl.runtime.serve`: the GeoVL runtime served over HTTP, for QGIS on
other machines (a GPU server for laptops).

The jobs and messages are the local worker's (runtime/messages.py); HTTP only carries
them. A job is `POST /v1/jobs` with a `run` message as its body; the answer streams the
job's events, one JSON line each, until its `result` or `error`. Around it:

    GET    /v1/status                          protocol, version, jobs running
    POST   /v1/stat          {"path"}          whether the server sees a file (size, sample hash)
    GET    /v1/uploads/B/N                     how much of upload N of bundle B has arrived
    PUT    /v1/uploads/B/N?offset=K            the next chunk of it
    POST   /v1/uploads/B/N?sha256=H            the end of it: checked, then kept
    POST   /v1/jobs/ID/cancel                  stop the job at its next batch
    GET    /v1/jobs/ID/files/N                 an output file of the job
    DELETE /v1/jobs/ID                         the job's folder, once its files are fetched

Security: every request carries `Authorization: Bearer <token>`. The token is made by the
first start (or `--new-token`), printed once, and kept only as its SHA-256. The server
binds to 127.0.0.1 unless told `--host`, speaks TLS when given `--cert` and `--key`,
refuses bodies over its limits, and reads or writes only its own folder (`--workdir`:
uploads, job folders, its cache) and the `--data` folders it is told it may use.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import importlib
import http.server
import json
import os
import re
import secrets
import shutil
import ssl
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import BinaryIO

from . import job_files, messages
from .worker import run_one

MAX_MESSAGE_BYTES = 1 << 20     # a job's JSON (prompts included) is far below this
MAX_CHUNK_BYTES = 16 << 20
DRAINED_BYTES = 64 << 20     # a body over the limits up to this size is read before the refusal
FREE_SPACE_MARGIN = 1 << 30     # an upload that would leave less free space is refused
JOB_FOLDER_MAX_AGE_S = 24 * 3600
UPLOAD_MAX_AGE_S = 30 * 24 * 3600   # a raster sent and not used by any job for this long is dropped
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
HEX = re.compile(r"^[0-9a-f]{64}$")


class Refused(Exception):
    """A request the server will not serve: HTTP `status` and the sentence for the user."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Server:
    """What a running server knows: its folders, its token's hash, its running jobs."""
    workdir: str
    data: list[str]
    token_sha256: str
    jobs: dict[str, threading.Event] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def uploads(self) -> str:
        return os.path.join(self.workdir, "uploads")

    def job_folder(self, job_id: str) -> str:
        return os.path.join(self.workdir, "jobs", checked_name(job_id))

    def authorised(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        given = hashlib.sha256(token.strip().encode()).hexdigest()
        return scheme.lower() == "bearer" and hmac.compare_digest(given, self.token_sha256)

    def readable(self, path: str, model: bool = False) -> str:
        """`path` resolved, if it lies in a --data folder or the upload store."""
        real = os.path.realpath(path)
        if not any(inside(real, folder) for folder in [*self.data, self.uploads]):
            instead = "choose a preset or hub id the server can download" if model else "let QGIS send the file"
            raise Refused(403, f"The GeoVL server may not read {path}: it is outside the folders it was told it may "
                               f"use. Start it with --data <folder> for that folder, or {instead}.")
        return real


def checked_name(name: str) -> str:
    if not NAME.match(name) or ".." in name:
        raise Refused(400, f"'{name[:80]}' is not a file or job name the GeoVL server accepts (letters, digits, "
                           "'.', '_' and '-').")
    return name


def inside(path: str, folder: str) -> bool:
    folder = os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder


def job_arguments(server: Server, job: str, arguments: dict, folder: str) -> dict:
    """The arguments as this machine runs them: references resolved, every path checked,
    the cache the server's own."""
    if job not in job_files.INPUTS:
        raise Refused(400, f"The GeoVL server has no job '{job[:80]}'.")
    resolved = {key: value for key, value in arguments.items() if key != "environment"}
    resolved["environment"] = {"GEOVL_CACHE_DIR": os.path.join(server.workdir, "cache")}
    for key in (*job_files.INPUTS[job], *job_files.OUTPUTS[job]):
        value = arguments.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise Refused(400, f"The job argument '{key}' is not a file name.")
        if value.startswith(job_files.OUTPUT):
            if key not in job_files.OUTPUTS[job]:
                raise Refused(400, f"The job argument '{key}' is an input, not an output.")
            resolved[key] = os.path.join(folder, checked_name(value[len(job_files.OUTPUT):]))
        elif value.startswith(job_files.UPLOAD):
            bundle, _, name = value[len(job_files.UPLOAD):].partition("/")
            resolved[key] = upload_path(server, bundle, name)
            if not os.path.isfile(resolved[key]):
                raise Refused(410, f"The GeoVL server has no upload {value[len(job_files.UPLOAD):]}: send it first.")
            os.utime(os.path.dirname(resolved[key]))   # used now: kept another UPLOAD_MAX_AGE_S
        elif key in job_files.INPUTS[job]:
            resolved[key] = server.readable(value)
        else:
            raise Refused(403, f"The GeoVL server writes a job's outputs only in the job's own folder; '{key}' names "
                               f"{value}. Let QGIS fetch the file back instead.")
    for key in job_files.MODELS:
        model = arguments.get(key)
        if isinstance(model, dict) and job_files.looks_like_path(str(model.get("name", ""))):
            resolved[key] = {**model, "name": server.readable(os.path.expanduser(model["name"]), model=True)}
    for key, sent in (arguments.get("start_from") or {}).items():
        # an output the client already had (a chosen tile index): the job goes on from a copy of it
        if key not in job_files.REUSED_OUTPUTS or not str(arguments.get(key, "")).startswith(job_files.OUTPUT) \
                or not str(sent).startswith(job_files.UPLOAD):
            raise Refused(400, f"The job cannot start '{key}' from '{str(sent)[:80]}'.")
        bundle, _, name = str(sent)[len(job_files.UPLOAD):].partition("/")
        shutil.copyfile(upload_path(server, bundle, name), resolved[key])
    resolved.pop("start_from", None)
    return resolved


def upload_path(server: Server, bundle: str, name: str) -> str:
    if not HEX.match(bundle):
        raise Refused(400, f"'{bundle[:80]}' is not an upload bundle (a SHA-256 in hex).")
    return os.path.join(server.uploads, bundle, checked_name(name))


def result_values(values: dict, folder: str, workdir: str) -> dict:
    """The result as the client reads it: the job's files as `output:` references, other
    paths of this server as `geovl-server:` ones (they mean nothing on the client)."""
    def outward(value):
        if isinstance(value, str) and os.path.isabs(value):
            real = os.path.realpath(value)
            if inside(real, folder):
                return job_files.OUTPUT + os.path.relpath(real, os.path.realpath(folder))
            if inside(real, workdir):
                return "geovl-server:" + os.path.relpath(real, os.path.realpath(workdir))
        return value
    return {key: outward(value) for key, value in values.items()}


class StreamChannel:
    """The job's events onto the HTTP answer, one line each; a client gone away cancels it."""

    def __init__(self, stream: BinaryIO, cancel: threading.Event, folder: str, workdir: str):
        self._stream, self._cancel, self._folder, self._workdir = stream, cancel, folder, workdir
        self._lock = threading.Lock()

    def send(self, message: dict) -> None:
        if message.get("type") == "result":
            message = {**message, "values": result_values(message.get("values") or {}, self._folder, self._workdir)}
        with self._lock:
            try:
                self._stream.write(messages.encode(message))
                self._stream.flush()
            except OSError:
                self._cancel.set()


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "GeoVL"
    geovl: Server   # set on the class by make_http_server

    def do_GET(self):
        self._serve(self._get)

    def do_POST(self):
        self._serve(self._post)

    def do_PUT(self):
        self._serve(self._put)

    def do_DELETE(self):
        self._serve(self._delete)

    def log_message(self, format, *args):   # no request log: a URL can name a user's file
        pass

    def _serve(self, route) -> None:
        try:
            if not self.geovl.authorised(self.headers.get("Authorization")):
                raise Refused(401, "The GeoVL server refused the request: its token is missing or wrong. Paste the "
                                   "token `python -m geovl.runtime.serve` printed into Plugins › GeoVL › Runtime….")
            url = urllib.parse.urlsplit(self.path)
            parts = [urllib.parse.unquote(part) for part in url.path.strip("/").split("/")]
            if parts[:1] != ["v1"]:
                raise Refused(404, "Not a GeoVL server address.")
            route(parts[1:], dict(urllib.parse.parse_qsl(url.query)))
        except Refused as exc:
            self._json(exc.status, {"error": str(exc)})
        except OSError as exc:
            self._json(507 if exc.errno == 28 else 500, {"error": f"The GeoVL server could not do that: {exc}."})

    def _get(self, parts: list[str], query: dict) -> None:
        if parts == ["status"]:
            with self.geovl.lock:
                running = len(self.geovl.jobs)
            self._json(200, {"protocol": messages.PROTOCOL, "jobs_running": running})
        elif len(parts) == 3 and parts[0] == "uploads":
            path = upload_path(self.geovl, parts[1], parts[2])
            complete = os.path.isfile(path)
            size = os.path.getsize(path if complete else path + ".partial") \
                if complete or os.path.isfile(path + ".partial") else 0
            self._json(200, {"size": size, "complete": complete})
        elif len(parts) == 4 and parts[0] == "jobs" and parts[2] == "files":
            path = os.path.join(self.geovl.job_folder(parts[1]), checked_name(parts[3]))
            if not os.path.isfile(path):
                raise Refused(404, f"The job has no file {parts[3]}.")
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(os.path.getsize(path)))
            self.end_headers()
            with open(path, "rb") as file:
                shutil.copyfileobj(file, self.wfile, MAX_CHUNK_BYTES)
        else:
            raise Refused(404, "Not a GeoVL server address.")

    def _post(self, parts: list[str], query: dict) -> None:
        if parts == ["jobs"]:
            self._run(self._message())
        elif parts == ["stat"]:
            path = self.geovl.readable(str(self._message().get("path", "")))
            found = os.path.isfile(path)
            self._json(200, {"found": found, "size": os.path.getsize(path) if found else None,
                             "sample_sha256": job_files.sample_hash(path) if found else None})
        elif len(parts) == 3 and parts[0] == "jobs" and parts[2] == "cancel":
            with self.geovl.lock:
                cancel = self.geovl.jobs.get(parts[1])
            if cancel is not None:
                cancel.set()
            self._json(200, {"cancelled": cancel is not None})
        elif len(parts) == 3 and parts[0] == "uploads":
            self._finish_upload(upload_path(self.geovl, parts[1], parts[2]), query.get("sha256", ""))
        else:
            raise Refused(404, "Not a GeoVL server address.")

    def _put(self, parts: list[str], query: dict) -> None:
        if len(parts) != 3 or parts[0] != "uploads":
            raise Refused(404, "Not a GeoVL server address.")
        path = upload_path(self.geovl, parts[1], parts[2])
        length = self._length(MAX_CHUNK_BYTES)
        total = int(self.headers.get("X-GeoVL-Size", "0") or 0)
        if shutil.disk_usage(self.geovl.workdir).free < total + FREE_SPACE_MARGIN:
            raise Refused(507, f"The GeoVL server has too little free disk for a {total / 1e6:.0f} MB upload. Free "
                               "some space in its --workdir.")
        partial = path + ".partial"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        have = os.path.getsize(partial) if os.path.isfile(partial) else 0
        if os.path.isfile(path) or int(query.get("offset", -1)) != have:
            self._json(409, {"error": "The upload is elsewhere: go on from `size`.", "size": have,
                             "complete": os.path.isfile(path)})
            return
        with open(partial, "ab") as file:
            remaining = length
            while remaining:
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    raise Refused(400, "The upload's chunk was cut short.")
                file.write(chunk)
                remaining -= len(chunk)
        self._json(200, {"size": have + length})

    def _finish_upload(self, path: str, sha256: str) -> None:
        partial = path + ".partial"
        if not os.path.isfile(path):
            if not os.path.isfile(partial):
                raise Refused(404, "Nothing of that upload arrived.")
            digest = hashlib.sha256()
            with open(partial, "rb") as file:
                for chunk in iter(lambda: file.read(1 << 20), b""):
                    digest.update(chunk)
            if not hmac.compare_digest(digest.hexdigest(), sha256.lower()):
                os.remove(partial)
                raise Refused(422, "The upload arrived damaged (its SHA-256 differs); it was dropped: send it again.")
            os.replace(partial, path)
        self._json(200, {"path": path})

    def _delete(self, parts: list[str], query: dict) -> None:
        if len(parts) != 2 or parts[0] != "jobs":
            raise Refused(404, "Not a GeoVL server address.")
        shutil.rmtree(self.geovl.job_folder(parts[1]), ignore_errors=True)
        self._json(200, {"deleted": True})

    def _run(self, message: dict) -> None:
        job_id = checked_name(str(message.get("id", "")))
        folder = self.geovl.job_folder(job_id)
        arguments = message.get("arguments")
        if not isinstance(arguments, dict):
            raise Refused(400, "A job's arguments are a JSON object.")
        os.makedirs(folder, exist_ok=True)
        try:
            resolved = job_arguments(self.geovl, str(message.get("job", "")), arguments, folder)
        except Refused:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        cancel = threading.Event()
        with self.geovl.lock:
            if job_id in self.geovl.jobs:
                raise Refused(409, "A job with that id is running.")
            self.geovl.jobs[job_id] = cancel
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()
            run_one(StreamChannel(self.wfile, cancel, folder, self.geovl.workdir),
                    {**message, "arguments": resolved}, cancel)
        finally:
            with self.geovl.lock:
                self.geovl.jobs.pop(job_id, None)

    def _length(self, limit: int) -> int:
        header = self.headers.get("Content-Length")
        if header is None or not header.isdigit():
            raise Refused(411, "A request body needs its Content-Length.")
        if int(header) > limit:
            if int(header) <= DRAINED_BYTES:   # read and dropped, so the client hears why rather than a reset
                remaining = int(header)
                while remaining > 0 and (chunk := self.rfile.read(min(remaining, 1 << 20))):
                    remaining -= len(chunk)
            raise Refused(413, f"The request is too large ({int(header) / 1e6:.1f} MB; the GeoVL server takes at most "
                               f"{limit / 1e6:.0f} MB in one request). Nothing was written.")
        return int(header)

    def _message(self) -> dict:
        body = self.rfile.read(self._length(MAX_MESSAGE_BYTES))
        try:
            message = json.loads(body.decode("utf-8"))
        except ValueError:
            raise Refused(400, "The request body is not JSON.") from None
        if not isinstance(message, dict):
            raise Refused(400, "The request body is not a JSON object.")
        return message

    def _json(self, status: int, value: dict) -> None:
        body = json.dumps(value).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def token_hash(workdir: str, new: bool) -> tuple[str, str | None]:
    """The token's SHA-256 kept in `workdir`, and the token itself when made now (shown
    once, never stored)."""
    path = os.path.join(workdir, "token.sha256")
    if os.path.isfile(path) and not new:
        with open(path, encoding="ascii") as file:
            return file.read().strip(), None
    token = secrets.token_urlsafe(32)
    digest = hashlib.sha256(token.encode()).hexdigest()
    partial = path + ".partial"
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="ascii") as file:
        file.write(digest + "\n")
    os.replace(partial, path)
    return digest, token


def clean_workdir(workdir: str) -> None:
    """Job folders of runs a day old (a client that never fetched them), upload parts
    left by killed uploads older than that, and uploads no job used for a month (a
    client sends them again if it needs them)."""
    now = time.time()
    for entry in _entries(os.path.join(workdir, "jobs")):
        if now - entry.stat().st_mtime > JOB_FOLDER_MAX_AGE_S:
            shutil.rmtree(entry.path, ignore_errors=True)
    for bundle in _entries(os.path.join(workdir, "uploads")):
        age = now - bundle.stat().st_mtime
        if age > UPLOAD_MAX_AGE_S:
            shutil.rmtree(bundle.path, ignore_errors=True)
        elif age > JOB_FOLDER_MAX_AGE_S:
            for part in _entries(bundle.path):
                if part.name.endswith(".partial"):
                    os.remove(part.path)


def _entries(folder: str) -> list[os.DirEntry]:
    return list(os.scandir(folder)) if os.path.isdir(folder) else []


def make_http_server(server: Server, host: str, port: int, cert: str | None = None,
                     key: str | None = None) -> http.server.ThreadingHTTPServer:
    handler = type("GeoVLHandler", (Handler,), {"geovl": server})
    httpd = http.server.ThreadingHTTPServer((host, port), handler)
    httpd.daemon_threads = True
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    return httpd


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m geovl.runtime.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine "
                                                            "only; 0.0.0.0 for every network)")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free one, printed)")
    parser.add_argument("--workdir", default=os.path.join(os.path.expanduser("~"), ".cache", "geovl-server"),
                        help="the server's own folder: uploads, job folders, caches, its token's hash")
    parser.add_argument("--data", action="append", default=[],
                        help="a folder whose rasters and models jobs may read in place (repeatable)")
    parser.add_argument("--cert", help="TLS certificate (PEM); with --key, the server speaks https")
    parser.add_argument("--key", help="the certificate's private key (PEM)")
    parser.add_argument("--new-token", action="store_true", help="make a new token (the old one stops working)")
    args = parser.parse_args(argv)
    if bool(args.cert) != bool(args.key):
        parser.error("--cert and --key go together")
    for folder in args.data:
        if not os.path.isdir(folder):
            parser.error(f"--data {folder} is not a folder")
    importlib.import_module(".jobs", __package__)  # the engine's imports first: a broken runtime fails here
    os.makedirs(args.workdir, exist_ok=True)
    clean_workdir(args.workdir)
    digest, token = token_hash(args.workdir, args.new_token)
    server = Server(os.path.realpath(args.workdir), [os.path.realpath(folder) for folder in args.data], digest)
    httpd = make_http_server(server, args.host, args.port, args.cert, args.key)
    url = f"{'https' if args.cert else 'http'}://{args.host}:{httpd.server_address[1]}"
    if token:
        print(f"GeoVL server token (shown once; paste it into QGIS, Plugins › GeoVL › Runtime…): {token}", flush=True)
    if not args.cert and args.host not in ("127.0.0.1", "localhost", "::1"):
        print("Warning: serving on a network address without TLS: the token and the data cross in the clear. "
              "Give --cert and --key.", file=sys.stderr, flush=True)
    print(f"GeoVL server listening on {url}", flush=True)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())   # what libraries print during jobs goes to the log
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
