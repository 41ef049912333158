"""A psycopg 3 connection that runs the queries written for both engines.

The queries in storage/queries/ and ledger/ are written once, with `?` placeholders
and SQL both engines run; `PgConn` makes PostgreSQL take them:

- `?` becomes psycopg's `%s` (and a literal `%` becomes `%%`), once per statement
  text (cached); quoted strings are left alone. SQLite's numbered `?NNN` (one
  parameter used at several places) becomes one `%s` per use, the parameters
  repeated in that order.
- Results look like SQLite's: `sum()` over bigint returns numeric in PostgreSQL, a
  comparison returns boolean; the loaders below give back int (or float) and 0/1,
  so no query and no caller needs a cast.
- Bulk writes (`insert_many`, `update_many`) go as one set-based statement over
  arrays, the writer's way of sending a batch in few round trips.
The engine around it (transactions, the write lock, introspection) is postgres.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import Loader

from storage.engine.base import insert_sql, update_sql

__all__ = ["DIALECT", "PgConn"]


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
            self.executemany(insert_sql(table, columns), rows)
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
            self.executemany(update_sql(table, column, key), pairs)
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
