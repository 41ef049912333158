"""The calling key and key administration, SPEC §10."""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, post
from litestar.params import FromPath

from app.auth import caller
from app.bodies import documented, read_body
from app.services import services
from schemas.base import snowflake_value
from schemas.keys import Key, KeyCreate, KeyWithSecret
from storage.queries import keys
from storage.queries.keys import DEFAULT_SCOPES, KeyInfo

__all__ = ["ROUTES"]

ADMIN = {"scope": "admin"}


def _key(info: KeyInfo) -> Key:
    return Key(info.id, info.name, info.bot_id, list(info.scopes), info.created_at, info.revoked_at)


def _with_secret(info: KeyInfo, secret: str) -> KeyWithSecret:
    return KeyWithSecret(
        info.id,
        info.name,
        info.bot_id,
        list(info.scopes),
        info.created_at,
        info.revoked_at,
        key=secret,
    )


@get("/auth/me", summary="The calling key (never its secret)")
async def me(request: Request) -> Key:
    return _key(caller(request))


@post(
    "/auth/reset_token",
    status_code=200,
    summary="Rotate the calling key: a new secret, the old one stops at once",
)
async def reset_token(request: Request) -> KeyWithSecret:
    info = caller(request)
    svc = services(request)
    new, secret = await svc.writer.run(keys.rotate_task, info.id)
    svc.keys.forget(info.id)
    return _with_secret(new, secret)


@post(
    "/keys",
    opt=ADMIN,
    status_code=201,
    summary="Create a key (admin)",
    description="JSON body: `name` (1-100 chars), `bot_id` (snowflake), optional `scopes` "
    "(default: every scope but `admin`). The response carries the secret `key`, shown once.",
    operation_class=documented(KeyCreate),
)
async def create_key(request: Request) -> KeyWithSecret:
    data = await read_body(request, KeyCreate)
    scopes = tuple(data.scopes) if data.scopes is not None else DEFAULT_SCOPES
    new = keys.NewKey(data.name, str(snowflake_value(data.bot_id)), scopes)
    info, secret = await services(request).writer.run(keys.create_task, new)
    return _with_secret(info, secret)


@get("/keys", opt=ADMIN, summary="All keys (admin)")
async def list_keys(request: Request) -> list[Key]:
    return [_key(k) for k in await services(request).readers.call(keys.list_keys)]


@delete("/keys/{key_id:int}", opt=ADMIN, status_code=200, summary="Revoke a key (admin)")
async def revoke_key(request: Request, key_id: FromPath[int]) -> Key:
    svc = services(request)
    info = await svc.writer.run(keys.revoke_task, key_id)
    svc.keys.forget(key_id)
    return _key(info)


ROUTES: list[Any] = [me, reset_token, create_key, list_keys, revoke_key]
