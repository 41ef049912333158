"""The change feeds the in-memory boards catch up from (migration 0006), pruned.

`account_feed` names profiles opened, closed or changed in a ranked value;
`activity_feed` holds the activity added. Both exist only so a board can catch up
with what changed since it last read: rows older than KEEP_SECONDS go, and
`feed_pruned` records how far, so a board that had not read that far rebuilds
itself instead (storage/boards.py). Boards unused for 30 minutes are dropped
anyway (storage/board_registry.py), so a live board is never that far behind.
"""

from __future__ import annotations

import sqlite3
import time

from storage.writer import WriteContext

__all__ = ["FEEDS", "KEEP_SECONDS", "PRUNE_EVERY", "head", "maybe_prune", "prune", "pruned_upto"]

FEEDS = ("account_feed", "activity_feed")
KEEP_SECONDS = 3 * 3600
PRUNE_EVERY = 600.0  # seconds between prunes, from the writer's profile writes
_KEY = "feeds_pruned_at"


def maybe_prune(ctx: WriteContext) -> None:
    now = time.monotonic()
    if now - ctx.cache.get(_KEY, -PRUNE_EVERY) >= PRUNE_EVERY:
        ctx.cache[_KEY] = now
        prune(ctx.conn, KEEP_SECONDS)


def prune(conn: sqlite3.Connection, keep_seconds: float) -> None:
    """Drop rows older than `keep_seconds` (by SQLite's clock, which stamped them),
    but never the newest. Rows are in time order by seq, so finding the first kept
    row walks only the rows that go."""
    for feed in FEEDS:
        first = conn.execute(
            f"SELECT seq FROM {feed} WHERE at >= CAST(strftime('%s', 'now') AS INTEGER) - ?"
            " ORDER BY seq LIMIT 1",
            (keep_seconds,),
        ).fetchone()
        # The newest row always stays: seq (a rowid) must keep growing past it.
        last = head(conn, feed)
        upto = min(last, first[0]) - 1 if first is not None else last - 1
        if conn.execute(f"DELETE FROM {feed} WHERE seq <= ?", (upto,)).rowcount:
            conn.execute("UPDATE feed_pruned SET upto = max(upto, ?) WHERE feed = ?", (upto, feed))


def head(conn: sqlite3.Connection, feed: str) -> int:
    """The last seq of `feed` (0: none yet): how far a reader has seen it."""
    return int(conn.execute(f"SELECT coalesce(max(seq), 0) FROM {feed}").fetchone()[0])


def pruned_upto(conn: sqlite3.Connection, feed: str) -> int:
    """The last seq of `feed` that was pruned (0: none)."""
    return conn.execute("SELECT upto FROM feed_pruned WHERE feed = ?", (feed,)).fetchone()[0]
