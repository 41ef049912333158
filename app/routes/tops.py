"""Tops (leaderboards) and rank lookups, SPEC §7."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from app.routes.common import from_board, snowflake
from app.services import services
from schemas.base import MAX_COUNTER
from schemas.profiles import Profile
from schemas.tops import Rank, TopEntry
from storage.boards.base import Board
from storage.boards.pages import board_chunk, board_page, board_rank
from storage.engine.readers import ReaderPool
from storage.errors import InvalidValue, ProfileNotFound
from storage.ids import vp_id
from storage.queries import ordered_tops, tops, window_tops
from storage.queries.top_segments import Position, chunk
from storage.queries.tops import METRICS, Metric, Scope
from storage.queries.windows import Window, resolve

__all__ = ["ROUTES"]

READ = {"scope": "profiles:read"}
CHUNK = 500
_encode = msgspec.json.encode


def _metric(by: str) -> Metric:
    found = METRICS.get(by)
    if found is None:
        err = InvalidValue("by", f"unknown type {by!r}; valid: {', '.join(METRICS)}")
        err.extra["valid"] = list(METRICS)
        raise err
    return found


def _window(
    by: str, metric: Metric, timeframe: str | None, since: float | None, until: float | None
) -> Window | None:
    window = resolve(timeframe, since, until)
    if window is not None and metric.activity is None:
        raise InvalidValue(
            "timeframe",
            f"{by} has no meaning over a time window; windows apply to"
            f" {', '.join(k for k, m in METRICS.items() if m.activity)}",
        )
    return window


def _entries(rows: list[tuple[int, Any]], first_rank: int) -> list[TopEntry]:
    return [TopEntry(first_rank + i, score, p) for i, (score, p) in enumerate(rows)]


async def _top(
    request: Request,
    guild_id: int | None,
    by: str,
    amount: int,
    offset: int,
    timeframe: str | None,
    since: float | None,
    until: float | None,
) -> Response | Stream:
    metric = _metric(by)
    window = _window(by, metric, timeframe, since, until)
    if not 0 <= offset <= MAX_COUNTER:
        raise InvalidValue("offset", "must be between 0 and 2^53-1")
    if abs(amount) > MAX_COUNTER:
        raise InvalidValue("amount", "must be at most 2^53-1 (0 or less for all)")
    svc = services(request)
    board = await svc.boards.board(by, timeframe) if since is None and until is None else None
    if amount > 0:
        rows = await from_board(request, board, board_page, board, guild_id, amount, offset)
        if rows is None:
            rows = await _sql_page(svc.readers, metric, guild_id, window, amount, offset)
        return Response(_encode(_entries(rows, offset + 1)), media_type="application/json")
    if board is not None:
        chunks = _board_chunks(request, board, metric, guild_id, window, offset)
    elif window is None and metric.indexed:
        chunks = _indexed_chunks(request, metric, guild_id, offset)
    else:
        chunks = _ordered_chunks(request, metric, guild_id, window, offset)
    return Stream(_framed(chunks, offset), media_type="application/json")


async def _sql_page(
    readers: ReaderPool,
    metric: Metric,
    guild_id: int | None,
    window: Window | None,
    limit: int,
    offset: int,
) -> list[tuple[int, Profile]]:
    """A page without a board: an index walk, or (no index in the order) an
    aggregate or a sort of the scope, which takes a heavy slot."""
    if window is not None:
        return await readers.call_heavy(  # type: ignore[no-any-return]
            window_tops.window_page, metric, guild_id, window, limit, offset
        )
    read = readers.call if metric.indexed else readers.call_heavy
    return await read(tops.page, metric, Scope.of(guild_id), limit, offset)  # type: ignore[no-any-return]


Chunks = AsyncIterator[list[tuple[int, Profile]]]


async def _framed(chunks: Chunks, offset: int) -> AsyncIterator[bytes]:
    """`[...]` of a whole top, ranks from `offset + 1`, chunk by chunk: memory stays
    flat, and nothing is held while the client reads."""
    yield b"["
    at, sep = offset, b""
    async for rows in chunks:
        yield sep + _encode(_entries(rows, at + 1))[1:-1]  # one encode: the items of a list
        sep = b","
        at += len(rows)
    yield b"]"


async def _board_chunks(
    request: Request,
    board: Board,
    metric: Metric,
    guild_id: int | None,
    window: Window | None,
    offset: int,
) -> Chunks:
    """A whole top from a board, each chunk in its own snapshot, going on from
    where the last one stopped (storage/top_segments.py)."""
    at: Position | int | None = offset
    sent = 0
    while at is not None:
        found = await from_board(request, board, board_chunk, board, guild_id, at, CHUNK, bulk=True)
        if found is None:  # the board went stale mid-stream: SQL goes on from here
            async for rows in _ordered_chunks(request, metric, guild_id, window, offset + sent):
                yield rows
            return
        rows, at = found
        if rows:
            yield rows
            sent += len(rows)


async def _ordered_chunks(
    request: Request, metric: Metric, guild_id: int | None, window: Window | None, offset: int
) -> Chunks:
    """A whole top that no index orders (a window, or `points`): ranked once for the
    request (a heavy read), then read chunk by chunk, a connection taken per chunk
    (a bulk read; storage/ordered_tops.py)."""
    readers = services(request).readers
    if window is None:
        order = await readers.call_heavy(ordered_tops.all_time_order, metric, Scope.of(guild_id))
    else:
        order = await readers.call_heavy(ordered_tops.window_order, metric, guild_id, window)
    at: Position | None = order.start(offset)
    while at is not None:
        rows, at = await readers.call_bulk(chunk, order, at, CHUNK)
        if rows:
            yield rows


async def _indexed_chunks(
    request: Request, metric: Metric, guild_id: int | None, offset: int
) -> Chunks:
    """A whole all-time top in an index's order: keyset pages, each a seek."""
    readers = services(request).readers
    scope = Scope.of(guild_id)
    cursor: tops.Cursor | None = None
    if offset > 0:
        rows = await readers.call_bulk(tops.page, metric, scope, CHUNK, offset)
        if not rows:
            return
        yield rows
        last = await readers.call(tops.key_values, metric, rows[-1][1].id)
        if last is None or len(rows) < CHUNK:
            return
        cursor = (last, rows[-1][1].id)
    while True:
        rows, cursor = await readers.call_bulk(tops.chunk_after, metric, scope, cursor, CHUNK)
        if rows:
            yield rows
        if len(rows) < CHUNK or cursor is None:
            return


_PARAMS_DOC = "by: " + "|".join(METRICS)


@get("/profile/top", opt=READ, summary=f"Top of every guild ({_PARAMS_DOC})")
async def global_top(
    request: Request,
    by: FromQuery[str] = "points",
    amount: FromQuery[int] = 5,
    offset: FromQuery[int] = 0,
    timeframe: FromQuery[str | None] = None,
    since: FromQuery[float | None] = None,
    until: FromQuery[float | None] = None,
) -> Any:
    return await _top(request, None, by, amount, offset, timeframe, since, until)


@get("/profile/{guild_id:str}/top", opt=READ, summary=f"Top of one guild ({_PARAMS_DOC})")
async def guild_top(
    request: Request,
    guild_id: FromPath[str],
    by: FromQuery[str] = "points",
    amount: FromQuery[int] = 5,
    offset: FromQuery[int] = 0,
    timeframe: FromQuery[str | None] = None,
    since: FromQuery[float | None] = None,
    until: FromQuery[float | None] = None,
) -> Any:
    gid = snowflake("guild_id", guild_id)
    return await _top(request, gid, by, amount, offset, timeframe, since, until)


def _rank(conn: Any, metric: Metric, gid: int, vp: str, window: Window | None) -> Rank | None:
    if window is not None:
        if tops.key_values(conn, metric, vp) is None:
            return None
        return Rank(*window_tops.window_rank(conn, metric, gid, window, vp))
    values = tops.key_values(conn, metric, vp)
    if values is None:
        return None
    scope = Scope.of(gid)
    return Rank(tops.rank(conn, metric, scope, values, vp), values[0], tops.count(conn, scope))


@get(
    "/profile/{guild_id:str}/{user_id:str}/rank",
    opt=READ,
    summary="A profile's rank in its guild: {rank, score, total}",
)
async def rank(
    request: Request,
    guild_id: FromPath[str],
    user_id: FromPath[str],
    by: FromQuery[str] = "points",
    timeframe: FromQuery[str | None] = None,
    since: FromQuery[float | None] = None,
    until: FromQuery[float | None] = None,
) -> Rank:
    gid, uid = snowflake("guild_id", guild_id), snowflake("user_id", user_id)
    metric = _metric(by)
    window = _window(by, metric, timeframe, since, until)
    vp = vp_id(gid, uid)
    svc = services(request)
    board = (
        await svc.boards.board(by, timeframe, rank=True)
        if since is None and until is None
        else None
    )
    found = await from_board(request, board, board_rank, board, gid, vp)
    if found is not None:
        return Rank(*found)
    # Without a board a window rank aggregates the window, a `points` rank counts
    # the guild's balances: both heavy reads.
    read = svc.readers.call if window is None and metric.indexed else svc.readers.call_heavy
    found = await read(_rank, metric, gid, vp, window)
    if found is None:
        raise ProfileNotFound(f"profile {gid}/{uid} not found")
    return found  # type: ignore[no-any-return]


ROUTES = [global_top, guild_top, rank]
