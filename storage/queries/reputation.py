"""Reads of reputation (SPEC §8): a user's object derived from the entries, the
bot's settings, the leaderboard. The ledger's reputation rules read through these."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.reputation import DEFAULT_SETTINGS, LeaderboardEntry, RepSettings, RepUser
from storage.engine.base import Conn
from storage.ids import pad, unpad
from storage.queries import NO_LIMIT

__all__ = [
    "DAY_MS",
    "SETTING_COLUMNS",
    "USERS_MAX",
    "iso",
    "leaderboard",
    "load_settings",
    "user_view",
]

DAY_MS = 86_400_000

SETTING_COLUMNS = (
    "reputation_per_day",
    "maximum_reputation",
    "maximum_reputation_received_day",
    "reputation_cooldown",
)


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
        (bot, amount if amount > 0 else NO_LIMIT, offset),
    )
    board = [
        LeaderboardEntry(offset + i + 1, unpad(user), rep) for i, (user, rep) in enumerate(rows)
    ]
    settings = load_settings(conn, bot_id)
    users = [user_view(conn, bot_id, e.user_id, now, settings) for e in board[:USERS_MAX]]
    return board, users, count


def load_settings(conn: Conn, bot_id: str) -> RepSettings:
    """The bot's settings (defaults if never set); `accountId` is the bot id."""
    row = conn.execute(
        f"SELECT {', '.join(SETTING_COLUMNS)} FROM reputation_settings WHERE bot_id = ?",
        (pad(bot_id),),
    ).fetchone()
    values = row if row is not None else [getattr(DEFAULT_SETTINGS, c) for c in SETTING_COLUMNS]
    return RepSettings(
        **dict(zip(SETTING_COLUMNS, values, strict=True)), account_id=unpad(pad(bot_id))
    )


def iso(ms: int) -> str:
    """`2018-04-17T17:03:58.865Z`, as the reference writes times."""
    seconds, millis = divmod(ms, 1000)
    stamp = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{millis:03d}Z"


# -- derived values -----------------------------------------------------------------


def reputation_of(conn: Conn, bot: str, user: str) -> int:
    row = conn.execute(
        "SELECT reputation FROM reputation_users WHERE bot_id = ? AND user_id = ?", (bot, user)
    ).fetchone()
    return 0 if row is None else int(row[0])


def cooldown_times(conn: Conn, bot: str, user: str, now: int, cooldown_ms: int) -> list:
    """Times `user` gave reputation that still count: within the cooldown and after
    their last reset with `cooldown=true`."""
    cutoff = conn.execute(
        "SELECT max(id) FROM reputation_entries"
        " WHERE bot_id = ? AND user_id = ? AND reset_cooldown = 1",
        (bot, user),
    ).fetchone()[0]
    return [
        r[0]
        for r in conn.execute(
            "SELECT ts FROM reputation_entries WHERE bot_id = ? AND source_user = ? AND kind = 1"
            " AND ts > ? AND id > ? ORDER BY ts, id",
            (bot, user, now - cooldown_ms, cutoff or 0),
        )
    ]


def received_times(conn: Conn, bot: str, user: str, now: int) -> list:
    """Times `user` received a give in the last 24 h (the daily cap's window)."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT ts FROM reputation_entries WHERE bot_id = ? AND user_id = ? AND kind = 1"
            " AND ts > ? ORDER BY ts, id",
            (bot, user, now - DAY_MS),
        )
    ]


def user_view(
    conn: Conn,
    bot_id: str,
    user_id: str,
    now: int,
    settings: RepSettings | None = None,
) -> RepUser:
    """The reference's user object, computed from the entries at `now`."""
    settings = settings or load_settings(conn, bot_id)
    bot, user = pad(bot_id), pad(user_id)
    cooldown_ms = settings.reputation_cooldown * 1000
    gave = cooldown_times(conn, bot, user, now, cooldown_ms)
    return RepUser(
        reputation=reputation_of(conn, bot, user),
        cooldown=[iso(t) for t in gave],
        given_reputation=[iso(t) for t in received_times(conn, bot, user, now)],
        user_id=unpad(user),
        bot_id=unpad(bot),
        account_id=unpad(bot),
        available_reputations=max(0, settings.reputation_per_day - len(gave)),
        next_available_reputations=[t + cooldown_ms - now for t in gave],
    )
