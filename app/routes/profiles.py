"""Voice profiles, SPEC §5."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery
from msgspec import UNSET

from app.auth import caller, may_move_money
from app.bodies import documented, read_body
from app.routes.common import snowflake
from app.routes.profile_listing import View, listing
from app.services import services
from ledger import apply
from ledger.commands import CreateProfile, DeleteProfile, EditProfiles
from schemas.profiles import (
    Profile,
    ProfileAdd,
    ProfileAddItem,
    ProfileCreate,
    ProfileEdit,
    ProfileEditItem,
)
from storage.errors import InvalidValue, ProfileNotFound, in_bulk
from storage.ids import vp_id
from storage.queries import profile_lists, profiles

__all__ = ["ROUTES"]

READ = {"scope": "profiles:read"}
WRITE = {"scope": "profiles:write"}
# A create, reset or delete that moves a balance is a ledger write too: the key's
# `may_move_money` goes with the command and the ledger decides, since only it knows
# the balance.

# Bodies are decoded by the handlers (app/bodies.py): `documented(...)` gives OpenAPI
# their schemas, these texts what the fields mean.
_FIELDS = (
    "`experience`, `level` (integers), `pray` `{date, streak}`, `text` "
    "`{level, experience, message_count}` or null, `timespent` `{key: seconds}` "
    "(keys ≤ 64 chars), `data` (JSON object ≤ 10 KB encoded, or null)"
)
_CREATE_DOC = (
    f"JSON body, optional: any of {_FIELDS}, and `voicepoints` (opening balance, a ledger entry). "
    "Creating or resetting to a balance other than the current one (a reset without "
    "`voicepoints` returns the balance) also needs scope `ledger:write` (403 otherwise)."
)
_EDIT_DOC = (
    f"JSON body: any of {_FIELDS}. Nested objects merge per key; `data` is replaced. "
    "`voicepoints` → 422: use POST /transaction."
)
_ADD_DOC = (
    "JSON body: numbers to add (negative allowed, results stay within [0, 2^53-1]) to "
    "`experience`, `level`, `pray.*`, `text.*`, `timespent.*`; `data` keys are shallow-merged."
)
_BULK_DOC = "JSON array of items, each with `guild_id` and `user_id` plus the single-profile body: "


def _ids(guild_id: str, user_id: str) -> tuple[int, int]:
    return snowflake("guild_id", guild_id), snowflake("user_id", user_id)


def _no_voicepoints(change: ProfileEdit | ProfileAdd, index: int | None = None) -> None:
    if change.voicepoints is UNSET:
        return
    err = InvalidValue(
        "voicepoints" if index is None else f"[{index}].voicepoints",
        "voicepoints cannot be edited here: move them with POST /transaction",
        code="voicepoints_read_only",
    )
    raise err if index is None else in_bulk(err, index)


@get("/profile", opt=READ, summary="All profiles, by guild then user")
async def list_profiles(
    request: Request,
    limit: FromQuery[int] = 50,
    page: FromQuery[int] = 0,
    view: FromQuery[View] = "list",
) -> Any:
    return await listing(request, None, limit, page, view)


@get("/profile/guilds", opt=READ, summary="Guild ids with at least one profile")
async def list_guilds(request: Request) -> list[str]:
    return await services(request).readers.call(profile_lists.guilds)  # type: ignore[no-any-return]


@get("/profile/guilds/{user_id:str}", opt=READ, summary="Guild ids where the user has a profile")
async def user_guilds(request: Request, user_id: FromPath[str]) -> list[str]:
    uid = snowflake("user_id", user_id)
    return await services(request).readers.call(profile_lists.user_guilds, uid)  # type: ignore[no-any-return]


@get("/profile/{guild_id:str}", opt=READ, summary="Profiles of one guild")
async def list_guild(
    request: Request,
    guild_id: FromPath[str],
    limit: FromQuery[int] = 50,
    page: FromQuery[int] = 0,
    view: FromQuery[View] = "list",
) -> Any:
    return await listing(request, snowflake("guild_id", guild_id), limit, page, view)


@get("/profile/{guild_id:str}/{user_id:str}", opt=READ, summary="One profile")
async def get_profile(request: Request, guild_id: FromPath[str], user_id: FromPath[str]) -> Profile:
    gid, uid = _ids(guild_id, user_id)
    found = await services(request).readers.call(profiles.load, vp_id(gid, uid))
    if found is None:
        raise ProfileNotFound(f"profile {gid}/{uid} not found")
    return found  # type: ignore[no-any-return]


@post(
    "/profile/{guild_id:str}/{user_id:str}",
    opt=WRITE,
    status_code=201,
    summary="Create a profile, or reset an existing one (201 created, 200 reset)",
    description=_CREATE_DOC,
    responses={
        200: ResponseSpec(
            Profile, description="An existing profile was reset", generate_examples=False
        )
    },
    operation_class=documented(ProfileCreate | None, required=False),
)
async def create(
    request: Request,
    guild_id: FromPath[str],
    user_id: FromPath[str],
) -> Response[Profile]:
    gid, uid = _ids(guild_id, user_id)
    data = await read_body(request, ProfileCreate | None, required=False)
    key = caller(request)
    command = CreateProfile(
        key.bot_id, gid, uid, data or ProfileCreate(), may_move_money=may_move_money(key)
    )
    created, profile = await services(request).writer.run(apply, command)
    return Response(profile, status_code=201 if created else 200)


@patch(
    "/profile/{guild_id:str}/{user_id:str}",
    opt=WRITE,
    summary="Set the given fields",
    description=_EDIT_DOC,
    operation_class=documented(ProfileEdit, refused=("voicepoints",)),
)
async def edit(request: Request, guild_id: FromPath[str], user_id: FromPath[str]) -> Profile:
    gid, uid = _ids(guild_id, user_id)
    data = await read_body(request, ProfileEdit)
    _no_voicepoints(data)
    command = EditProfiles(((gid, uid, data),), add=False, single=True)
    return (await services(request).writer.run(apply, command))[0]  # type: ignore[no-any-return]


@patch(
    "/profile/{guild_id:str}/{user_id:str}/add",
    opt=WRITE,
    summary="Add the given numbers; creates the profile if missing",
    description=_ADD_DOC,
    operation_class=documented(ProfileAdd, refused=("voicepoints",)),
)
async def add(request: Request, guild_id: FromPath[str], user_id: FromPath[str]) -> Profile:
    gid, uid = _ids(guild_id, user_id)
    data = await read_body(request, ProfileAdd)
    _no_voicepoints(data)
    command = EditProfiles(((gid, uid, data),), add=True, single=True)
    return (await services(request).writer.run(apply, command))[0]  # type: ignore[no-any-return]


def _bulk_items(data: list[Any]) -> tuple[tuple[int, int, Any], ...]:
    items = []
    for index, item in enumerate(data):
        _no_voicepoints(item, index)
        items.append((int(item.guild_id), int(item.user_id), item))
    return tuple(items)


@patch(
    ["/profile", "/profile/"],
    opt=WRITE,
    summary="Bulk edit, atomic",
    description=_BULK_DOC + _EDIT_DOC,
    operation_class=documented(list[ProfileEditItem], refused=("voicepoints",)),
)
async def bulk_edit(request: Request) -> list[Profile]:
    data = await read_body(request, list[ProfileEditItem])
    command = EditProfiles(_bulk_items(data), add=False, single=False)
    return await services(request).writer.run(apply, command)  # type: ignore[no-any-return]


@patch(
    "/profile/add",
    opt=WRITE,
    summary="Bulk add, atomic; creates missing profiles",
    description=_BULK_DOC + _ADD_DOC,
    operation_class=documented(list[ProfileAddItem], refused=("voicepoints",)),
)
async def bulk_add(request: Request) -> list[Profile]:
    data = await read_body(request, list[ProfileAddItem])
    command = EditProfiles(_bulk_items(data), add=True, single=False)
    return await services(request).writer.run(apply, command)  # type: ignore[no-any-return]


@delete(
    "/profile/{guild_id:str}/{user_id:str}",
    opt=WRITE,
    status_code=204,
    summary="Delete a profile; its balance returns to the calling bot's treasury",
    description="A profile whose balance is not 0 also needs scope `ledger:write` (403 otherwise).",
)
async def remove(request: Request, guild_id: FromPath[str], user_id: FromPath[str]) -> None:
    gid, uid = _ids(guild_id, user_id)
    key = caller(request)
    command = DeleteProfile(key.bot_id, gid, uid, may_move_money=may_move_money(key))
    await services(request).writer.run(apply, command)


ROUTES = [
    list_profiles,
    list_guilds,
    user_guilds,
    list_guild,
    get_profile,
    create,
    edit,
    add,
    bulk_edit,
    bulk_add,
    remove,
]
