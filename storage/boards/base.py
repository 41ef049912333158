"""Leaderboards kept in memory, caught up from the database on every read.

SQL orders most tops with an index (storage/queries/tops.py), but some reads have no
index that could serve them without slowing writes (migration 0003): `points`
(the balance, changed by every transfer), rolling windows (a sum over a range of
time, changed by every write and by the clock), and ranks in big guilds (an
index range count reads every profile ahead). Each board is a Ranking
(boards/ranking.py) plus the database position it reflects:

- `ValueBoard`: every open profile by a metric's values (`PointsBoard`: the
  balance, caught up from the ledger) — boards/values.py.
- `LedgerWindow`: open profiles by net voicepoints over a named timeframe (the
  last 1/7/30 days, or a UTC calendar week or month): the sum of their ledger
  entries in ids `[lo, hi)`, exactly like the SQL path.
- `ActivityWindow`: open profiles by what they gained (experience, time or
  messages) in the activity hours `[first_hour, end_hour)` — boards/windows.py.

`sync(conn)` brings a board to the reader's snapshot: new ledger entries (by id),
entries and activity hours that left the window, profiles opened, closed or
changed (account_feed) and activity added (activity_feed, migration 0006). Its
cost is what changed since the last read; writers pay nothing for it.

Windows keep only profiles with a nonzero score; the rest score 0 and come, by
profile id, between the positive and the negative scores (boards/pages.py).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod

from storage.boards.ranking import Ranking
from storage.engine.base import Conn
from storage.queries.batches import rows_in
from storage.queries.feeds import head as feed_head
from storage.queries.feeds import pruned_upto

__all__ = ["Board", "Cached", "Stale", "accounts_changed"]


class Stale(Exception):
    """The board can no longer catch up (a feed it reads was pruned, or a sync
    failed half-way: a `fault`): drop it and rebuild."""

    def __init__(self, reason: str, fault: bool = False) -> None:
        super().__init__(reason)
        self.fault = fault


def accounts_changed(conn: Conn, since: int) -> tuple[int, set[int]]:
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
        self.read_at = 0.0  # monotonic time the last read ended (storage/boards/answers.py)
        self.read_cpu = float("inf")  # and the CPU seconds it took

    @abstractmethod
    def build(self, conn: Conn, now: float) -> None:
        """Load from one snapshot (a read transaction the caller opened)."""

    @abstractmethod
    def size(self) -> int:
        """What the board holds (members, accounts or minutes), for /metrics."""

    @abstractmethod
    def sync(self, conn: Conn, now: float) -> None:
        """Catch up with what was committed up to the caller's snapshot."""

    def synced(self, conn: Conn, now: float) -> None:
        """`sync`, or Stale if the board cannot be trusted any more."""
        if self.broken:
            raise Stale("board dropped after a failed sync", fault=True)
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

    def scores_changed(self, conn: Conn, now: float) -> dict[int, int]:
        """Advance the board's own positions to the snapshot; the accounts whose
        score may have changed, with their new score (0 = none)."""
        return {}

    # -- shared ------------------------------------------------------------------------

    def _members(self, conn: Conn, scores: dict[int, int]) -> None:
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

    def sync(self, conn: Conn, now: float) -> None:
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
