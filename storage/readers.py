"""Read-only connections for request handlers (aiosqlite), pooled.

WAL lets these read while the writer commits; each sees a consistent snapshot for
the length of one statement or one explicit read transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

__all__ = ["ReaderPool"]


class ReaderPool:
    def __init__(self, path: str | Path, size: int = 4) -> None:
        self.path = str(path)
        self.size = size
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all: list[aiosqlite.Connection] = []

    async def open(self) -> None:
        for _ in range(self.size):
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            await conn.execute("PRAGMA query_only = ON")
            await conn.execute("PRAGMA busy_timeout = 10000")
            self._all.append(conn)
            self._idle.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()
        self._all.clear()

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[aiosqlite.Connection]:
        conn = await self._idle.get()
        try:
            yield conn
        finally:
            self._idle.put_nowait(conn)

    async def all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row | tuple]:
        async with self.acquire() as conn:
            return list(await conn.execute_fetchall(sql, tuple(params)))

    async def one(self, sql: str, params: Iterable[Any] = ()) -> Any:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def value(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = await self.one(sql, params)
        return None if row is None else row[0]

    async def call(self, fn: Any, *args: Any) -> Any:
        """Run a whole synchronous read `fn(sqlite3.Connection, *args)` on a reader's
        thread: one hop for a multi-statement read in one snapshot."""
        async with self.acquire() as conn:
            return await conn._execute(_in_snapshot, conn._conn, fn, args)


def _in_snapshot(conn: sqlite3.Connection, fn: Any, args: tuple) -> Any:
    conn.execute("BEGIN")
    try:
        return fn(conn, *args)
    finally:
        conn.execute("COMMIT")
