"""Group commit is invisible: the same commands give the same outcomes and balances
whether each runs in its own transaction or many share one batch.

The ledger stages its postings in memory (ledger/state.py) and writes them before
COMMIT, while profile commands write their rows at once, so mixed batches are where
a staging bug would show. Random command lists run once
concurrently (batched) and once one by one on a fresh database; then both are
compared and verified. On either backend (tests/backend.py): on PostgreSQL the
writer sends a batch's staged rows as set-based statements in one pipeline with its
COMMIT, which must not change any outcome either.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import apply
from ledger.commands import CreateProfile, DeleteProfile, PostTransfers, RevertEntry, Transfer
from ledger.outcomes import Posted
from ledger.verify import verify
from schemas.profiles import ProfileCreate
from storage.engine.migrations import apply_migrations
from storage.engine.writer import Writer
from storage.errors import DomainError
from storage.ids import treasury_id, vp_id
from tests import backend

BOTS = ["7", "8"]
USERS = [1, 2, 3]
SIDES = [*(vp_id(1, u) for u in USERS), *(treasury_id(b) for b in BOTS)]

sides = st.sampled_from(SIDES)
items = st.tuples(sides, sides, st.integers(1, 80)).map(lambda t: Transfer(*t))
ops = st.one_of(
    st.tuples(st.just("transfer"), st.sampled_from(BOTS), st.lists(items, min_size=1, max_size=1)),
    st.tuples(st.just("array"), st.sampled_from(BOTS), st.lists(items, min_size=1, max_size=4)),
    st.tuples(st.just("keyed"), st.sampled_from(BOTS), st.tuples(items, st.sampled_from("abc"))),
    st.tuples(
        st.just("reset"),
        st.sampled_from(BOTS),
        st.tuples(st.sampled_from(USERS), st.integers(0, 150)),
    ),
    st.tuples(st.just("delete"), st.sampled_from(BOTS), st.sampled_from(USERS)),
    st.tuples(st.just("revert"), st.sampled_from(BOTS), st.integers(1, 30)),
)


def _call(writer: Writer, op: tuple) -> Any:
    kind, bot, arg = op
    if kind in ("transfer", "array"):
        command = PostTransfers(bot, tuple(arg), single=kind == "transfer")
        return writer.run(apply, command)
    if kind == "keyed":
        item, key = arg
        command = PostTransfers(bot, (item,), idempotency_key=key, body_hash=repr(item).encode())
        return writer.run(apply, command)
    if kind == "reset":
        user, points = arg
        return writer.run(apply, CreateProfile(bot, 1, user, ProfileCreate(voicepoints=points)))
    if kind == "delete":
        return writer.run(apply, DeleteProfile(bot, 1, arg))
    return writer.run(apply, RevertEntry(bot, arg))


def _outcome(result: Any) -> Any:
    if isinstance(result, DomainError):
        return ("refused", result.status, result.code)
    if isinstance(result, BaseException):
        raise result
    if isinstance(result, Posted) and result.refusal is not None:  # kept for its key
        return ("kept", result.refusal.status, result.refusal.code)
    return ("ok",)


async def _run(path: Path, commands: list[tuple], together: bool) -> list[Any]:
    writer = Writer(backend.target(path))
    writer.start()
    try:
        # Open every profile first, so most commands have something to move.
        for user in USERS:
            await _call(writer, ("reset", BOTS[0], (user, 100)))
        if together:
            results = await asyncio.gather(
                *(_call(writer, c) for c in commands), return_exceptions=True
            )
        else:
            results = []
            for c in commands:
                try:
                    results.append(await _call(writer, c))
                except DomainError as exc:
                    results.append(exc)
    finally:
        await writer.close()
    return [_outcome(r) for r in results]


def _state(path: Path) -> tuple[list, list, list[str]]:
    conn = backend.connect(path)
    try:
        balances = conn.execute(
            "SELECT vp_id, balance, open FROM accounts ORDER BY vp_id"
        ).fetchall()
        entries = conn.execute(
            "SELECT id, kind, src, dst, amount, src_balance, dst_balance, reverts FROM ledger"
            " ORDER BY id"
        ).fetchall()
        report = verify(conn)
        return balances, entries, report.problems
    finally:
        conn.close()


@settings(max_examples=25, deadline=None)
@given(commands=st.lists(ops, min_size=1, max_size=40))
def test_batched_equals_one_by_one(commands: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / "together.db", Path(tmp) / "alone.db"]
        for path in paths:
            conn = backend.connect(path)
            apply_migrations(conn)
            conn.close()
        together = asyncio.run(_run(paths[0], commands, together=True))
        alone = asyncio.run(_run(paths[1], commands, together=False))
        assert together == alone
        batched, sequential = _state(paths[0]), _state(paths[1])
        assert batched[2] == [] and sequential[2] == []
        assert batched[0] == sequential[0]
        assert batched[1] == sequential[1]
        assert sum(b for _, b, _ in batched[0]) == 0
