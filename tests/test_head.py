"""HEAD on every GET route (app/head.py): the GET's status and headers, no body. Uptime
monitors check with HEAD by default; a 405 reads as the server being down."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from litestar.testing import TestClient

from storage.queries import keys
from tests.conftest import Server


@pytest.mark.parametrize(
    ("path", "keyed"),
    [("/health", False), ("/profile/1/2", True), ("/profile/1/3", True), ("/profile/1/2", False)],
    ids=["health", "profile", "missing-profile", "no-key"],
)
def test_head_answers_what_get_would_without_the_body(
    client: TestClient, auth: dict, path: str, keyed: bool
) -> None:
    assert client.post("/profile/1/2", json={"voicepoints": 5}, headers=auth).status_code == 201
    headers = auth if keyed else {}
    got = client.get(path, headers=headers)
    head = client.head(path, headers=headers)
    assert head.status_code == got.status_code
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))


def test_head_is_refused_where_get_is_and_counted_as_head(
    client: TestClient, auth: dict, make_key: Callable[..., dict[str, str]]
) -> None:
    assert client.head("/transaction", headers=auth).status_code == 200  # GET /transaction lists
    assert client.head("/profile/add", headers=auth).status_code == 405  # PATCH only
    allow = client.options("/profile/1/2").headers["allow"].split(", ")
    assert "HEAD" in allow and "GET" in allow
    admin = make_key(scopes=(*keys.DEFAULT_SCOPES, "admin"))
    metrics = client.get("/metrics", headers=admin).text  # counted as HEADs, on their routes
    assert (
        'voiceprofile_requests_total{method="HEAD",route="/transaction",status="200"} 1.0'
        in metrics
    )


def test_the_real_server_answers_head_and_keeps_the_connection(server: Server) -> None:
    """granian frames a HEAD answer by its headers alone: the next request on the same
    connection is read as a request, not taken for the first one's body."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"HEAD /health HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n"
        )
        data = b""
        while data.count(b"HTTP/1.1 ") < 2 or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
    first, second = data.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200 ") and first.endswith(b"\r\n\r\n"), first
    assert second.startswith(b"200 ") and b'"status"' in second, second
