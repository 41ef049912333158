"""Season archive rows (migration 0012): writing a season, listing, and its tops.

A season's standings are one row per member with every ranked counter, named as
the `accounts` columns, so storage/queries/tops.py METRICS give each top's order.
"""

from __future__ import annotations

from typing import Any

import msgspec

from schemas.profiles import Pray, Profile, Text
from schemas.seasons import Season
from storage.engine.base import Conn
from storage.ids import pad, unpad
from storage.queries import NO_LIMIT
from storage.queries.tops import METRICS

__all__ = [
    "MEMBER_COLUMNS",
    "by_name",
    "find",
    "insert",
    "members",
    "next_number",
    "rank",
    "seasons",
    "top",
]

_SEASON = "id, guild_id, number, name, reset, bot_id, ended_at, members, moved"
# What is archived of each member (balance aside: the ledger's staged one is used).
MEMBER_COLUMNS = (
    "id, vp_id, user_id, balance, experience, level, text_level, text_experience,"
    " text_messages, time_global, pray_streak"
)
_STANDING = (
    "vp_id, user_id, balance, experience, level, text_level, text_experience,"
    " text_messages, time_global, pray_streak"
)


def _season(row: Any) -> tuple[int, Season]:
    sid, guild, number, name, reset, bot_id, ended_at, members_, moved = row
    return sid, Season(
        number, name, unpad(guild), ended_at, msgspec.json.decode(reset), members_, moved, bot_id
    )


def by_name(conn: Conn, guild_id: int, name: str) -> Season | None:
    row = conn.execute(
        f"SELECT {_SEASON} FROM seasons WHERE guild_id = ? AND name = ?", (pad(guild_id), name)
    ).fetchone()
    return None if row is None else _season(row)[1]


def find(conn: Conn, guild_id: int, number: int) -> tuple[int, Season] | None:
    row = conn.execute(
        f"SELECT {_SEASON} FROM seasons WHERE guild_id = ? AND number = ?",
        (pad(guild_id), number),
    ).fetchone()
    return None if row is None else _season(row)


def seasons(
    conn: Conn, guild_id: int, limit: int = -1, offset: int = 0
) -> tuple[list[Season], int]:
    """A page of the guild's seasons, oldest first (limit -1: all), and their count."""
    rows = conn.execute(
        f"SELECT {_SEASON} FROM seasons WHERE guild_id = ? ORDER BY number LIMIT ? OFFSET ?",
        (pad(guild_id), limit if limit >= 0 else NO_LIMIT, offset),
    ).fetchall()
    total = conn.execute(
        "SELECT count(*) FROM seasons WHERE guild_id = ?", (pad(guild_id),)
    ).fetchone()[0]
    return [_season(row)[1] for row in rows], int(total)


def next_number(conn: Conn, guild_id: int) -> int:
    row = conn.execute(
        "SELECT coalesce(max(number), 0) + 1 FROM seasons WHERE guild_id = ?", (pad(guild_id),)
    ).fetchone()
    return int(row[0])


def members(conn: Conn, guild_id: int) -> list[tuple[Any, ...]]:
    """The guild's open profiles, MEMBER_COLUMNS, in vp_id order."""
    return conn.execute(  # type: ignore[no-any-return]
        f"SELECT {MEMBER_COLUMNS} FROM accounts WHERE guild_id = ? AND open = 1 ORDER BY vp_id",
        (pad(guild_id),),
    ).fetchall()


def insert(conn: Conn, season: Season, standings: list[tuple[Any, ...]]) -> None:
    """Write the season and its standings (each MEMBER_COLUMNS, balance as staged)."""
    # RETURNING, not cursor.lastrowid: psycopg's cursor (PostgreSQL) has none.
    cursor = conn.execute(
        "INSERT INTO seasons (guild_id, number, name, reset, bot_id, ended_at, members, moved)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            pad(season.guild_id),
            season.number,
            season.name,
            msgspec.json.encode(season.reset).decode(),
            season.bot_id,
            season.ended_at,
            season.members,
            season.voicepoints,
        ),
    )
    sid = cursor.fetchone()[0]
    conn.executemany(
        f"INSERT INTO season_standings (season, account, {_STANDING})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(sid, *row) for row in standings],
    )


# -- reading an archive ----------------------------------------------------------------


def _profile(row: Any, guild_id: str, ended_at: float) -> Profile:
    """A member as archived: the counters of the season's end; `data` is not kept."""
    vp, user, balance, experience, level, text_level, text_exp, text_msgs, time, streak = row
    return Profile(
        id=vp,
        guild_id=guild_id,
        user_id=unpad(user),
        experience=experience,
        voicepoints=balance,
        level=level,
        pray=Pray(0, streak),
        text=None if text_level is None else Text(text_level, text_exp, text_msgs),
        timespent={"global": time},
        data=None,
        created_at=ended_at,
        updated_at=ended_at,
    )


def _beyond(keys: tuple[str, ...], values: Any, vp: str, ahead: bool) -> tuple[str, list]:
    """SQL for the rows ranked before (`ahead`) or after a row with `values` and `vp`:
    better (worse) on a key with every earlier key equal, or all equal and a lower
    (higher) id."""
    cmp, tie = (">", "<") if ahead else ("<", ">")
    terms, params = [], []
    for i, key in enumerate(keys):
        terms.append(" AND ".join([*(f"{k} = ?" for k in keys[:i]), f"{key} {cmp} ?"]))
        params += [*values[:i], values[i]]
    terms.append(" AND ".join([*(f"{k} = ?" for k in keys), f"vp_id {tie} ?"]))
    params += [*values, vp]
    return " OR ".join(f"({t})" for t in terms), params


def top(
    conn: Conn,
    sid: int,
    season: Season,
    by: str,
    limit: int,
    offset: int = 0,
    after: tuple[Any, str] | None = None,
) -> list[tuple[Any, ...]]:
    """Ranks offset+1 … offset+limit, or the `limit` after the row `after` (its key
    values and vp_id: a stream's next chunk, read without re-reading the ones before).
    Each row is (key values…, score, profile)."""
    keys = METRICS[by].keys
    where, params = "season = ?", [sid]
    if after is not None:
        beyond, more = _beyond(keys, after[0], after[1], ahead=False)
        where, params = f"{where} AND ({beyond})", params + more
    order = ", ".join(f"{k} DESC" for k in keys)
    rows = conn.execute(
        f"SELECT {', '.join(keys)}, {_STANDING} FROM season_standings WHERE {where}"
        f" ORDER BY {order}, vp_id LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    n = len(keys)
    return [(row[:n], row[0], _profile(row[n:], season.guild_id, season.ended_at)) for row in rows]


def rank(conn: Conn, sid: int, by: str, vp: str) -> tuple[int, int, int] | None:
    """`(rank, score, total)` of `vp` in the season, or None if it was not archived."""
    keys = METRICS[by].keys
    mine = conn.execute(
        f"SELECT {', '.join(keys)} FROM season_standings WHERE season = ? AND vp_id = ?",
        (sid, vp),
    ).fetchone()
    if mine is None:
        return None
    ahead, params = _beyond(keys, mine, vp, ahead=True)
    better, total = conn.execute(
        f"SELECT count(*) FILTER (WHERE {ahead}), count(*) FROM season_standings WHERE season = ?",
        (*params, sid),
    ).fetchone()
    return better + 1, mine[0], total
