"""Stats and balance graphs, SPEC §7."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, Response, get
from litestar.params import FromQuery, QueryParameter

from app.charts import line_chart
from app.routes.common import from_board, snowflake
from app.services import services
from schemas.tops import GraphPoint, Series, Stats
from storage.boards.stats import board_stats
from storage.errors import InvalidValue
from storage.ids import vp_id
from storage.queries import graph
from storage.queries.stats import stats as compute_stats
from storage.queries.windows import Window, resolve

__all__ = ["ROUTES"]

Bucket = Literal["minute", "hour", "day"]


@get("/stats", opt={"scope": "profiles:read"}, summary="Counts and totals, global or per guild")
async def stats(request: Request, guild_id: FromQuery[str | None] = None) -> Stats:
    gid = None if guild_id is None else snowflake("guild_id", guild_id)
    svc = services(request)
    board = await svc.boards.stats()
    found = await from_board(request, board, board_stats, board, gid)
    if found is None:
        found = await svc.readers.call(compute_stats, gid)
    return Stats(**found)


@get(
    "/stats/balance_graph",
    opt={"scope": "ledger:read"},
    summary="Balance over time of a user, a guild, or the whole economy (JSON or SVG)",
)
async def balance_graph(
    request: Request,
    guild_id: FromQuery[str | None] = None,
    user_id: FromQuery[str | None] = None,
    from_: Annotated[float | None, QueryParameter(name="from")] = None,
    to: FromQuery[float | None] = None,
    bucket: FromQuery[Bucket | None] = None,
    format: FromQuery[Literal["json", "svg"]] = "json",
) -> Any:
    if user_id is not None and guild_id is None:
        raise InvalidValue("guild_id", "a user's graph needs the guild_id too")
    gid = None if guild_id is None else snowflake("guild_id", guild_id)
    uid = None if user_id is None else snowflake("user_id", user_id)
    window = resolve(None, from_, to, names=("from", "to")) or Window(None, None)
    vp = None if gid is None or uid is None else vp_id(gid, uid)
    svc = services(request)
    flow = await svc.boards.flow() if gid is None and bucket is not None else None
    points = await from_board(request, flow, graph.series, gid, vp, window, bucket, flow)
    if points is None:
        points = await svc.readers.call(graph.series, gid, vp, window, bucket)
    if format == "svg":
        if uid is not None:
            title = f"Balance of user {uid} in guild {gid}"
        elif gid is not None:
            title = f"Voicepoints held in guild {gid}"
        else:
            title = "Voicepoints in circulation"
        if bucket:
            title += f" (last value per {bucket})"
        return Response(line_chart(title, points), media_type="image/svg+xml")
    return Series([GraphPoint(ts, balance) for ts, balance in points])


ROUTES = [stats, balance_graph]
