"""Bulk lookup of profiles, SPEC §10: POST /profile/{guild_id}/lookup.

Registered before the profiles module; `lookup` is never a snowflake, so it cannot
be taken for a user id by POST /profile/{guild_id}/{user_id} either way.
"""

from __future__ import annotations

from litestar import Request, post
from litestar.params import FromPath

from app.bodies import documented, read_body
from app.routes.common import snowflake
from app.services import services
from schemas.lookup import Lookup
from schemas.profiles import Profile
from storage.queries import profile_lists

__all__ = ["ROUTES"]


@post(
    "/profile/{guild_id:str}/lookup",
    opt={"scope": "profiles:read"},
    status_code=200,
    summary="The profiles that exist among up to 1000 user ids, in the order asked",
    operation_class=documented(Lookup),
)
async def lookup(request: Request, guild_id: FromPath[str]) -> list[Profile]:
    gid = snowflake("guild_id", guild_id)
    data = await read_body(request, Lookup)
    wanted = list(dict.fromkeys(int(u) for u in data.user_ids))
    found = await services(request).readers.call(profile_lists.among, gid, wanted)
    by_user = {p.user_id: p for p in found}
    return [by_user[u] for u in map(str, wanted) if u in by_user]


ROUTES = [lookup]
