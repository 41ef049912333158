"""Read-only connections for request handlers (aiosqlite), pooled.

WAL lets these read while the writer commits; each sees a consistent snapshot for
the length of one statement or one explicit read transaction.

Reads of two weights are kept from taking every connection:
- heavy ones (a sort or an aggregate of a whole scope: tops with no index, windows
  answered by SQL) go through `call_heavy`: at most `heavy` (half the pool) at once;
- bulk ones (a chunk of a stream, 500 profiles) through `call_bulk`: heavy and bulk
  together hold at most `size - 1` connections.
So a few clients asking for heavy reads or streams cannot take every connection: a
cheap read (a profile, a key lookup) always finds one soon. (With one connection
nothing can be kept back.)

Connections go to waiters in arrival order: a released connection is handed to the
oldest waiter, never taken by a newcomer first. (With asyncio.Queue a stream that
releases its connection and asks again at once took it back before the woken
waiter ran, who then queued again at the end: a cheap read waited seconds behind
four streams.)
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
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
        self.heavy = max(1, size // 2)
        self.bulk = max(1, size - 1)
        self._heavy = asyncio.Semaphore(self.heavy)
        self._bulk = asyncio.Semaphore(self.bulk)
        self._idle: list[aiosqlite.Connection] = []
        self._waiters: deque[asyncio.Future[aiosqlite.Connection]] = deque()
        self._all: list[aiosqlite.Connection] = []

    async def open(self) -> None:
        for _ in range(self.size):
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            await conn.execute("PRAGMA query_only = ON")
            await conn.execute("PRAGMA busy_timeout = 10000")
            self._all.append(conn)
            self._release(conn)

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()
        self._all.clear()

    async def _take(self) -> aiosqlite.Connection:
        if self._idle and not self._waiters:
            return self._idle.pop()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())  # handed over as this caller gave up
            elif waiter in self._waiters:
                self._waiters.remove(waiter)  # or newcomers would wait behind it
            raise

    def _release(self, conn: aiosqlite.Connection) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # a cancelled waiter is skipped
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[aiosqlite.Connection]:
        conn = await self._take()
        try:
            yield conn
        finally:
            self._release(conn)

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

    async def call_heavy(self, fn: Any, *args: Any) -> Any:
        """`call` for a read that costs a sort or an aggregate of a whole scope: it
        waits for one of the `heavy` slots first, then for a bulk one (each in
        arrival order), so other connections stay free for cheap reads."""
        async with self._heavy, self._bulk:
            return await self.call(fn, *args)

    async def call_bulk(self, fn: Any, *args: Any) -> Any:
        """`call` for a chunk of a stream: one of the `bulk` slots first."""
        async with self._bulk:
            return await self.call(fn, *args)


def _in_snapshot(conn: sqlite3.Connection, fn: Any, args: tuple) -> Any:
    conn.execute("BEGIN")
    try:
        return fn(conn, *args)
    finally:
        conn.execute("COMMIT")
