"""Counts and totals for GET /stats, SPEC §7.

Each figure is one aggregate over an index that already exists for tops (the
`tops_*` indexes hold every open profile), so no query reads the whole table;
circulation comes from the treasuries (see below), a guild's from its members.
"""

from __future__ import annotations

import sqlite3

from storage.engine.base import Conn
from storage.ids import pad
from storage.queries.windows import ledger_head

__all__ = ["stats"]


def _total(conn: Conn, expr: str, index: str, where: str, params: tuple) -> int:
    """A sum over a covering index, as an exact integer even past 2^63 (SQLite's
    sum() raises there)."""
    indexed = conn.dialect.indexed_by(index)
    sql = f"SELECT coalesce(sum({expr}), 0) FROM accounts {indexed} WHERE {where}"
    try:
        return int(conn.execute(sql, params).fetchone()[0])
    except sqlite3.OperationalError as exc:
        if "overflow" not in str(exc):
            raise
        rows = conn.execute(f"SELECT {expr} FROM accounts {indexed} WHERE {where}", params)
        return sum(r[0] for r in rows)


def stats(conn: Conn, guild_id: int | None) -> dict[str, int]:
    params: tuple
    if guild_id is None:
        where, params, suffix = "open = 1", (), ""
    else:
        where, params, suffix = "open = 1 AND guild_id = ?", (pad(guild_id),), "_guild"
    indexed_by = conn.dialect.indexed_by
    count = f"SELECT count(*) FROM accounts {indexed_by('open_by_vp' + suffix)} WHERE {where}"
    out: dict[str, int] = {"profiles": conn.execute(count, params).fetchone()[0]}
    if guild_id is None:
        out["guilds"] = conn.execute(
            f"SELECT count(DISTINCT guild_id) FROM accounts {indexed_by('open_by_vp_guild')}"
            " WHERE open = 1"
        ).fetchone()[0]
        out["users"] = conn.execute(
            f"SELECT count(DISTINCT user_id) FROM accounts {indexed_by('open_users')}"
            " WHERE open = 1"
        ).fetchone()[0]
        out["transactions"] = ledger_head(conn) - 1
    else:
        out["users"] = out["profiles"]
        out["transactions"] = _guild_entries(conn, pad(guild_id))
    if guild_id is None:
        # Every balance sums to 0 and a closed account holds 0, so what user
        # profiles hold is minus what the treasuries hold: a few rows, not all.
        out["voicepoints"] = -int(
            conn.execute(
                "SELECT coalesce(sum(balance), 0) FROM accounts WHERE bot_id IS NOT NULL"
            ).fetchone()[0]
        )
    else:
        out["voicepoints"] = _total(conn, "balance", "open_by_vp_guild", where, params)
    for name, expr, index in (
        ("experience", "experience", "tops_levels"),
        ("timespent", "time_global", "tops_time"),
        ("messages", "coalesce(text_messages, 0)", "tops_text_message"),
    ):
        out[name] = _total(conn, expr, index + suffix, where, params)
    return out


def _guild_entries(conn: Conn, guild: str) -> int:
    """Ledger entries touching any account of the guild (deleted profiles included:
    their history stays), each counted once."""
    return conn.execute(
        "SELECT count(*) FROM (SELECT l.id FROM ledger l WHERE l.src IN"
        " (SELECT id FROM accounts WHERE guild_id = ?) UNION SELECT l.id FROM ledger l"
        " WHERE l.dst IN (SELECT id FROM accounts WHERE guild_id = ?)) AS touched",
        (guild, guild),
    ).fetchone()[0]
