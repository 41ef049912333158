"""What the server needs to survive a PostgreSQL failover (README "High availability
on PostgreSQL"): a URL naming a primary and its standbys is shown without its password
and with every host, its target_session_attrs=read-write works for the server's reads
too, and a lost connection answers 503 (not 500) until the database is back, then is
opened again without a restart."""

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


def test_lost_connections_answer_503_then_are_opened_again(tmp_path: Path) -> None:
    """While the database cannot be reached, reads and writes answer 503 (not 500);
    once it can, the server finds it again without a restart: a read at once (run
    again on a new connection), a write from the batch after the failed one."""
    url = backend.postgres_url(tmp_path / "pg.db")
    auth = _key(url)
    with TestClient(create_app(Settings(db=url, key_cache_seconds=0.0, boards="sync"))) as client:
        assert client.post("/profile/1/2", headers=auth, json={}).status_code == 201
        assert client.get("/profile/1/2", headers=auth).status_code == 200
        database = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        with psycopg.connect(url, dbname="postgres", autocommit=True) as admin:
            # What a primary that died leaves the server with: no connection, and
            # none to be had for now.
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            try:
                _end_connections(admin, database)
                for _ in range(2):
                    r = client.get("/profile/1/2", headers=auth)
                    assert r.status_code == 503, r.text
                    assert r.json()["code"] == "storage_unavailable"
                    w = client.patch("/profile/1/2", headers=auth, json={"experience": 1})
                    assert w.status_code == 503, w.text
            finally:
                admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        r = client.get("/profile/1/2", headers=auth)
        assert r.status_code == 200, r.text
        w = client.patch("/profile/1/2", headers=auth, json={"experience": 7})
        assert w.status_code == 200, w.text
        assert client.get("/profile/1/2", headers=auth).json()["experience"] == 7


def _end_connections(admin: psycopg.Connection, database: str) -> None:
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        (database,),
    )
