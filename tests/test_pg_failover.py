"""What the server needs to survive a PostgreSQL failover (README "High availability
on PostgreSQL"): a URL naming a primary and its standbys is shown without its password
and with every host, its target_session_attrs=read-write works for the server's reads
too, and a read whose connection was lost answers 503, as a write does, not 500."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.engine import open_engine
from storage.engine.migrations import apply_migrations
from storage.queries import keys
from tests import backend


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://vp@db:5432/vp", "postgresql://vp@db:5432/vp"),
        ("postgresql://vp:s3cret@db:5432/vp", "postgresql://vp:***@db:5432/vp"),
        (
            "postgresql://vp:s3cret@db1:5432,db2:5432/vp?target_session_attrs=read-write",
            "postgresql://vp:***@db1:5432,db2:5432/vp?target_session_attrs=read-write",
        ),
        ("postgresql://vp:s3cret@[::1]:5432/vp", "postgresql://vp:***@[::1]:5432/vp"),
        (
            "postgresql://db/vp?user=vp&password=s3cret&sslmode=require",
            "postgresql://db/vp?user=vp&password=***&sslmode=require",
        ),
        ("postgres://vp:p%40ss@db/vp", "postgres://vp:***@db/vp"),
    ],
)
def test_the_password_is_masked_and_every_host_kept(url: str, shown: str) -> None:
    assert open_engine(url).location == shown


def _key(url: str) -> dict[str, str]:
    conn = open_engine(url).connect()
    apply_migrations(conn)
    _, secret = keys.create_key(conn, "test", "111111111111111111", keys.DEFAULT_SCOPES)
    conn.close()
    return {"Authorization": secret}


# These are about PostgreSQL itself: they run on both test runs, on a PostgreSQL
# database of the run's cluster (backend.postgres_url), never skipped.
def test_a_url_asking_for_the_writable_host_serves_reads_and_writes(tmp_path: Path) -> None:
    """libpq's target_session_attrs=read-write (how a URL naming a primary and its
    standbys picks the primary) must not refuse the server's read-only connections."""
    url = f"{backend.postgres_url(tmp_path / 'pg.db')}?target_session_attrs=read-write"
    settings = Settings(db=url, key_cache_seconds=0.0, boards="sync")
    auth = _key(url)
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").json()["database"] == "ok"
        assert client.post("/profile/1/2", headers=auth, json={"voicepoints": 5}).status_code == 201
        assert client.get("/profile/1/2", headers=auth).json()["voicepoints"] == 5
    reader = open_engine(url).connect(readonly=True)
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        reader.execute("CREATE TABLE not_here (a int)")
    reader.close()


def test_a_read_on_a_lost_connection_is_503_not_500(tmp_path: Path) -> None:
    url = backend.postgres_url(tmp_path / "pg.db")
    auth = _key(url)
    with TestClient(create_app(Settings(db=url, key_cache_seconds=0.0, boards="sync"))) as client:
        _lose_connections(client, auth, url)


def _lose_connections(client: TestClient, auth: dict[str, str], url: str) -> None:
    assert client.post("/profile/1/2", headers=auth, json={}).status_code == 201
    assert client.get("/profile/1/2", headers=auth).status_code == 200
    with psycopg.connect(url, autocommit=True) as admin:
        # What a primary that died or restarted leaves the server's connections with.
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    r = client.get("/profile/1/2", headers=auth)
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "storage_unavailable"
