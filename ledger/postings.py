"""Appending an entry to the ledger: the one function that changes a balance.

Runs inside the writer's transaction. A refused posting writes nothing. Directly
(tasks in a savepoint), the balance check and the update are one statement
(`UPDATE … WHERE balance >= amount RETURNING balance`), and a refused credit undoes
its debit. Staged (ledger commands, see ledger.stage), the check and the move
happen on the writer's in-memory projection, one posting after the other, so two
spends in one batch can never both pass a check made before either was applied.
"""

from __future__ import annotations

import functools
import time

from ledger.accounts import Account, party
from ledger.chain import GENESIS, entry_hash
from ledger.errors import BalanceLimit, InsufficientFunds, UnknownAccount
from ledger.stage import Stage, staged
from schemas.base import MAX_COUNTER
from schemas.transactions import KINDS, Balances, Party, Transaction
from storage.writer import WriteContext

__all__ = ["CLOSE", "RESET", "REVERT", "TRANSFER", "post"]

TRANSFER, RESET, CLOSE, REVERT = 1, 2, 3, 4

_DEBIT_USER = (
    "UPDATE accounts SET balance = balance - ?1"
    " WHERE id = ?2 AND open = 1 AND balance >= ?1 RETURNING balance"
)
_DEBIT_TREASURY = (
    "UPDATE accounts SET balance = balance - ?1"
    " WHERE id = ?2 AND balance - ?1 >= ?3 RETURNING balance"
)
_CREDIT = (
    "UPDATE accounts SET balance = balance + ?1"
    " WHERE id = ?2 AND (open = 1 OR bot_id IS NOT NULL) AND balance + ?1 <= ?3"
    " RETURNING balance"
)
_INSERT = (
    "INSERT INTO ledger (id, kind, ts, src, dst, amount, src_balance, dst_balance, bot,"
    " reason, reverts, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@functools.lru_cache(maxsize=65536)
def _party(account: Account) -> Party:
    """An account's public side of an entry; accounts never change identity, so the
    same (never mutated) Party serves every entry."""
    return Party(**party(account))


def _head(ctx: WriteContext) -> tuple[int, int, bytes]:
    head = ctx.cache.get("head")
    if head is None:
        row = ctx.conn.execute(
            "SELECT id, ts, hash FROM ledger ORDER BY id DESC LIMIT 1"
        ).fetchone()
        head = ctx.cache["head"] = tuple(row) if row else (0, 0, GENESIS)
    return head


def _why_not(ctx: WriteContext, side: str, account: Account, amount: int, debit: bool) -> Exception:
    balance, is_open = ctx.conn.execute(
        "SELECT balance, open FROM accounts WHERE id = ?", (account.id,)
    ).fetchone()
    if not account.is_treasury and not is_open:
        return UnknownAccount(side, account.vp_id)
    if debit and not account.is_treasury:
        return InsufficientFunds(side, balance, amount)
    return BalanceLimit(side)


def _move_direct(ctx: WriteContext, src: Account, dst: Account, amount: int) -> tuple[int, int]:
    conn = ctx.conn
    if src.is_treasury:
        row = conn.execute(_DEBIT_TREASURY, (amount, src.id, -MAX_COUNTER)).fetchone()
    else:
        row = conn.execute(_DEBIT_USER, (amount, src.id)).fetchone()
    if row is None:
        raise _why_not(ctx, "from", src, amount, debit=True)
    src_balance = row[0]
    row = conn.execute(_CREDIT, (amount, dst.id, MAX_COUNTER)).fetchone()
    if row is None:
        # Undo the debit ourselves: a refused posting leaves nothing behind.
        conn.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", (amount, src.id))
        raise _why_not(ctx, "to", dst, amount, debit=False)
    return src_balance, row[0]


def _move_staged(stage: Stage, src: Account, dst: Account, amount: int) -> tuple[int, int]:
    """The same rules as the direct statements, checked before anything moves."""
    src_balance = stage.load(src.id) - amount
    if src.is_treasury:
        if src_balance < -MAX_COUNTER:
            raise BalanceLimit("from")
    elif not stage.open[src.id]:
        raise UnknownAccount("from", src.vp_id)
    elif src_balance < 0:
        raise InsufficientFunds("from", src_balance + amount, amount)
    dst_balance = stage.load(dst.id) + amount
    if not dst.is_treasury and not stage.open[dst.id]:
        raise UnknownAccount("to", dst.vp_id)
    if dst_balance > MAX_COUNTER:
        raise BalanceLimit("to")
    stage.set(src.id, src_balance)
    stage.set(dst.id, dst_balance)
    return src_balance, dst_balance


def post(
    ctx: WriteContext,
    kind: int,
    src: Account,
    dst: Account,
    amount: int,
    reason: str,
    bot: Account,
    reverts: int | None = None,
) -> Transaction:
    """Move `amount` from `src` to `dst` and append the entry; raise if not allowed.

    A user balance never goes below 0; a treasury may (it issues currency); no
    balance leaves ±(2^53-1). `bot` is the performing bot's treasury. A refused
    posting writes nothing. Inside a staging task (ledger.stage) the move and the
    entry are kept in memory until the writer flushes them before COMMIT.
    """
    stage = staged(ctx)
    if stage is None:
        src_balance, dst_balance = _move_direct(ctx, src, dst, amount)
    else:
        src_balance, dst_balance = _move_staged(stage, src, dst, amount)
    last_id, last_ts, last_hash = _head(ctx)
    entry_id = last_id + 1
    ts = max(int(time.time() * 1000), last_ts)  # never backwards, so windows stay exact
    digest = entry_hash(
        last_hash,
        entry_id,
        kind,
        ts,
        src.vp_id,
        dst.vp_id,
        amount,
        src_balance,
        dst_balance,
        bot.vp_id,
        reverts,
        reason,
    )
    row = (
        entry_id,
        kind,
        ts,
        src.id,
        dst.id,
        amount,
        src_balance,
        dst_balance,
        bot.id,
        reason,
        reverts,
        digest,
    )
    if stage is None:
        ctx.conn.execute(_INSERT, row)
    else:
        stage.rows.append(row)
    ctx.cache["head"] = (entry_id, ts, digest)
    # positional, in field order (id, kind, timestamp, from, to, amount, reason,
    # bot_id, balances, reverts): cheaper than keywords on the hot path
    return Transaction(
        entry_id,
        KINDS[kind],
        ts / 1000,
        _party(src),
        _party(dst),
        amount,
        reason,
        bot.bot_id or "",
        Balances(src_balance, dst_balance),
        reverts,
    )
