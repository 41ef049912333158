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

G = "131853185391"


def set_max_pages(client: TestClient, pages: int | None) -> None:
    """The disk-full trick of test_transactions: the writer's file may not grow."""
    writer = client.app.state.services.writer

    def limit(ctx: Any, _: None) -> None:
        current = ctx.conn.execute("PRAGMA page_count").fetchone()[0]
        ctx.conn.execute(f"PRAGMA max_page_count = {pages or current}")

    asyncio.run(writer.run(limit, None))


def big_write(client: TestClient, auth: dict, start: int) -> int:
    items = [
        {"guild_id": G, "user_id": str(start + i), "data": {"blob": "x" * 5000}} for i in range(50)
    ]
    return client.patch("/profile/add", json=items, headers=auth).status_code


def test_health_is_degraded_while_writes_fail_and_recovers(client: TestClient, auth: dict) -> None:
    assert client.get("/health").json()["status"] == "ok"
    set_max_pages(client, None)  # full: nothing that needs a new page fits
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
    set_max_pages(client, 4294967294)  # space again, and a write (this one) commits
    assert big_write(client, auth, 100) == 200
    r = client.get("/health")
    assert (r.status_code, r.json()["status"], r.json()["writer"]["writes"]) == (200, "ok", "ok")


def test_a_failure_older_than_the_setting_no_longer_degrades(
    settings: Settings, auth: dict
) -> None:
    # VOICEPROFILE_HEALTH_FAILING_SECONDS=0: a failed batch is at once "long ago".
    quick = dataclasses.replace(settings, health_failing_seconds=0.0)
    with TestClient(create_app(quick)) as client:
        set_max_pages(client, None)
        assert big_write(client, auth, 0) == 503
        assert client.get("/health").status_code == 200


def test_metrics_show_the_failing_writer(client: TestClient, make_key) -> None:
    admin = make_key(scopes=("admin", "profiles:write"))
    set_max_pages(client, None)
    assert big_write(client, admin, 0) == 503
    text = client.get("/metrics", headers=admin).text
    assert "voiceprofile_writer_failing 1.0" in text
