"""Idempotency keys are kept at least 24 h, then pruned."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import pytest
from litestar.testing import TestClient

from ledger import idempotency
from storage.ids import vp_id
from storage.writer import WriteContext

A = vp_id(5, 1)
HOUR = 3600


def _age(db: sqlite3.Connection, key: str, hours: float) -> None:
    db.execute(
        "UPDATE idempotency SET created_at = ? WHERE key = ?", (time.time() - hours * HOUR, key)
    )


def _run(client: TestClient, fn: Any, arg: Any) -> Any:
    return asyncio.run(client.app.state.services.writer.run(fn, arg))


@pytest.mark.parametrize(("hours", "kept"), [(1, True), (25, True), (47.9, True), (48.1, False)])
def test_prune_keeps_keys_younger_than_48h(
    client: TestClient, auth: dict, db: sqlite3.Connection, hours: float, kept: bool
) -> None:
    client.post("/profile/5/1", headers=auth)
    body = {"from": "self", "to": A, "amount": 1}
    first = client.post("/transaction", json=body, headers={**auth, "Idempotency-Key": "k"})
    _age(db, "k", hours)

    def prune(ctx: WriteContext, _: None) -> int:
        return idempotency.prune(ctx, time.time() - idempotency.KEEP_SECONDS)

    assert _run(client, prune, None) == (0 if kept else 1)
    again = client.post("/transaction", json=body, headers={**auth, "Idempotency-Key": "k"})
    if kept:
        assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    else:  # forgotten: the same key is a new request
        assert again.json()["id"] == first.json()["id"] + 1


def test_prune_runs_at_most_every_interval(client: TestClient, db: sqlite3.Connection) -> None:
    def twice(ctx: WriteContext, now: float) -> list[int]:
        ctx.conn.execute(
            "INSERT INTO accounts (vp_id, bot_id) VALUES ('t', '00000000000000000001')"
        )
        bot = ctx.conn.execute("SELECT id FROM accounts WHERE vp_id = 't'").fetchone()[0]
        for key in ("old1", "old2"):
            ctx.conn.execute(
                "INSERT INTO idempotency VALUES (?, ?, x'00', 201, x'00', ?)",
                (bot, key, now - 3 * 24 * HOUR),
            )
        first = idempotency.maybe_prune(ctx, now)
        ctx.conn.execute(
            "INSERT INTO idempotency VALUES (?, 'old3', x'00', 201, x'00', ?)",
            (bot, now - 3 * 24 * HOUR),
        )
        soon = idempotency.maybe_prune(ctx, now + 1)
        later = idempotency.maybe_prune(ctx, now + idempotency.PRUNE_EVERY + 1)
        return [first, soon, later]

    assert _run(client, twice, time.time()) == [2, 0, 1]
    assert db.execute("SELECT count(*) FROM idempotency").fetchone()[0] == 0
