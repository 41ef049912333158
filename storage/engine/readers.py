"""Read connections for request handlers, pooled: each a thread of its own.

A read runs a whole synchronous function `fn(conn, *args)` on one connection's
thread, inside one read transaction, so a multi-statement read sees one snapshot
(WAL lets it read while the writer commits). The event loop only awaits the result.

Heavy reads (a sort or an aggregate of a whole scope: tops with no index, windows
answered by SQL) go through `call_heavy`, which lets at most `heavy` of them hold a
connection at once (half the pool), so a few clients asking for them cannot take
every connection: a cheap read (a profile, a key lookup) always finds one soon.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

from storage.engine.base import Conn

__all__ = ["ReaderPool", "Session"]

P = ParamSpec("P")
T = TypeVar("T")


class _Reader:
    def __init__(self, conn: Conn, name: str) -> None:
        self.conn = conn
        self.thread = ThreadPoolExecutor(1, thread_name_prefix=name)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.thread, fn, *args)


class Session:
    """Several reads on one connection, in one snapshot (a streamed answer)."""

    def __init__(self, reader: _Reader) -> None:
        self._reader = reader

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._reader.run(fn, self._reader.conn, *args)


class ReaderPool:
    def __init__(self, connect: Callable[[], Conn], size: int = 4, begin: str = "BEGIN") -> None:
        self._connect = connect
        self.size = size
        self._begin = begin  # how a read transaction starts (one snapshot)
        self.heavy = max(1, size // 2)
        self._heavy = asyncio.Semaphore(self.heavy)
        self._idle: asyncio.Queue[_Reader] = asyncio.Queue()
        self._all: list[_Reader] = []

    async def open(self) -> None:
        for n in range(self.size):
            reader = _Reader(self._connect(), f"voiceprofile-reader-{n}")
            self._all.append(reader)
            self._idle.put_nowait(reader)

    async def close(self) -> None:
        for reader in self._all:
            await reader.run(reader.conn.close)
            reader.thread.shutdown(wait=True)
        self._all.clear()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(conn, *args)` on a free connection, in one read transaction."""
        reader = await self._idle.get()
        try:
            return await reader.run(self._in_snapshot, reader.conn, fn, args)
        finally:
            self._idle.put_nowait(reader)

    async def call_heavy(self, fn: Callable[..., T], *args: Any) -> T:
        """`call` for a read that costs a sort or an aggregate of a whole scope: it
        waits for one of the `heavy` slots first (in arrival order), then for a
        connection, so the other connections stay free for cheap reads."""
        async with self._heavy:
            return await self.call(fn, *args)

    @asynccontextmanager
    async def session(self, heavy: bool = False) -> AsyncIterator[Session]:
        """One connection for several reads in one snapshot; `heavy` as call_heavy."""
        async with self._heavy if heavy else _nothing():
            reader = await self._idle.get()
            try:
                await reader.run(reader.conn.execute, self._begin)
                try:
                    yield Session(reader)
                finally:
                    await reader.run(reader.conn.execute, "COMMIT")
            finally:
                self._idle.put_nowait(reader)

    def _in_snapshot(self, conn: Conn, fn: Callable[..., T], args: tuple) -> T:
        conn.execute(self._begin)
        try:
            return fn(conn, *args)
        finally:
            conn.execute("COMMIT")


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield
