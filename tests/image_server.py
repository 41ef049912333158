"""A stand-in for the web on 127.0.0.1, for the image tests: it serves what a test
puts in `routes`, counts the requests, and can misbehave (redirect, drip slowly,
stream without end). Bounded: daemon threads, and `stop()` ends every connection
within seconds."""

from __future__ import annotations

import contextlib
import io
import struct
import threading
import zlib
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

__all__ = ["ImageServer", "Route", "bomb", "picture"]


def picture(fmt: str = "PNG", size: tuple[int, int] = (8, 6), colour: str = "red") -> bytes:
    """A small real image in `fmt` (PNG, JPEG, GIF, WEBP)."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def bomb(width: int = 16000, height: int = 16000) -> bytes:
    """A PNG header claiming `width`x`height` pixels, with no pixels: past
    Pillow's own decompression-bomb limit (2 x 89M pixels), which refuses it on open."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "image/png"
    location: str | None = None
    """A redirect's target (with a 3xx status)."""
    length: bool = True
    """Send Content-Length (False: the body is streamed until closed)."""
    drip: float = 0.0
    """Seconds between bytes (a slow server)."""
    endless: bool = False
    """Stream zeros until the client hangs up (an answer without end)."""


@dataclass
class ImageServer:
    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    _server: ThreadingHTTPServer | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> ImageServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                outer.hits[path] += 1
                route = outer.routes.get(path, Route(b"not here", 404, "text/plain"))
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                if route.location is not None:
                    self.send_header("Location", route.location)
                if route.length and not route.endless:
                    self.send_header("Content-Length", str(len(route.body)))
                else:
                    self.send_header("Connection", "close")
                self.end_headers()
                # The client hanging up is what the misbehaving routes wait for.
                with contextlib.suppress(OSError):
                    self._send(route)

            def _send(self, route: Route) -> None:
                if route.endless:
                    chunk = b"\0" * 65536
                    while not outer._stopping.is_set():
                        self.wfile.write(chunk)
                    return
                if route.drip:
                    for byte in route.body:
                        if outer._stopping.wait(route.drip):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                self.wfile.write(route.body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            stopper = threading.Thread(target=self._server.shutdown, daemon=True)
            stopper.start()
            stopper.join(10)
            self._server.server_close()
            self._server = None
