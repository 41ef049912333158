"""Idempotency-Keys inside one write batch: the first keyed command of a transaction
reads the stored outcomes of every key in the batch at once (ledger/idempotency.py),
and that read must answer exactly as one lookup per key would, within the batch and
in the transactions after it. On either backend (tests/backend.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from ledger import apply
from ledger.commands import CreateProfile, PostTransfers, Transfer
from ledger.errors import IdempotencyKeyReused
from ledger.outcomes import Posted
from schemas.profiles import ProfileCreate
from storage.engine.migrations import apply_migrations
from storage.engine.writer import Writer
from storage.ids import treasury_id, vp_id
from tests import backend

A, B = vp_id(1, 1), vp_id(1, 2)


def _keyed(bot: str, key: str, amount: int) -> PostTransfers:
    item = Transfer(treasury_id(bot), A, amount, "keyed")
    return PostTransfers(bot, (item,), idempotency_key=key, body_hash=b"%d" % amount)


async def _together(writer: Writer, commands: list[Any]) -> list[Any]:
    """`commands` submitted in one turn of the loop: one batch, one transaction."""
    batches = writer.stats.batches
    results = await asyncio.gather(
        *(writer.run(apply, c) for c in commands), return_exceptions=True
    )
    assert writer.stats.batches == batches + 1
    return results


def _writer(path: Path) -> Writer:
    conn = backend.connect(path)
    apply_migrations(conn)
    conn.close()
    writer = Writer(backend.target(path))
    writer.start()
    return writer


async def _open(writer: Writer, *bots: str) -> None:
    """Members A and B, and each bot's treasury written and known to the writer."""
    await writer.run(apply, CreateProfile(bots[0], 1, 1, ProfileCreate()))
    await writer.run(apply, CreateProfile(bots[0], 1, 2, ProfileCreate()))
    for bot in bots:
        await writer.run(apply, PostTransfers(bot, (Transfer(treasury_id(bot), B, 1),)))


def _balance(path: Path, vp: str) -> int:
    conn = backend.connect(path)
    try:
        return int(
            conn.execute("SELECT balance FROM accounts WHERE vp_id = ?", (vp,)).fetchone()[0]
        )
    finally:
        conn.close()


def test_keys_read_for_the_whole_batch_answer_as_one_lookup_each(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"

    async def main() -> None:
        writer = _writer(path)
        try:
            await _open(writer, "7", "8")  # both treasuries known before the batch
            first = await writer.run(apply, _keyed("7", "old", 10))
            assert isinstance(first, Posted) and not first.replayed

            results = await _together(
                writer,
                [
                    PostTransfers("7", (Transfer(treasury_id("7"), B, 1),)),  # no key
                    _keyed("7", "new", 5),
                    _keyed("7", "old", 10),  # stored in an earlier transaction
                    _keyed("7", "new", 5),  # stored earlier in this one
                    _keyed("7", "old", 11),  # the same key, another body
                    _keyed("8", "new", 3),  # the same key string, another bot
                ],
            )
            assert isinstance(results[0], Posted) and not results[0].replayed
            assert isinstance(results[1], Posted) and not results[1].replayed
            assert isinstance(results[2], Posted) and results[2].replayed
            assert results[2].json() == first.json()
            assert isinstance(results[3], Posted) and results[3].replayed
            assert results[3].json() == results[1].json()
            assert isinstance(results[4], IdempotencyKeyReused)
            assert isinstance(results[5], Posted) and not results[5].replayed

            # The next transaction reads again what this one stored.
            again = await _together(writer, [_keyed("7", "new", 5), _keyed("8", "new", 3)])
            assert all(isinstance(r, Posted) and r.replayed for r in again)
            assert again[0].json() == results[1].json()
            assert again[1].json() == results[5].json()
        finally:
            await writer.close()

    asyncio.run(main())
    assert _balance(path, A) == 10 + 5 + 3  # each key moved money once


@pytest.mark.parametrize("batch", [1, 600])
def test_a_batch_of_new_keys_each_moves_money_once(tmp_path: Path, batch: int) -> None:
    """More keys than one read takes (512 a query), each new: each applies once."""
    path = tmp_path / "many.db"

    async def main() -> None:
        writer = _writer(path)
        try:
            await _open(writer, "7")
            commands = [_keyed("7", f"k{n}", 1) for n in range(batch)]
            fresh = await _together(writer, commands)
            assert all(isinstance(r, Posted) and not r.replayed for r in fresh)
            replays = await _together(writer, commands)
            assert all(isinstance(r, Posted) and r.replayed for r in replays)
        finally:
            await writer.close()

    asyncio.run(main())
    assert _balance(path, A) == batch
