"""The settings store over HTTP, SPEC §9: the reference ("tama") API, per bot."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, post
from litestar.params import PathParameter

from app.auth import caller
from app.bodies import documented, read_body
from app.services import services
from schemas.base import DATA_LIMIT
from schemas.settings import (
    Setting,
    SettingDeleted,
    SettingOut,
    SubSetting,
    SubSettingDeleted,
    SubSettingList,
    SubSettingOut,
)
from storage.errors import NotFound, PayloadTooLarge
from storage.queries import settings as store
from storage.queries.settings import SettingKey, StoreSetting

__all__ = ["BODY_LIMIT", "ROUTES"]

SCOPE = {"scope": "settings"}
BODY_LIMIT = DATA_LIMIT
"""Largest setting body, in bytes (the reference: "smaller than 10 kilobytes")."""

# Path segments name documents; a bound keeps keys (and the index) small.
Segment = Annotated[str, PathParameter(min_length=1, max_length=128)]


async def _document(request: Request) -> str:
    """The body as compact JSON: any JSON value, at most BODY_LIMIT bytes as sent."""
    raw = await request.body()
    if len(raw) > BODY_LIMIT:
        raise PayloadTooLarge(f"a setting body may be at most {BODY_LIMIT} bytes, got {len(raw)}")
    return msgspec.json.encode(await read_body(request, Any)).decode()


def _setting(key: SettingKey, data: Any) -> Setting:
    return Setting(key.id, key.type, key.bot_id, data)


def _subsetting(key: SettingKey, data: Any) -> SubSetting:
    return SubSetting(key.id, key.type, key.bot_id, data, key.subid, key.subtype)


# -- settings ----------------------------------------------------------------------


@get("/settings/{type:str}/{id:str}", opt=SCOPE, summary="One setting")
async def get_setting(request: Request, type: Segment, id: Segment) -> SettingOut:
    key = SettingKey(caller(request).bot_id, type, id)
    return SettingOut(setting=_setting(key, await services(request).readers.call(store.get, key)))


@post(
    "/settings/{type:str}/{id:str}",
    opt=SCOPE,
    status_code=200,
    summary="Create or overwrite a setting (any JSON, at most 10 KB)",
    operation_class=documented(Any),
)
async def put_setting(request: Request, type: Segment, id: Segment) -> SettingOut:
    key = SettingKey(caller(request).bot_id, type, id)
    command = StoreSetting(key, await _document(request))
    return SettingOut(
        setting=_setting(key, await services(request).writer.run(store.store, command))
    )


@delete("/settings/{type:str}/{id:str}", opt=SCOPE, status_code=200, summary="Delete a setting")
async def delete_setting(request: Request, type: Segment, id: Segment) -> SettingDeleted:
    key = SettingKey(caller(request).bot_id, type, id)
    return SettingDeleted(
        setting=_setting(key, await services(request).writer.run(store.remove, key))
    )


# -- sub-settings ------------------------------------------------------------------


@get(
    "/settings/{type:str}/{id:str}/{subtype:str}",
    opt=SCOPE,
    summary="Every sub-setting of one sub-type (404 when there is none, as the original)",
)
async def list_subsettings(
    request: Request, type: Segment, id: Segment, subtype: Segment
) -> SubSettingList:
    bot_id = caller(request).bot_id
    found = await services(request).readers.call(store.list_subsettings, bot_id, type, id, subtype)
    if not found:
        raise NotFound("Not Found")  # the original's answer to an empty list
    return SubSettingList(
        subsettings=[_subsetting(SettingKey(bot_id, type, id, subtype, sid), d) for sid, d in found]
    )


@get(
    "/settings/{type:str}/{id:str}/{subtype:str}/{subid:str}",
    opt=SCOPE,
    summary="One sub-setting",
)
async def get_subsetting(
    request: Request, type: Segment, id: Segment, subtype: Segment, subid: Segment
) -> SubSettingOut:
    key = SettingKey(caller(request).bot_id, type, id, subtype, subid)
    return SubSettingOut(
        subsetting=_subsetting(key, await services(request).readers.call(store.get, key))
    )


@post(
    "/settings/{type:str}/{id:str}/{subtype:str}/{subid:str}",
    opt=SCOPE,
    status_code=200,
    summary="Create or overwrite a sub-setting (any JSON, at most 10 KB)",
    operation_class=documented(Any),
)
async def put_subsetting(
    request: Request, type: Segment, id: Segment, subtype: Segment, subid: Segment
) -> SubSettingOut:
    key = SettingKey(caller(request).bot_id, type, id, subtype, subid)
    command = StoreSetting(key, await _document(request))
    data = await services(request).writer.run(store.store, command)
    return SubSettingOut(subsetting=_subsetting(key, data))


@delete(
    "/settings/{type:str}/{id:str}/{subtype:str}/{subid:str}",
    opt=SCOPE,
    status_code=200,
    summary="Delete a sub-setting",
)
async def delete_subsetting(
    request: Request, type: Segment, id: Segment, subtype: Segment, subid: Segment
) -> SubSettingDeleted:
    key = SettingKey(caller(request).bot_id, type, id, subtype, subid)
    data = await services(request).writer.run(store.remove, key)
    return SubSettingDeleted(subsetting=_subsetting(key, data))


ROUTES: list[Any] = [
    get_setting,
    put_setting,
    delete_setting,
    list_subsettings,
    get_subsetting,
    put_subsetting,
    delete_subsetting,
]
