"""Seasons of a guild, SPEC §12: end one (archive, then reset), list them."""

from __future__ import annotations

from litestar import Request, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery

from app.auth import caller, may_move_money
from app.bodies import documented, read_body
from app.routes.common import json_list, page_bounds, snowflake
from app.services import services
from ledger import apply
from ledger.commands import EndSeason
from ledger.errors import MissingScope
from ledger.season_schedule import boundaries, set_schedule
from schemas.seasons import COUNTERS, Schedule, ScheduleIn, Season, SeasonIn
from storage.engine.writer import WriteContext
from storage.errors import NotFound
from storage.queries import schedules, seasons

__all__ = ["ROUTES"]

READ = {"scope": "profiles:read"}
WRITE = {"scope": "profiles:write"}

_END_DOC = (
    "JSON body `{name, reset}`: `reset` names any of `experience`, `level`, `text`, "
    "`timespent`, `pray`, `voicepoints`. Archives every member's ranked counters as the "
    "guild's next numbered season (read with `top?season=N` and `rank?season=N`), then "
    "resets the named counters to a new profile's values, in one step. `voicepoints` "
    "goes back to the calling bot's treasury as ledger entries of kind `season` and "
    "needs scope `ledger:write` too. Names are unique per guild: the same name again "
    "answers the existing season (200) and changes nothing; with another `reset`, 409."
)


@post(
    "/profile/{guild_id:str}/seasons",
    opt=WRITE,
    status_code=201,
    summary="End a season: archive the standings, reset the named counters",
    description=_END_DOC,
    responses={
        200: ResponseSpec(
            Season, description="A season of that name existed", generate_examples=False
        )
    },
    operation_class=documented(SeasonIn),
)
async def end_season(request: Request, guild_id: FromPath[str]) -> Response[Season]:
    gid = snowflake("guild_id", guild_id)
    body = await read_body(request, SeasonIn)
    key = caller(request)
    command = EndSeason(
        key.bot_id,
        gid,
        body.name,
        tuple(body.reset),
        may_move_money=may_move_money(key),
    )
    created, season = await services(request).writer.run(apply, command)
    return Response(season, status_code=201 if created else 200)


@get(
    "/profile/{guild_id:str}/seasons",
    opt=READ,
    summary="A guild's seasons, oldest first",
    description="`limit` (default 50, `<= 0`: all), `page`; `X-Total-Count` counts them all.",
    responses={200: ResponseSpec(list[Season], generate_examples=False)},
)
async def list_seasons(
    request: Request, guild_id: FromPath[str], limit: FromQuery[int] = 50, page: FromQuery[int] = 0
) -> Response:
    gid = snowflake("guild_id", guild_id)
    bounds = page_bounds(limit, page) or (-1, 0)
    found, total = await services(request).readers.call(seasons.seasons, gid, *bounds)
    return json_list(found, total)


class ScheduleNotFound(NotFound):
    code = "schedule_not_found"


_SCHEDULE_DOC = (
    "JSON body `{every, reset}`: `every` is `week` (boundaries Monday 00:00 UTC) or "
    "`month` (the 1st, 00:00 UTC); `reset` as for ending a season by hand. The server "
    "ends a season by itself at each boundary, once, named `week 2026-W48` or "
    "`month 2026-11` after the period that ended, by the bot that set the schedule; "
    "a boundary passed while the server was down is ended when it starts. Replaces "
    "the guild's schedule; the first season ends at the next boundary."
)


@put(
    "/profile/{guild_id:str}/seasons/schedule",
    opt=WRITE,
    summary="End a season at every UTC week or month boundary",
    description=_SCHEDULE_DOC,
    operation_class=documented(ScheduleIn),
)
async def put_schedule(request: Request, guild_id: FromPath[str]) -> Schedule:
    gid = snowflake("guild_id", guild_id)
    body = await read_body(request, ScheduleIn)
    key = caller(request)
    if "voicepoints" in body.reset and not may_move_money(key):
        raise MissingScope("ledger:write")
    reset = [c for c in COUNTERS if c in body.reset]
    args = (gid, body.every, reset, key.bot_id)
    return await services(request).writer.run(set_schedule, args)  # type: ignore[no-any-return]


def _found(guild_id: int, row: object) -> None:
    if not row:
        raise ScheduleNotFound(f"guild {guild_id} has no season schedule")


@get(
    "/profile/{guild_id:str}/seasons/schedule",
    opt=READ,
    summary="The guild's season schedule (404 if none)",
)
async def get_schedule(request: Request, guild_id: FromPath[str]) -> Schedule:
    gid = snowflake("guild_id", guild_id)
    svc = services(request)
    row = await svc.readers.call(schedules.get, gid)
    _found(gid, row)
    assert row is not None
    every, reset, _bot, _done = row
    return Schedule(str(gid), every, reset, boundaries(every, svc.clock.now())[1])


def _delete(ctx: WriteContext, guild_id: int) -> bool:
    return schedules.delete(ctx.conn, guild_id)


@delete(
    "/profile/{guild_id:str}/seasons/schedule",
    opt=WRITE,
    status_code=204,
    summary="Stop ending seasons by schedule (404 if none); the seasons stay",
)
async def delete_schedule(request: Request, guild_id: FromPath[str]) -> None:
    gid = snowflake("guild_id", guild_id)
    _found(gid, await services(request).writer.run(_delete, gid))


ROUTES = [end_season, list_seasons, put_schedule, get_schedule, delete_schedule]
