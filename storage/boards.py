"""Leaderboards kept in memory, caught up from the database on every read.

SQL orders most tops with an index (storage/tops.py), but some reads have no
index that could serve them without slowing writes (migration 0003): `points`
(the balance, changed by every transfer), rolling windows (a sum over a range of
time, changed by every write and by the clock), and ranks in big guilds (an
index range count reads every profile ahead). Each board is a Ranking
(storage/rankings.py) plus the database position it reflects:

- `ValueBoard`: every open profile by a metric's values (`PointsBoard`: the
  balance, caught up from the ledger).
- `LedgerWindow`: open profiles by net voicepoints over the last `span` seconds:
  the sum of their ledger entries in ids `[lo, hi)`, exactly like the SQL path.
- `ActivityWindow`: open profiles by what they gained (experience, time or
  messages) in the activity hours from `first_hour` on.

`sync(conn)` brings a board to the reader's snapshot: new ledger entries (by id),
entries and activity hours that left the window, profiles opened, closed or
changed (account_feed) and activity added (activity_feed, migration 0006). Its
cost is what changed since the last read; writers pay nothing for it.

Windows keep only profiles with a nonzero score; the rest score 0 and come, by
profile id, between the positive and the negative scores (storage/board_reads.py).
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

from storage.activity import HOUR
from storage.feeds import head as feed_head
from storage.feeds import pruned_upto
from storage.rankings import Ranking
from storage.windows import first_id_from, ledger_head, ms

__all__ = [
    "ActivityWindow",
    "Board",
    "Cached",
    "LedgerWindow",
    "PointsBoard",
    "Stale",
    "ValueBoard",
    "accounts_changed",
    "rows_in",
]

CHUNK = 500  # values per IN (...) list
_SECOND_BITS = 53  # a second key (experience under level) is a counter below 2^53


class Stale(Exception):
    """The board can no longer catch up (a feed it reads was pruned, or a sync
    failed half-way: a `fault`): drop it and rebuild."""

    def __init__(self, reason: str, fault: bool = False) -> None:
        super().__init__(reason)
        self.fault = fault


def rows_in(conn: sqlite3.Connection, select: str, column: str, values: Sequence) -> Iterator:
    """The rows of `select WHERE column IN values`, CHUNK values a statement (SQLite
    caps the parameters of one)."""
    for i in range(0, len(values), CHUNK):
        part = values[i : i + CHUNK]
        yield from conn.execute(f"{select} WHERE {column} IN ({','.join('?' * len(part))})", part)


def accounts_changed(conn: sqlite3.Connection, since: int) -> tuple[int, set[int]]:
    """(the account feed's head, the accounts opened, closed or changed after seq
    `since`); Stale if the feed was pruned past `since`."""
    if pruned_upto(conn, "account_feed") > since:
        raise Stale("account feed pruned past this board")
    seq = feed_head(conn, "account_feed")
    rows = conn.execute("SELECT account FROM account_feed WHERE seq > ? AND seq <= ?", (since, seq))
    return seq, {account for (account,) in rows}


class Cached(ABC):
    """What every in-memory board shares (these, StatsBoard, FlowBoard): a lock that
    callers hold around `synced` and every read, inside one read transaction; when
    it was last used; and a sync that, if it fails half-way, leaves the board
    `broken` so it never answers again."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_used = time.monotonic()
        self.broken = False

    @abstractmethod
    def build(self, conn: sqlite3.Connection, now: float) -> None:
        """Load from one snapshot (a read transaction the caller opened)."""

    @abstractmethod
    def size(self) -> int:
        """What the board holds (members, accounts or minutes), for /metrics."""

    @abstractmethod
    def sync(self, conn: sqlite3.Connection, now: float) -> None:
        """Catch up with what was committed up to the caller's snapshot."""

    def synced(self, conn: sqlite3.Connection, now: float) -> None:
        """`sync`, or Stale if the board cannot be trusted any more."""
        if self.broken:
            raise Stale("board dropped after a failed sync", fault=True)
        self.last_used = time.monotonic()
        try:
            self.sync(conn, now)
        except Stale:
            self.broken = True
            raise
        except Exception as exc:
            self.broken = True
            raise Stale(f"sync failed: {exc!r}", fault=True) from exc


class Board(Cached):
    """A Ranking and the positions it reflects."""

    every_profile = False  # every open profile is a member, scored from its row
    columns = "0"  # SQL of the row values a member's score is made of

    def __init__(self) -> None:
        super().__init__()
        self.ranking = Ranking()
        self.guild_numbers: dict[str, int] = {}
        self.account_seq = 0
        # Nonzero scores of accounts that are not members (closed profiles and
        # treasuries in a window): a re-opened profile gets its score back.
        self.outside: dict[int, int] = {}

    def size(self) -> int:
        return self.ranking.count(None)

    def guild(self, padded: str) -> int:
        found = self.guild_numbers.get(padded)
        if found is None:
            found = self.guild_numbers[padded] = len(self.guild_numbers)
        return found

    def guild_if_known(self, padded: str) -> int | None:
        return self.guild_numbers.get(padded)

    def combine(self, values: tuple) -> int:
        """A member's score from its row's `columns` (ValueBoard)."""
        return 0

    def report(self, score: int) -> int:
        """The score a response shows (the first key of a composite score)."""
        return score

    # -- what each kind supplies ---------------------------------------------------

    def scores_changed(self, conn: sqlite3.Connection, now: float) -> dict[int, int]:
        """Advance the board's own positions to the snapshot; the accounts whose
        score may have changed, with their new score (0 = none)."""
        return {}

    # -- shared ------------------------------------------------------------------------

    def _members(self, conn: sqlite3.Connection, scores: dict[int, int]) -> None:
        """Build the ranking from every open profile: scored from its row, or from
        `scores` (those without one score 0 and are left out)."""
        self.account_seq = feed_head(conn, "account_feed")
        rows = conn.execute(
            f"SELECT id, guild_id, vp_id, {self.columns} FROM accounts"
            " WHERE open = 1 AND guild_id IS NOT NULL"
        )
        members = []
        guild, pop, combine = self.guild, scores.pop, self.combine
        every = self.every_profile
        for account, guild_id, vp, *values in rows:
            score = combine(values) if every else pop(account, 0)
            if score or every:
                members.append((account, guild(guild_id), int(vp, 16), score))
        self.ranking = Ranking.build(members)
        self.outside = {a: s for a, s in scores.items() if s}

    def sync(self, conn: sqlite3.Connection, now: float) -> None:
        self.account_seq, reopened = accounts_changed(conn, self.account_seq)
        changed = self.scores_changed(conn, now)
        for account in reopened:
            changed.setdefault(account, self.score_of(account))
        ranking, every = self.ranking, self.every_profile
        for account, guild_id, vp, is_open, *values in rows_in(
            conn,
            f"SELECT id, guild_id, vp_id, open, {self.columns} FROM accounts",
            "id",
            list(changed),
        ):
            score = self.combine(values) if every else changed[account]
            if is_open and guild_id is not None and (score or every):
                self.outside.pop(account, None)
                if ranking.score(account) != score:
                    ranking.put(account, self.guild(guild_id), int(vp, 16), score)
            else:
                ranking.drop(account)
                if score and not every:
                    self.outside[account] = score
                else:
                    self.outside.pop(account, None)

    def score_of(self, account: int) -> int:
        """The account's current score, member or not."""
        found = self.ranking.score(account)
        return self.outside.get(account, 0) if found is None else found


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

    def build(self, conn: sqlite3.Connection, now: float) -> None:
        self._members(conn, {})


class PointsBoard(ValueBoard):
    """Every open profile by balance, caught up from the ledger's new entries."""

    def __init__(self) -> None:
        super().__init__(("balance",))
        self.hi = 1  # ledger ids below this are reflected

    def build(self, conn: sqlite3.Connection, now: float) -> None:
        self.hi = ledger_head(conn)
        self._members(conn, {})

    def scores_changed(self, conn: sqlite3.Connection, now: float) -> dict[int, int]:
        head = ledger_head(conn)
        touched: dict[int, int] = {}  # scores are the balances, read in sync()
        if head > self.hi:
            for src, dst in conn.execute(
                "SELECT src, dst FROM ledger WHERE id >= ? AND id < ?", (self.hi, head)
            ):
                touched[src] = touched[dst] = 0
            self.hi = head
        return touched


class LedgerWindow(Board):
    """Open profiles by net voicepoints received over the last `span` seconds."""

    def __init__(self, span: float) -> None:
        super().__init__()
        self.span = span
        self.lo = self.hi = 1  # ledger ids [lo, hi) are summed

    def build(self, conn: sqlite3.Connection, now: float) -> None:
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
    def _add(conn: sqlite3.Connection, lo: int, hi: int, sign: int, into: dict) -> None:
        get = into.get
        for src, dst, amount in conn.execute(
            "SELECT src, dst, amount FROM ledger WHERE id >= ? AND id < ?", (lo, hi)
        ):
            into[src] = get(src, 0) - sign * amount
            into[dst] = get(dst, 0) + sign * amount

    def scores_changed(self, conn: sqlite3.Connection, now: float) -> dict[int, int]:
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

    def build(self, conn: sqlite3.Connection, now: float) -> None:
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

    def scores_changed(self, conn: sqlite3.Connection, now: float) -> dict[int, int]:
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
