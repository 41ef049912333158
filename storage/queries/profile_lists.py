"""Profile read queries: whole synchronous functions run on a reader connection."""

from __future__ import annotations

from schemas.profiles import Profile
from storage.engine.base import Conn
from storage.ids import pad, unpad
from storage.queries.profiles import COLUMNS, to_profile

__all__ = [
    "CHUNK",
    "among",
    "chunk_after",
    "count",
    "guilds",
    "key_at",
    "page",
    "user_guilds",
]

CHUNK = 500


def _where(guild_id: int | None) -> tuple[str, tuple]:
    if guild_id is None:
        # `guild_id IS NOT NULL` (always true of a profile) lets SQLite walk the partial
        # index accounts_member in (guild, user) order instead of sorting the table.
        return "open = 1 AND guild_id IS NOT NULL", ()
    return "open = 1 AND guild_id = ?", (pad(guild_id),)


def count(conn: Conn, guild_id: int | None) -> int:
    # Counting everything reads the small partial index on open profiles instead.
    where, params = ("open = 1", ()) if guild_id is None else _where(guild_id)
    return conn.execute(f"SELECT count(*) FROM accounts WHERE {where}", params).fetchone()[0]


def page(conn: Conn, guild_id: int | None, limit: int, offset: int) -> tuple[list[Profile], int]:
    where, params = _where(guild_id)
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM accounts WHERE {where} ORDER BY guild_id, user_id LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    return [to_profile(r) for r in rows], count(conn, guild_id)


def chunk_after(
    conn: Conn, guild_id: int | None, after: tuple[str, str] | None
) -> tuple[list[Profile], tuple[str, str] | None]:
    """The next CHUNK profiles in (guild, user) order after the key `after`, for streaming
    a whole list with flat memory."""
    where, params = _where(guild_id)
    if after is not None and guild_id is not None:
        # Within one guild a plain `user_id > ?` keeps the planner on the index range;
        # the row-value form made it sort each chunk.
        where += " AND user_id > ?"
        params = (*params, after[1])
    elif after is not None:
        where += " AND (guild_id, user_id) > (?, ?)"
        params = (*params, *after)
    rows = conn.execute(
        f"SELECT {COLUMNS}, guild_id, user_id FROM accounts WHERE {where}"
        f" ORDER BY guild_id, user_id LIMIT {CHUNK}",
        params,
    ).fetchall()
    if not rows:
        return [], None
    return [to_profile(r[:-2]) for r in rows], (rows[-1][-2], rows[-1][-1])


def key_at(conn: Conn, guild_id: int | None, offset: int) -> tuple[str, str] | None:
    """The (guild, user) key of the profile at `offset` in list order: where a large
    page starts streaming from (`chunk_after` this key)."""
    where, params = _where(guild_id)
    row = conn.execute(
        f"SELECT guild_id, user_id FROM accounts WHERE {where}"
        " ORDER BY guild_id, user_id LIMIT 1 OFFSET ?",
        (*params, offset),
    ).fetchone()
    return None if row is None else (row[0], row[1])


def guilds(conn: Conn) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT guild_id FROM accounts"
        " WHERE open = 1 AND guild_id IS NOT NULL ORDER BY guild_id"
    )
    return [unpad(r[0]) for r in rows]


def user_guilds(conn: Conn, user_id: int) -> list[str]:
    rows = conn.execute(
        "SELECT guild_id FROM accounts WHERE open = 1 AND user_id = ? ORDER BY guild_id",
        (pad(user_id),),
    )
    return [unpad(r[0]) for r in rows]


def among(conn: Conn, guild_id: int, user_ids: list[int]) -> list[Profile]:
    """The open profiles of `guild_id` among `user_ids` (in no particular order)."""
    found = []
    for i in range(0, len(user_ids), CHUNK):
        part = [pad(u) for u in user_ids[i : i + CHUNK]]
        found += conn.execute(
            f"SELECT {COLUMNS} FROM accounts WHERE open = 1 AND guild_id = ?"
            f" AND user_id IN ({', '.join('?' * len(part))})",
            (pad(guild_id), *part),
        ).fetchall()
    return [to_profile(r) for r in found]
