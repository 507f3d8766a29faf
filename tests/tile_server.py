"""A loopback XYZ tile server for tests of web layers (standard library only: the
desktop tests start it in pytest's process, QGIS reaches it on 127.0.0.1)."""
from __future__ import annotations

import http.server
import struct
import threading
import time
import uuid
import zlib

TILE_COLOUR = (200, 100, 50)


def png_tile(colour: tuple[int, int, int] = TILE_COLOUR, size: int = 256) -> bytes:
    """A `size` x `size` PNG of one RGB colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(colour) * size for _ in range(size))  # filter 0 per row
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class TileServer:
    """Serves `<prefix>/{z}/{x}/{y}.png` on 127.0.0.1: `mode` "ok" answers PNG tiles, "error" HTTP
    500, "slow" nothing for `delay` seconds (then closes). `requests` counts the requests.

    With `gate_s`, a tile is answered only after `gate_pings` requests to `alive_url` came
    in meanwhile (or `gate_s` later, counted in `gate_timeouts`): a client whose GUI thread
    pings it on a timer shows that the thread was free while the tiles were fetched."""

    def __init__(self, mode: str = "ok", delay: float = 3.0, gate_s: float = 0.0, gate_pings: int = 1):
        self.mode, self.delay, self.requests = mode, delay, 0
        self.gate_s, self.gate_pings, self.gate_timeouts, self._pings = gate_s, gate_pings, 0, 0
        self._pinged = threading.Condition()
        # QGIS keeps downloaded tiles by URL for the whole process: a server's own prefix
        # keeps a later server on a reused port from being answered from that cache.
        self.prefix = f"/{uuid.uuid4().hex[:12]}"
        tile, server = png_tile(), self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.endswith("/alive"):
                    with server._pinged:
                        server._pings += 1
                        server._pinged.notify_all()
                    self.send_response(204)
                    self.end_headers()
                    return
                if server.gate_s:
                    with server._pinged:
                        seen = server._pings
                        if not server._pinged.wait_for(lambda: server._pings >= seen + server.gate_pings,
                                                       server.gate_s):
                            server.gate_timeouts += 1
                server.requests += 1
                if server.mode == "slow":
                    time.sleep(server.delay)
                    self.close_connection = True
                    return  # the client gave up long ago: nobody reads an answer
                if server.mode == "ok":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(tile)))
                    self.end_headers()
                    self.wfile.write(tile)
                else:
                    self.send_error(500, "tile server down")

            def log_message(self, *args):
                pass

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    @property
    def xyz_source(self) -> str:
        """The QGIS data source of an XYZ layer ("wms" provider) of this server."""
        return f"type=xyz&url=http://127.0.0.1:{self.http.server_port}{self.prefix}/{{z}}/{{x}}/{{y}}.png&zmin=0&zmax=19"

    @property
    def alive_url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_port}{self.prefix}/alive"

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()
