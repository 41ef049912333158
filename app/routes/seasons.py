"""Seasons of a guild, SPEC §12: end one (archive, then reset), list them."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from app.auth import caller
from app.bodies import documented, read_body
from app.routes.common import snowflake
from app.services import services
from ledger import apply
from ledger.commands import EndSeason
from schemas.seasons import Season, SeasonIn
from storage.queries import seasons

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
        may_move_money="ledger:write" in key.scopes,
    )
    created, season = await services(request).writer.run(apply, command)
    return Response(season, status_code=201 if created else 200)


@get("/profile/{guild_id:str}/seasons", opt=READ, summary="A guild's seasons, oldest first")
async def list_seasons(request: Request, guild_id: FromPath[str]) -> list[Season]:
    gid = snowflake("guild_id", guild_id)
    return await services(request).readers.call(seasons.seasons, gid)  # type: ignore[no-any-return]


ROUTES = [end_season, list_seasons]
