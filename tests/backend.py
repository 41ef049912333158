"""Which database engine the test run uses, and databases of it for the tests.

`make test` runs the suite twice: on SQLite (the default) and with
VOICEPROFILE_TEST_BACKEND=postgres on a PostgreSQL server the run starts itself
(tests/pg_cluster.py). Tests name their database as a path under tmp_path, as they
always did; `target(path)` gives what the server takes: on SQLite the path, on
PostgreSQL a fresh database belonging to that path (the same path, the same database:
a restarted server finds its data). Databases made during a test are dropped after it.
`postgres_url(path)` gives such a PostgreSQL database on either run, for tests that
need both engines at once (moving a database between them).
Tests that are about SQLite itself (the file backup, query plans, the disk-full trick)
carry the `sqlite_only` marker and are deselected, and counted, on the PostgreSQL run.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from storage.engine import Connection, open_engine
from storage.engine.postgres import PgConn

__all__ = [
    "BACKEND",
    "INTEGRITY_ERRORS",
    "POSTGRES",
    "Connection",
    "cleanup",
    "cluster",
    "connect",
    "drop",
    "drop_trigger",
    "postgres_url",
    "target",
]

BACKEND = os.environ.get("VOICEPROFILE_TEST_BACKEND", "sqlite")
if BACKEND not in ("sqlite", "postgres"):
    raise RuntimeError(f"VOICEPROFILE_TEST_BACKEND={BACKEND!r}: sqlite or postgres")
POSTGRES = BACKEND == "postgres"

# What either engine raises when a constraint or a guard trigger refuses a change.
INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)

_cluster: Any = None
_made: dict[str, str] = {}  # path -> database, made since the last cleanup


def _pg() -> Any:
    global _cluster
    if _cluster is None:
        from tests import pg_cluster

        _cluster = pg_cluster.start(Path(tempfile.mkdtemp(prefix="vp-test-pg-")))
        atexit.register(_cluster.stop)
    return _cluster


def cluster() -> Any:
    """The run's PostgreSQL server (tests/pg_cluster.py), started on first use, on
    either run: for a test that makes its own roles and databases (and drops them)."""
    return _pg()


def target(db: str | Path) -> str | Path:
    """What `--db` takes for the test database named `db` on this run's backend."""
    if not POSTGRES or isinstance(db, str):
        return db
    return postgres_url(db)


def postgres_url(db: Path) -> str:
    """A PostgreSQL database belonging to the path `db`, on the SQLite run too (the
    run's cluster starts on first use), made empty, not even migrated, at the first
    call for that path; dropped after the test."""
    key = str(Path(db).resolve())
    if key not in _made:
        name = "t_" + hashlib.sha256(key.encode()).hexdigest()[:24]
        _pg().drop_database(name)
        _pg().create_database(name)
        _made[key] = name
    return _pg().url(_made[key])


def connect(db: str | Path, *, readonly: bool = False) -> Connection:
    """A connection to the test database `db`, on this run's backend."""
    return open_engine(target(db)).connect(readonly=readonly)


def drop(db: str | Path) -> None:
    """Drop the PostgreSQL database of the path `db` now rather than after the test:
    for a test that makes one per hypothesis example."""
    if isinstance(db, str):
        return
    name = _made.pop(str(Path(db).resolve()), None)
    if name is not None:
        _pg().drop_database(name)


def cleanup() -> None:
    """Drop the databases the last test made (PostgreSQL)."""
    while _made:
        _, name = _made.popitem()
        _pg().drop_database(name)


def drop_trigger(conn: Any, name: str, table: str) -> None:
    """Drop a guard trigger (to forge what the product never writes) on either engine's
    connection (a plain sqlite3 one too): PostgreSQL names a trigger within its table,
    SQLite does not take the table."""
    on = f" ON {table}" if isinstance(conn, PgConn) else ""
    conn.execute(f"DROP TRIGGER {name}{on}")
