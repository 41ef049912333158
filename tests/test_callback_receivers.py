"""A receiver cannot hurt the server or other bots (issue 10, finding 1): a huge
answer is not read, an attempt has one deadline for everything, and a receiver
that never answers (or drips its answer) holds up only its own events."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app import delivery
from app.config import Settings
from app.main import create_app
from tests import backend
from tests.conftest import OTHER_BOT, free_port
from tests.receivers import BadReceiver, Receiver

SECRET = "s3cret-for-tests"
LOCAL = ("127.0.0.1",)


def _app(db_path: Path, timeout: float) -> TestClient:
    settings = Settings(
        db=backend.target(db_path),
        key_cache_seconds=0.0,
        allow_hosts=LOCAL,
        callback_retry_base=0.05,
        callback_retry_max=0.2,
        callback_poll=0.1,
        callback_timeout=timeout,
        callback_max_attempts=1000,
    )
    return TestClient(create_app(settings))


def _register(client: TestClient, auth: dict, url: str) -> None:
    body = {"url": url, "secret": SECRET}
    r = client.put("/callback/profile.create", json=body, headers=auth)
    assert r.status_code == 200, r.text


def _create(client: TestClient, auth: dict, user: int) -> None:
    assert client.post(f"/profile/1/{user}", headers=auth).status_code == 201


def _rows(db_path: Path) -> list[tuple]:
    conn = backend.connect(db_path)
    try:
        return conn.execute("SELECT attempts, delivered, error FROM outbox ORDER BY id").fetchall()
    finally:
        conn.close()


def _wait_rows(db_path: Path, ok: Callable[[list[tuple]], bool], seconds: float = 20) -> list:
    deadline = time.monotonic() + seconds
    rows = _rows(db_path)
    while not ok(rows) and time.monotonic() < deadline:
        time.sleep(0.05)
        rows = _rows(db_path)
    return rows


@pytest.fixture
def bad(request: pytest.FixtureRequest) -> Iterator[BadReceiver]:
    receiver = BadReceiver(request.param).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def good() -> Iterator[Receiver]:
    receiver = Receiver(free_port()).start()
    yield receiver
    receiver.stop()


@pytest.mark.parametrize("bad", ["huge"], indirect=True)
def test_a_huge_answer_is_not_read(db_path: Path, make_key, bad: BadReceiver) -> None:
    """A 200 with a 64 MB body is a delivery, and the server reads a few KB of it:
    what the receiver could push before the server closed is bounded by socket
    buffers, not by the body (it used to be read whole, in memory)."""
    with _app(db_path, timeout=30) as client:
        auth = make_key()
        _register(client, auth, bad.url)
        _create(client, auth, 2)
        rows = _wait_rows(db_path, lambda rows: bool(rows) and rows[0][1] == 1)
        assert rows == [(1, 1, None)]
        assert bad.wait("closed", 1) == 1
    assert bad.sent < 8 * 1024 * 1024, bad.sent  # of 64 MB


@pytest.mark.parametrize("bad", ["silent", "drip"], indirect=True)
def test_a_stuck_receiver_does_not_hold_up_another_bot(
    db_path: Path, make_key, bad: BadReceiver, good: Receiver
) -> None:
    """Bot A's receiver takes the request and never finishes answering; bot B's
    event, made while A's attempt hangs, still arrives at once. (The deadline is
    long here on purpose: B must not be waiting for it.)"""
    with _app(db_path, timeout=120) as client:
        stuck, other = make_key(), make_key(OTHER_BOT)
        _register(client, stuck, bad.url)
        _register(client, other, good.url)
        _create(client, stuck, 2)
        assert bad.wait("requests", 1) == 1  # A's attempt hangs now
        _create(client, other, 12)
        events = good.wait_for(1)
        assert [(e["event"], e["data"]["user_id"]) for e in events] == [("profile.create", "12")]
        for user in range(3, 6):  # more of A's events hang too; B's keep arriving
            _create(client, stuck, user)
        assert bad.wait("requests", 4) == 4
        for user in range(13, 16):
            _create(client, other, user)
        assert len(good.wait_for(4)) == 4
        assert bad.requests == 4  # each of A's events in flight once, not sent again


@pytest.mark.parametrize("bad", ["silent", "drip"], indirect=True)
def test_an_attempt_ends_at_its_deadline_and_is_retried(
    db_path: Path, make_key, bad: BadReceiver
) -> None:
    """The deadline covers the whole attempt: a receiver dripping a byte every
    0.2 s never lets a per-read timeout fire, yet the attempt ends after 1 s."""
    with _app(db_path, timeout=1) as client:
        auth = make_key()
        _register(client, auth, bad.url)
        _create(client, auth, 2)
        assert bad.wait("requests", 3) >= 3  # the first two attempts ended
        rows = _wait_rows(db_path, lambda rows: bool(rows) and rows[0][0] >= 2)
        attempts, delivered, error = rows[0]
        assert attempts >= 2 and delivered == 0
        assert error == "no complete answer within 1 s"


@pytest.mark.parametrize("bad", ["silent"], indirect=True)
def test_stuck_bots_filling_every_slot_do_not_hold_up_another_bot(
    db_path: Path, make_key, bad: BadReceiver, good: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several bots whose receivers hang can fill the server's whole limit of
    attempts in flight (here 1 stands for 64 = 4 bots x 16): a bot with nothing in
    flight still gets one attempt, so its events arrive at once."""
    monkeypatch.setattr(delivery, "TOTAL", 1)
    with _app(db_path, timeout=120) as client:
        stuck, other = make_key(), make_key(OTHER_BOT)
        _register(client, stuck, bad.url)
        _register(client, other, good.url)
        _create(client, stuck, 2)
        assert bad.wait("requests", 1) == 1  # the only slot of the limit hangs now
        _create(client, other, 12)
        _create(client, stuck, 3)  # the stuck bot gets no second one past the limit
        events = good.wait_for(1)
        assert [(e["event"], e["data"]["user_id"]) for e in events] == [("profile.create", "12")]
        assert bad.requests == 1
