"""What every engine offers the rest of storage/: a connection and its dialect.

Query modules (storage/queries/) take a `Conn` and write plain SQL with `?`
placeholders that both engines run; where SQLite and PostgreSQL truly differ, they
ask the connection's `dialect` for the fragment. Everything else engine-specific
(PRAGMAs, the backup API, how a write transaction starts, what counts as "the disk
failed") lives in the engine's own module (storage/engine/sqlite.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

__all__ = [
    "Conn",
    "Cursor",
    "Dialect",
    "NotOnThisEngine",
    "error_text",
    "insert_sql",
    "is_url",
    "update_sql",
]


class NotOnThisEngine(Exception):
    """An operation this engine does not offer (a file backup of PostgreSQL); the
    message names what to use instead."""


def insert_sql(table: str, columns: Sequence[str]) -> str:
    """One row's INSERT into `table`, values in `columns` order (`?` placeholders)."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def update_sql(table: str, column: str, key: str) -> str:
    """One row's UPDATE of `column`, parameters (value, key)."""
    return f"UPDATE {table} SET {column} = ? WHERE {key} = ?"


def is_url(db: object) -> bool:
    """Whether the database setting names a PostgreSQL server (else a SQLite file)."""
    return isinstance(db, str) and db.startswith(("postgresql://", "postgres://"))


def error_text(exc: BaseException) -> str:
    """An engine's error on one line. PostgreSQL's go on over several: DETAIL and
    HINT (which key, which value) are kept; `LINE n:` with the caret under it and
    CONTEXT, which quote the statement and its parameters, are dropped."""
    kept = [
        x.strip()
        for x in str(exc).splitlines()
        if x.strip() not in ("", "^") and not x.startswith(("LINE ", "CONTEXT:"))
    ]
    return " ".join(kept)


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ...) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Dialect(Protocol):
    name: str
    int_key: str
    """The type of a 64-bit integer primary key column (SQLite's rowid alias)."""

    def indexed_by(self, index: str) -> str:
        """A hint to read through `index` (SQLite's planner needs it for some sums)."""
        ...

    def contains_ci(self, column: str) -> str:
        """A condition: `column` contains the next parameter, ignoring ASCII case."""
        ...

    def follow_ids(self, table: str, column: str) -> str:
        """A statement to run after rows were inserted into `table` with their own
        `column` ids: the next default id comes after the largest. "" if none is
        needed (SQLite's rowid follows by itself; a PostgreSQL identity does not)."""
        ...


class Conn(Protocol):
    """A DB-API connection in autocommit mode (transactions are opened explicitly)."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def in_transaction(self) -> bool: ...

    @property
    def total_changes(self) -> int: ...

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, params: Iterable[Sequence[Any]], /) -> Any: ...

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """INSERT `rows` (values in `columns` order): the writer's bulk appends."""
        ...

    def update_many(
        self, table: str, column: str, key: str, pairs: Sequence[tuple[Any, Any]]
    ) -> None:
        """UPDATE `table` SET `column` = value WHERE `key` = k, for each (value, k);
        each k at most once."""
        ...

    def close(self) -> None: ...
