"""Callbacks (SPEC §10): signed delivery to a real HTTP receiver on 127.0.0.1, what the
events carry, retries, survival of a restart, giving up after the last attempt, and the
delivery options."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from tests import backend, callbacks_helpers
from tests.callbacks_helpers import (
    LOCAL,
    SECRET,
    _pay,
    _profile,
    _register,
    _verify,
    finished_outbox_row,
)
from tests.conftest import BOT, OTHER_BOT, free_port, start_server
from tests.receivers import Receiver

receiver = callbacks_helpers.receiver  # a fixture shared by several modules
settings = callbacks_helpers.settings  # a fixture shared by several modules


# -- delivery -----------------------------------------------------------------------------


def test_events_are_signed_and_carry_the_change(
    client: TestClient, auth: dict, receiver: Receiver
) -> None:
    for event in ("transaction", "profile.create", "profile.reset", "profile.delete"):
        _register(client, auth, event, receiver.url)
    _profile(client, auth, 2)  # create
    tx = _pay(client, auth, 2, 7)
    _profile(client, auth, 2, 3)  # reset (posts a reset entry, not a transaction event)
    assert client.delete("/profile/1/2", headers=auth).status_code == 204
    events = receiver.wait_for(4)
    by_event = {e["event"]: e for e in events}
    assert sorted(by_event) == ["profile.create", "profile.delete", "profile.reset", "transaction"]
    for headers, body in receiver.received:
        assert _verify(headers, body), headers
    assert by_event["transaction"]["data"] == tx
    assert by_event["profile.reset"]["data"]["voicepoints"] == 3
    assert by_event["profile.delete"]["data"] == {
        "id": tx["to"]["id"],
        "guild_id": "1",
        "user_id": "2",
    }
    assert all(isinstance(e["timestamp"], float) for e in events)


def test_reputation_changes_are_events(client: TestClient, auth: dict, receiver: Receiver) -> None:
    _register(client, auth, "reputation", receiver.url)
    given = client.post(f"/reputation/{BOT}/20", json={"source_user": "10"}, headers=auth)
    assert given.status_code == 200
    refused = client.post(f"/reputation/{BOT}/20", json={"source_user": "20"}, headers=auth)
    assert refused.status_code == 400  # self-reputation: no event
    raised = client.post(f"/reputation/{BOT}/20/increase", json={"increase": 4}, headers=auth)
    assert raised.status_code == 200
    events = receiver.wait_for(2)
    assert [e["event"] for e in events] == ["reputation", "reputation"]
    assert sorted((e["data"] for e in events), key=lambda d: d["action"]) == [
        {"action": "give", "botId": BOT, "userId": "20", "reputation": 1, "sourceUser": "10"},
        {"action": "increase", "botId": BOT, "userId": "20", "reputation": 5},
    ]
    for headers, body in receiver.received:
        assert _verify(headers, body), headers


def test_a_tampered_body_fails_the_signature(
    client: TestClient, auth: dict, receiver: Receiver
) -> None:
    _register(client, auth, "profile.create", receiver.url)
    _profile(client, auth, 2)
    receiver.wait_for(1)
    headers, body = receiver.received[0]
    assert _verify(headers, body)
    assert not _verify(headers, body.replace(b'"1"', b'"9"'))


def test_a_treasury_side_tells_its_bot_too(
    client: TestClient, auth: dict, make_key, receiver: Receiver
) -> None:
    other = make_key(OTHER_BOT)
    _register(client, other, "transaction", receiver.url)
    _profile(client, other, 3, 1)  # opens the other bot's treasury
    other_treasury = hashlib.sha256(f"bot:{int(OTHER_BOT)}".encode()).hexdigest()
    body = {"from": "self", "to": other_treasury, "amount": 4}
    assert client.post("/transaction", json=body, headers=auth).status_code == 201
    (event,) = receiver.wait_for(1)
    assert event["data"]["bot_id"] == BOT
    assert event["data"]["to"]["bot_id"] == OTHER_BOT


def test_retried_after_the_receiver_fails(
    client: TestClient, auth: dict, receiver: Receiver, db: backend.Connection
) -> None:
    receiver.fail = 2
    _register(client, auth, "transaction", receiver.url)
    _profile(client, auth, 2)
    tx = _pay(client, auth, 2, 9)
    (event,) = receiver.wait_for(1)
    assert event["data"]["id"] == tx["id"]
    assert receiver.attempts == 3
    deadline = time.monotonic() + 10
    row = None
    while time.monotonic() < deadline:
        row = db.execute("SELECT attempts, delivered FROM outbox").fetchone()
        if row[1]:
            break
        time.sleep(0.02)
    assert row == (3, 1)


def test_delivered_after_a_server_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Receiver down while the change is made and the server stops; the event is in
    the database and arrives once both are back."""
    monkeypatch.setenv("VOICEPROFILE_CALLBACK_RETRY_BASE", "0.05")
    monkeypatch.setenv("VOICEPROFILE_CALLBACK_RETRY_MAX", "0.2")
    monkeypatch.setenv("VOICEPROFILE_CALLBACK_POLL", "0.1")
    monkeypatch.setenv("VOICEPROFILE_CALLBACK_MAX_ATTEMPTS", "100000")  # never given up here
    monkeypatch.setenv("VOICEPROFILE_ALLOW_HOSTS", "127.0.0.1")
    receiver = Receiver(free_port())
    db, log = tmp_path / "s.db", tmp_path / "s.log"
    server = start_server(db, log)
    try:
        with server.client() as http:
            r = http.put("/callback/transaction", json={"url": receiver.url, "secret": SECRET})
            assert r.status_code == 200, r.text
            assert http.post("/profile/1/2").status_code == 201
            body = {"from": "self", "to": {"guild_id": 1, "user_id": 2}, "amount": 11}
            tx = http.post("/transaction", json=body).json()
    finally:
        assert server.stop() == 0
    conn = backend.connect(db)
    pending = conn.execute("SELECT count(*) FROM outbox WHERE done_at IS NULL").fetchone()[0]
    conn.close()
    assert pending == 1
    receiver.start()
    server = start_server(db, tmp_path / "s2.log")
    try:
        (event,) = receiver.wait_for(1)
        assert event["data"] == tx
        assert _verify(*receiver.received[0])
    finally:
        server.stop()
        receiver.stop()


def test_the_readme_verification_snippet_accepts_our_signature() -> None:
    """The receiver code in README "Callbacks" works on what the server sends."""
    from app.delivery import sign

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    snippet = readme.split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec(snippet, scope)
    body = b'{"event":"transaction","timestamp":1.5,"data":{"id":1}}'
    secret = scope["SECRET"].decode()
    assert scope["verify"](body, sign(secret, body)) == {
        "event": "transaction",
        "timestamp": 1.5,
        "data": {"id": 1},
    }
    with pytest.raises(PermissionError):
        scope["verify"](body + b" ", sign(secret, body))


def test_given_up_after_the_last_attempt(db_path: Path, make_key, receiver: Receiver) -> None:
    receiver.fail = 10**6
    settings = Settings(
        db=backend.target(db_path),
        allow_hosts=LOCAL,
        callback_retry_base=0.01,
        callback_poll=0.05,
        callback_max_attempts=3,
    )
    with TestClient(create_app(settings)) as client:
        auth = make_key()
        _register(client, auth, "profile.create", receiver.url)
        _profile(client, auth, 2)
        attempts, delivered, done_at, error = finished_outbox_row(db_path, 10)
    assert (attempts, delivered, error) == (3, 0, "HTTP 500")
    assert done_at is not None and receiver.attempts == 3


def test_deleting_the_callback_drops_its_pending_events(
    client: TestClient, auth: dict, db_path: Path
) -> None:
    _register(client, auth, "profile.create", f"http://127.0.0.1:{free_port()}/nobody")
    _profile(client, auth, 2)
    assert client.delete("/callback/profile.create", headers=auth).status_code == 204
    _attempts, delivered, done_at, error = finished_outbox_row(db_path, 10)
    assert (delivered, error) == (0, "callback deleted") and done_at is not None


@pytest.mark.parametrize("name", ["retry_base", "retry_max", "max_attempts", "timeout", "poll"])
def test_a_bad_delivery_option_stops_the_start(db_path: Path, name: str) -> None:
    for bad in ("soon", "-1"):
        with pytest.raises(SystemExit, match=f"VOICEPROFILE_CALLBACK_{name.upper()}"):
            Settings.from_env(
                {"VOICEPROFILE_DB": str(db_path), f"VOICEPROFILE_CALLBACK_{name.upper()}": bad}
            )
