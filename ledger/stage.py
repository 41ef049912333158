"""Staged postings: a group commit's transfers applied in memory, written at once.

While the writer runs a `savepoint=False` task (a ledger command), postings check
and move balances in this in-memory projection and queue their ledger rows; the
writer flushes them (one executemany of rows, one of balances) before COMMIT, or
before a task that needs the database up to date. Per transfer this saves the
three statements a direct posting costs, which dominate the ledger's hot path.

Balances and open flags are read from the database once per account and kept
across batches; the writer forgets them whenever anything else could have changed
them (a task in a savepoint, a rollback, another connection).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from storage.writer import WriteContext

__all__ = ["KEY", "Stage", "staged"]

KEY = "ledger_stage"

_INSERT = (
    "INSERT INTO ledger (id, kind, ts, src, dst, amount, src_balance, dst_balance, bot,"
    " reason, reverts, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class Stage:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.balance: dict[int, int] = {}
        self.open: dict[int, bool] = {}
        self.rows: list[tuple[Any, ...]] = []
        self.dirty: set[int] = set()
        self.journal: list[tuple[int, int]] = []  # (account, balance before), for undo
        self.marks = 0  # open marks: the journal is kept only while one may undo

    def load(self, account_id: int) -> int:
        balance = self.balance.get(account_id)
        if balance is None:
            balance, is_open = self.conn.execute(
                "SELECT balance, open FROM accounts WHERE id = ?", (account_id,)
            ).fetchone()
            self.balance[account_id] = balance
            self.open[account_id] = bool(is_open)
        return balance

    def set(self, account_id: int, balance: int) -> None:
        if self.marks:
            self.journal.append((account_id, self.balance[account_id]))
        self.balance[account_id] = balance
        self.dirty.add(account_id)

    def mark(self) -> tuple[int, int]:
        """A point `undo` can return to; close it with `release` or `undo`."""
        self.marks += 1
        return len(self.rows), len(self.journal)

    def release(self) -> None:
        self.marks -= 1
        if not self.marks:
            self.journal.clear()

    def undo(self, mark: tuple[int, int]) -> None:
        """Forget everything staged since `mark` (an array or attempt that failed)."""
        rows, journal = mark
        while len(self.journal) > journal:
            account_id, before = self.journal.pop()
            self.balance[account_id] = before
        del self.rows[rows:]
        self.release()

    def flush(self) -> None:
        # Flushes happen between tasks; inside a mark, undo could not reach the rows.
        assert not self.marks, "flush inside an open mark"
        if self.rows:
            self.conn.executemany(_INSERT, self.rows)
            self.rows.clear()
        if self.dirty:
            balance = self.balance
            self.conn.executemany(
                "UPDATE accounts SET balance = ? WHERE id = ?",
                [(balance[a], a) for a in self.dirty],
            )
            self.dirty.clear()


def staged(ctx: WriteContext) -> Stage | None:
    """The stage, when the running task may stage its writes; else None."""
    if not ctx.staging:
        return None
    stage = ctx.cache.get(KEY)
    if stage is None:
        stage = ctx.cache[KEY] = Stage(ctx.conn)
        ctx.flushers[KEY] = stage.flush
    return stage  # type: ignore[no-any-return]
