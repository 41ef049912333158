"""What this process's in-memory boards answer: a page, a chunk of a streamed top, a
rank, the stats, the economy's flows. Each returns None when SQL must answer
instead: no board is ready for it (the registry starts building one), or the board
went stale (dropped; the registry builds it again).

storage/reads.py asks these, here or, with several processes on one host, through
the process that keeps the host's boards (storage/boards/shared.py): so every
argument and answer is plain data that crosses a socket.

A read runs on a reader thread, or, on SQLite (`inline`), on the event loop itself
when it is known to be quick: the board's last read took under QUICK_CPU of CPU and
ended under RECENT ago (so little can have been committed since for this one to
catch up on), and no thread holds the board. Measured: a guild's top page costs
about 50 µs, and the hand-off to a reader thread cost it several times that under
load (2.4k reads/s at 32 connections on a thread, 4.3-4.5k on the loop).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from schemas.profiles import Profile
from storage.boards.base import Cached, Stale
from storage.boards.flow import flow_series
from storage.boards.pages import board_chunk, board_page, board_rank
from storage.boards.registry import Boards
from storage.boards.stats import board_stats
from storage.clock import Clock
from storage.engine.readers import ReaderPool
from storage.queries.top_segments import Position
from storage.queries.windows import Window

__all__ = ["BoardReads", "Chunk", "Rows"]

T = TypeVar("T")
Rows = list[tuple[int, Profile]]  # (score, profile) in rank order
Chunk = tuple[Rows, Position | None]  # a streamed top's rows and where the next begins
QUICK_CPU = 0.001  # seconds of CPU a board's last read took, at most, to run on the loop
RECENT = 0.1  # seconds since that read, at most: what it catches up on stays small


class BoardReads:
    def __init__(
        self, readers: ReaderPool, boards: Boards, clock: Clock, inline: bool = False
    ) -> None:
        self.readers = readers
        self.boards = boards
        self.clock = clock
        self.inline = inline  # quick reads on the event loop (SQLite: no network wait)

    async def page(
        self, by: str, timeframe: str | None, guild_id: int | None, limit: int, offset: int
    ) -> Rows | None:
        board = await self.boards.board(by, timeframe)
        return await self._on(board, board_page, guild_id, limit, offset)

    async def chunk(
        self, by: str, timeframe: str | None, guild_id: int | None, at: Position | int, size: int
    ) -> Chunk | None:
        """The next `size` rows from `at` (a Position, or the offset a stream starts
        at), each chunk at the board's snapshot then."""
        board = await self.boards.board(by, timeframe)
        return await self._on(board, board_chunk, guild_id, at, size, bulk=True)

    async def rank(
        self, by: str, timeframe: str | None, guild_id: int, vp: str
    ) -> tuple[int, int, int] | None:
        board = await self.boards.board(by, timeframe, rank=True)
        return await self._on(board, board_rank, guild_id, vp)

    async def stats(self, guild_id: int | None) -> dict[str, Any] | None:
        return await self._on(await self.boards.stats(), board_stats, guild_id)

    async def flow(
        self, since: float | None, until: float | None, bucket: str
    ) -> list[tuple[float, int]] | None:
        board = await self.boards.flow()
        return await self._on(board, flow_series, Window(since, until), bucket)

    async def _on(
        self, board: Cached | None, fn: Callable[..., T], *args: Any, bulk: bool = False
    ) -> T | None:
        """`fn(conn, board, *args, now)` on a reader, or None when SQL must answer."""
        if board is None:
            return None
        try:
            now = self.clock.now()
            if not bulk and self.inline and _quick(board):
                return self.readers.here(_timed, board, fn, (*args, now))
            read = self.readers.call_bulk if bulk else self.readers.call
            return await read(_timed, board, fn, (*args, now))
        except Stale as exc:
            self.boards.drop(board, exc)
            return None


def _quick(board: Cached) -> bool:
    return (
        board.read_cpu < QUICK_CPU
        and time.monotonic() - board.read_at < RECENT
        and not board.lock.locked()
    )


def _timed(conn: Any, board: Cached, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    """`fn(conn, board, *args)`, noting its CPU time on the board (a thread's CPU
    time: what it cost, not what it waited for the GIL or a lock)."""
    start = time.thread_time()
    try:
        return fn(conn, board, *args)
    finally:
        board.read_cpu = time.thread_time() - start
        board.read_at = time.monotonic()
