"""The profile statements of a guild import (ledger/imports.py): a whole guild read in
one query, new profiles inserted with their final values in one executemany, changed
ones updated in another. Balances are not written here (the ledger's entries are)."""

from __future__ import annotations

from storage.engine.base import Conn
from storage.ids import pad

__all__ = ["VALUES", "guild_accounts", "insert", "reopen", "update"]

VALUES = "experience, level, pray_streak, text_level, text_experience, text_messages, time_global"
"""The imported columns, in the order of every tuple below."""

_INSERT = (
    f"INSERT INTO accounts (vp_id, guild_id, user_id, open, {VALUES}, created_at, updated_at)"
    " VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE = (
    "UPDATE accounts SET experience = ?, level = ?, pray_streak = ?, text_level = ?,"
    " text_experience = ?, text_messages = ?, time_global = ?, updated_at = ? WHERE id = ?"
)
# A deleted profile's account, opened again: what the import does not set is default.
_REOPEN = (
    "UPDATE accounts SET open = 1, experience = ?, level = ?, pray_streak = ?, text_level = ?,"
    " text_experience = ?, text_messages = ?, time_global = ?, pray_date = 0, timespent = NULL,"
    " data = NULL, created_at = ?, updated_at = ? WHERE id = ? AND open = 0"
)


def guild_accounts(conn: Conn, guild_id: int) -> list[tuple]:
    """(id, vp_id, user_id, open, balance, *VALUES) of every member account of the
    guild, open or closed (a deleted profile is opened again, not inserted)."""
    return conn.execute(  # type: ignore[no-any-return]
        f"SELECT id, vp_id, user_id, open, balance, {VALUES} FROM accounts WHERE guild_id = ?",
        (pad(guild_id),),
    ).fetchall()


def insert(conn: Conn, rows: list[tuple]) -> None:
    """(vp_id, guild_id, user_id, *VALUES, created_at, updated_at), ids padded."""
    conn.executemany(_INSERT, rows)


def update(conn: Conn, rows: list[tuple]) -> None:
    """(*VALUES, updated_at, account id)"""
    conn.executemany(_UPDATE, rows)


def reopen(conn: Conn, rows: list[tuple]) -> None:
    """(*VALUES, created_at, updated_at, account id)"""
    conn.executemany(_REOPEN, rows)
