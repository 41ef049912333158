"""Appending an entry to the ledger: the one function that changes a balance.

Runs inside the writer's transaction. A refused posting writes nothing (it undoes
its debit if the credit is refused). The balance check and the update are one
statement (`UPDATE … WHERE balance >= amount RETURNING balance`), so two spends in
one batch can never both pass a check made before either was applied.
"""

from __future__ import annotations

import time

from ledger.accounts import Account, party
from ledger.chain import GENESIS, entry_hash
from ledger.errors import BalanceLimit, InsufficientFunds, UnknownAccount
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
    balance leaves ±(2^53-1). `bot` is the performing bot's treasury.
    """
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
        # Undo the debit ourselves: a refused posting leaves nothing behind, so a
        # single transfer needs no savepoint of its own (Writer.run savepoint=False).
        conn.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", (amount, src.id))
        raise _why_not(ctx, "to", dst, amount, debit=False)
    dst_balance = row[0]

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
    conn.execute(
        _INSERT,
        (
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
        ),
    )
    ctx.cache["head"] = (entry_id, ts, digest)
    return Transaction(
        id=entry_id,
        kind=KINDS[kind],
        timestamp=ts / 1000,
        from_=Party(**party(src)),
        to=Party(**party(dst)),
        amount=amount,
        reason=reason,
        bot_id=bot.bot_id or "",
        balances=Balances(from_=src_balance, to=dst_balance),
        reverts=reverts,
    )
