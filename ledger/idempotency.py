"""Idempotency-Key bookkeeping (SPEC §6): first outcomes, kept ≥ 24 h, then pruned.

Pruning runs inside the writer's transaction, piggybacking on a keyed request at
most every `PRUNE_EVERY` seconds, so it needs no timer task of its own and never
races a request that is reading the same key. One prune deletes at most about
`PRUNE_CHUNK` keys, so no write batch carries an unbounded DELETE; while a full
chunk comes out (a backlog), the next prune may run `PRUNE_AGAIN` seconds later.
"""

from __future__ import annotations

import time

from storage.writer import WriteContext

__all__ = ["KEEP_SECONDS", "PRUNE_AGAIN", "PRUNE_CHUNK", "PRUNE_EVERY", "maybe_prune", "prune"]

KEEP_SECONDS = 48 * 3600  # the spec asks for ≥ 24 h; twice that covers slow retriers
PRUNE_EVERY = 600.0
PRUNE_CHUNK = 1000  # about 50 ms of the writer's time at worst (random key deletes)
PRUNE_AGAIN = 1.0  # so a backlog drains at ~1000 keys/s, a few % of the writer

# The oldest keys up to the chunk's last time: a range of the created_at index
# (a row-value IN over the primary key would scan it per bot). Keys stored in the
# same microsecond as the chunk's last go too, so "about" PRUNE_CHUNK.
_PRUNE = (
    "DELETE FROM idempotency WHERE created_at <= (SELECT max(created_at) FROM"
    " (SELECT created_at FROM idempotency WHERE created_at < ?1 ORDER BY created_at"
    " LIMIT ?2))"
)


def prune(ctx: WriteContext, older_than: float, limit: int = PRUNE_CHUNK) -> int:
    """Forget the oldest keys stored before `older_than` (epoch seconds), about
    `limit` at most; returns how many."""
    return ctx.conn.execute(_PRUNE, (older_than, limit)).rowcount


def maybe_prune(ctx: WriteContext, now: float | None = None) -> int:
    """Prune keys older than KEEP_SECONDS if the last prune was PRUNE_EVERY ago
    (PRUNE_AGAIN ago when it took a full chunk, so more may be waiting).

    The time of the next prune lives in the writer's cache, which a rollback empties:
    then the next keyed request prunes again, which costs one bounded DELETE.
    """
    now = time.time() if now is None else now
    if now < ctx.cache.get("idempotency_prune_at", 0.0):
        return 0
    pruned = prune(ctx, now - KEEP_SECONDS)
    ctx.cache["idempotency_prune_at"] = now + (
        PRUNE_AGAIN if pruned >= PRUNE_CHUNK else PRUNE_EVERY
    )
    return pruned
