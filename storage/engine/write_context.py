"""What a write task sees (`WriteContext`), the writer's running figures
(`BatchStats`) and the shape of a housekeeping chore: the writer's public types,
kept apart from the thread that runs them (storage/engine/writer.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from storage.clock import Clock, SystemClock
from storage.engine.base import Conn

__all__ = ["BatchStats", "Chore", "WriteContext"]

S = TypeVar("S")


@dataclass
class WriteContext:
    """What a write task sees: the connection, the clock, the settings, and state
    private to the writer that lasts across transactions (see `state`)."""

    conn: Conn
    clock: Clock = field(default_factory=SystemClock)
    config: Any = None
    """The application's settings (tasks read the options they need from it)."""
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    batch: list[Any] = field(default_factory=list)
    """The arguments of every task of the running transaction, in order: a task may
    read what the ones after it will need in one query (ledger/idempotency.py)."""
    _states: dict[type, Any] = field(default_factory=dict)
    _flushed: int = 0  # rows changed by flushes during the running task

    def state(self, cls: type[S]) -> S:
        """The writer's one instance of `cls`, made with `cls(ctx)` on first use.

        A state may define `flush()`: the writer calls it before COMMIT, so what it
        keeps in memory is durable when callers hear back. Every state is dropped
        after a rollback, so it must only hold what it can read again."""
        found = self._states.get(cls)
        if found is None:
            found = self._states[cls] = cls(self)  # type: ignore[call-arg]
        return found  # type: ignore[no-any-return]

    def flush(self) -> None:
        """Write what every state holds in memory (before COMMIT, or when a task
        needs the database itself up to date)."""
        before = self.conn.total_changes
        for state in list(self._states.values()):
            flush = getattr(state, "flush", None)
            if flush is not None:
                flush()
        self._flushed += self.conn.total_changes - before

    def reset(self) -> None:
        """Forget every state (after a rollback, or another connection's commit)."""
        self._states.clear()

    def reset_state(self, cls: type) -> None:
        """Forget one state, whose data a task just changed (read again on next use).
        What it held for this transaction is written first."""
        found = self._states.pop(cls, None)
        flush = getattr(found, "flush", None)
        if flush is not None:
            flush()


@dataclass
class BatchStats:
    """Running figures for /metrics and /health."""

    batches: int = 0
    tasks: int = 0
    failed_batches: int = 0
    last_batch_size: int = 0
    last_commit_seconds: float = 0.0
    last_error: str | None = None
    """Why the last batch failed; None once one committed since (logs and admins only)."""
    last_failed_at: float | None = None
    """time.monotonic() of the last failed batch."""
    observers: list[Callable[[int, float], None]] = field(default_factory=list)

    def failing(self, within: float) -> bool:
        """The last batch failed, less than `within` seconds ago, and none committed
        since: writes are being refused (503), or were until writes stopped coming."""
        return (
            self.last_error is not None
            and self.last_failed_at is not None
            and time.monotonic() - self.last_failed_at < within
        )


class Chore(Protocol):
    every: float

    def __call__(self, ctx: WriteContext) -> bool:
        """Do a bounded amount of housekeeping; True if more is left to do."""
        ...
