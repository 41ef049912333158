"""Boards over rolling windows: net voicepoints received (from the ledger) and
activity gained (from the activity buckets and their feed), over the last `span`
seconds. They keep only profiles with a nonzero score."""

from __future__ import annotations

import math

from storage.boards.base import Board, Stale
from storage.engine.base import Conn
from storage.queries.activity import HOUR
from storage.queries.feeds import head as feed_head
from storage.queries.feeds import pruned_upto
from storage.queries.windows import first_id_from, ledger_head, ms

__all__ = ["ActivityWindow", "LedgerWindow"]


class LedgerWindow(Board):
    """Open profiles by net voicepoints received over the last `span` seconds."""

    def __init__(self, span: float) -> None:
        super().__init__()
        self.span = span
        self.lo = self.hi = 1  # ledger ids [lo, hi) are summed

    def build(self, conn: Conn, now: float) -> None:
        self.hi = ledger_head(conn)
        self.lo = first_id_from(conn, ms(now - self.span), self.hi)
        net = dict(
            conn.execute(
                "SELECT account, sum(d) FROM (SELECT dst AS account, amount AS d FROM ledger"
                " WHERE id >= ?1 AND id < ?2 UNION ALL SELECT src, -amount FROM ledger"
                " WHERE id >= ?1 AND id < ?2) GROUP BY account",
                (self.lo, self.hi),
            )
        )
        self._members(conn, net)

    @staticmethod
    def _add(conn: Conn, lo: int, hi: int, sign: int, into: dict) -> None:
        get = into.get
        for src, dst, amount in conn.execute(
            "SELECT src, dst, amount FROM ledger WHERE id >= ? AND id < ?", (lo, hi)
        ):
            into[src] = get(src, 0) - sign * amount
            into[dst] = get(dst, 0) + sign * amount

    def scores_changed(self, conn: Conn, now: float) -> dict[int, int]:
        head = ledger_head(conn)
        lo = max(self.lo, first_id_from(conn, ms(now - self.span), head, self.lo))
        touched: dict[int, int] = {}  # account -> change of its score
        if lo > self.lo:
            self._add(conn, self.lo, min(lo, self.hi), -1, touched)
        if head > self.hi:
            self._add(conn, max(self.hi, lo), head, 1, touched)
        self.lo, self.hi = lo, max(head, lo)
        return {account: self.score_of(account) + delta for account, delta in touched.items()}


class ActivityWindow(Board):
    """Open profiles by an activity column summed over the hours of the last `span`
    seconds (hours that overlap the window count whole, as in storage/windows.py)."""

    def __init__(self, column: str, span: float) -> None:
        super().__init__()
        assert column in ("experience", "time", "messages")
        self.column = column
        self.span = span
        self.first_hour = 0
        self.feed_seq = 0

    def _hour(self, now: float) -> int:
        return math.floor((now - self.span) / HOUR)

    def build(self, conn: Conn, now: float) -> None:
        self.first_hour = self._hour(now)
        self.feed_seq = feed_head(conn, "activity_feed")
        net = dict(
            conn.execute(
                f"SELECT account, sum({self.column}) FROM activity WHERE hour >= ?"
                " GROUP BY account",
                (self.first_hour,),
            )
        )
        self._members(conn, net)

    def scores_changed(self, conn: Conn, now: float) -> dict[int, int]:
        if pruned_upto(conn, "activity_feed") > self.feed_seq:
            raise Stale("activity feed pruned past this board")
        col = self.column
        touched: dict[int, int] = {}  # account -> change of its score
        for account, value in conn.execute(
            f"SELECT account, {col} FROM activity_feed WHERE seq > ? AND hour >= ?",
            (self.feed_seq, self.first_hour),
        ):
            if value:
                touched[account] = touched.get(account, 0) + value
        self.feed_seq = feed_head(conn, "activity_feed")
        first = self._hour(now)
        if first > self.first_hour:
            # What the feed added to these hours is in their buckets too: the feed
            # was applied first, so the whole bucket leaves.
            for account, value in conn.execute(
                f"SELECT account, {col} FROM activity WHERE hour >= ? AND hour < ?",
                (self.first_hour, first),
            ):
                if value:
                    touched[account] = touched.get(account, 0) - value
            self.first_hour = first
        return {account: self.score_of(account) + delta for account, delta in touched.items()}
