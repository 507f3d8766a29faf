"""A GeoVL server (`python -m geovl.runtime.serve`) on a free loopback port, for the tests
of the remote runtime: its URL and token, raw requests, the files it holds."""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys

from geovl.runtime.client import worker_environment


class ServerProcess:
    """`python -m geovl.runtime.serve` on a free loopback port, its token and URL."""

    def __init__(self, workdir, *extra: str, python: str = sys.executable):
        self.workdir = str(workdir)
        self.log = f"{self.workdir}.log"   # a file, not a pipe: a pipe nobody reads would stall the server
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [python, "-m", "geovl.runtime.serve", "--port", "0", "--workdir", self.workdir, *extra],
                stdout=subprocess.PIPE, stderr=log, env=worker_environment(), text=True)
        self.token = None
        for line in self.process.stdout:
            if "token" in line:
                self.token = line.rsplit(" ", 1)[-1].strip()
            if "listening on" in line:
                self.url = line.rsplit(" ", 1)[-1].strip()
                break
        else:
            with open(self.log) as log:
                raise RuntimeError(f"the server did not start: {log.read()[-3000:]}")

    def raw(self, method: str, path: str, body: bytes | None = None, token: str | None = None,
            headers: dict | None = None) -> tuple[int, dict]:
        host, port = self.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        auth = {"Authorization": f"Bearer {token or self.token}"}
        connection.request(method, path, body=body, headers={**auth, **(headers or {})})
        response = connection.getresponse()
        text = response.read()
        connection.close()
        return response.status, json.loads(text) if text.startswith(b"{") else {}

    def files(self) -> list[str]:
        """Every file under the server's uploads and job folders."""
        found = []
        for folder in ("uploads", "jobs"):
            for root, _, names in os.walk(os.path.join(self.workdir, folder)):
                found += [os.path.relpath(os.path.join(root, name), self.workdir) for name in names]
        return sorted(found)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()
