"""Callbacks (SPEC §10): registration, the outbox written with the change, the `callbacks`
scope, pruning finished events, a season end as one event. Signed delivery to a real
HTTP receiver, retries and restarts are in test_callbacks_delivery.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.engine.migrations import apply_migrations
from storage.queries import keys, outbox
from storage.queries.outbox import prune
from tests import backend, callbacks_helpers
from tests.callbacks_helpers import _pay, _profile, _register, _verify
from tests.conftest import BOT, OTHER_BOT
from tests.receivers import Receiver

receiver = callbacks_helpers.receiver  # a fixture shared by several modules
settings = callbacks_helpers.settings  # a fixture shared by several modules


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
