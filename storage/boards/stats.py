"""GET /stats from memory: per-guild counts and totals, caught up on every read.

SQL computes /stats with aggregates over every open profile of the scope, and a
guild's `transactions` by merging its members' ledger entries: seconds for a
guild of 100k profiles with millions of entries (README, Benchmarks). This board
keeps each account's contribution (its guild, user, and, while open, balance,
experience, time and messages) in flat arrays by account id, the totals per
guild, and how many open profiles each user has. A read catches up like the
leaderboards (storage/boards.py): new ledger entries (counted into their guilds;
their accounts' balances re-read) and account_feed (profiles opened, closed or
changed). About 50 bytes per account.
"""

from __future__ import annotations

import time
from array import array
from typing import Any

from storage.boards.base import Cached, accounts_changed, rows_in
from storage.engine.base import Conn
from storage.ids import pad
from storage.queries.feeds import head as feed_head
from storage.queries.windows import ledger_head

__all__ = ["StatsBoard", "board_stats"]

_ROW = (
    "SELECT id, guild_id, user_id, open, balance, experience, time_global,"
    " coalesce(text_messages, 0) FROM accounts"
)
# Per guild: [profiles, voicepoints, experience, timespent, messages, transactions]
_PROFILES, _TRANSACTIONS = 0, 5


class StatsBoard(Cached):
    def __init__(self) -> None:
        super().__init__()
        self.hi = 1  # ledger ids below this are counted
        self.account_seq = 0
        self.guild_numbers: dict[str, int] = {}
        self.guild_of = array("q")  # by account id: guild number, -1 for none
        self.user_of = array("Q")
        self.values = [array("q") for _ in range(4)]  # balance, experience, time, messages
        self.is_open = bytearray()
        self.guilds: list[list[int]] = []  # by guild number
        self.users: dict[int, int] = {}  # user id -> open profiles
        self.totals = [0] * 5  # as a guild's first five, over every open profile
        self.open_guilds = 0  # guilds with an open profile

    def size(self) -> int:
        return len(self.guild_of)

    # -- accounts ------------------------------------------------------------------

    def _grow(self, account: int) -> None:
        missing = account + 1 - len(self.guild_of)
        if missing > 0:
            self.guild_of.extend([-1] * missing)
            self.user_of.extend([0] * missing)
            for column in self.values:
                column.extend([0] * missing)
            self.is_open.extend(bytes(missing))

    def _apply(self, sign: int, account: int) -> None:
        """Add (sign 1) or take away (-1) an open account's contribution."""
        guild = self.guild_of[account]
        agg = self.guilds[guild]
        if sign > 0 and agg[_PROFILES] == 0:
            self.open_guilds += 1
        agg[_PROFILES] += sign
        self.totals[0] += sign
        if sign < 0 and agg[_PROFILES] == 0:
            self.open_guilds -= 1
        for i, column in enumerate(self.values, 1):
            agg[i] += sign * column[account]
            self.totals[i] += sign * column[account]
        user = self.user_of[account]
        left = self.users.get(user, 0) + sign
        if left:
            self.users[user] = left
        else:
            self.users.pop(user, None)

    def _account(self, row: tuple) -> None:
        account, guild_id, user_id, is_open, *values = row
        self._grow(account)
        if self.is_open[account]:
            self._apply(-1, account)
        if guild_id is None:  # a treasury: never a profile
            return
        guild = self.guild_numbers.get(guild_id)
        if guild is None:
            guild = self.guild_numbers[guild_id] = len(self.guilds)
            self.guilds.append([0] * 6)
        self.guild_of[account] = guild
        self.user_of[account] = int(user_id)
        self.is_open[account] = 1 if is_open else 0
        for column, value in zip(self.values, values, strict=True):
            column[account] = value if is_open else 0
        if is_open:
            self._apply(1, account)

    def _count(self, src: int, dst: int) -> None:
        """One ledger entry, counted once in each guild it touches."""
        a, b = self.guild_of[src], self.guild_of[dst]
        if a >= 0:
            self.guilds[a][_TRANSACTIONS] += 1
        if b >= 0 and b != a:
            self.guilds[b][_TRANSACTIONS] += 1

    # -- building and catching up ----------------------------------------------------

    def build(self, conn: Conn, now: float) -> None:
        self.account_seq = feed_head(conn, "account_feed")
        self.hi = ledger_head(conn)
        for row in conn.execute(f"{_ROW} ORDER BY id"):
            self._account(row)
        count = self._count
        for src, dst in conn.execute("SELECT src, dst FROM ledger WHERE id < ?", (self.hi,)):
            count(src, dst)

    def sync(self, conn: Conn, now: float) -> None:
        seq, touched = accounts_changed(conn, self.account_seq)
        head = ledger_head(conn)
        entries = conn.execute(
            "SELECT src, dst FROM ledger WHERE id >= ? AND id < ?", (self.hi, head)
        ).fetchall()
        touched.update(a for entry in entries for a in entry)
        for row in rows_in(conn, _ROW, "id", sorted(touched)):
            self._account(row)
        for src, dst in entries:  # after the rows: a new account's guild is known
            self._count(src, dst)
        self.hi, self.account_seq = head, seq

    # -- reading -------------------------------------------------------------------------

    def stats(self, conn: Conn, guild_id: int | None) -> dict[str, Any]:
        """What storage/stats.py answers, from memory."""
        if guild_id is None:
            profiles, voicepoints, experience, timespent, messages = self.totals
            return {
                "profiles": profiles,
                "guilds": self.open_guilds,
                "users": len(self.users),
                "transactions": self.hi - 1,
                "voicepoints": voicepoints,
                "experience": experience,
                "timespent": timespent,
                "messages": messages,
            }
        guild = self.guild_numbers.get(pad(guild_id))
        agg = [0] * 6 if guild is None else self.guilds[guild]
        return {
            "profiles": agg[0],
            "users": agg[0],
            "transactions": agg[5],
            "voicepoints": agg[1],
            "experience": agg[2],
            "timespent": agg[3],
            "messages": agg[4],
        }


def board_stats(conn: Conn, board: StatsBoard, guild_id: int | None) -> dict:
    with board.lock:
        board.synced(conn, time.time())
        return board.stats(conn, guild_id)
