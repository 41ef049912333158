"""Read connections for request handlers, pooled: each a thread of its own.

A read runs a whole synchronous function `fn(conn, *args)` on one connection's
thread, inside one read transaction, so a multi-statement read sees one snapshot
(WAL lets it read while the writer commits). The event loop only awaits the result.

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

A read the database cannot answer at all (the engine's storage failure: a lost
PostgreSQL connection, an I/O error) raises StorageUnavailable, 503 as a failed
write is, not an unexplained 500. A connection its server ended (a restart, a
failover to a standby the URL also names) is opened again and the read run once
more on it: a read changes nothing, so running it twice is safe, and the server
finds the database again without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

from storage.engine.base import Conn
from storage.errors import StorageUnavailable

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

    def __init__(self, pool: ReaderPool, reader: _Reader) -> None:
        self._pool = pool
        self._reader = reader

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._pool._run(self._reader, fn, self._reader.conn, *args)


def _never(exc: BaseException) -> bool:
    return False


def _kept(conn: Conn) -> bool:
    return False


class ReaderPool:
    def __init__(
        self,
        connect: Callable[[], Conn],
        size: int = 4,
        begin: str = "BEGIN",
        failure: Callable[[BaseException], bool] = _never,
        lost: Callable[[Conn], bool] = _kept,
    ) -> None:
        self._connect = connect
        self._failure = failure  # the engine's "the database cannot take this at all"
        self._lost = lost  # the engine's "this connection is gone"
        self.size = size
        self._begin = begin  # how a read transaction starts (one snapshot)
        self.heavy = max(1, size // 2)
        self.bulk = max(1, size - 1)
        self._heavy = asyncio.Semaphore(self.heavy)
        self._bulk = asyncio.Semaphore(self.bulk)
        self._idle: list[_Reader] = []
        self._waiters: deque[asyncio.Future[_Reader]] = deque()
        self._all: list[_Reader] = []
        self._here: Conn | None = None  # the event loop's own connection (here())

    async def open(self) -> None:
        for n in range(self.size):
            reader = _Reader(self._connect(), f"voiceprofile-reader-{n}")
            self._all.append(reader)
            self._release(reader)

    @classmethod
    def of(cls, engine: Any, size: int = 4) -> ReaderPool:
        """A pool of `size` read-only connections of `engine`."""
        return cls(
            lambda: engine.connect(readonly=True),
            size,
            engine.read_begin,
            engine.is_storage_failure,
            engine.lost,
        )

    async def ping(self) -> None:
        """One trivial read: raises if the database cannot be read."""
        await self.call(_ping)

    async def close(self) -> None:
        if self._here is not None:
            self._here.close()
            self._here = None
        for reader in self._all:
            await reader.run(reader.conn.close)
            reader.thread.shutdown(wait=True)
        self._all.clear()

    async def _take(self) -> _Reader:
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

    def _release(self, reader: _Reader) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # a cancelled waiter is skipped
                waiter.set_result(reader)
                return
        self._idle.append(reader)

    async def _run(self, reader: _Reader, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await reader.run(fn, *args)
        except Exception as exc:
            self._unavailable(exc)
            raise

    def _unavailable(self, exc: Exception) -> None:
        """StorageUnavailable (503) if the database cannot take a read at all."""
        if self._failure(exc):
            raise StorageUnavailable(f"the database cannot be read ({exc})") from exc

    async def _again(self, reader: _Reader, fn: Callable[..., T], *args: Any) -> T:
        """`fn(reader.conn, *args)`; if the connection turns out to be gone, once more
        on a new one (StorageUnavailable if none can be opened)."""
        try:
            return await self._run(reader, fn, reader.conn, *args)
        except StorageUnavailable:
            if not self._lost(reader.conn):
                raise
        reader.conn = await self._run(reader, self._reopen, reader.conn)
        return await self._run(reader, fn, reader.conn, *args)

    def _reopen(self, old: Conn) -> Conn:
        with contextlib.suppress(Exception):  # gone already
            old.close()
        return self._connect()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(conn, *args)` on a free connection, in one read transaction."""
        reader = await self._take()
        try:
            return await self._again(reader, self._in_snapshot, fn, args)
        finally:
            self._release(reader)

    def here(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(conn, *args)` in one read transaction on a connection of the event
        loop's own, with no thread hand-off: for reads known to take a fraction of a
        millisecond (storage/boards/answers.py), since it holds the loop meanwhile.
        A hand-off costs each such read more than the read: the reader thread gives
        the GIL up at every statement and waits for the loop to give it back."""
        if self._here is None:
            self._here = self._connect()
        try:
            return self._in_snapshot(self._here, fn, args)
        except Exception as exc:
            self._unavailable(exc)
            raise

    async def call_heavy(self, fn: Callable[..., T], *args: Any) -> T:
        """`call` for a read that costs a sort or an aggregate of a whole scope: it
        waits for one of the `heavy` slots first, then for a bulk one (each in
        arrival order), so other connections stay free for cheap reads."""
        async with self._heavy, self._bulk:
            return await self.call(fn, *args)

    async def call_bulk(self, fn: Callable[..., T], *args: Any) -> T:
        """`call` for a chunk of a stream: one of the `bulk` slots first."""
        async with self._bulk:
            return await self.call(fn, *args)

    @asynccontextmanager
    async def session(self, heavy: bool = False) -> AsyncIterator[Session]:
        """One connection for several reads in one snapshot; `heavy` as call_heavy."""
        async with self._heavy if heavy else _nothing(), self._bulk if heavy else _nothing():
            reader = await self._take()
            try:
                await self._again(reader, _begin, self._begin)  # nothing read yet
                try:
                    yield Session(self, reader)
                finally:
                    await self._run(reader, reader.conn.execute, "COMMIT")
            finally:
                self._release(reader)

    def _in_snapshot(self, conn: Conn, fn: Callable[..., T], args: tuple) -> T:
        conn.execute(self._begin)
        try:
            return fn(conn, *args)
        finally:
            conn.execute("COMMIT")


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


def _begin(conn: Conn, begin: str) -> None:
    conn.execute(begin)


def _ping(conn: Conn) -> None:
    conn.execute("SELECT 1").fetchone()
