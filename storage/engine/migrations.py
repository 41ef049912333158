"""Numbered migrations in storage/engine/sql/<engine>/NNNN_name.sql, applied in order
at start (each engine has its own files, numbered alike: 0008 on SQLite rebuilds a
table to widen a CHECK, on PostgreSQL it alters the constraint).

Each migration runs and is recorded in one transaction. A migration that has shipped
is never edited: a change is a new file.
"""

from __future__ import annotations

import re
import time
from importlib import resources
from typing import Any

from storage.engine.postgres import WRITE_LOCK

__all__ = ["apply_migrations", "pending"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_TABLE = (
    "CREATE TABLE IF NOT EXISTS migrations"
    " (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
)


def _available(engine: str) -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("storage.engine").joinpath("sql", engine).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text()))
    return sorted(found)


def _has_table(conn: Any) -> bool:
    if conn.dialect.name == "sqlite":
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
    else:
        sql = "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema()"
        sql += " AND table_name = 'migrations'"
    return conn.execute(sql).fetchone() is not None


def pending(conn: Any) -> list[str]:
    """Migrations the database has not had. Only reads, so it works on a read-only
    connection (`ledger verify`); a database without the table has had none."""
    done = (
        {row[0] for row in conn.execute("SELECT id FROM migrations")} if _has_table(conn) else set()
    )
    return [
        f"{num:04d}_{name}" for num, name, _ in _available(conn.dialect.name) if num not in done
    ]


def apply_migrations(conn: Any) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied."""
    if conn.dialect.name == "postgres":
        return _apply_postgres(conn)
    conn.execute(_TABLE)
    done = {row[0] for row in conn.execute("SELECT id FROM migrations")}
    applied = []
    for num, name, sql in _available("sqlite"):
        if num in done:
            continue
        record = f"INSERT INTO migrations VALUES ({num}, '{name}', {time.time()});"
        try:
            conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\n{record}\nCOMMIT;")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied.append(f"{num:04d}_{name}")
    return applied


def _apply_postgres(conn: Any) -> list[str]:
    """Under the writers' advisory lock, so servers starting together on one
    database apply each migration once."""
    applied = []
    for num, name, sql in _available("postgres"):
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
            conn.execute(_TABLE)
            if conn.execute("SELECT 1 FROM migrations WHERE id = ?", (num,)).fetchone():
                conn.execute("COMMIT")
                continue
            conn.script(sql)
            conn.execute("INSERT INTO migrations VALUES (?, ?, ?)", (num, name, time.time()))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied.append(f"{num:04d}_{name}")
    return applied
