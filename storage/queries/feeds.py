"""The change feeds the in-memory boards catch up from (migration 0006), pruned.

`account_feed` names profiles opened, closed or changed in a ranked value;
`activity_feed` holds the activity added. Both exist only so a board can catch up
with what changed since it last read: rows older than `keep_seconds` go, and
`feed_pruned` records how far, so a board that had not read that far rebuilds
itself instead (storage/boards.py). Boards unused for 30 minutes are dropped
anyway (storage/board_registry.py), so a live board is never that far behind.

Age is told by the server's clock, not by the rows: the pruning chore notes each
feed's head when it runs, and a later run drops what was already there at a note
`keep_seconds` old. (After a restart the first notes are new, so pruning resumes
`keep_seconds` later.)
"""

from __future__ import annotations

from storage.engine.base import Conn
from storage.engine.writer import WriteContext

__all__ = ["FEEDS", "PruneFeeds", "head", "prune_upto", "pruned_upto"]

FEEDS = ("account_feed", "activity_feed")


class PruneFeeds:
    """Writer housekeeping: drop feed rows older than `keep_seconds`."""

    def __init__(self, keep_seconds: float, every: float = 600.0) -> None:
        self.keep_seconds, self.every = keep_seconds, every
        self._notes: list[tuple[float, tuple[int, ...]]] = []  # (time, head of each feed)

    def __call__(self, ctx: WriteContext) -> bool:
        now = ctx.clock.now()
        self._notes.append((now, tuple(head(ctx.conn, feed) for feed in FEEDS)))
        old = [note for note in self._notes if note[0] <= now - self.keep_seconds]
        if old:
            for feed, upto in zip(FEEDS, old[-1][1], strict=True):
                prune_upto(ctx.conn, feed, upto)
            self._notes = self._notes[len(old) :]
        return False


def prune_upto(conn: Conn, feed: str, upto: int) -> None:
    """Drop the rows of `feed` up to seq `upto`, but never the newest: seq (a rowid)
    must keep growing past it."""
    upto = min(upto, head(conn, feed) - 1)
    if (
        upto > pruned_upto(conn, feed)
        and conn.execute(f"DELETE FROM {feed} WHERE seq <= ?", (upto,)).rowcount
    ):
        conn.execute(
            "UPDATE feed_pruned SET upto = ? WHERE feed = ? AND upto < ?", (upto, feed, upto)
        )


def head(conn: Conn, feed: str) -> int:
    """The last seq of `feed` (0: none yet): how far a reader has seen it."""
    return int(conn.execute(f"SELECT coalesce(max(seq), 0) FROM {feed}").fetchone()[0])


def pruned_upto(conn: Conn, feed: str) -> int:
    """The last seq of `feed` that was pruned (0: none)."""
    return int(conn.execute("SELECT upto FROM feed_pruned WHERE feed = ?", (feed,)).fetchone()[0])
