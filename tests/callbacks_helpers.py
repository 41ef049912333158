"""What the callback tests share: the signing secret, a real receiver on 127.0.0.1 (the
`receiver` fixture), settings that deliver to it, and calls that register a callback,
create a profile and pay, and checking a signature."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from tests import backend
from tests.conftest import free_port
from tests.receivers import Receiver

SECRET = "s3cret-for-tests"
LOCAL = ("127.0.0.1",)  # the receivers here are local: not a public address


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(free_port()).start()
    yield r
    r.stop()


@pytest.fixture
def settings(db_path: Path) -> Settings:
    # Fast retries so the retry test takes a fraction of a second.
    return Settings(
        db=backend.target(db_path),
        key_cache_seconds=0.0,
        allow_hosts=LOCAL,
        callback_retry_base=0.05,
        callback_poll=0.1,
    )


def _register(client: TestClient, auth: dict, event: str, url: str) -> None:
    r = client.put(f"/callback/{event}", json={"url": url, "secret": SECRET}, headers=auth)
    assert r.status_code == 200, r.text


def _profile(client: TestClient, auth: dict, user: int, points: int = 0) -> None:
    r = client.post(f"/profile/1/{user}", json={"voicepoints": points}, headers=auth)
    assert r.status_code in (200, 201), r.text


def _pay(client: TestClient, auth: dict, user: int, amount: int) -> dict:
    body = {"from": "self", "to": {"guild_id": 1, "user_id": user}, "amount": amount}
    r = client.post("/transaction", json=body, headers=auth)
    assert r.status_code == 201, r.text
    return r.json()


def _verify(headers: dict[str, str], body: bytes) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Signature"], expected)


def finished_outbox_row(db_path: Path, seconds: float) -> tuple | None:
    """The single outbox row once it is finished (delivered or given up), or as it
    is after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        conn = backend.connect(db_path)
        try:
            row = conn.execute("SELECT attempts, delivered, done_at, error FROM outbox").fetchone()
        finally:
            conn.close()
        if (row is not None and row[2] is not None) or time.monotonic() > deadline:
            return row  # type: ignore[no-any-return]
        time.sleep(0.02)
