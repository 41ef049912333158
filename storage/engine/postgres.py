"""PostgreSQL, for operators who outgrow one file: every PostgreSQL-specific thing.

The connection that runs the queries shared with SQLite (placeholders, result
types, bulk writes) is pg_conn.py. This module is the engine around it:

- Writers serialize on a transaction-level advisory lock taken right after BEGIN
  (SQLite's BEGIN IMMEDIATE): ids are assigned and committed in one serial order,
  which the ledger's contiguous ids and the boards' change feeds rely on, across
  every process and host that writes to the database. A one-row counter bumped by
  every write transaction tells a writer that another one committed since its own
  last turn (SQLite's PRAGMA data_version).
- A read transaction is REPEATABLE READ, READ ONLY: several statements, one snapshot.
The migrations in storage/engine/sql/postgres/ hold the schema's PostgreSQL parts
(identity columns, plpgsql triggers, deferrable foreign keys).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from storage.engine.base import Conn, NotOnThisEngine, is_url
from storage.engine.pg_conn import DIALECT, PgConn

__all__ = ["DIALECT", "PgConn", "PgEngine", "is_url"]

# The advisory lock every write transaction holds (an arbitrary constant: "vp").
WRITE_LOCK = 0x7670
_BEGIN_WRITE = (
    f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK});"
    " UPDATE write_turns SET n = n + 1 RETURNING n"
)

# The table named by the next parameter, in the current schema (quoted: any name).
_REGCLASS = "(quote_ident(current_schema()) || '.' || quote_ident(?))::regclass"


def _storage_failure(exc: BaseException) -> bool:
    # Class 08 (connection), 53 (disk full, out of memory), 57 (shutdown), 58 (I/O)
    # and a lost connection: the database cannot take the write, the batch fails.
    if isinstance(exc, psycopg.InterfaceError | psycopg.errors.ConnectionException):
        return True
    state = getattr(getattr(exc, "diag", None), "sqlstate", None) or ""
    return isinstance(exc, psycopg.OperationalError) and (
        not state or state[:2] in ("08", "53", "57", "58")
    )


class PgEngine:
    """A PostgreSQL database named by a `postgresql://` URL."""

    name = "postgres"
    read_begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
    errors = (psycopg.Error,)

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = _without_password(url)
        self._turns: dict[int, int] = {}  # connection -> write turn last seen

    def connect(self, *, readonly: bool = False) -> PgConn:
        raw = psycopg.connect(self.url, autocommit=True)
        if readonly:
            # Set once connected, not as a startup `options`: with a URL naming a
            # primary and its standbys (target_session_attrs=read-write), libpq would
            # take a session that starts read-only for a standby's and refuse every
            # host; and `options` would replace any the URL sets.
            raw.execute("SET default_transaction_read_only = on")
        return PgConn(raw)

    def connect_writer(self, cache_kib: int) -> PgConn:
        return self.connect()

    def begin_write(self, conn: Any) -> bool:
        """BEGIN, then wait for the database-wide write lock; True if another
        writer committed since this connection's last turn. One round trip."""
        # One simple-protocol message (no parameters): cheaper than a pipeline.
        turns = conn.raw.execute(_BEGIN_WRITE)
        while turns.nextset():  # to the last statement's result
            pass
        turn = int(turns.fetchone()[0])
        last = self._turns.get(id(conn))
        self._turns[id(conn)] = turn
        return last is None or turn != last + 1

    def commit(self, conn: Any, flush: Callable[[], None]) -> None:
        """The writer's last writes (`flush`) and COMMIT in one round trip."""
        with conn.pipelined():
            flush()
            conn.execute("COMMIT")

    def end_write(self) -> None:
        """The advisory lock ends with the transaction."""

    def close(self) -> None:
        pass

    @staticmethod
    def is_storage_failure(exc: BaseException) -> bool:
        return _storage_failure(exc)

    @staticmethod
    def lost(conn: Conn) -> bool:
        """Whether the connection itself is gone (its server ended it: a restart, a
        failover): a new one, to the same URL, may find the database again."""
        raw = getattr(conn, "raw", None)
        return raw is not None and bool(raw.broken or raw.closed)

    def open_readonly(self) -> PgConn:
        return self.connect(readonly=True)

    def exists(self) -> bool:
        try:
            self.connect(readonly=True).close()
        except psycopg.Error:
            return False
        return True

    def tables(self, conn: Any) -> list[str]:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            " AND table_name <> 'write_turns' ORDER BY table_name"
        )
        return [r[0] for r in rows]

    def columns(self, conn: Any, table: str) -> list[str]:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return [r[0] for r in rows]

    def primary_key(self, conn: Any, table: str) -> list[str]:
        rows = conn.execute(
            "SELECT a.attname FROM pg_index i"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            f" WHERE i.indrelid = {_REGCLASS} AND i.indisprimary"
            " ORDER BY array_position(i.indkey::int2[], a.attnum)",
            (table,),
        )
        return [r[0] for r in rows]

    def row_order(self, conn: Any, table: str) -> str:
        """What an export orders a table's rows by, so that both engines write them in
        one order: the primary key (else every column), text compared byte by byte
        as SQLite does (`COLLATE "C"`), whatever collation the database was made with."""
        keys = self.primary_key(conn, table) or self.columns(conn, table)
        collatable = {
            r[0]
            for r in conn.execute(
                f"SELECT attname FROM pg_attribute WHERE attrelid = {_REGCLASS}"
                " AND attnum > 0 AND NOT attisdropped AND attcollation <> 0",
                (table,),
            )
        }
        return ", ".join(f'"{c}"' + (' COLLATE "C"' if c in collatable else "") for c in keys)

    @contextmanager
    def writing(self, conn: Any) -> Iterator[None]:
        """One write transaction from outside the server's writer (the CLI): it takes
        its turn on the writers' lock like the server's writer does."""
        self.begin_write(conn)
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def reading(self, conn: Any) -> Iterator[None]:
        conn.execute(self.read_begin)
        try:
            yield
        finally:
            conn.execute("COMMIT")

    def defer_foreign_keys(self, conn: Any) -> None:
        """Inside a transaction: rows may refer forward until COMMIT (an import);
        every foreign key of the schema is DEFERRABLE."""
        conn.execute("SET CONSTRAINTS ALL DEFERRED")

    def after_load(self, conn: Any) -> None:
        """After rows were inserted with their ids (an import): each identity
        column continues after the largest id, as SQLite's rowid does."""
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"
        ).fetchall()
        for table, column in rows:
            conn.execute(DIALECT.follow_ids(table, column))

    def backup(self, target: Path, progress: Any) -> int:
        raise NotOnThisEngine(
            "voiceprofile backup copies a SQLite file; on PostgreSQL use pg_dump or"
            " pg_basebackup (README: operations), or `voiceprofile export`"
        )


def _without_password(url: str) -> str:
    """The URL as the log shows it: the password (in the user part or the query)
    masked, everything else as written. The netloc is split by hand: urlsplit's
    hostname/port take one host, not libpq's multi-host list (`h1:5432,h2:5432`, how
    a server is pointed at a primary and its standbys) and drop IPv6 brackets."""
    parts = urlsplit(url)
    user, at, hosts = parts.netloc.rpartition("@")
    if ":" in user:
        user = user.split(":", 1)[0] + ":***"
    query = _QUERY_PASSWORD.sub(r"\1***", parts.query)
    return urlunsplit(parts._replace(netloc=f"{user}{at}{hosts}", query=query))


_QUERY_PASSWORD = re.compile(r"((?:^|&)password=)[^&]*")
