"""Tops (leaderboards) and rank lookups, SPEC §7."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from app.routes.common import snowflake, stream
from app.routes.season_tops import season_rank, season_top
from app.services import services
from schemas.base import MAX_COUNTER
from schemas.tops import Rank, TopEntry
from storage.errors import InvalidValue, ProfileNotFound
from storage.ids import vp_id
from storage.queries.tops import METRICS
from storage.reads import Rows

__all__ = ["ROUTES"]

READ = {"scope": "profiles:read"}
_encode = msgspec.json.encode


def _entries(rows: Rows, first_rank: int) -> list[TopEntry]:
    return [TopEntry(first_rank + i, score, p) for i, (score, p) in enumerate(rows)]


def _paging(amount: int, offset: int) -> None:
    if not 0 <= offset <= MAX_COUNTER:
        raise InvalidValue("offset", "must be between 0 and 2^53-1")
    if abs(amount) > MAX_COUNTER:
        raise InvalidValue("amount", "must be at most 2^53-1 (0 or less for all)")


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
    reads = services(request).reads
    reads.metric(by)
    window = reads.window(by, timeframe, since, until)
    _paging(amount, offset)
    if amount > 0:
        rows = await reads.top_page(by, guild_id, timeframe, window, amount, offset)
        return Response(_encode(_entries(rows, offset + 1)), media_type="application/json")
    chunks = reads.top_stream(by, guild_id, timeframe, window, offset)
    return stream(request, _framed(chunks, offset), media_type="application/json")


async def _framed(chunks: AsyncIterator[Rows], offset: int) -> AsyncIterator[bytes]:
    """`[...]` of a whole top, ranks from `offset + 1`, chunk by chunk: memory stays
    flat, and nothing is held while the client reads."""
    yield b"["
    at, sep = offset, b""
    async for rows in chunks:
        yield sep + _encode(_entries(rows, at + 1))[1:-1]  # one encode: the items of a list
        sep = b","
        at += len(rows)
    yield b"]"


_PARAMS_DOC = "by: " + "|".join(METRICS)
_SEASON_DOC = "`season=N`: the guild's season N as archived when it ended (no window with it)."


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


@get(
    "/profile/{guild_id:str}/top",
    opt=READ,
    summary=f"Top of one guild ({_PARAMS_DOC})",
    description=_SEASON_DOC,
)
async def guild_top(
    request: Request,
    guild_id: FromPath[str],
    by: FromQuery[str] = "points",
    amount: FromQuery[int] = 5,
    offset: FromQuery[int] = 0,
    timeframe: FromQuery[str | None] = None,
    since: FromQuery[float | None] = None,
    until: FromQuery[float | None] = None,
    season: FromQuery[int | None] = None,
) -> Any:
    gid = snowflake("guild_id", guild_id)
    if season is not None:
        services(request).reads.metric(by)
        _paging(amount, offset)
        return await season_top(request, gid, by, amount, offset, season, (timeframe, since, until))
    return await _top(request, gid, by, amount, offset, timeframe, since, until)


@get(
    "/profile/{guild_id:str}/{user_id:str}/rank",
    opt=READ,
    summary="A profile's rank in its guild: {rank, score, total}",
    description=_SEASON_DOC,
)
async def rank(
    request: Request,
    guild_id: FromPath[str],
    user_id: FromPath[str],
    by: FromQuery[str] = "points",
    timeframe: FromQuery[str | None] = None,
    since: FromQuery[float | None] = None,
    until: FromQuery[float | None] = None,
    season: FromQuery[int | None] = None,
) -> Rank:
    gid, uid = snowflake("guild_id", guild_id), snowflake("user_id", user_id)
    reads = services(request).reads
    reads.metric(by)
    if season is not None:
        return await season_rank(request, gid, uid, by, season, (timeframe, since, until))
    window = reads.window(by, timeframe, since, until)
    found = await reads.rank(by, gid, vp_id(gid, uid), timeframe, window)
    if found is None:
        raise ProfileNotFound(f"profile {gid}/{uid} not found")
    return Rank(*found)


ROUTES = [global_top, guild_top, rank]
