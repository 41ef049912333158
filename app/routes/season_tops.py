"""Tops and ranks read from a season's archive (`season=N`, SPEC §12).

A season is its own period, so a window with it is refused; every `by` the live
tops accept ranks the archive, in the same order (storage/queries/seasons.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.response import Stream

from app.routes.common import stream
from app.services import services
from schemas.base import MAX_COUNTER
from schemas.seasons import Season
from schemas.tops import Rank, TopEntry
from storage.errors import InvalidValue, ProfileNotFound, SeasonNotFound
from storage.ids import vp_id
from storage.queries import seasons

__all__ = ["season_rank", "season_top"]

_encode = msgspec.json.encode


def _no_window(timeframe: str | None, since: float | None, until: float | None) -> None:
    if timeframe not in (None, "all") or since is not None or until is not None:
        field = "timeframe" if timeframe not in (None, "all") else "since"
        raise InvalidValue(field, "a season is its own period: no timeframe, since or until")


async def _season(request: Request, guild_id: int, number: int) -> tuple[int, Season]:
    if not 1 <= number <= MAX_COUNTER:
        raise InvalidValue("season", "must be a season number, from 1")
    found = await services(request).readers.call(seasons.find, guild_id, number)
    if found is None:
        raise SeasonNotFound(f"guild {guild_id} has no season {number}")
    return found  # type: ignore[no-any-return]


async def season_top(
    request: Request,
    guild_id: int,
    by: str,
    amount: int,
    offset: int,
    number: int,
    window: tuple[str | None, float | None, float | None],
) -> Response | Stream:
    _no_window(*window)
    sid, season = await _season(request, guild_id, number)
    readers = services(request).readers
    if amount > 0:
        rows = await readers.call(seasons.top, sid, season, by, amount, offset)
        entries = [TopEntry(offset + 1 + i, score, p) for i, (_, score, p) in enumerate(rows)]
        return Response(_encode(entries), media_type="application/json")
    chunk = services(request).reads.chunk
    chunks = _chunks(request, sid, season, by, offset, chunk)
    return stream(request, chunks, media_type="application/json")


async def _chunks(
    request: Request, sid: int, season: Season, by: str, offset: int, chunk: int
) -> AsyncIterator[bytes]:
    """The whole archive from `offset`, chunk by chunk, each read after the last row
    of the one before: memory stays flat."""
    readers = services(request).readers
    yield b"["
    at, sep, after = offset, b"", None
    while True:
        rows: list[Any] = await readers.call_bulk(
            seasons.top, sid, season, by, chunk, offset if after is None else 0, after
        )
        if rows:
            entries = [TopEntry(at + 1 + i, score, p) for i, (_, score, p) in enumerate(rows)]
            yield sep + _encode(entries)[1:-1]
            sep, at = b",", at + len(rows)
            after = (rows[-1][0], rows[-1][2].id)
        if len(rows) < chunk:
            break
    yield b"]"


async def season_rank(
    request: Request,
    guild_id: int,
    user_id: int,
    by: str,
    number: int,
    window: tuple[str | None, float | None, float | None],
) -> Rank:
    _no_window(*window)
    sid, _ = await _season(request, guild_id, number)
    found = await services(request).readers.call(seasons.rank, sid, by, vp_id(guild_id, user_id))
    if found is None:
        raise ProfileNotFound(f"profile {guild_id}/{user_id} is not in season {number}")
    return Rank(*found)
