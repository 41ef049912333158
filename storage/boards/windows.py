"""Boards over named timeframes: net voicepoints received (from the ledger) and
activity gained (from the activity buckets and their feed), over a rolling window
(the last `day`/`week`/`month`) or a UTC calendar period (`this-week`,
`last-month`, …: storage/queries/windows.py). They keep only profiles with a
nonzero score.

A rolling window's start moves with the clock, so each sync takes out what left
it. A calendar period's bounds stay put until the period ends; then the whole
window moves at once, and the board goes Stale so the registry builds it for the
new period: a build reads only the new period, while shifting would read the old
one too (all of it, to take it out)."""

from __future__ import annotations

from storage.boards.base import Board, Stale
from storage.engine.base import Conn
from storage.queries.feeds import head as feed_head
from storage.queries.feeds import pruned_upto
from storage.queries.windows import (
    CALENDAR,
    Window,
    first_id_from,
    hours,
    ledger_head,
    ms,
    resolve,
)

__all__ = ["ActivityWindow", "LedgerWindow"]


class _Timeframe(Board):
    """The window of a named timeframe, measured at each sync."""

    def __init__(self, timeframe: str) -> None:
        super().__init__()
        self.timeframe = timeframe
        self.calendar = timeframe in CALENDAR
        self.period: float | None = None  # a calendar board's period start

    def _window(self, now: float, building: bool = False) -> Window:
        window = resolve(self.timeframe, None, None, now)
        assert window is not None and window.since is not None
        if building:
            self.period = window.since
        elif self.calendar and window.since != self.period:
            raise Stale(f"the {self.timeframe} period ended: built again for the new one")
        return window


class LedgerWindow(_Timeframe):
    """Open profiles by net voicepoints received over the timeframe's window."""

    def __init__(self, timeframe: str) -> None:
        super().__init__(timeframe)
        self.lo = self.hi = 1  # ledger ids [lo, hi) are summed

    def _ids(self, conn: Conn, w: Window, head: int, lo: int, hi: int) -> tuple[int, int]:
        """Ledger ids [lo, hi) of the window; `lo` and `hi` are known lower bounds.
        A closed window's end is searched again each time: an entry stamped before it
        may commit after the board last looked."""
        assert w.since is not None
        first = first_id_from(conn, ms(w.since), head, lo)
        end = head if w.until is None else first_id_from(conn, ms(w.until), head, max(hi, first))
        return first, max(first, end)

    def build(self, conn: Conn, now: float) -> None:
        w = self._window(now, building=True)
        self.lo, self.hi = self._ids(conn, w, ledger_head(conn), 1, 1)
        net = dict(
            conn.execute(
                "SELECT account, sum(d) FROM (SELECT dst AS account, amount AS d FROM ledger"
                " WHERE id >= ?1 AND id < ?2 UNION ALL SELECT src, -amount FROM ledger"
                " WHERE id >= ?1 AND id < ?2) AS moves GROUP BY account",
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
        w = self._window(now)
        lo, hi = self._ids(conn, w, ledger_head(conn), self.lo, self.hi)
        touched: dict[int, int] = {}  # account -> change of its score
        if lo > self.lo:
            self._add(conn, self.lo, min(lo, self.hi), -1, touched)
        if hi > self.hi:
            self._add(conn, max(self.hi, lo), hi, 1, touched)
        self.lo, self.hi = lo, max(hi, lo)
        return {account: self.score_of(account) + delta for account, delta in touched.items()}


class ActivityWindow(_Timeframe):
    """Open profiles by an activity column summed over the hours of the timeframe's
    window (hours that overlap the window count whole, as in storage/windows.py;
    calendar bounds are whole hours)."""

    def __init__(self, column: str, timeframe: str) -> None:
        super().__init__(timeframe)
        assert column in ("experience", "time", "messages")
        self.column = column
        self.first_hour = 0
        self.end_hour = 0  # exclusive; far in the future for a window ending now
        self.feed_seq = 0

    def build(self, conn: Conn, now: float) -> None:
        self.first_hour, self.end_hour = hours(self._window(now, building=True))
        self.feed_seq = feed_head(conn, "activity_feed")
        net = dict(
            conn.execute(
                f"SELECT account, sum({self.column}) FROM activity WHERE hour >= ?"
                " AND hour < ? GROUP BY account",
                (self.first_hour, self.end_hour),
            )
        )
        self._members(conn, net)

    def scores_changed(self, conn: Conn, now: float) -> dict[int, int]:
        # A rolling window's first hour moves on; within its period a calendar
        # window's hours stay put (and it ends at end_hour, far ahead if it ends now).
        first, _ = hours(self._window(now))
        if pruned_upto(conn, "activity_feed") > self.feed_seq:
            raise Stale("activity feed pruned past this board")
        col = self.column
        touched: dict[int, int] = {}  # account -> change of its score
        for account, value in conn.execute(
            f"SELECT account, {col} FROM activity_feed WHERE seq > ? AND hour >= ? AND hour < ?",
            (self.feed_seq, self.first_hour, self.end_hour),
        ):
            if value:
                touched[account] = touched.get(account, 0) + value
        self.feed_seq = feed_head(conn, "activity_feed")
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
