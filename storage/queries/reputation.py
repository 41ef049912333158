"""Reads of the reputation API that no write needs: the leaderboard."""

from __future__ import annotations

from ledger.reputation import user_view
from ledger.reputation_settings import load as load_settings
from schemas.reputation import LeaderboardEntry, RepUser
from storage.engine.base import Conn
from storage.ids import pad, unpad

__all__ = ["USERS_MAX", "leaderboard"]

USERS_MAX = 50
"""The original answered its leaderboard with the top 50 user objects: `users`
carries at most that many (each costs a few indexed reads)."""


def leaderboard(
    conn: Conn, bot_id: str, amount: int, offset: int, now: int
) -> tuple[list[LeaderboardEntry], list[RepUser], int]:
    """Users of one bot by reputation, highest first, ties by user id (numerically):
    the page's entries, the user objects of its first USERS_MAX, and the total."""
    bot = pad(bot_id)
    total = conn.execute("SELECT count(*) FROM reputation_users WHERE bot_id = ?", (bot,))
    count = int(total.fetchone()[0])
    rows = conn.execute(
        "SELECT user_id, reputation FROM reputation_users WHERE bot_id = ?"
        " ORDER BY reputation DESC, user_id LIMIT ? OFFSET ?",
        (bot, amount if amount > 0 else -1, offset),
    )
    board = [
        LeaderboardEntry(offset + i + 1, unpad(user), rep) for i, (user, rep) in enumerate(rows)
    ]
    settings = load_settings(conn, bot_id)
    users = [user_view(conn, bot_id, e.user_id, now, settings) for e in board[:USERS_MAX]]
    return board, users, count
