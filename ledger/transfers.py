"""Transfers, arrays of them, reverts, and their Idempotency-Key outcomes."""

from __future__ import annotations

from typing import Any

from ledger import idempotency, postings
from ledger.accounts import Account
from ledger.commands import PostTransfers, RevertEntry, Transfer
from ledger.errors import (
    AlreadyReverted,
    Impostor,
    NotRevertible,
    SameAccount,
    TransactionNotFound,
    UnknownAccount,
)
from ledger.outcomes import Posted
from ledger.state import LedgerState
from schemas.transactions import KINDS, Transaction
from storage.errors import DomainError, in_bulk
from storage.queries import outbox

__all__ = ["Posted", "post_transfers", "revert"]


def _side(state: LedgerState, side: str, vp_id: str, bot: Account) -> Account:
    if vp_id == bot.vp_id:  # "self": the caller's treasury, already looked up
        return bot
    account = state.account(vp_id)
    if account is None:
        raise UnknownAccount(side, vp_id)
    return account


def _transfer(state: LedgerState, item: Transfer, bot: Account) -> Transaction:
    if item.src == item.dst:
        raise SameAccount()
    src = _side(state, "from", item.src, bot)
    if src.is_treasury and src.id != bot.id:
        raise Impostor()
    dst = _side(state, "to", item.dst, bot)
    tx = postings.post(state, postings.TRANSFER, src, dst, item.amount, item.reason, bot)
    outbox.emit_transaction(state.ctx, tx)  # callbacks: same transaction as the entry
    return tx


def _run(state: LedgerState, command: PostTransfers, bot: Account) -> Any:
    if command.single:
        return _transfer(state, command.items[0], bot)
    done = []  # an array is one unit: a refused item undoes it all (ledger/apply.py)
    for index, item in enumerate(command.items):
        try:
            done.append(_transfer(state, item, bot))
        except DomainError as exc:
            raise in_bulk(exc, index) from None
    return done


def post_transfers(state: LedgerState, command: PostTransfers) -> Posted:
    bot = state.treasury(command.bot_id)
    key = command.idempotency_key
    if key is None:
        return Posted(_run(state, command, bot))
    assert command.body_hash is not None
    stored = idempotency.first_outcome(state, bot, key, command.body_hash)
    if stored is not None:
        return stored
    # The first outcome is kept whatever it is, so a retry can never move money a
    # second time, nor succeed later where the first attempt was refused.
    try:
        with state.attempt():
            value = _run(state, command, bot)
    except DomainError as exc:
        outcome = Posted(None, refusal=exc)
    else:
        outcome = Posted(value)
    idempotency.keep(state, command.bot_id, key, command.body_hash, outcome)
    return outcome


def revert(state: LedgerState, command: RevertEntry) -> Transaction:
    row = state.entry(command.entry_id)
    if row is None:
        raise TransactionNotFound(command.entry_id)
    kind, src_id, dst_id, amount = row[1], row[3], row[4], row[5]
    if kind not in (postings.TRANSFER, postings.RESET):
        raise NotRevertible(f"a {KINDS[kind]} entry cannot be reverted")
    by = state.reverted_by(command.entry_id)
    if by is not None:
        raise AlreadyReverted(command.entry_id, by)
    bot = state.treasury(command.bot_id)
    back_from, back_to = state.account_by_id(dst_id), state.account_by_id(src_id)
    if back_from.is_treasury and back_from.id != bot.id:
        raise Impostor()
    tx = postings.post(
        state,
        postings.REVERT,
        back_from,
        back_to,
        amount,
        f"revert of {command.entry_id}",
        bot,
        reverts=command.entry_id,
    )
    outbox.emit_transaction(state.ctx, tx)
    return tx
