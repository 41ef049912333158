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
from ledger.stage import staged
from storage import ledger_reads, outbox
from storage.errors import DomainError
from storage.writer import WriteContext

__all__ = ["Outcome", "apply", "treasury_vp"]

_encode = msgspec.json.encode


class Outcome:
    """An HTTP-ready result: stored as is for idempotent replays.

    A success keeps the value and encodes it on first use of `body`: the writer
    thread is the ledger's one serial resource, so the caller's thread renders the
    JSON, except when the body is stored with an Idempotency-Key. A replayed array
    carries its ledger rows, which that thread turns into transactions too.
    """

    __slots__ = ("_body", "_rows", "_value", "replayed", "status")

    def __init__(
        self,
        status: int,
        body: bytes | None = None,
        replayed: bool = False,
        value: object = None,
        rows: list[tuple] | None = None,
    ) -> None:
        self.status, self._body, self.replayed, self._value = status, body, replayed, value
        self._rows = rows

    @property
    def body(self) -> bytes:
        if self._body is None:
            if self._rows is not None:
                self._value = [ledger_reads.to_transaction(row) for row in self._rows]
                self._rows = None
            self._body = _encode(self._value)
            self._value = None
        return self._body

    def __repr__(self) -> str:
        return f"Outcome({self.status}, {self.body!r}, replayed={self.replayed})"


def apply(ctx: WriteContext, command: Command) -> Outcome:
    """Apply one command. A refusal (DomainError) leaves nothing written, so the
    writer may run this without a savepoint of its own (`savepoint=False`)."""
    match command:
        case PostTransfers():
            return _post_transfers(ctx, command)
        case RevertEntry():
            return Outcome(201, value=_revert(ctx, command))
    raise TypeError(f"not a ledger command: {command!r}")


def _side(ctx: WriteContext, side: str, vp_id: str, bot: Account) -> Account:
    if vp_id == bot.vp_id:  # "self": the caller's treasury, already looked up
        return bot
    account = by_vp(ctx, vp_id)
    if account is None:
        raise UnknownAccount(side, vp_id)
    return account


def _transfer(ctx: WriteContext, item: Transfer, bot: Account) -> object:
    if item.src == item.dst:
        raise SameAccount()
    src = _side(ctx, "from", item.src, bot)
    if src.is_treasury and src.id != bot.id:
        raise Impostor()
    dst = _side(ctx, "to", item.dst, bot)
    tx = postings.post(ctx, postings.TRANSFER, src, dst, item.amount, item.reason, bot)
    outbox.emit_transaction(ctx, tx)  # callbacks: same transaction as the entry
    return tx


class _Undo:
    """Marks a point to return to if an array or a keyed attempt is refused: a SQL
    savepoint for what was written, and the stage's mark for what was staged."""

    def __init__(self, ctx: WriteContext, name: str) -> None:
        self.ctx, self.name = ctx, name
        self.stage = staged(ctx)
        self.mark = self.stage.mark() if self.stage else None
        self.head = ctx.cache.get("head")
        ctx.conn.execute(f"SAVEPOINT {name}")

    def release(self) -> None:
        self.ctx.conn.execute(f"RELEASE {self.name}")
        if self.stage is not None:
            self.stage.release()

    def rollback(self) -> None:
        conn = self.ctx.conn
        conn.execute(f"ROLLBACK TO {self.name}")
        conn.execute(f"RELEASE {self.name}")
        if self.stage is not None and self.mark is not None:
            self.stage.undo(self.mark)
            if self.head is None:
                self.ctx.cache.pop("head", None)
            else:
                self.ctx.cache["head"] = self.head
        else:
            self.ctx.reset()  # direct writes were undone: forget what was read since


def _run(ctx: WriteContext, command: PostTransfers, bot: Account) -> Outcome:
    if command.single:
        return Outcome(201, value=_transfer(ctx, command.items[0], bot))
    undo = _Undo(ctx, "items")  # an array is one unit
    done = []
    for index, item in enumerate(command.items):
        try:
            done.append(_transfer(ctx, item, bot))
        except DomainError as exc:
            undo.rollback()
            exc.message = f"item {index}: {exc.message}"
            exc.extra["index"] = index
            raise
    undo.release()
    return Outcome(201, value=done)


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
        return _replay(ctx, stored[1], stored[2])
    # The first outcome is kept whatever it is, so a retry can never move money a
    # second time, nor succeed later where the first attempt was refused.
    undo = _Undo(ctx, "attempt")
    try:
        outcome = _run(ctx, command, bot)
        undo.release()
    except DomainError as exc:
        undo.rollback()
        bot = ensure_treasury(ctx, command.bot_id)
        outcome = Outcome(exc.status, _encode(exc.body()))
    conn.execute(
        "INSERT INTO idempotency (bot, key, body_hash, status, response, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (bot.id, key, command.body_hash, outcome.status, _kept(outcome), time.time()),
    )
    return outcome


# A successful keyed array is kept as the range of ledger ids it appended (one task
# appends them one after the other, so they are consecutive) and rendered again from
# the ledger on a replay, byte for byte the first answer: a 7,500-item array keeps
# a few bytes for 48 h instead of 2.5 MB. No JSON body starts with this prefix.
_RANGE = b"ledger-ids "


def _kept(outcome: Outcome) -> bytes:
    done = outcome._value
    if outcome.status != 201 or not isinstance(done, list):
        return outcome.body  # one transfer, or a refusal: small
    first, last = done[0].id, done[-1].id
    assert last - first + 1 == len(done), "an array's entries are consecutive"
    return b"%s%d %d" % (_RANGE, first, last)


def _replay(ctx: WriteContext, status: int, kept: bytes) -> Outcome:
    if not kept.startswith(_RANGE):
        return Outcome(status, kept, replayed=True)
    first, last = (int(n) for n in kept[len(_RANGE) :].split())
    ctx.flush()  # the array may still be staged in this very batch
    rows = ctx.conn.execute(
        f"{ledger_reads.SELECT} WHERE l.id BETWEEN ? AND ? ORDER BY l.id", (first, last)
    ).fetchall()
    return Outcome(status, replayed=True, rows=rows)  # rendered by the caller's thread


def _revert(ctx: WriteContext, command: RevertEntry) -> object:
    conn = ctx.conn
    ctx.flush()  # the entry, or an earlier revert of it, may still be staged
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
    tx = postings.post(
        ctx,
        postings.REVERT,
        back_from,
        back_to,
        amount,
        f"revert of {command.entry_id}",
        bot,
        reverts=command.entry_id,
    )
    outbox.emit_transaction(ctx, tx)
    return tx
