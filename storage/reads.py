"""The read side: every top, rank, stats and graph question, answered by a ready
in-memory board (storage/boards/) or by SQL (storage/queries/), the same answer
either way. Routes ask here; which path answers is decided here only.

A board answers only when the registry has one ready (`background` mode builds it
on first use while SQL answers); a board that went stale is dropped and SQL goes on,
even mid-stream. Reads that cost an aggregate or a sort of a whole scope take one
of the pool's heavy slots, stream chunks a bulk slot (storage/engine/readers.py),
so they cannot take every reader from cheap reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from storage.boards.answers import BoardReads, Chunk, Rows
from storage.boards.registry import Boards
from storage.clock import Clock
from storage.engine.base import Conn
from storage.engine.readers import ReaderPool
from storage.errors import InvalidValue
from storage.queries import graph, ordered_tops, tops, window_tops
from storage.queries.stats import stats as sql_stats
from storage.queries.top_segments import Position, chunk
from storage.queries.tops import METRICS, Metric, Scope
from storage.queries.windows import Window, resolve

__all__ = ["OnBoards", "Reads", "Rows"]


class OnBoards(Protocol):
    """Where board answers come from: this process's boards (BoardReads), or the
    host's, kept by one process (storage/boards/shared.py). None: SQL answers."""

    async def page(
        self, by: str, timeframe: str | None, guild_id: int | None, limit: int, offset: int
    ) -> Rows | None: ...

    async def chunk(
        self, by: str, timeframe: str | None, guild_id: int | None, at: Position | int, size: int
    ) -> Chunk | None: ...

    async def rank(
        self, by: str, timeframe: str | None, guild_id: int, vp: str
    ) -> tuple[int, int, int] | None: ...

    async def stats(self, guild_id: int | None) -> dict[str, Any] | None: ...

    async def flow(
        self, since: float | None, until: float | None, bucket: str
    ) -> list[tuple[float, int]] | None: ...


class Reads:
    def __init__(
        self,
        readers: ReaderPool,
        boards: Boards,
        clock: Clock,
        chunk: int = 500,
        inline: bool = False,
    ):
        self.readers = readers
        self.clock = clock
        self.chunk = chunk  # profiles per chunk of a streamed top
        self.local = BoardReads(readers, boards, clock, inline)
        self.on_boards: OnBoards = self.local

    # -- what a request asks ------------------------------------------------------------

    @staticmethod
    def metric(by: str) -> Metric:
        found = METRICS.get(by)
        if found is None:
            err = InvalidValue("by", f"unknown type {by!r}; valid: {', '.join(METRICS)}")
            err.extra["valid"] = list(METRICS)
            raise err
        return found

    def window(
        self,
        by: str,
        timeframe: str | None,
        since: float | None,
        until: float | None,
        names: tuple[str, str] = ("since", "until"),
    ) -> Window | None:
        """The window a top or rank asks for (None: all time), measured now."""
        window = resolve(timeframe, since, until, self.clock.now(), names)
        if window is not None and self.metric(by).activity is None:
            raise InvalidValue(
                "timeframe",
                f"{by} has no meaning over a time window; windows apply to"
                f" {', '.join(k for k, m in METRICS.items() if m.activity)}",
            )
        return window

    # -- tops and ranks ---------------------------------------------------------------------

    @staticmethod
    def _boarded(timeframe: str | None, window: Window | None) -> bool:
        """Whether a board may serve this read: explicit since/until never have one,
        with `timeframe=all` beside them too (all time's board knows no window)."""
        return window is None or timeframe not in (None, "all")

    async def top_page(
        self,
        by: str,
        guild_id: int | None,
        timeframe: str | None,
        window: Window | None,
        limit: int,
        offset: int,
    ) -> Rows:
        """Ranks offset+1 … offset+limit."""
        if self._boarded(timeframe, window):
            rows = await self.on_boards.page(by, timeframe, guild_id, limit, offset)
            if rows is not None:
                return rows
        metric = self.metric(by)
        if window is not None:
            return await self.readers.call_heavy(
                window_tops.window_page, metric, guild_id, window, limit, offset
            )
        read = self.readers.call if metric.indexed else self.readers.call_heavy
        return await read(tops.page, metric, Scope.of(guild_id), limit, offset)

    async def top_stream(
        self,
        by: str,
        guild_id: int | None,
        timeframe: str | None,
        window: Window | None,
        offset: int,
    ) -> AsyncIterator[Rows]:
        """A whole top from `offset` on, chunk by chunk: memory stays flat, nothing is
        held while the client reads (each chunk in its own snapshot)."""
        metric = self.metric(by)
        first = None
        if self._boarded(timeframe, window):
            first = await self.on_boards.chunk(by, timeframe, guild_id, offset, self.chunk)
        if first is not None:
            chunks = self._board_chunks(first, by, timeframe, guild_id, window, offset)
        elif window is None and metric.indexed:
            chunks = self._indexed_chunks(metric, guild_id, offset)
        else:
            chunks = self._ordered_chunks(metric, guild_id, window, offset)
        async for rows in chunks:
            yield rows

    async def _board_chunks(
        self,
        first: Chunk,
        by: str,
        timeframe: str | None,
        guild_id: int | None,
        window: Window | None,
        offset: int,
    ) -> AsyncIterator[Rows]:
        """From a board, going on from where the last chunk stopped
        (storage/queries/top_segments.py)."""
        found: Chunk | None = first
        sent = 0
        while found is not None:
            rows, at = found
            if rows:
                yield rows
                sent += len(rows)
            if at is None:
                return
            found = await self.on_boards.chunk(by, timeframe, guild_id, at, self.chunk)
        # The board went stale (or away) mid-stream: SQL goes on from here.
        async for rows in self._ordered_chunks(self.metric(by), guild_id, window, offset + sent):
            yield rows

    async def _ordered_chunks(
        self, metric: Metric, guild_id: int | None, window: Window | None, offset: int
    ) -> AsyncIterator[Rows]:
        """A top no index orders (a window, or `points`): ranked once for the request
        (a heavy read), then read chunk by chunk (storage/queries/ordered_tops.py)."""
        readers = self.readers
        if window is None:
            order = await readers.call_heavy(
                ordered_tops.all_time_order, metric, Scope.of(guild_id)
            )
        else:
            order = await readers.call_heavy(ordered_tops.window_order, metric, guild_id, window)
        at: Position | None = order.start(offset)
        while at is not None:
            rows, at = await readers.call_bulk(chunk, order, at, self.chunk)
            if rows:
                yield rows

    async def _indexed_chunks(
        self, metric: Metric, guild_id: int | None, offset: int
    ) -> AsyncIterator[Rows]:
        """An all-time top in an index's order: keyset pages, each a seek."""
        readers, size = self.readers, self.chunk
        scope = Scope.of(guild_id)
        cursor: tops.Cursor | None = None
        if offset > 0:
            rows = await readers.call_bulk(tops.page, metric, scope, size, offset)
            if not rows:
                return
            yield rows
            last = await readers.call(tops.key_values, metric, rows[-1][1].id)
            if last is None or len(rows) < size:
                return
            cursor = (last, rows[-1][1].id)
        while True:
            rows, cursor = await readers.call_bulk(tops.chunk_after, metric, scope, cursor, size)
            if rows:
                yield rows
            if len(rows) < size or cursor is None:
                return

    async def rank(
        self, by: str, guild_id: int, vp: str, timeframe: str | None, window: Window | None
    ) -> tuple[int, int, int] | None:
        """(rank, score, total) of an open profile in its guild; None if there is none."""
        if self._boarded(timeframe, window):
            found = await self.on_boards.rank(by, timeframe, guild_id, vp)
            if found is not None:
                return found
        metric = self.metric(by)
        # Without a board a window rank aggregates the window, a `points` rank counts
        # the guild's balances: both heavy reads.
        read = self.readers.call if window is None and metric.indexed else self.readers.call_heavy
        return await read(_sql_rank, metric, guild_id, vp, window)

    # -- stats and graphs --------------------------------------------------------------------

    async def stats(self, guild_id: int | None) -> dict[str, Any]:
        found = await self.on_boards.stats(guild_id)
        if found is not None:
            return found
        return await self.readers.call(sql_stats, guild_id)

    async def graph(
        self, guild_id: int | None, vp: str | None, window: Window, bucket: str | None
    ) -> list[tuple[float, int]]:
        """`(timestamp seconds, balance)` points of a user, a guild or the economy."""
        if guild_id is None and bucket is not None:
            found = await self.on_boards.flow(window.since, window.until, bucket)
            if found is not None:
                return found
        return await self.readers.call(graph.series, guild_id, vp, window, bucket)


def _sql_rank(
    conn: Conn, metric: Metric, guild_id: int, vp: str, window: Window | None
) -> tuple[int, int, int] | None:
    values = tops.key_values(conn, metric, vp)
    if values is None:
        return None
    if window is not None:
        return window_tops.window_rank(conn, metric, guild_id, window, vp)  # type: ignore[no-any-return]
    scope = Scope.of(guild_id)
    return tops.rank(conn, metric, scope, values, vp), values[0], tops.count(conn, scope)
