"""Whole tops that no index orders, streamed: ranked once per request, then read
chunk by chunk.

A window top (storage/window_tops.py) and an all-time `points` top have no index in
their order: a page costs one aggregate or one sort of the scope. A stream read
page by page paid that for every chunk (N²/500 for N profiles). Instead the order
is computed once, in one snapshot, into an `Order`: the ranked accounts and their
scores in two arrays (16 bytes per ranked profile; a window ranks only the profiles
with a nonzero score, `points` every profile of the scope). Chunks are then read
from it by position (storage/top_segments.py): the ranked profiles by account id,
the zeros by a walk of the profile-id index, so the whole stream costs one
aggregate, one sort and one pass over what it sends.

The order, ranks and scores are the first snapshot's; each chunk reads its profiles
in its own snapshot, so no reader is held while the client reads. A profile
deleted since is left out; one created since may appear among the zeros.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

from schemas.profiles import Profile
from storage.boards.base import CHUNK, rows_in
from storage.engine.base import Conn, Cursor
from storage.queries.profiles import COLUMNS, to_profile
from storage.queries.top_segments import Position, start
from storage.queries.tops import Metric, Scope, count, order_by
from storage.queries.window_tops import aggregate
from storage.queries.windows import Window

__all__ = ["Order", "all_time_order", "window_order"]


class Order:
    """A top's ranked accounts in order, with their scores (a `Ranked`)."""

    def __init__(
        self, accounts: array, scores: array, zeros: int, scope: Scope, every_profile: bool
    ) -> None:
        self.accounts = accounts
        self.scores = scores  # an int64 holds any score: SQLite's sums stop at 2^63
        self.zeros = zeros  # unranked open profiles of the scope, in the first snapshot
        self.scope = scope
        self.every_profile = every_profile
        # scores descend: the positives end at the first score <= 0
        self.positives = bisect_left(scores, 0, key=lambda s: -s)
        self._sorted = array("q", sorted(accounts)) if not every_profile else array("q")

    def __len__(self) -> int:
        return len(self.accounts)

    def __contains__(self, account: int) -> bool:
        i = bisect_left(self._sorted, account)
        return i < len(self._sorted) and self._sorted[i] == account

    def entries(self, conn: Conn, first: int, stop: int) -> list[tuple[int, Profile]]:
        """Ranks first … stop-1 with their profiles as they are now; one deleted
        since the order was taken is left out."""
        ids = self.accounts[first:stop]
        found = {
            row[0]: to_profile(row[2:])
            for row in rows_in(
                conn, f"SELECT id, open, {COLUMNS} FROM accounts", "id", ids.tolist()
            )
            if row[1] == 1
        }
        scores = self.scores
        return [(scores[first + i], found[a]) for i, a in enumerate(ids) if a in found]

    def start(self, offset: int) -> Position:
        return start(self, self.zeros, offset)


def _fill(order_rows: Cursor) -> tuple[array, array]:
    accounts, scores = array("q"), array("q")
    while batch := order_rows.fetchmany(CHUNK):
        for score, account in batch:
            accounts.append(account)
            scores.append(score)
    return accounts, scores


def window_order(conn: Conn, metric: Metric, guild_id: int | None, window: Window) -> Order:
    """The profiles with a nonzero score in the window, in top order: one aggregate
    and one sort, whatever the number of chunks read from it afterwards."""
    agg = aggregate(conn, metric, guild_id, window)
    accounts, scores = _fill(
        conn.execute(f"WITH {agg.cte} SELECT s, account FROM w ORDER BY s DESC, wvp", agg.params)
    )
    zeros = count(conn, agg.scope) - len(accounts)
    return Order(accounts, scores, zeros, agg.scope, every_profile=False)


def all_time_order(conn: Conn, metric: Metric, scope: Scope) -> Order:
    """Every open profile of the scope by the metric's keys (`points`: the balance,
    which no index holds): one sort of the scope."""
    accounts, scores = _fill(
        conn.execute(
            f"SELECT {metric.keys[0]}, id FROM accounts WHERE {scope.where}"
            f" ORDER BY {order_by(metric)}",
            scope.params,
        )
    )
    return Order(accounts, scores, 0, scope, every_profile=True)
