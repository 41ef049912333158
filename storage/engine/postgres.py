"""PostgreSQL, for operators who outgrow one file: every PostgreSQL-specific thing.

The queries in storage/queries/ and ledger/ are written once, with `?` placeholders
and SQL both engines run. This module makes a psycopg 3 connection take them:

- `?` becomes psycopg's `%s` (and a literal `%` becomes `%%`), once per statement
  text (cached); quoted strings are left alone. SQLite's numbered `?NNN` (one
  parameter used at several places) becomes one `%s` per use, the parameters
  repeated in that order.
- Results look like SQLite's: `sum()` over bigint returns numeric in PostgreSQL, a
  comparison returns boolean; the loaders below give back int (or float) and 0/1,
  so no query and no caller needs a cast.
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import pq
from psycopg.adapt import Loader

from storage.engine.base import is_url

__all__ = ["DIALECT", "PgConn", "PgEngine", "is_url"]

# The advisory lock every write transaction holds (an arbitrary constant: "vp").
WRITE_LOCK = 0x7670
_BEGIN_WRITE = (
    f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK});"
    " UPDATE write_turns SET n = n + 1 RETURNING n"
)

# The table named by the next parameter, in the current schema (quoted: any name).
_REGCLASS = "(quote_ident(current_schema()) || '.' || quote_ident(?))::regclass"


class _Dialect:
    name = "postgres"
    int_key = "BIGINT PRIMARY KEY"

    def indexed_by(self, index: str) -> str:
        return ""  # PostgreSQL's planner picks the index from the statistics

    def contains_ci(self, column: str) -> str:
        return f"strpos(lower({column}), lower(?)) > 0"

    def follow_ids(self, table: str, column: str) -> str:
        # setval is not undone by a rollback: at worst ids skip some numbers, as
        # they do after any rolled-back insert on PostgreSQL.
        return (
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
            f' coalesce((SELECT max("{column}") FROM "{table}"), 0) + 1, false)'
        )


DIALECT = _Dialect()

_TOKEN = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|\?[0-9]*|%")


@lru_cache(maxsize=4096)
def _placeholders(sql: str) -> tuple[str, tuple[int, ...] | None]:
    """SQLite's `?` and `?NNN` as psycopg's `%s`; a literal `%` escaped (in quotes
    too); a `?` in quotes kept. With numbered parameters, also which parameter (0-based) each `%s` takes,
    numbered as SQLite does: a bare `?` is one more than the largest number so far.
    None when every placeholder is a bare `?` (the parameters go as given)."""
    uses: list[int] = []
    numbered = False

    def one(m: re.Match[str]) -> str:
        nonlocal numbered
        token = m[0]
        if token == "%":
            return "%%"
        if token[0] != "?":
            return token.replace("%", "%%")  # quoted: psycopg reads `%` even there
        if len(token) > 1:
            numbered = True
            number = int(token[1:])
            if number < 1:
                raise psycopg.ProgrammingError(f"no parameter {token}: SQLite numbers from ?1")
        else:
            number = max(uses, default=0) + 1
        uses.append(number)
        return "%s"

    text = _TOKEN.sub(one, sql)
    return text, tuple(n - 1 for n in uses) if numbered else None


def _bind(order: tuple[int, ...] | None, params: Sequence[Any]) -> Sequence[Any]:
    """The parameters in the order of the `%s`s (a numbered one repeated at each use)."""
    if order is None:
        return params
    count = max(order) + 1
    if len(params) != count:
        # As SQLite: the statement takes as many parameters as its largest number.
        raise psycopg.ProgrammingError(
            f"the query has {count} numbered parameters but {len(params)} were passed"
        )
    return [params[i] for i in order]


class _NumberLoader(Loader):
    """numeric as int when whole (sum() of bigint), else float (avg())."""

    def load(self, data: Any) -> int | float:
        text = bytes(data)
        if b"." in text or b"e" in text or b"N" in text:
            return float(text)
        return int(text)


class _BoolLoader(Loader):
    """boolean as 0/1, as SQLite returns a comparison."""

    def load(self, data: Any) -> int:
        return 1 if bytes(data) == b"t" else 0


_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE")
_INTEGERS = frozenset(("bigint", "integer", "smallint"))
_FEW = 10  # rows below which insert_many and update_many send a statement per row
_INT_OR_NONE = frozenset((int, type(None)))


def _array(values: list[Any], sql_type: str) -> Any:
    """A column of a bulk write, for a `%b::type[]` parameter. psycopg builds arrays
    in Python (~1 µs an element, a third of the writer's time per transfer): an
    integer column goes as the text of the array literal instead (the cast parses
    it); anything else, or a value that is not an int, as the list."""
    if sql_type in _INTEGERS and set(map(type, values)) <= _INT_OR_NONE:
        if None in values:
            return "{" + ",".join(["NULL" if v is None else str(v) for v in values]) + "}"
        return "{" + ",".join(map(str, values)) + "}"
    return values


class PgConn:
    """A psycopg connection in autocommit mode (transactions are opened explicitly)
    that runs the queries written for both engines."""

    dialect = DIALECT

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        raw.adapters.register_loader("numeric", _NumberLoader)
        raw.adapters.register_loader("bool", _BoolLoader)
        self._changes = 0
        self._types: dict[str, dict[str, str]] = {}  # table -> column -> SQL type
        self._unread: list[psycopg.Cursor[Any]] | None = None  # see `pipelined`

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    @property
    def total_changes(self) -> int:
        """Rows inserted, updated or deleted by this connection's statements."""
        return self._changes

    def _count(self, cursor: psycopg.Cursor[Any]) -> None:
        if self._unread is not None:  # no result yet: counted when the pipeline ends
            self._unread.append(cursor)
            return
        status = cursor.statusmessage or ""
        if status.startswith(_WRITES) and cursor.rowcount > 0:
            self._changes += cursor.rowcount

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        text, order = _placeholders(sql)
        cursor = self.raw.execute(text, _bind(order, params))  # type: ignore[call-overload]
        self._count(cursor)
        return cursor

    def executemany(self, sql: str, params: Iterable[Sequence[Any]], /) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor()
        text, order = _placeholders(sql)
        rows = params if order is None else (_bind(order, p) for p in params)
        cursor.executemany(text, rows)  # type: ignore[call-overload]
        self._count(cursor)
        return cursor

    # PostgreSQL runs an executemany as one statement per row (bind, executor start,
    # result each): bulk writes go as one statement over column arrays. A handful
    # of rows (fewer than _FEW) still go one statement each, prepared: cheaper than
    # the arrays' parsing and, for update_many, than planning its join again (below
    # ~10 elements PostgreSQL prefers a fresh plan to the cached one, every call).
    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        if not rows:
            return
        if len(rows) < _FEW:
            marks = ", ".join("?" * len(columns))
            self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            return
        types = self._column_types(table)
        arrays = ", ".join(f"%b::{types[c]}[]" for c in columns)
        # A function scan feeds the INSERT in array order: identity columns (the
        # outbox's id) are given in the order of `rows`, as executemany gives them.
        sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
        columns_values = zip(columns, zip(*rows, strict=True), strict=True)
        values = [_array(list(v), types[c]) for c, v in columns_values]
        self._count(self.raw.execute(sql, values))  # type: ignore[call-overload]

    def update_many(
        self, table: str, column: str, key: str, pairs: Sequence[tuple[Any, Any]]
    ) -> None:
        if not pairs:
            return
        if len(pairs) < _FEW:
            self.executemany(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", pairs)
            return
        types = self._column_types(table)
        values, keys = zip(*pairs, strict=True)
        sql = (
            f"UPDATE {table} SET {column} = v.value"
            f" FROM unnest(%b::{types[column]}[], %b::{types[key]}[]) AS v (value, key)"
            f" WHERE {table}.{key} = v.key"
        )
        arrays = (_array(list(values), types[column]), _array(list(keys), types[key]))
        self._count(self.raw.execute(sql, arrays))  # type: ignore[call-overload]

    def _column_types(self, table: str) -> dict[str, str]:
        found = self._types.get(table)
        if found is None:
            rows = self.raw.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (table,),
            )
            found = self._types[table] = dict(rows.fetchall())
        return found

    @contextmanager
    def pipelined(self) -> Iterator[None]:
        """Statements inside are sent without waiting for each one's result (psycopg's
        pipeline mode): one round trip for all of them. Errors are raised at the
        end at the latest, and a failed statement aborts the ones after it."""
        self._unread = []
        try:
            with self.raw.pipeline():
                yield
        finally:
            unread, self._unread = self._unread, None
        for cursor in unread:
            self._count(cursor)

    def script(self, sql: str) -> None:
        """Several statements in one go (a migration): no parameters."""
        self.raw.execute(sql)  # type: ignore[call-overload]

    def close(self) -> None:
        self.raw.close()


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
        raise NotImplementedError(
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
