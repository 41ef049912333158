"""The storage engine boundary: which database the server runs on.

`open_engine(db)` takes the `--db` / VOICEPROFILE_DB value: a SQLite path (the
embedded default) or a `postgresql://` URL. Everything that knows which engine it
talks to lives in this package; the rest of storage/ and ledger/ write SQL both
engines run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

from storage.engine.base import Conn, Cursor, Dialect
from storage.engine.postgres import PgConn, PgEngine, is_url
from storage.engine.sqlite import SqliteConn, SqliteEngine

__all__ = ["Conn", "Connection", "Cursor", "Dialect", "Engine", "is_url", "open_engine"]

Engine: TypeAlias = SqliteEngine | PgEngine
Connection: TypeAlias = SqliteConn | PgConn  # what Engine.connect() gives


def open_engine(db: str | Path) -> Engine:
    if is_url(db):
        return PgEngine(str(db))
    return SqliteEngine(db)
