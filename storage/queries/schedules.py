"""Season schedules (migration 0012): per guild, `every` week or month, and `done`,
the last UTC boundary a season was ended for (so each is ended once)."""

from __future__ import annotations

from typing import Any

import msgspec

from storage.engine.base import Conn
from storage.ids import pad, unpad

__all__ = ["delete", "due", "get", "mark_done", "put"]


def put(conn: Conn, guild_id: int, every: str, reset: list[str], bot_id: str, done: float) -> None:
    conn.execute("DELETE FROM season_schedules WHERE guild_id = ?", (pad(guild_id),))
    conn.execute(
        "INSERT INTO season_schedules (guild_id, every, reset, bot_id, done)"
        " VALUES (?, ?, ?, ?, ?)",
        (pad(guild_id), every, msgspec.json.encode(reset).decode(), bot_id, done),
    )


def get(conn: Conn, guild_id: int) -> tuple[str, list[str], str, float] | None:
    """(every, reset, bot_id, done) of the guild's schedule, if it has one."""
    row = conn.execute(
        "SELECT every, reset, bot_id, done FROM season_schedules WHERE guild_id = ?",
        (pad(guild_id),),
    ).fetchone()
    return None if row is None else (row[0], msgspec.json.decode(row[1]), row[2], row[3])


def delete(conn: Conn, guild_id: int) -> bool:
    cursor = conn.execute("DELETE FROM season_schedules WHERE guild_id = ?", (pad(guild_id),))
    return bool(cursor.rowcount)


def due(conn: Conn, week: float, month: float) -> list[tuple[Any, ...]]:
    """(guild_id, every, reset, bot_id, done) of the schedules whose last boundary
    (`week` or `month`, as now stands) is not done yet."""
    rows = conn.execute(
        "SELECT guild_id, every, reset, bot_id, done FROM season_schedules"
        " WHERE (every = 'week' AND done < ?) OR (every = 'month' AND done < ?)",
        (week, month),
    ).fetchall()
    return [(int(unpad(g)), e, msgspec.json.decode(r), b, d) for g, e, r, b, d in rows]


def mark_done(conn: Conn, guild_id: int, boundary: float) -> None:
    conn.execute(
        "UPDATE season_schedules SET done = ? WHERE guild_id = ?", (boundary, pad(guild_id))
    )
