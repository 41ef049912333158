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

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from schemas.profiles import Profile
from storage.boards.base import Board, Cached, Stale
from storage.boards.flow import flow_series
from storage.boards.pages import board_chunk, board_page, board_rank
from storage.boards.registry import Boards
from storage.boards.stats import board_stats
from storage.clock import Clock
from storage.engine.base import Conn
from storage.engine.readers import ReaderPool
from storage.errors import InvalidValue
from storage.queries import graph, ordered_tops, tops, window_tops
from storage.queries.stats import stats as sql_stats
from storage.queries.top_segments import Position, chunk
from storage.queries.tops import METRICS, Metric, Scope
from storage.queries.windows import Window, resolve

__all__ = ["Reads", "Rows"]

T = TypeVar("T")
Rows = list[tuple[int, Profile]]  # (score, profile) in rank order


class Reads:
    def __init__(self, readers: ReaderPool, boards: Boards, clock: Clock, chunk: int = 500):
        self.readers = readers
        self.boards = boards
        self.clock = clock
        self.chunk = chunk  # profiles per chunk of a streamed top

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

    async def _board(self, by: str, timeframe: str | None, window: Window | None, rank: bool):
        """The board for this read, if one is ready (explicit since/until never have
        one, with `timeframe=all` beside them too: all time's board knows no window)."""
        if window is not None and timeframe in (None, "all"):
            return None
        return await self.boards.board(by, timeframe, rank=rank)

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
        board = await self._board(by, timeframe, window, rank=False)
        now = self.clock.now()
        rows = await self._on_board(board, board_page, board, guild_id, limit, offset, now)
        if rows is not None:
            return rows  # type: ignore[no-any-return]
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
        board = await self._board(by, timeframe, window, rank=False)
        if board is not None:
            chunks = self._board_chunks(board, metric, guild_id, window, offset)
        elif window is None and metric.indexed:
            chunks = self._indexed_chunks(metric, guild_id, offset)
        else:
            chunks = self._ordered_chunks(metric, guild_id, window, offset)
        async for rows in chunks:
            yield rows

    async def _board_chunks(
        self, board: Board, metric: Metric, guild_id: int | None, window: Window | None, offset: int
    ) -> AsyncIterator[Rows]:
        """From a board, going on from where the last chunk stopped
        (storage/queries/top_segments.py)."""
        at: Position | int | None = offset
        sent = 0
        while at is not None:
            now = self.clock.now()
            found = await self._on_board(
                board, board_chunk, board, guild_id, at, self.chunk, now, bulk=True
            )
            if found is None:  # the board went stale mid-stream: SQL goes on from here
                async for rows in self._ordered_chunks(metric, guild_id, window, offset + sent):
                    yield rows
                return
            rows, at = found
            if rows:
                yield rows
                sent += len(rows)

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
        board = await self._board(by, timeframe, window, rank=True)
        found = await self._on_board(board, board_rank, board, guild_id, vp, self.clock.now())
        if found is not None:
            return found  # type: ignore[no-any-return]
        metric = self.metric(by)
        # Without a board a window rank aggregates the window, a `points` rank counts
        # the guild's balances: both heavy reads.
        read = self.readers.call if window is None and metric.indexed else self.readers.call_heavy
        return await read(_sql_rank, metric, guild_id, vp, window)

    # -- stats and graphs --------------------------------------------------------------------

    async def stats(self, guild_id: int | None) -> dict[str, Any]:
        board = await self.boards.stats()
        found = await self._on_board(board, board_stats, board, guild_id, self.clock.now())
        if found is not None:
            return found  # type: ignore[no-any-return]
        return await self.readers.call(sql_stats, guild_id)

    async def graph(
        self, guild_id: int | None, vp: str | None, window: Window, bucket: str | None
    ) -> list[tuple[float, int]]:
        """`(timestamp seconds, balance)` points of a user, a guild or the economy."""
        if guild_id is None and bucket is not None:
            board = await self.boards.flow()
            found = await self._on_board(
                board, flow_series, board, window, bucket, self.clock.now()
            )
            if found is not None:
                return found  # type: ignore[no-any-return]
        return await self.readers.call(graph.series, guild_id, vp, window, bucket)

    # -- a board or nothing ------------------------------------------------------------------

    async def _on_board(
        self, board: Cached | None, fn: Callable[..., T], *args: Any, bulk: bool = False
    ) -> T | None:
        """`fn(conn, *args)` reading `board`, or None when SQL must answer instead: no
        board ready, or one that went stale (dropped; the registry builds it again)."""
        if board is None:
            return None
        try:
            read = self.readers.call_bulk if bulk else self.readers.call
            return await read(fn, *args)
        except Stale as exc:
            self.boards.drop(board, exc)
            return None


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
