"""A batch whose last writes fail is acknowledged to nobody, and the writer goes on.

The writer writes what its states staged just before COMMIT (on PostgreSQL in one
pipeline with the COMMIT, where an error surfaces only when the pipeline ends), so
a failure there must still fail every task of the batch, leave nothing behind, and
leave the connection ready for the next batch. On either backend.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from ledger import apply
from ledger.commands import CreateProfile, PostTransfers, Transfer
from schemas.profiles import ProfileCreate
from storage.engine.migrations import apply_migrations
from storage.engine.writer import WriteContext, Writer
from storage.errors import StorageUnavailable
from storage.ids import vp_id
from tests import backend

BOT = "7"
ALICE, BOB = vp_id(1, 1), vp_id(1, 2)


class _Broken:
    """A state whose flush breaks a unique key (feed_pruned has one row per feed)."""

    def __init__(self, ctx: WriteContext) -> None:
        self.conn = ctx.conn

    def flush(self) -> None:
        self.conn.execute("INSERT INTO feed_pruned (feed, upto) VALUES ('account_feed', 0)")


def _break(ctx: WriteContext, _: None) -> None:
    ctx.state(_Broken)


def _transfer(amount: int) -> PostTransfers:
    return PostTransfers(BOT, (Transfer(ALICE, BOB, amount, "test"),))


def _ledger(path: Path) -> list[tuple[Any, ...]]:
    conn = backend.connect(path)
    try:
        return [tuple(r) for r in conn.execute("SELECT id, amount FROM ledger ORDER BY id")]
    finally:
        conn.close()


async def _scenario(path: Path) -> None:
    writer = Writer(backend.target(path))
    writer.start()
    try:
        for user in (1, 2):
            await writer.run(apply, CreateProfile(BOT, 1, user, ProfileCreate(voicepoints=50)))
        before = _ledger(path)
        # Submitted in the same turn of the loop: one batch.
        results = await asyncio.gather(
            writer.run(apply, _transfer(5)), writer.run(_break, None), return_exceptions=True
        )
        assert [type(r) for r in results] == [StorageUnavailable, StorageUnavailable]
        assert _ledger(path) == before
        posted = await writer.run(apply, _transfer(7))
        assert posted.refusal is None
        after = _ledger(path)
        assert after == [*before, (before[-1][0] + 1, 7)]  # ids stay contiguous
    finally:
        await writer.close()


def test_a_failing_final_write_fails_the_batch_and_the_next_one_commits(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    conn = backend.connect(db_path)
    apply_migrations(conn)
    conn.close()
    asyncio.run(_scenario(db_path))
    assert "nothing acknowledged" in caplog.text
