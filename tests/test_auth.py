"""Keys, auth and scopes (SPEC §4, §10), for every route the app serves: the matrix of
routes, scopes and keys. The keys API (/key/me, tokens, administration, storage as
hashes, the key cache) is in test_auth_keys.py."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from app.auth import PUBLIC_PATHS
from app.config import Settings
from app.main import create_app
from storage.engine import open_engine
from storage.engine.migrations import apply_migrations
from storage.queries import keys
from tests import backend
from tests.auth_helpers import assert_error
from tests.conftest import BOT


def _routes() -> list[tuple[str, str, str | None]]:
    """(method, path, scope) of every handler, read from the app itself: a route
    added later is covered without editing this file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # collection time: deprecations are not ours to fail
        app = create_app(Settings(db=Path("unused.db")))  # nothing is opened before startup
    found = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in handler.http_methods - {"OPTIONS", "HEAD"}:
                found.add((method, route.path_format, handler.opt.get("scope")))
    return sorted(found, key=lambda r: (r[1], r[0]))


ROUTES = _routes()


def _public(path: str) -> bool:
    return any(re.match(pattern, path) for pattern in PUBLIC_PATHS)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


PRIVATE = [r for r in ROUTES if not _public(r[1])]
PUBLIC = [r for r in ROUTES if _public(r[1])]
SCOPED = [r for r in PRIVATE if r[2] is not None]


def _id(route: tuple[str, str, str | None]) -> str:
    return f"{route[0]} {route[1]}"


class Env:
    """One app for the whole matrix: every request here is refused before its
    handler runs, or is harmless (keys are created fresh for the ones that pass)."""

    def __init__(self, client: TestClient, db: str | Path) -> None:
        self.client = client
        self.db = db

    def key(self, scopes: tuple[str, ...] = keys.SCOPES, bot_id: str = BOT) -> str:
        conn = open_engine(self.db).connect()
        try:
            return keys.create_key(conn, "matrix", bot_id, scopes)[1]
        finally:
            conn.close()

    def call(self, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.request(method, _concrete(path), headers=headers or {})


MATRIX_DB = "t_auth_matrix"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    # On PostgreSQL a database of the module's own: backend.target's last one test.
    db: str | Path = tmp_path_factory.mktemp("auth") / "vp.db"
    if backend.POSTGRES:
        backend.cluster().drop_database(MATRIX_DB)
        db = backend.cluster().create_database(MATRIX_DB)
    try:
        conn = open_engine(db).connect()
        apply_migrations(conn)
        keys.create_key(conn, "sacrificial key 1 for DELETE /keys/1", BOT)
        conn.close()
        with TestClient(create_app(Settings(db=db, key_cache_seconds=0.0))) as client:
            yield Env(client, db)
    finally:
        if backend.POSTGRES:
            backend.cluster().drop_database(MATRIX_DB)


def test_the_matrix_sees_the_profile_and_key_routes() -> None:
    seen = {(m, p) for m, p, _ in ROUTES}
    assert ("PATCH", "/profile/{guild_id}/{user_id}/add") in seen
    assert ("DELETE", "/keys/{key_id}") in seen
    assert ("GET", "/health") in {(m, p) for m, p, _ in PUBLIC}


@pytest.mark.parametrize("route", PRIVATE, ids=_id)
def test_every_declared_scope_is_one_of_the_seven(route: tuple) -> None:
    """A typo in `opt={"scope": ...}` would make a route unreachable for every key.
    Routes with no scope (the key's own /auth/*) still need a key: see below."""
    assert route[2] is None or route[2] in keys.SCOPES, route


def test_the_keys_own_routes_need_no_scope() -> None:
    scopes = {(m, p): s for m, p, s in ROUTES}
    assert scopes[("GET", "/auth/me")] is None
    assert scopes[("POST", "/auth/reset_token")] is None


@pytest.mark.parametrize("route", PRIVATE, ids=_id)
@pytest.mark.parametrize(
    "header",
    [None, "", "vps_unknown", "Bearer vps_unknown", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz"],
)
def test_no_key_or_an_unknown_key_is_401(env: Env, route: tuple, header: str | None) -> None:
    method, path, _ = route
    headers = {} if header is None else {"Authorization": header}
    assert_error(env.call(method, path, headers), 401, "unauthorized")


@pytest.mark.parametrize("route", SCOPED, ids=_id)
def test_a_key_without_the_routes_scope_is_403(env: Env, route: tuple) -> None:
    method, path, scope = route
    secret = env.key(tuple(s for s in keys.SCOPES if s != scope))
    body = assert_error(env.call(method, path, {"Authorization": secret}), 403, "forbidden")
    assert body["message"] == f"missing scope {scope}"


@pytest.mark.parametrize("route", PRIVATE, ids=_id)
def test_a_key_with_the_scope_passes_bare_or_bearer(env: Env, route: tuple) -> None:
    method, path, scope = route
    for header in ("{}", "Bearer {}", "bearer  {} "):
        secret = env.key((scope,) if scope else ())
        r = env.call(method, path, {"Authorization": header.format(secret)})
        assert r.status_code != 401, r.text
        # a 403 here may only be the route's own rule (e.g. another bot's data)
        assert r.status_code != 403 or "missing scope" not in r.text, r.text
        assert r.status_code < 500, r.text


@pytest.mark.parametrize("route", PUBLIC, ids=_id)
def test_public_routes_need_no_key(env: Env, route: tuple) -> None:
    method, path, _ = route
    r = env.call(method, path)
    assert r.status_code not in (401, 403), r.text
    assert r.status_code < 500


@pytest.mark.parametrize("path", ["/", "/health", "/schema/openapi.json", "/schema/swagger"])
def test_public_pages_answer_200_without_a_key(env: Env, path: str) -> None:
    assert env.call("GET", path).status_code == 200
