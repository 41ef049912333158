"""The storage engine boundary: which database the server runs on.

`open_engine(db)` takes the `--db` / VOICEPROFILE_DB value: a SQLite path (the
embedded default). Everything that knows which engine it talks to lives in this
package; the rest of storage/ and ledger/ write SQL both engines run.
"""

from __future__ import annotations

from pathlib import Path

from storage.engine.base import Conn, Cursor, Dialect
from storage.engine.sqlite import SqliteConn, SqliteEngine

__all__ = ["Conn", "Connection", "Cursor", "Dialect", "Engine", "open_engine"]

Engine = SqliteEngine
Connection = SqliteConn  # what Engine.connect() gives


def open_engine(db: str | Path) -> Engine:
    return SqliteEngine(db)
