"""The messages between QGIS and a GeoVL worker: JSON objects, one per line.

QGIS sends `run` and `cancel`; the worker answers `ready` once, then for each job any
number of `progress`, `info` and `warning`, and last one `result` or one `error`. Every
message of a job carries its `id`. The transport (pipes, a socket) is not this module's
business: it only makes and reads lines.
"""
from __future__ import annotations

import json

PROTOCOL = 1
ERROR_KINDS = ("input", "model", "cancelled", "internal")
JOB_EVENTS = ("progress", "info", "warning", "result", "error")


def run(job_id: str, job: str, arguments: dict) -> dict:
    return {"type": "run", "id": job_id, "job": job, "arguments": arguments}


def cancel(job_id: str) -> dict:
    return {"type": "cancel", "id": job_id}


def ready(pid: int) -> dict:
    return {"type": "ready", "protocol": PROTOCOL, "pid": pid}


def progress(job_id: str, percent: float) -> dict:
    return {"type": "progress", "id": job_id, "percent": round(float(percent), 2)}


def info(job_id: str, text: str) -> dict:
    return {"type": "info", "id": job_id, "text": text}


def warning(job_id: str, text: str) -> dict:
    return {"type": "warning", "id": job_id, "text": text}


def result(job_id: str, values: dict) -> dict:
    return {"type": "result", "id": job_id, "values": values}


def error(job_id: str, kind: str, message: str) -> dict:
    return {"type": "error", "id": job_id, "kind": kind if kind in ERROR_KINDS else "internal", "message": message}


def encode(message: dict) -> bytes:
    """One line of UTF-8 JSON (no newline inside: JSON escapes them)."""
    return (json.dumps(message, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def decode(line: bytes) -> dict:
    """The message of one line; ValueError when it is not a JSON object with a type."""
    message = json.loads(line.decode("utf-8"))
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ValueError(f"not a GeoVL message: {line[:200]!r}")
    return message
