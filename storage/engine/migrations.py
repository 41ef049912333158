"""Numbered migrations in storage/engine/sql/<engine>/NNNN_name.sql, applied in order
at start (each engine has its own files, numbered alike).

Each migration runs and is recorded in one transaction. A migration that has shipped
is never edited: a change is a new file.
"""

import re
import sqlite3
import time
from importlib import resources

__all__ = ["apply_migrations", "pending"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def _available(engine: str = "sqlite") -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("storage.engine").joinpath("sql", engine).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text()))
    return sorted(found)


def _applied(conn: sqlite3.Connection) -> set[int]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS migrations"
        " (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
    )
    return {row[0] for row in conn.execute("SELECT id FROM migrations")}


def pending(conn: sqlite3.Connection) -> list[str]:
    """Migrations the file has not had. Only reads, so it works on a read-only
    connection (`ledger verify`); a file without the table has had none."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
    ).fetchone()
    done = {row[0] for row in conn.execute("SELECT id FROM migrations")} if found else set()
    return [f"{num:04d}_{name}" for num, name, _ in _available() if num not in done]


def apply_migrations(conn: sqlite3.Connection) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied."""
    done = _applied(conn)
    applied = []
    for num, name, sql in _available():
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
