"""Idempotency-Key bookkeeping (SPEC §6): first outcomes, kept ≥ 24 h, then pruned.

Pruning runs inside the writer's transaction, piggybacking on a keyed request at
most every `PRUNE_EVERY` seconds, so it needs no timer task of its own and never
races a request that is reading the same key.
"""

from __future__ import annotations

import time

from storage.writer import WriteContext

__all__ = ["KEEP_SECONDS", "PRUNE_EVERY", "maybe_prune", "prune"]

KEEP_SECONDS = 48 * 3600  # the spec asks for ≥ 24 h; twice that covers slow retriers
PRUNE_EVERY = 600.0


def prune(ctx: WriteContext, older_than: float) -> int:
    """Forget keys stored before `older_than` (epoch seconds); returns how many."""
    return ctx.conn.execute("DELETE FROM idempotency WHERE created_at < ?", (older_than,)).rowcount


def maybe_prune(ctx: WriteContext, now: float | None = None) -> int:
    """Prune keys older than KEEP_SECONDS if the last prune was PRUNE_EVERY ago.

    The time of the last prune lives in the writer's cache, which a rollback empties:
    then the next keyed request prunes again, which costs one indexed DELETE.
    """
    now = time.time() if now is None else now
    if now - ctx.cache.get("idempotency_pruned_at", 0.0) < PRUNE_EVERY:
        return 0
    ctx.cache["idempotency_pruned_at"] = now
    return prune(ctx, now - KEEP_SECONDS)
