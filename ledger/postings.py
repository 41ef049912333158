"""Appending an entry to the ledger: the one function that changes a balance.

Runs inside the writer's transaction, on the ledger's state (ledger/state.py): the
rules are checked and the balances moved in memory, one posting after the other,
so two spends in one batch can never both pass a check made before either was
applied; the entry is written with the others before COMMIT. A refused posting
changes nothing.
"""

from __future__ import annotations

from ledger.accounts import Account, party
from ledger.chain import entry_hash
from ledger.errors import UnknownAccount
from ledger.rules import credit, debit
from ledger.state import LedgerState
from schemas.transactions import KINDS, Balances, Transaction
from storage.clock import millis

__all__ = [
    "CLOSE",
    "IMPORT",
    "PURCHASE",
    "REFUND",
    "RESET",
    "REVERT",
    "REWARD",
    "SEASON",
    "TRANSFER",
    "check",
    "post",
]

# The kinds of entry (schemas/transactions.py KINDS names them).
TRANSFER, RESET, CLOSE, REVERT, IMPORT, PURCHASE, REFUND, REWARD, SEASON = range(1, 10)


def check(state: LedgerState, src: Account, dst: Account, amount: int) -> tuple[int, int]:
    """The balances after the move, or the refusal; moves nothing. The sender is
    checked before the receiver."""
    if not state.is_open(src):
        raise UnknownAccount("from", src.vp_id)
    src_after = debit(state.load(src.id), amount, src.is_treasury)
    if not state.is_open(dst):
        raise UnknownAccount("to", dst.vp_id)
    return src_after, credit(state.load(dst.id), amount)


def post(
    state: LedgerState,
    kind: int,
    src: Account,
    dst: Account,
    amount: int,
    reason: str,
    bot: Account,
    reverts: int | None = None,
) -> Transaction:
    """Move `amount` from `src` to `dst` and append the entry; raise if not allowed.
    `bot` is the performing bot's treasury."""
    src_balance, dst_balance = check(state, src, dst, amount)
    state.set(src.id, src_balance)
    state.set(dst.id, dst_balance)
    last_id, last_ts, last_hash = state.head()
    entry_id = last_id + 1
    # never backwards, so windows stay exact
    ts = max(millis(state.ctx.clock), last_ts)
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
    state.rows.append(
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
        )
    )
    state.set_head((entry_id, ts, digest))
    # positional, in field order (id, kind, timestamp, from, to, amount, reason,
    # bot_id, balances, reverts): cheaper than keywords on the hot path
    return Transaction(
        entry_id,
        KINDS[kind],
        ts / 1000,
        party(src),
        party(dst),
        amount,
        reason,
        bot.bot_id or "",
        Balances(src_balance, dst_balance),
        reverts,
    )
