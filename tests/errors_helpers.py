"""What the error tests share: sending a request in any shape, the check of the JSON error
shape, and the `seeded` and module-wide `shared` fixtures."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.engine.migrations import apply_migrations
from storage.engine.sqlite import connect
from storage.queries import keys
from tests.profile_support import ensure

NO_BODY = object()
BIG = 2**53


def _json(raw: bytes) -> dict[str, Any]:
    return {"content": raw, "headers": {"Content-Type": "application/json"}}


def send(client: TestClient, auth: dict, method: str, path: str, body: Any) -> Any:
    if body is NO_BODY:
        return client.request(method, path, headers=auth)
    if isinstance(body, bytes):
        kwargs = _json(body)
        return client.request(
            method, path, content=kwargs["content"], headers={**auth, **kwargs["headers"]}
        )
    return client.request(method, path, json=body, headers=auth)


def assert_error_shape(r: Any, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert {"status", "code", "message"} <= set(body)
    assert (body["status"], body["code"]) == (status, code), body
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in r.text
    return body  # type: ignore[no-any-return]


@pytest.fixture
def seeded(client: TestClient, auth: dict) -> None:
    """Profile 1/2 exists with some values; 1/3 does not."""
    ensure(client, auth, 1, 2, experience=10, pray={"streak": 1}, data={"a": 1})


@dataclass
class Shared:
    client: TestClient
    auth: dict[str, str]
    db: sqlite3.Connection


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """One app for the tables of refused requests: each case checks that it changed
    nothing, so they can share a database (and the suite stays fast)."""
    path = tmp_path_factory.mktemp("errors") / "vp.db"
    with TestClient(create_app(Settings(db=path, key_cache_seconds=0.0))) as client:
        conn = connect(path)
        apply_migrations(conn)
        _, secret = keys.create_key(conn, "errors", "111111111111111111")
        conn.close()
        auth = {"Authorization": secret}
        ensure(client, auth, 1, 2, experience=10, pray={"streak": 1}, data={"a": 1})
        db = sqlite3.connect(path, isolation_level=None)
        yield Shared(client, auth, db)
        db.close()
