"""POST /transaction on the real server, where headers can come twice (the test client
joins them into one value): a repeated Idempotency-Key means what it means to the
route, the first one, whichever path (app/transfer_path.py or Litestar) answers."""

from __future__ import annotations

import json
import socket

import pytest

from tests.conftest import Server

pytestmark = pytest.mark.server

BODY = json.dumps(
    {
        "from": {"guild_id": "5", "user_id": "1"},
        "to": {"guild_id": "5", "user_id": "2"},
        "amount": 1,
        "reason": "x",
    }
).encode()


def _post(server: Server, key: str, extra: bytes) -> tuple[bytes, dict]:
    """The status line and the body of one POST /transaction sent as raw bytes."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"POST /transaction HTTP/1.1\r\nHost: t\r\nAuthorization: "
            + key.encode()
            + b"\r\nContent-Type: application/json\r\n"
            + extra
            + b"Content-Length: "
            + str(len(BODY)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + BODY
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0], json.loads(body)


def test_the_first_of_repeated_idempotency_keys_counts(server: Server) -> None:
    with server.client() as c:
        for user, points in (("1", 100), ("2", 0)):
            assert c.post(f"/profile/5/{user}", json={"voicepoints": points}).status_code == 201
        bot = c.post("/keys", json={"name": "bot", "bot_id": "42"}).json()["key"]
    # The first request of a key goes through Litestar, the next ones could take
    # the lean path: both ways, the same answer.
    for first, second in ((b"a1", b"a2"), (b"b1", b"b2")):
        twice = b"Idempotency-Key: " + first + b"\r\nIdempotency-Key: " + second + b"\r\n"
        status, sent = _post(server, bot, twice)
        assert status == b"HTTP/1.1 201 Created", sent
        status, replayed = _post(server, bot, b"Idempotency-Key: " + first + b"\r\n")
        assert replayed["id"] == sent["id"]  # the same key: replayed
        status, other = _post(server, bot, b"Idempotency-Key: " + second + b"\r\n")
        assert status == b"HTTP/1.1 201 Created" and other["id"] > sent["id"]  # a new one
