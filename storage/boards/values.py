"""Boards of every open profile by a value of its row: a metric's columns, or the
balance (caught up from the ledger's new entries)."""

from __future__ import annotations

from storage.boards.base import Board
from storage.engine.base import Conn
from storage.queries.windows import ledger_head

__all__ = ["PointsBoard", "ValueBoard"]

_SECOND_BITS = 53  # a second key (experience under level) is a counter below 2^53


class ValueBoard(Board):
    """Every open profile by a metric's values (storage/tops.py METRICS keys): one
    key, or two packed as `first << 53 | second`, which sorts the same."""

    every_profile = True

    def __init__(self, keys: tuple[str, ...]) -> None:
        super().__init__()
        assert 1 <= len(keys) <= 2
        self.columns = ", ".join(keys)
        self.keys = len(keys)

    def combine(self, values: tuple) -> int:
        if self.keys == 1:
            return int(values[0])
        return (int(values[0]) << _SECOND_BITS) | int(values[1])

    def report(self, score: int) -> int:
        return score if self.keys == 1 else score >> _SECOND_BITS

    def build(self, conn: Conn, now: float) -> None:
        self._members(conn, {})


class PointsBoard(ValueBoard):
    """Every open profile by balance, caught up from the ledger's new entries."""

    def __init__(self) -> None:
        super().__init__(("balance",))
        self.hi = 1  # ledger ids below this are reflected

    def build(self, conn: Conn, now: float) -> None:
        self.hi = ledger_head(conn)
        self._members(conn, {})

    def scores_changed(self, conn: Conn, now: float) -> dict[int, int]:
        head = ledger_head(conn)
        touched: dict[int, int] = {}  # scores are the balances, read in sync()
        if head > self.hi:
            for src, dst in conn.execute(
                "SELECT src, dst FROM ledger WHERE id >= ? AND id < ?", (self.hi, head)
            ):
                touched[src] = touched[dst] = 0
            self.hi = head
        return touched
