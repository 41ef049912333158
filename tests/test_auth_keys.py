"""The keys API (SPEC §4, §10): a key sees itself never its secret, token reset, admin
creating, listing, revoking keys and choosing scopes, keys random and stored only as
hashes, and the key cache under revokes and made-up keys."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.engine import open_engine
from storage.queries import keys
from tests import backend
from tests.auth_helpers import assert_error
from tests.conftest import BOT

# -- the keys API ----------------------------------------------------------------------------


@pytest.fixture
def cached_client(db_path: Path) -> Iterator[TestClient]:
    """The app with a long key cache, as in production: revocation and rotation must
    still take effect at once."""
    settings = Settings(db=backend.target(db_path), key_cache_seconds=60.0)
    with TestClient(create_app(settings)) as c:
        yield c


KEY_FIELDS = {"id", "name", "bot_id", "scopes", "created_at", "revoked_at"}


def test_me_shows_the_key_never_its_secret(
    client: TestClient, make_key: Callable[..., dict], db: backend.Connection
) -> None:
    headers = make_key(scopes=("profiles:read",), name="mybot")
    r = client.get("/auth/me", headers=headers)
    assert r.status_code == 200
    me = r.json()
    assert set(me) == KEY_FIELDS
    assert (me["name"], me["bot_id"], me["scopes"], me["revoked_at"]) == (
        "mybot",
        BOT,
        ["profiles:read"],
        None,
    )
    secret = headers["Authorization"]
    stored = db.execute("SELECT hash FROM api_keys WHERE id = ?", (me["id"],)).fetchone()[0]
    assert secret not in r.text and secret[4:] not in r.text
    assert stored.hex() not in r.text


def test_a_key_with_no_scope_can_still_see_itself(
    client: TestClient, make_key: Callable[..., dict]
) -> None:
    headers = make_key(scopes=())
    assert client.get("/auth/me", headers=headers).json()["scopes"] == []
    assert (
        client.get("/profile", headers=headers).json()["message"] == "missing scope profiles:read"
    )


def test_reset_token_rotates_at_once(
    cached_client: TestClient, make_key: Callable[..., dict]
) -> None:
    old = make_key()
    me = cached_client.get("/auth/me", headers=old).json()  # now cached for 60 s
    r = cached_client.post("/auth/reset_token", headers=old)
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert set(rotated) == {*KEY_FIELDS, "key"}
    assert rotated["id"] == me["id"] and rotated["key"] != old["Authorization"]
    assert_error(cached_client.get("/auth/me", headers=old), 401, "unauthorized")
    assert_error(cached_client.post("/auth/reset_token", headers=old), 401, "unauthorized")
    new = {"Authorization": f"Bearer {rotated['key']}"}
    assert cached_client.get("/auth/me", headers=new).json()["id"] == me["id"]


def test_admin_creates_lists_and_revokes_keys(
    cached_client: TestClient, make_key: Callable[..., dict]
) -> None:
    admin = make_key(scopes=keys.SCOPES, name="admin")
    r = cached_client.post(
        "/keys", json={"name": "bot", "bot_id": 123456789012345678}, headers=admin
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert set(created) == {*KEY_FIELDS, "key"}
    assert created["bot_id"] == "123456789012345678"
    assert created["scopes"] == list(keys.DEFAULT_SCOPES)  # all but admin
    new = {"Authorization": created["key"]}
    assert cached_client.get("/auth/me", headers=new).json()["id"] == created["id"]

    listed = cached_client.get("/keys", headers=admin)
    assert listed.status_code == 200
    assert [k["name"] for k in listed.json()] == ["admin", "bot"]
    assert all(set(k) == KEY_FIELDS for k in listed.json())
    assert created["key"] not in listed.text and admin["Authorization"] not in listed.text

    revoked = cached_client.delete(f"/keys/{created['id']}", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    body = assert_error(cached_client.get("/auth/me", headers=new), 401, "unauthorized")
    assert "revoked" in body["message"]
    again = cached_client.delete(f"/keys/{created['id']}", headers=admin)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    states = {
        k["name"]: k["revoked_at"] is not None
        for k in cached_client.get("/keys", headers=admin).json()
    }
    assert states == {"admin": False, "bot": True}


@pytest.mark.parametrize(
    ("body", "scopes"),
    [
        ({"name": "n", "bot_id": "1", "scopes": ["admin"]}, ["admin"]),
        (
            {"name": "n", "bot_id": "1", "scopes": ["ledger:read", "profiles:read"]},
            ["profiles:read", "ledger:read"],
        ),
        ({"name": "n", "bot_id": "1", "scopes": []}, []),
    ],
)
def test_admin_chooses_scopes(
    client: TestClient, make_key: Callable[..., dict], body: dict, scopes: list
) -> None:
    r = client.post("/keys", json=body, headers=make_key(scopes=("admin",)))
    assert (r.status_code, r.json()["scopes"]) == (201, scopes)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "bot_id": "1"}, "name"),
        ({"name": "n" * 101, "bot_id": "1"}, "name"),
        ({"bot_id": "1"}, "name"),
        ({"name": "n"}, "bot_id"),
        ({"name": "n", "bot_id": "abc"}, "bot_id"),
        ({"name": "n", "bot_id": 2**64}, "bot_id"),
        ({"name": "n", "bot_id": "18446744073709551616"}, "bot_id"),
        ({"name": "n", "bot_id": -1}, "bot_id"),
        ({"name": "n", "bot_id": "1", "scopes": ["nope"]}, "scopes[0]"),
        ({"name": "n", "bot_id": "1", "scopes": "admin"}, "scopes"),
        ({"name": "n", "bot_id": "1", "admin": True}, "admin"),
        ({"name": 5, "bot_id": "1"}, "name"),
    ],
)
def test_key_creation_validates_fields(
    client: TestClient,
    make_key: Callable[..., dict],
    db: backend.Connection,
    body: dict,
    field: str,
) -> None:
    admin = make_key(scopes=("admin",))
    r = client.post("/keys", json=body, headers=admin)
    err = assert_error(r, 422, "validation_error")
    assert err["errors"][0]["field"] == field
    assert db.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("DELETE", "/keys/999", 404, "key_not_found"),
        ("DELETE", f"/keys/{2**70}", 404, "key_not_found"),
        ("DELETE", "/keys/x", 404, "not_found"),
    ],
)
def test_revoking_an_unknown_key_is_404(
    client: TestClient,
    make_key: Callable[..., dict],
    method: str,
    path: str,
    status: int,
    code: str,
) -> None:
    assert_error(client.request(method, path, headers=make_key(scopes=("admin",))), status, code)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/keys"), ("POST", "/keys"), ("DELETE", "/keys/1")]
)
def test_key_administration_needs_admin(
    client: TestClient, make_key: Callable[..., dict], method: str, path: str
) -> None:
    r = client.request(method, path, json={"name": "n", "bot_id": "1"}, headers=make_key())
    assert assert_error(r, 403, "forbidden")["message"] == "missing scope admin"


def _every_row(db_path: Path) -> list[tuple]:
    """Every row of every table of the test database, as the engine returns it."""
    engine = open_engine(backend.target(db_path))
    conn = engine.connect(readonly=True)
    try:
        return [
            row for table in engine.tables(conn) for row in conn.execute(f"SELECT * FROM {table}")
        ]
    finally:
        conn.close()


def test_keys_are_random_and_stored_only_as_hashes(
    client: TestClient, make_key: Callable[..., dict], db: backend.Connection, db_path: Path
) -> None:
    admin = make_key(scopes=keys.SCOPES)
    secrets = [admin["Authorization"]]
    for i in range(3):
        secrets.append(
            client.post("/keys", json={"name": f"k{i}", "bot_id": 1}, headers=admin).json()["key"]
        )
    assert len(set(secrets)) == len(secrets)
    for secret in secrets:
        assert re.fullmatch(r"vps_[A-Za-z0-9_-]{43}", secret), secret
        assert len(base64.urlsafe_b64decode(secret[4:] + "=")) >= 32  # ≥ 32 random bytes
    rows = db.execute("SELECT * FROM api_keys").fetchall()
    hashes = {row[3] for row in rows}
    assert hashes == {hashlib.sha256(s.encode()).digest() for s in secrets}
    dump = "\n".join(map(repr, _every_row(db_path)))
    for secret in secrets:
        assert secret not in dump and secret[4:] not in dump


def test_a_lookup_in_flight_during_a_revoke_does_not_cache_the_old_key() -> None:
    """The middleware reads a key, the key is revoked, then the read's answer arrives:
    caching it would let the revoked key work for the cache's lifetime."""
    from app.services import KeyCache

    cache = KeyCache(ttl=60.0)
    info = keys.KeyInfo(7, "k", BOT, keys.DEFAULT_SCOPES, 0.0)
    ticket = cache.ticket()  # the lookup starts
    cache.forget(7)  # revoked/rotated and forgotten meanwhile
    cache.put(b"digest", info, ticket)  # the lookup's stale answer
    assert cache.get(b"digest") is None
    cache.put(b"digest", info, cache.ticket())  # a lookup started after the forget
    assert cache.get(b"digest") == info
    cache.forget(7)
    assert cache.get(b"digest") is None


def test_a_key_forgotten_by_another_process_of_the_host_is_forgotten_here(
    tmp_path: Path,
) -> None:
    """Two processes' caches over one host counter (storage/engine/host.py): a
    forget in either empties the other's at its next look, a lookup in flight
    meanwhile included, and two forgets at once are both seen."""
    from app.services import KeyCache
    from storage.engine.host import HostCounter

    here, there = (KeyCache(ttl=60.0, news=HostCounter(tmp_path / "keys.count")) for _ in "ab")
    info = keys.KeyInfo(7, "k", BOT, keys.DEFAULT_SCOPES, 0.0)
    for cache in (here, there):
        cache.put(b"digest", info, cache.ticket())
    ticket = here.ticket()  # a lookup starts here...
    there.forget(7)  # ...the key is rotated through the other process
    assert here.get(b"digest") is None
    here.put(b"digest", info, ticket)  # the lookup's stale answer is not kept
    assert here.get(b"digest") is None
    here.put(b"digest", info, here.ticket())
    there.put(b"digest", info, there.ticket())
    third = KeyCache(ttl=60.0, news=HostCounter(tmp_path / "keys.count"))
    third.forget(8)  # another process forgets a key while this one forgets its own
    here.forget(9)
    assert (here.get(b"digest"), there.get(b"digest")) == (None, None)


def test_made_up_keys_do_not_grow_the_header_cache() -> None:
    """A request's Authorization header is parsed and hashed once and remembered by
    value; a client sending a new made-up value every time must not grow the
    server's memory without end, and each value still gets its own digest."""
    from app import auth

    for i in range(auth._DIGESTS_MAX * 2 + 1):
        header = f"Bearer made-up-{i}"
        scope = {"headers": [(b"host", b"x"), (b"authorization", header.encode())]}
        assert auth.presented_key(scope) == (header, keys.hash_secret(f"made-up-{i}"))
    assert len(auth._DIGESTS) <= auth._DIGESTS_MAX
    assert auth.presented_key({"headers": [(b"host", b"x")]}) is None
