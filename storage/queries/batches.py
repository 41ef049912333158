"""Reading many rows by a list of keys, a bounded IN (...) list at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from storage.engine.base import Conn

__all__ = ["IN_LIST", "rows_in"]

IN_LIST = 500  # values per IN (...) list: SQLite caps the parameters of a statement


def rows_in(conn: Conn, select: str, column: str, values: Sequence) -> Iterator:
    """The rows of `select WHERE column IN values`, IN_LIST values a statement."""
    for i in range(0, len(values), IN_LIST):
        part = values[i : i + IN_LIST]
        yield from conn.execute(f"{select} WHERE {column} IN ({','.join('?' * len(part))})", part)
