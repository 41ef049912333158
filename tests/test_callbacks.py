"""Callbacks (SPEC §10): registration, the outbox written with the change, signed
delivery to a real HTTP receiver on 127.0.0.1, retries, and survival of a restart."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.engine.migrations import apply_migrations
from storage.queries import keys, outbox
from storage.queries.outbox import prune
from tests import backend
from tests.conftest import BOT, OTHER_BOT, free_port, start_server
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


# -- registration -----------------------------------------------------------------------


def test_register_list_get_replace_delete(client: TestClient, auth: dict) -> None:
    assert client.get("/callbacks", headers=auth).json() == []
    _register(client, auth, "transaction", "http://127.0.0.1:1/a")
    _register(client, auth, "profile.create", "https://example.invalid/b")
    _register(client, auth, "transaction", "http://127.0.0.1:1/c")  # replaces
    listed = client.get("/callbacks", headers=auth).json()
    assert [(c["event"], c["url"]) for c in listed] == [
        ("profile.create", "https://example.invalid/b"),
        ("transaction", "http://127.0.0.1:1/c"),
    ]
    assert all("secret" not in c for c in listed)  # write-only
    one = client.get("/callback/transaction", headers=auth).json()
    assert one["url"] == "http://127.0.0.1:1/c"
    assert client.delete("/callback/transaction", headers=auth).status_code == 204
    r = client.get("/callback/transaction", headers=auth)
    assert (r.status_code, r.json()["code"]) == (404, "callback_not_found")
    assert client.delete("/callback/transaction", headers=auth).status_code == 404


def test_callbacks_are_per_bot(client: TestClient, auth: dict, make_key) -> None:
    other = make_key(OTHER_BOT)
    _register(client, auth, "transaction", "http://127.0.0.1:1/a")
    assert client.get("/callbacks", headers=other).json() == []
    assert client.get("/callback/transaction", headers=other).status_code == 404


@pytest.mark.parametrize(
    ("event", "body", "status", "field"),
    [
        ("nope", {"url": "http://x.test/", "secret": "s"}, 422, "event"),
        ("transaction", {"url": "ftp://x.test/", "secret": "s"}, 422, "url"),
        ("transaction", {"url": "not a url", "secret": "s"}, 422, "url"),
        ("transaction", {"url": "http://x.test/", "secret": ""}, 422, "secret"),
        ("transaction", {"url": "http://x.test/"}, 422, "secret"),  # missing
        ("transaction", {"url": "http://x.test/", "secret": "s", "x": 1}, 422, "x"),
    ],
)
def test_bad_registrations_are_refused(
    client: TestClient, auth: dict, event: str, body: dict, status: int, field: str
) -> None:
    r = client.put(f"/callback/{event}", json=body, headers=auth)
    assert r.status_code == status, r.text
    error = r.json()["errors"][0]
    assert field in (
        error["field"],
        error["message"].split("`")[1::2][0] if "`" in error["message"] else "",
    )


def test_callbacks_need_a_key(client: TestClient) -> None:
    assert client.get("/callbacks").status_code == 401


# -- the outbox ---------------------------------------------------------------------------


def test_no_outbox_row_without_a_callback(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    _profile(client, auth, 2)
    _pay(client, auth, 2, 5)
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_refused_change_writes_no_event(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    _register(client, auth, "transaction", "http://127.0.0.1:1/never")
    _profile(client, auth, 2)
    body = [
        {"from": "self", "to": {"guild_id": 1, "user_id": 2}, "amount": 5},
        {"from": {"guild_id": 1, "user_id": 2}, "to": "self", "amount": 500},  # overdraws
    ]
    assert client.post("/transaction", json=body, headers=auth).status_code == 409
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


# -- delivery -----------------------------------------------------------------------------


def _verify(headers: dict[str, str], body: bytes) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Signature"], expected)


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


def _outbox_row(db_path: Path, seconds: float = 10) -> tuple:
    """The single outbox row once it is finished (delivered or given up)."""
    deadline = time.monotonic() + seconds
    while True:
        conn = backend.connect(db_path)
        try:
            row = conn.execute("SELECT attempts, delivered, done_at, error FROM outbox").fetchone()
        finally:
            conn.close()
        if (row is not None and row[2] is not None) or time.monotonic() > deadline:
            return row
        time.sleep(0.02)


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
        attempts, delivered, done_at, error = _outbox_row(db_path)
    assert (attempts, delivered, error) == (3, 0, "HTTP 500")
    assert done_at is not None and receiver.attempts == 3


def test_deleting_the_callback_drops_its_pending_events(
    client: TestClient, auth: dict, db_path: Path
) -> None:
    _register(client, auth, "profile.create", f"http://127.0.0.1:{free_port()}/nobody")
    _profile(client, auth, 2)
    assert client.delete("/callback/profile.create", headers=auth).status_code == 204
    _attempts, delivered, done_at, error = _outbox_row(db_path)
    assert (delivered, error) == (0, "callback deleted") and done_at is not None


@pytest.mark.parametrize("name", ["retry_base", "retry_max", "max_attempts", "timeout", "poll"])
def test_a_bad_delivery_option_stops_the_start(db_path: Path, name: str) -> None:
    for bad in ("soon", "-1"):
        with pytest.raises(SystemExit, match=f"VOICEPROFILE_CALLBACK_{name.upper()}"):
            Settings.from_env(
                {"VOICEPROFILE_DB": str(db_path), f"VOICEPROFILE_CALLBACK_{name.upper()}": bad}
            )


# -- the `callbacks` scope ----------------------------------------------------------------

CALLBACK_ROUTES = [
    ("GET", "/callbacks"),
    ("GET", "/callback/transaction"),
    ("PUT", "/callback/transaction"),
    ("DELETE", "/callback/transaction"),
]


@pytest.mark.parametrize(("method", "path"), CALLBACK_ROUTES)
def test_managing_callbacks_needs_the_callbacks_scope(
    client: TestClient, make_key, method: str, path: str
) -> None:
    """A key narrowed to other scopes cannot see, replace or remove where its bot's
    events go (a PUT could have redirected its transaction events)."""
    owner = make_key()
    _register(client, owner, "transaction", "http://127.0.0.1:1/a")
    others = tuple(s for s in keys.SCOPES if s != "callbacks")
    for scopes in [(), others]:
        narrow = make_key(scopes=scopes)
        body = {"url": "http://127.0.0.1:2/evil", "secret": "x"} if method == "PUT" else None
        r = client.request(method, path, json=body, headers=narrow)
        assert r.status_code == 403, r.text
        assert r.json()["message"] == "missing scope callbacks"
    listed = client.get("/callbacks", headers=make_key(scopes=("callbacks",))).json()
    assert [(c["event"], c["url"]) for c in listed] == [("transaction", "http://127.0.0.1:1/a")]


def test_new_keys_get_the_callbacks_scope(client: TestClient, make_key) -> None:
    admin = make_key(scopes=keys.SCOPES)
    created = client.post("/keys", json={"name": "bot", "bot_id": BOT}, headers=admin).json()
    assert "callbacks" in created["scopes"] and "admin" not in created["scopes"]


def test_the_migration_gives_callbacks_to_keys_with_every_other_scope(tmp_path: Path) -> None:
    """Keys made before the scope existed: those with every non-admin scope (the
    default) keep managing callbacks; deliberately narrowed ones do not start to."""
    conn = backend.connect(tmp_path / "old.db")
    apply_migrations(conn)
    old_default = "profiles:read profiles:write ledger:read ledger:write reputation settings"
    before = {
        "default": old_default,
        "admin": old_default + " admin",
        "narrow": "profiles:read ledger:read",
        "none": "",
        "admin only": "admin",
    }
    for name, scopes in before.items():
        conn.execute(
            "INSERT INTO api_keys (name, bot_id, hash, scopes, created_at) VALUES (?, ?, ?, ?, 0)",
            (name, "1", name.encode(), scopes),
        )
    conn.execute("DELETE FROM migrations WHERE id = 7")
    assert apply_migrations(conn) == ["0007_callbacks_scope"]
    after = dict(conn.execute("SELECT name, scopes FROM api_keys").fetchall())
    conn.close()
    later = {
        "economy",
        "images",
    }  # given by migrations 0009 and 0011, which this test does not run again
    assert after == {
        "default": " ".join(s for s in keys.DEFAULT_SCOPES if s not in later),
        "admin": " ".join(s for s in keys.SCOPES if s not in later),
        "narrow": "profiles:read ledger:read",
        "none": "",
        "admin only": "admin",
    }


def test_finished_events_are_pruned_a_bounded_chunk_at_a_time(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events finished over a day ago are forgotten, at most 1000 per write
    transaction (a busy day's events must not make one long DELETE that stalls
    every write); the recent and the pending stay."""
    conn = backend.connect(db_path)
    apply_migrations(conn)
    day_ago = time.time() - 24 * 3600
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO outbox (bot_id, event, body, created_at, next_at, done_at, delivered)"
        " VALUES ('1', 'transaction', ?, 0, 0, ?, 1)",
        [(b"{}", day_ago - 3600 + n / 1000) for n in range(2500)] + [(b"{}", day_ago + 60)],
    )
    conn.execute(
        "INSERT INTO outbox (bot_id, event, body, created_at, next_at) VALUES"
        " ('1', 'transaction', ?, 0, ?)",
        (b"{}", time.time() + 3600),
    )
    conn.execute("COMMIT")
    conn.close()
    deleted: list[int] = []

    def counted(ctx, older):  # type: ignore[no-untyped-def]
        deleted.append(prune(ctx, older))
        return deleted[-1]

    monkeypatch.setattr(outbox, "prune", counted)
    with TestClient(create_app(Settings(db=backend.target(db_path), callback_poll=0.05))):
        deadline = time.monotonic() + 20
        while sum(deleted) < 2500 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert deleted == [1000, 1000, 500]
    conn = backend.connect(db_path)
    left = conn.execute("SELECT count(*), count(done_at) FROM outbox").fetchone()
    conn.close()
    assert left == (2, 1)


def test_a_season_end_is_an_event_once(
    client: TestClient, auth: dict, receiver: Receiver, db: backend.Connection
) -> None:
    _register(client, auth, "season.end", receiver.url)
    _profile(client, auth, 2, 5)
    body = {"name": "spring", "reset": ["experience", "voicepoints"]}
    r = client.post("/profile/1/seasons", json=body, headers=auth)
    assert r.status_code == 201, r.text
    # the same name again finds the season: no second event
    assert client.post("/profile/1/seasons", json=body, headers=auth).status_code == 200
    client.post("/profile/1/seasons", json={"name": "summer"}, headers=auth)
    events = receiver.wait_for(2)
    assert [e["event"] for e in events] == ["season.end", "season.end"]
    assert events[0]["data"] == r.json() and events[0]["data"]["voicepoints"] == 5
    assert events[1]["data"]["number"] == 2
    for headers, raw in receiver.received:
        assert _verify(headers, raw), headers
    assert db.execute("SELECT count(*) FROM outbox WHERE event = 'season.end'").fetchone()[0] == 2
