"""What an Idempotency-Key costs is bounded: a keyed array is kept as the range of
its ledger ids, not its whole answer, and replayed byte for byte; expired keys are
pruned in chunks, never in one unbounded DELETE inside a write batch."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

from litestar.testing import TestClient

from ledger import idempotency
from ledger.commands import PostTransfers, Transfer
from ledger.transfers import apply, treasury_vp
from storage.ids import vp_id
from storage.writer import WriteContext
from tests.conftest import BOT

HOUR = 3600


def _array(n: int) -> list[dict[str, Any]]:
    """Treasury to users and users to users, with reasons that are not ASCII."""
    users = [vp_id(7, u) for u in range(1, 6)]
    items: list[dict[str, Any]] = []
    for i in range(n):
        if i % 3 == 0:
            items.append({"from": "self", "to": users[i % 5], "amount": 5, "reason": f"día {i}"})
        else:
            items.append({"from": users[i % 5], "to": users[(i + 1) % 5], "amount": 1})
    return items


def test_a_keyed_array_keeps_a_few_bytes_and_replays_byte_for_byte(
    client: TestClient, auth: dict, db: sqlite3.Connection
) -> None:
    for user in range(1, 6):
        assert client.post(f"/profile/7/{user}", json={"voicepoints": 10}, headers=auth).status_code
    keyed = {**auth, "Idempotency-Key": "big"}
    body = _array(3000)
    first = client.post("/transaction", json=body, headers=keyed)
    assert first.status_code == 201, first.text
    assert len(first.content) > 500_000
    (kept,) = db.execute("SELECT length(response) FROM idempotency WHERE key = 'big'").fetchone()
    assert kept < 100
    ledger_size = db.execute("SELECT count(*) FROM ledger").fetchone()[0]
    again = client.post("/transaction", json=body, headers=keyed)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert db.execute("SELECT count(*) FROM ledger").fetchone()[0] == ledger_size


def test_one_transfer_and_a_refusal_are_kept_as_answered(
    client: TestClient, auth: dict, db: sqlite3.Connection
) -> None:
    client.post("/profile/7/1", headers=auth)
    one = {"from": "self", "to": vp_id(7, 1), "amount": 3}
    refused = [{"from": vp_id(7, 1), "to": "self", "amount": 10**6}]
    for key, body, status in (("one", one, 201), ("no", refused, 409)):
        headers = {**auth, "Idempotency-Key": key}
        first = client.post("/transaction", json=body, headers=headers)
        assert first.status_code == status
        again = client.post("/transaction", json=body, headers=headers)
        assert (again.status_code, again.content) == (status, first.content)
        (kept,) = db.execute("SELECT response FROM idempotency WHERE key = ?", (key,)).fetchone()
        assert kept == first.content


def test_a_replay_in_the_same_batch_as_the_first_answer(client: TestClient, auth: dict) -> None:
    """Both tasks queued together: the replay reads entries still staged in memory."""
    client.post("/profile/7/1", headers=auth)
    items = tuple(Transfer(treasury_vp(BOT), vp_id(7, 1), 1, f"n{i}") for i in range(50))
    command = PostTransfers(BOT, items, single=False, idempotency_key="k", body_hash=b"h")
    writer = client.app.state.services.writer

    async def both() -> list[Any]:
        return list(
            await asyncio.gather(*(writer.run(apply, command, savepoint=False) for _ in range(2)))
        )

    first, second = asyncio.run(both())
    assert sorted([first.replayed, second.replayed]) == [False, True]
    assert first.body == second.body and len(first.body) > 50 * 100


def _expired_keys(ctx: WriteContext, count: int, now: float) -> None:
    ctx.conn.execute("INSERT INTO accounts (vp_id, bot_id) VALUES ('t', '00000000000000000001')")
    bot = ctx.conn.execute("SELECT id FROM accounts WHERE vp_id = 't'").fetchone()[0]
    ctx.conn.executemany(
        "INSERT INTO idempotency VALUES (?, ?, x'00', 201, x'00', ?)",
        ((bot, f"old{i}", now - 3 * 24 * HOUR + i * 0.001) for i in range(count)),
    )


def test_prune_takes_a_chunk_at_a_time_and_comes_back_sooner_for_the_rest(
    client: TestClient, db: sqlite3.Connection
) -> None:
    chunk, again, every = idempotency.PRUNE_CHUNK, idempotency.PRUNE_AGAIN, idempotency.PRUNE_EVERY

    def prunes(ctx: WriteContext, now: float) -> list[int]:
        _expired_keys(ctx, 2 * chunk + 500, now)
        return [
            idempotency.maybe_prune(ctx, now),  # a full chunk: more may wait
            idempotency.maybe_prune(ctx, now + again / 2),  # not yet
            idempotency.maybe_prune(ctx, now + again),
            idempotency.maybe_prune(ctx, now + 2 * again),  # the rest
            idempotency.maybe_prune(ctx, now + 3 * again),  # nothing left: back to PRUNE_EVERY
            idempotency.maybe_prune(ctx, now + 2 * again + every),
        ]

    done = asyncio.run(client.app.state.services.writer.run(prunes, time.time()))
    assert done == [chunk, 0, chunk, 500, 0, 0]
    assert db.execute("SELECT count(*) FROM idempotency").fetchone()[0] == 0
