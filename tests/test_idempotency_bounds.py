"""What an Idempotency-Key costs is bounded: a keyed array is kept as the range of
its ledger ids, not its whole answer, and replayed byte for byte; expired keys are
pruned in chunks (tests/test_ledger_idempotency.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from litestar.testing import TestClient

from ledger import apply
from ledger.accounts import treasury_vp
from ledger.commands import PostTransfers, Transfer
from storage.ids import vp_id
from tests.conftest import BOT


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
        return list(await asyncio.gather(*(writer.run(apply, command) for _ in range(2))))

    first, second = asyncio.run(both())
    assert sorted([first.replayed, second.replayed]) == [False, True]
    assert first.json() == second.json() and len(first.json()) > 50 * 100
