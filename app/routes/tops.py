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
from schemas.tops import Rank, TopEntry
from storage import tops, window_tops
from storage.board_reads import board_page, board_rank
from storage.boards.base import Board
from storage.errors import InvalidValue, ProfileNotFound
from storage.ids import vp_id
from storage.queries.windows import Window, resolve
from storage.tops import METRICS, Metric, Scope

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
            rows = await svc.readers.call(*_sql_page(metric, guild_id, window, amount, offset))
        return Response(_encode(_entries(rows, offset + 1)), media_type="application/json")
    if board is not None:
        body = _stream_board(request, board, metric, guild_id, window, offset)
    elif window is None and not metric.indexed:
        body = _stream_cursor(request, metric, guild_id, offset)
    else:
        body = _stream(request, metric, guild_id, window, offset)
    return Stream(body, media_type="application/json")


async def _stream_board(
    request: Request,
    board: Board,
    metric: Metric,
    guild_id: int | None,
    window: Window | None,
    offset: int,
) -> AsyncIterator[bytes]:
    """A whole top from a board, chunk by chunk (each chunk in its own snapshot)."""
    yield b"["
    at, sep = offset, b""
    while True:
        rows = await from_board(request, board, board_page, board, guild_id, CHUNK, at)
        if rows is None:  # the board went stale mid-stream: SQL goes on from here
            rows = await services(request).readers.call(
                *_sql_page(metric, guild_id, window, CHUNK, at)
            )
        if not rows:
            break
        yield sep + b",".join(_encode(e) for e in _entries(rows, at + 1))
        sep = b","
        at += len(rows)
        if len(rows) < CHUNK:
            break
    yield b"]"


def _sql_page(
    metric: Metric, guild_id: int | None, window: Window | None, limit: int, offset: int
) -> tuple[Any, ...]:
    if window is None:
        return (tops.page, metric, Scope.of(guild_id), limit, offset)
    return (window_tops.window_page, metric, guild_id, window, limit, offset)


async def _stream_cursor(
    request: Request, metric: Metric, guild_id: int | None, offset: int
) -> AsyncIterator[bytes]:
    """A whole top that no index orders: one sorted query read chunk by chunk from
    one cursor, in one snapshot (SQLite's sorter spills to disk, memory stays flat).
    It holds a read connection until the last chunk is sent."""
    sql, params = tops.ordered(metric, Scope.of(guild_id), offset)
    at, sep = offset, b""
    yield b"["
    async with services(request).readers.acquire() as conn:
        await conn.execute("BEGIN")
        try:
            async with conn.execute(sql, params) as cursor:
                while batch := list(await cursor.fetchmany(CHUNK)):
                    entries = _entries(tops.rows_of(batch, metric), at + 1)
                    yield sep + b",".join(_encode(e) for e in entries)
                    sep = b","
                    at += len(batch)
        finally:
            await conn.execute("COMMIT")
    yield b"]"


async def _stream(
    request: Request, metric: Metric, guild_id: int | None, window: Window | None, offset: int
) -> AsyncIterator[bytes]:
    """Every profile from `offset` on, chunk by chunk: memory stays flat."""
    readers = services(request).readers
    yield b"["
    at, sep = offset, b""
    cursor: Any = None
    zero_after: str | None = None
    while True:
        if window is None:
            if cursor is None and at > 0:
                rows = await readers.call(tops.page, metric, Scope.of(guild_id), CHUNK, at)
                if rows:
                    last = await readers.call(tops.key_values, metric, rows[-1][1].id)
                    cursor = (last, rows[-1][1].id) if last is not None else None
            else:
                rows, cursor = await readers.call(
                    tops.chunk_after, metric, Scope.of(guild_id), cursor, CHUNK
                )
        else:
            rows = await readers.call(
                window_tops.window_page, metric, guild_id, window, CHUNK, at, zero_after
            )
            zeros = [p.id for score, p in rows if score == 0]
            zero_after = zeros[-1] if zeros else zero_after
        if not rows:
            break
        yield sep + b",".join(_encode(e) for e in _entries(rows, at + 1))
        sep = b","
        at += len(rows)
        if len(rows) < CHUNK or (window is None and cursor is None):
            break
    yield b"]"


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
    found = await svc.readers.call(_rank, metric, gid, vp, window)
    if found is None:
        raise ProfileNotFound(f"profile {gid}/{uid} not found")
    return found  # type: ignore[no-any-return]


ROUTES = [global_top, guild_top, rank]
