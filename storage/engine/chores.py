"""Housekeeping run by the writer with its batches (pruning what is only kept for a
while): each chore at most every `every` seconds, at the end of a batch, in a
savepoint of its own, bounded in the rows it touches. A chore that left work says
so and runs again a second later; one that fails is logged and tried again later,
unless the storage itself failed (then the batch fails, as any write would)."""

from __future__ import annotations

import logging

from storage.clock import Clock
from storage.engine import Engine
from storage.engine.write_context import Chore, WriteContext

__all__ = ["Chores"]

log = logging.getLogger("voiceprofile.writer")


class Chores:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._due: list[tuple[Chore, list[float]]] = []  # (chore, [next due])

    def add(self, chore: Chore) -> None:
        self._due.append((chore, [self._clock.monotonic() + chore.every]))

    def run_due(self, ctx: WriteContext, engine: Engine) -> None:
        now = self._clock.monotonic()
        for chore, due in self._due:
            if now < due[0]:
                continue
            ctx.conn.execute("SAVEPOINT chore")
            try:
                more = chore(ctx)
            except Exception as exc:
                if engine.is_storage_failure(exc):
                    raise
                log.exception("housekeeping %s failed; it is tried again later", chore)
                ctx.conn.execute("ROLLBACK TO chore")
                more = False
            ctx.conn.execute("RELEASE chore")
            due[0] = now + (min(1.0, chore.every) if more else chore.every)
