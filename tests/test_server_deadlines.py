"""The real server bounds what a client can hold (issue 10, finding 6): idle
connections and half-sent bodies are closed after their (here, small) timeouts, and
SIGTERM finishes whatever clients do, keeping every acknowledged write."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server, start_server

WAIT = 30  # seconds a test waits for the server before calling it stuck


@pytest.fixture
def quick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A server whose idle and body timeouts are 1 s, drained for 1 s on SIGTERM."""
    for name in ("IDLE_TIMEOUT", "BODY_TIMEOUT", "DRAIN_TIMEOUT"):
        monkeypatch.setenv(f"VOICEPROFILE_{name}", "1")
    srv = start_server(tmp_path / "server.db", tmp_path / "server.log")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def patient(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A server that would wait minutes on its clients, drained for 1 s on SIGTERM."""
    for name in ("IDLE_TIMEOUT", "BODY_TIMEOUT", "SEND_TIMEOUT"):
        monkeypatch.setenv(f"VOICEPROFILE_{name}", "600")
    monkeypatch.setenv("VOICEPROFILE_DRAIN_TIMEOUT", "1")
    srv = start_server(tmp_path / "server.db", tmp_path / "server.log")
    try:
        yield srv
    finally:
        srv.stop()


def connect(server: Server, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket()
    if rcvbuf:  # set before connecting, so the window stays small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(WAIT)
    sock.connect(("127.0.0.1", int(server.url.rsplit(":", 1)[1])))
    return sock


def half_body(server: Server, path: bytes = b"/profile/1/2") -> socket.socket:
    sock = connect(server)
    sock.sendall(
        b"POST "
        + path
        + b" HTTP/1.1\r\nHost: t\r\nAuthorization: "
        + server.admin_key.encode()
        + b'\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"voicepoints": '
    )
    return sock


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; socket.timeout if it never does."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    return data


def test_idle_and_half_body_connections_are_closed(quick: Server) -> None:
    idle, half, between = connect(quick), half_body(quick), connect(quick)
    between.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")  # then idle, kept alive
    assert until_closed(idle) == b""
    answer = until_closed(half)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b'"code":"request_timeout"' in answer
    assert until_closed(between).startswith(b"HTTP/1.1 200 ")
    with quick.client() as c:  # and the server is as good as before
        assert c.post("/profile/1/2", json={"voicepoints": 5}).status_code == 201


def test_half_body_transfer_is_cut(quick: Server) -> None:
    """POST /transaction's own path (app/transfer_path.py, taken once the key is
    known) reads its body within the same timeout."""
    with quick.client() as c:
        assert c.get("/transaction").status_code == 200  # the key is known from now on
    answer = until_closed(half_body(quick, b"/transaction"))
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b'"code":"request_timeout"' in answer


def sigterm(server: Server) -> int | None:
    server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(WAIT)
    except subprocess.TimeoutExpired:
        return None  # the fixture kills it


def restarted(server: Server, tmp_path: Path) -> Server:
    server.log_file.close()
    return start_server(server.db, tmp_path / "again.log")


def test_sigterm_is_not_held_by_idle_or_half_sent_requests(patient: Server, tmp_path) -> None:
    with patient.client() as c:
        for user in range(10):
            assert c.post(f"/profile/7/{user}", json={"voicepoints": user}).status_code == 201
    idle, half = connect(patient), half_body(patient)
    assert sigterm(patient) == 0
    answer = until_closed(half)  # cut by the drain deadline, answered
    assert answer.startswith(b"HTTP/1.1 503 "), answer
    assert b'"code":"shutting_down"' in answer
    assert until_closed(idle) == b""
    again = restarted(patient, tmp_path)
    try:
        with again.client(patient.admin_key) as c:
            listed = c.get("/profile/7", params={"limit": 0}).json()
            assert sorted(p["voicepoints"] for p in listed) == list(range(10))
    finally:
        again.stop()


def megabytes_of_profiles(server: Server, batches: int) -> None:
    """`batches` x 0.9 MB of profiles in guild 7."""
    blob = "x" * 9000
    with server.client() as c:
        for batch in range(batches):
            items = [
                {"guild_id": "7", "user_id": str(batch * 100 + i), "data": {"blob": blob}}
                for i in range(100)
            ]
            assert c.patch("/profile/add", json=items).status_code == 200


def stalled_reader(server: Server) -> socket.socket:
    """A client that asks for every profile, reads the status line, then nothing."""
    reader = connect(server, rcvbuf=4096)
    reader.sendall(
        b"GET /profile?limit=0 HTTP/1.1\r\nHost: t\r\nAuthorization: "
        + server.admin_key.encode()
        + b"\r\n\r\n"
    )
    assert reader.recv(100).startswith(b"HTTP/1.1 200 ")
    return reader


def test_sigterm_is_not_held_by_a_client_that_stops_reading(patient: Server, tmp_path) -> None:
    # ~9 MB: granian takes it all into its buffers, so the app is done and granian
    # holds the connection (the worker is killed 5 s after the drain deadline)
    megabytes_of_profiles(patient, 10)
    reader = stalled_reader(patient)
    assert sigterm(patient) == 0
    reader.close()
    again = restarted(patient, tmp_path)
    try:
        with again.client(patient.admin_key) as c:
            assert c.get("/profile/7", params={"limit": 1}).headers["X-Total-Count"] == "1000"
    finally:
        again.stop()


def test_a_stream_its_client_stopped_reading_is_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEPROFILE_SEND_TIMEOUT", "1")
    server = start_server(tmp_path / "server.db", tmp_path / "server.log")
    try:
        # granian and the kernel take the stream's first megabytes whether the
        # client reads or not; past them its send waits, and the send limit applies.
        megabytes_of_profiles(server, 40)
        reader = stalled_reader(server)
        with server.client() as c:  # the others are served meanwhile
            assert c.get("/profile/7/1").status_code == 200
        deadline = time.monotonic() + WAIT
        while "read nothing for 1 s" not in server.log.read_text():
            assert time.monotonic() < deadline, "the stalled stream was never cut"
            time.sleep(0.2)
        rest = until_closed(reader)  # what was on its way, then the end: no more
        assert len(rest) < 36_000_000 and not rest.rstrip().endswith(b"]")
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("path", "code"),
    [("/profile/1/2", b'"code":"bad_request"'), ("/settings/t/i", b'"code":400')],
    ids=["json-body", "settings-body"],
)
def test_a_body_with_broken_chunks_is_a_400_not_a_500(
    quick: Server, path: str, code: bytes
) -> None:
    """granian tells the app a body whose chunked framing is malformed ended in a
    disconnect, while the client still waits: that is the client's error (it was
    answered 500, `internal error` in the log)."""
    sock = connect(quick)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: {quick.admin_key}\r\n".encode()
        + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b'zz\r\n{"voicepoints": 5}\r\n0\r\n\r\n'
    )
    answer = until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert code in answer and b"internal" not in answer
    with quick.client() as c:  # nothing was written, and nothing logged as a fault
        assert c.get("/profile/1/2").status_code == 404
    assert "internal error" not in quick.log.read_text()
