"""Webhook receivers on 127.0.0.1 for the callback tests: a well-behaved one that
records every POST, and misbehaving ones (a huge answer, no answer, an answer
dripped a byte at a time). Both are bounded: their threads are daemons and
`stop()` ends every connection they hold."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["BadReceiver", "Receiver"]


@dataclass
class Receiver:
    """A tiny webhook receiver: records every POST; answers 500 `fail` times first."""

    port: int
    fail: int = 0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    attempts: int = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.attempts += 1
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(500)
                else:
                    receiver.received.append((dict(self.headers), body))
                    self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True  # server_close() does not wait on a stuck handler
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            # Bounded: a full-suite run twice stalled here under load (shutdown()
            # has no timeout); a stuck receiver must not hang the whole suite.
            stopper = threading.Thread(target=self._server.shutdown, daemon=True)
            stopper.start()
            stopper.join(10)
            self._server.server_close()
            self._server = None

    def wait_for(self, count: int, seconds: float = 20) -> list[dict]:
        """The first `count` events received, waiting a bounded time for them."""
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return [json.loads(body) for _, body in self.received]


class BadReceiver:
    """Reads each request whole, then misbehaves as `mode` says:

    - `huge`: 200 with a `size`-byte body, sent as fast as the client takes it;
      `sent` counts the bytes the client's side accepted before it closed;
    - `silent`: never answers (holds the connection until stopped);
    - `drip`: answers one byte every `drip` seconds, forever.
    """

    def __init__(self, mode: str, size: int = 64 * 1024 * 1024, drip: float = 0.2) -> None:
        self.mode, self.size, self.drip = mode, size, drip
        self.requests = 0  # requests read whole
        self.sent = 0
        self.closed = 0  # connections the client closed (or we ended) after answering
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> BadReceiver:
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        with self._lock:
            for conn in self._conns:
                conn.close()
        self._listener.close()

    def wait(self, what: str, count: int, seconds: float = 20) -> int:
        """Wait (bounded) until attribute `what` reaches `count`; returns its value."""
        deadline = time.monotonic() + seconds
        while getattr(self, what) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return int(getattr(self, what))

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:  # timeout: look at the stop flag again
                continue
            with self._lock:
                self._conns.append(conn)
            self._spawn(self._serve, conn)

    def _read_request(self, conn: socket.socket) -> bool:
        """The request's head and body, whole; False if the client or stop() ended it."""
        conn.settimeout(0.2)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self._recv(conn)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = self._recv(conn)
            if not chunk:
                return False
            body += chunk
        return True

    def _recv(self, conn: socket.socket) -> bytes:
        while not self._stop.is_set():
            try:
                return conn.recv(65536)
            except TimeoutError:
                continue
        return b""

    def _serve(self, conn: socket.socket) -> None:
        try:
            if not self._read_request(conn):
                return
            self.requests += 1
            if self.mode == "huge":
                self._huge(conn)
            elif self.mode == "drip":
                self._drip(conn)
            else:
                self._stop.wait(120)
        except OSError:
            pass  # the client closed: expected for huge and drip
        finally:
            self.closed += 1
            conn.close()

    def _huge(self, conn: socket.socket) -> None:
        # A small send buffer, so `sent` is close to what the client took in.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        conn.settimeout(5)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % self.size)
        chunk = b"x" * 65536
        while self.sent < self.size and not self._stop.is_set():
            self.sent += conn.send(chunk[: self.size - self.sent])

    def _drip(self, conn: socket.socket) -> None:
        # A status line, then a header that never ends: every read gets a byte.
        stream = b"HTTP/1.1 200 OK\r\nX-Drip: "
        sent = 0
        while not self._stop.wait(self.drip):
            conn.sendall(stream[sent : sent + 1] if sent < len(stream) else b"a")
            sent += 1
