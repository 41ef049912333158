"""Transfers, reverts and idempotent replays, as whole synchronous write tasks."""

from __future__ import annotations

import time

import msgspec

from ledger import postings
from ledger.accounts import Account, by_id, by_vp, ensure_treasury, treasury_vp
from ledger.commands import Command, PostTransfers, RevertEntry, Transfer
from ledger.errors import (
    AlreadyReverted,
    IdempotencyKeyReused,
    Impostor,
    NotRevertible,
    SameAccount,
    TransactionNotFound,
    UnknownAccount,
)
from ledger.idempotency import maybe_prune
from storage.errors import DomainError
from storage.writer import WriteContext

__all__ = ["Outcome", "apply", "treasury_vp"]

_encode = msgspec.json.encode


class Outcome(msgspec.Struct, frozen=True):
    """An HTTP-ready result: stored as is for idempotent replays."""

    status: int
    body: bytes
    replayed: bool = False


def apply(ctx: WriteContext, command: Command) -> Outcome:
    """Apply one command. A refusal (DomainError) leaves nothing written, so the
    writer may run this without a savepoint of its own (`savepoint=False`)."""
    match command:
        case PostTransfers():
            return _post_transfers(ctx, command)
        case RevertEntry():
            return Outcome(201, _encode(_revert(ctx, command)))
    raise TypeError(f"not a ledger command: {command!r}")


def _side(ctx: WriteContext, side: str, vp_id: str, bot_id: str) -> Account:
    if vp_id == treasury_vp(bot_id):
        return ensure_treasury(ctx, bot_id)
    account = by_vp(ctx, vp_id)
    if account is None:
        raise UnknownAccount(side, vp_id)
    return account


def _transfer(ctx: WriteContext, item: Transfer, bot: Account, bot_id: str) -> object:
    if item.src == item.dst:
        raise SameAccount()
    src = _side(ctx, "from", item.src, bot_id)
    if src.is_treasury and src.id != bot.id:
        raise Impostor()
    dst = _side(ctx, "to", item.dst, bot_id)
    return postings.post(ctx, postings.TRANSFER, src, dst, item.amount, item.reason, bot)


def _run(ctx: WriteContext, command: PostTransfers, bot: Account) -> Outcome:
    if command.single:
        return Outcome(201, _encode(_transfer(ctx, command.items[0], bot, command.bot_id)))
    # An array is one unit: its own savepoint undoes the items before a failing one.
    conn = ctx.conn
    conn.execute("SAVEPOINT items")
    done = []
    for index, item in enumerate(command.items):
        try:
            done.append(_transfer(ctx, item, bot, command.bot_id))
        except DomainError as exc:
            conn.execute("ROLLBACK TO items")
            conn.execute("RELEASE items")
            ctx.cache.clear()  # the chain head moved with the undone items
            exc.message = f"item {index}: {exc.message}"
            exc.extra["index"] = index
            raise
    conn.execute("RELEASE items")
    return Outcome(201, _encode(done))


def _post_transfers(ctx: WriteContext, command: PostTransfers) -> Outcome:
    bot = ensure_treasury(ctx, command.bot_id)
    key = command.idempotency_key
    if key is None:
        return _run(ctx, command, bot)
    conn = ctx.conn
    maybe_prune(ctx)
    stored = conn.execute(
        "SELECT body_hash, status, response FROM idempotency WHERE bot = ? AND key = ?",
        (bot.id, key),
    ).fetchone()
    if stored is not None:
        if stored[0] != command.body_hash:
            raise IdempotencyKeyReused()
        return Outcome(stored[1], stored[2], replayed=True)
    # The first outcome is kept whatever it is, so a retry can never move money a
    # second time, nor succeed later where the first attempt was refused.
    conn.execute("SAVEPOINT attempt")
    try:
        outcome = _run(ctx, command, bot)
        conn.execute("RELEASE attempt")
    except DomainError as exc:
        conn.execute("ROLLBACK TO attempt")
        conn.execute("RELEASE attempt")
        ctx.cache.clear()
        bot = ensure_treasury(ctx, command.bot_id)
        outcome = Outcome(exc.status, _encode(exc.body()))
    conn.execute(
        "INSERT INTO idempotency (bot, key, body_hash, status, response, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (bot.id, key, command.body_hash, outcome.status, outcome.body, time.time()),
    )
    return outcome


def _revert(ctx: WriteContext, command: RevertEntry) -> object:
    conn = ctx.conn
    row = conn.execute(
        "SELECT kind, src, dst, amount FROM ledger WHERE id = ?", (command.entry_id,)
    ).fetchone()
    if row is None:
        raise TransactionNotFound(command.entry_id)
    kind, src_id, dst_id, amount = row
    if kind not in (postings.TRANSFER, postings.RESET):
        raise NotRevertible(
            f"a {('', 'transfer', 'reset', 'close', 'revert')[kind]} entry cannot be reverted"
        )
    by = conn.execute("SELECT id FROM ledger WHERE reverts = ?", (command.entry_id,)).fetchone()
    if by is not None:
        raise AlreadyReverted(command.entry_id, by[0])
    bot = ensure_treasury(ctx, command.bot_id)
    back_from, back_to = by_id(conn, dst_id), by_id(conn, src_id)
    if back_from.is_treasury and back_from.id != bot.id:
        raise Impostor()
    return postings.post(
        ctx,
        postings.REVERT,
        back_from,
        back_to,
        amount,
        f"revert of {command.entry_id}",
        bot,
        reverts=command.entry_id,
    )
