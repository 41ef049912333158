"""The profile statements of a guild import (ledger/imports.py): a whole guild read in
one query, new profiles inserted with their final values, changed ones updated.
Balances are not written here (the ledger's entries are).

Why rows go through a staging table: an INSERT or UPDATE of `accounts` fires the
boards' feed triggers (0006_board_feeds.sql), and a statement that fires a trigger
keeps a statement journal of every page it touches. Run once per row
(executemany), that journal copies each row's pages of the table's ~19 indexes:
half the cost of inserting 100k profiles (benchmarks/bench_import.py). Staged in a
temporary table and written by one INSERT … SELECT (or UPDATE … FROM), the pages
are journaled once, while the triggers still fire for every row, so the feeds
stay exactly what they were.
"""

from __future__ import annotations

from storage.engine.base import Conn
from storage.ids import pad

__all__ = ["VALUES", "guild_accounts", "insert", "next_id", "reopen", "update"]

VALUES = "experience, level, pray_streak, text_level, text_experience, text_messages, time_global"
"""The imported columns, in the order of every tuple below."""

# Unqualified, a temporary table is found before any other on both engines (SQLite
# searches `temp` first, PostgreSQL `pg_temp`).
_STAGED = "import_staged"
# The columns have the types of `accounts` (PostgreSQL needs a type for each):
# values are stored as a direct insert would store them.
_TYPES = ", ".join(f"{c} BIGINT" for c in VALUES.split(", "))
_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGED} (id {{key}}, vp_id TEXT, guild_id TEXT,"
    f" user_id TEXT, {_TYPES}, created_at DOUBLE PRECISION, updated_at DOUBLE PRECISION)"
)
_FILL = f"INSERT INTO {_STAGED} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT = (
    f"INSERT INTO accounts (id, vp_id, guild_id, user_id, open, {VALUES}, created_at,"
    f" updated_at) SELECT id, vp_id, guild_id, user_id, 1, {VALUES}, created_at, updated_at"
    f" FROM {_STAGED} ORDER BY id"
)
_SET = ", ".join(f"{c} = s.{c}" for c in VALUES.split(", "))
_UPDATE = (
    f"UPDATE accounts SET {_SET}, updated_at = s.updated_at FROM {_STAGED} AS s"
    " WHERE accounts.id = s.id"
)
# A deleted profile's account, opened again: what the import does not set is default.
_REOPEN = (
    f"UPDATE accounts SET open = 1, {_SET}, pray_date = 0, timespent = NULL, data = NULL,"
    f" created_at = s.created_at, updated_at = s.updated_at FROM {_STAGED} AS s"
    " WHERE accounts.id = s.id AND accounts.open = 0"
)


def guild_accounts(conn: Conn, guild_id: int) -> list[tuple]:
    """(id, vp_id, user_id, open, balance, *VALUES) of every member account of the
    guild, open or closed (a deleted profile is opened again, not inserted)."""
    return conn.execute(  # type: ignore[no-any-return]
        f"SELECT id, vp_id, user_id, open, balance, {VALUES} FROM accounts WHERE guild_id = ?",
        (pad(guild_id),),
    ).fetchall()


def next_id(conn: Conn) -> int:
    """The first free account id. Inside the write transaction nothing else inserts
    accounts, so an import gives its new profiles this id and the next ones itself
    and needs not read them back."""
    return int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM accounts").fetchone()[0])


def _staged(conn: Conn, rows: list[tuple], statement: str) -> None:
    """`statement` over `rows` staged in the temporary table, emptied again after
    (and on a rollback: temporary tables are transactional). The table is kept,
    empty, in the writer's connection: creating and dropping it each time would
    change the connection's schema, making it prepare every statement again, and a
    DROP fails while any statement of the connection is still running."""
    conn.execute(_STAGE.format(key=conn.dialect.int_key))
    conn.execute(f"DELETE FROM {_STAGED}")
    conn.executemany(_FILL, rows)
    conn.execute(statement)
    conn.execute(f"DELETE FROM {_STAGED}")


# Each takes rows (id, vp_id, guild_id, user_id, *VALUES, created_at, updated_at).


def insert(conn: Conn, rows: list[tuple]) -> None:
    """New profiles, ids padded, `id` from `next_id` on, in the order of `id` (best
    also of vp_id: its unique index and the vp_id-ordered ones are then appended to)."""
    _staged(conn, rows, _INSERT)
    if follow := conn.dialect.follow_ids("accounts", "id"):
        conn.execute(follow)


def update(conn: Conn, rows: list[tuple]) -> None:
    """Open profiles set to new values: vp_id, guild_id, user_id, created_at unused."""
    _staged(conn, rows, _UPDATE)


def reopen(conn: Conn, rows: list[tuple]) -> None:
    """Closed profiles opened again with these values: vp_id, guild_id, user_id unused."""
    _staged(conn, rows, _REOPEN)
