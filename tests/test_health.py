"""GET /health tells the truth (issue 10, finding 7): while write batches fail it
answers 503 `degraded`, without the internal error text, and it recovers by itself
once a write commits."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from tests import backend

G = "131853185391"


# PostgreSQL's answer when a write finds the disk full (SQLSTATE 53100), given by a
# trigger on every profile write: the server sees what a full disk would show it.
_PG_FULL = [
    "CREATE OR REPLACE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'"
    " USING ERRCODE = 'disk_full'; END$$",
    "CREATE TRIGGER test_disk_full BEFORE INSERT OR UPDATE ON accounts"
    " FOR EACH ROW EXECUTE FUNCTION test_disk_full()",
]
_PG_SPACE = ["DROP TRIGGER IF EXISTS test_disk_full ON accounts"]


def set_full(client: TestClient, full: bool) -> None:
    """The disk-full trick of test_transactions: on SQLite the writer's file may not
    grow (nothing that needs a new page fits); on PostgreSQL a profile write fails
    as on a full disk."""
    writer = client.app.state.services.writer

    def limit(ctx: Any, _: None) -> None:
        if backend.POSTGRES:
            for sql in _PG_FULL if full else _PG_SPACE:
                ctx.conn.execute(sql)
            return
        pages = ctx.conn.execute("PRAGMA page_count").fetchone()[0] if full else 4294967294
        ctx.conn.execute(f"PRAGMA max_page_count = {pages}")

    asyncio.run(writer.run(limit, None))


def big_write(client: TestClient, auth: dict, start: int) -> int:
    items = [
        {"guild_id": G, "user_id": str(start + i), "data": {"blob": "x" * 5000}} for i in range(50)
    ]
    return client.patch("/profile/add", json=items, headers=auth).status_code


def test_health_is_degraded_while_writes_fail_and_recovers(client: TestClient, auth: dict) -> None:
    assert client.get("/health").json()["status"] == "ok"
    set_full(client, True)
    assert big_write(client, auth, 0) == 503
    r = client.get("/health")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "degraded"
    assert body["writer"]["writes"] == "failing"
    # What failed and where stays in the logs and /metrics: none of it here.
    assert "full" not in r.text and "error" not in r.text
    assert client.get("/profile", headers=auth).status_code == 200  # reads still work
    assert client.get("/health").status_code == 503
    set_full(client, False)  # space again, and a write (this one) commits
    assert big_write(client, auth, 100) == 200
    r = client.get("/health")
    assert (r.status_code, r.json()["status"], r.json()["writer"]["writes"]) == (200, "ok", "ok")


def test_a_failure_older_than_the_setting_no_longer_degrades(
    settings: Settings, auth: dict
) -> None:
    # VOICEPROFILE_HEALTH_FAILING_SECONDS=0: a failed batch is at once "long ago".
    quick = dataclasses.replace(settings, health_failing_seconds=0.0)
    with TestClient(create_app(quick)) as client:
        set_full(client, True)
        assert big_write(client, auth, 0) == 503
        assert client.get("/health").status_code == 200


def test_metrics_show_the_failing_writer(client: TestClient, make_key) -> None:
    admin = make_key(scopes=("admin", "profiles:write"))
    set_full(client, True)
    assert big_write(client, admin, 0) == 503
    text = client.get("/metrics", headers=admin).text
    assert "voiceprofile_writer_failing 1.0" in text
