"""Idempotency-Key bookkeeping (SPEC §6): first outcomes, kept ≥ 24 h, then pruned.

Pruning is a writer chore (storage/writer.py): inside a write transaction, so it
needs no timer task of its own and never races a request reading the same key.
"""

from __future__ import annotations

import msgspec

from ledger import store
from ledger.accounts import Account, treasury_vp
from ledger.errors import IdempotencyKeyReused, StoredRefusal
from ledger.outcomes import Posted
from ledger.state import LedgerState
from storage.engine.writer import WriteContext

__all__ = ["PruneKeys", "first_outcome", "keep"]

_encode = msgspec.json.encode
_OK = 0  # the status column of a success (rows from before this change say 201)
# A successful keyed array is kept as the range of ledger ids it appended (one
# command appends them one after the other) and rendered again from the ledger on a
# replay, byte for byte the first answer: a 7,500-item array keeps a few bytes for
# 48 h instead of 2.5 MB. No JSON body starts with this prefix.
_RANGE = b"ledger-ids "


def first_outcome(state: LedgerState, bot: Account, key: str, body_hash: bytes) -> Posted | None:
    """The stored first outcome of `key`, replayed; None if the key is new."""
    if bot.id < 0:  # a treasury not written yet has no keys
        return None
    kept = state.kept.get((bot.id, key))  # this transaction's, not written yet
    stored = kept[:3] if kept is not None else _stored(state, bot.id, key)
    if stored is None:
        return None
    digest, status, response = stored
    if digest != body_hash:
        raise IdempotencyKeyReused()
    if response.startswith(_RANGE):
        first, last = (int(n) for n in response[len(_RANGE) :].split())
        return Posted(state.transactions(first, last), replayed=True)
    if status < 400:
        return Posted(None, body=response, replayed=True)
    return Posted(None, refusal=StoredRefusal(status, response), replayed=True)


def _stored(state: LedgerState, bot: int, key: str) -> tuple[bytes, int, bytes] | None:
    """The stored first outcome of (bot, key). The first lookup of a transaction reads
    the keys of every keyed command in the batch whose bot's treasury is known, one
    query per bot (ledger/store.py): on PostgreSQL each lookup had been a round trip
    inside the write transaction, and keyed transfers ran at a quarter of unkeyed ones."""
    pair = (bot, key)
    if pair in state.stored:
        return state.stored[pair]
    if state.stored:  # read ahead already: a key that read did not know to look for
        return store.keyed_outcomes(state.conn, bot, [key]).get(key)
    wanted: dict[int, set[str]] = {bot: {key}}
    for arg in state.ctx.batch:
        other, bot_id = getattr(arg, "idempotency_key", None), getattr(arg, "bot_id", None)
        if other is None or bot_id is None:
            continue
        treasury = state.accounts.get(treasury_vp(bot_id))
        if treasury is not None and treasury.id >= 0:  # not one written by this batch
            wanted.setdefault(treasury.id, set()).add(other)
    for owner, keys in wanted.items():
        found = store.keyed_outcomes(state.conn, owner, sorted(keys))
        for one in keys:
            state.stored[(owner, one)] = found.get(one)
    return state.stored[pair]


def keep(state: LedgerState, bot_id: str, key: str, body_hash: bytes, outcome: Posted) -> None:
    state.write_pending()  # the key's row refers to the bot's treasury
    bot = state.treasury(bot_id)
    refusal = outcome.refusal
    if refusal is not None:
        status, response = refusal.status, _encode(refusal.body())
    elif isinstance(outcome.value, list):
        first, last = outcome.value[0].id, outcome.value[-1].id
        assert last - first + 1 == len(outcome.value), "an array's entries are consecutive"
        status, response = _OK, b"%s%d %d" % (_RANGE, first, last)
    else:
        status, response = _OK, outcome.json()
    # Written with the transaction's entries (LedgerState.flush).
    state.kept[(bot.id, key)] = (body_hash, status, response, state.ctx.clock.now())


class PruneKeys:
    """Writer housekeeping: forget keys older than their retention, a chunk at a time
    (one bounded DELETE per batch, never a long one inside a write)."""

    def __init__(self, keep_seconds: float, every: float = 600.0, chunk: int = 1000) -> None:
        self.keep_seconds, self.every, self.chunk = keep_seconds, every, chunk

    def __call__(self, ctx: WriteContext) -> bool:
        older_than = ctx.clock.now() - self.keep_seconds
        return store.forget_outcomes(ctx.conn, older_than, self.chunk) >= self.chunk
