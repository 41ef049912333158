"""The shop over HTTP, SPEC §13: a bot's items in a guild, and buying them."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery

from app.auth import caller
from app.bodies import documented, read_body
from app.routes.common import IdempotencyKey, snowflake
from app.services import services
from ledger import apply
from ledger.commands import BuyItem
from ledger.economy_errors import ItemHeld, ItemNotFound
from ledger.outcomes import Posted
from schemas.economy import KEY_PATTERN, BuyIn, Item, ItemIn, Purchase
from storage.errors import InvalidValue
from storage.queries import economy as queries
from storage.queries.economy import Key, PutItem

__all__ = ["ROUTES", "SCOPE", "economy_key", "respond"]

SCOPE = {"scope": "economy"}
_KEY = re.compile(KEY_PATTERN)
_encode = msgspec.json.encode


def economy_key(field: str, raw: str) -> str:
    """An item or reward id from a path: 1-64 of `[a-z0-9_-]`."""
    if not _KEY.match(raw):
        raise InvalidValue(field, f"{raw!r} must be 1-64 of a-z, 0-9, _ and -")
    return raw


def _key(request: Request, guild_id: str, item_id: str) -> Key:
    guild = snowflake("guild_id", guild_id)
    return Key(guild, caller(request).bot_id, economy_key("item_id", item_id))


def respond(posted: Posted, status: int = 201) -> Response[bytes]:
    if posted.refusal is not None:  # the kept first outcome of an Idempotency-Key
        raise posted.refusal
    headers = {"Idempotent-Replayed": "true"} if posted.replayed else None
    return Response(
        posted.json(), status_code=status, media_type="application/json", headers=headers
    )


_ITEM_DOC = (
    "Body: `name`, `price` (voicepoints, ≥ 0), optional `sell_price` (null: cannot be"
    " sold), `stock` (null: unlimited), `per_user_limit` (null: none), `data` (JSON"
    " object ≤ 10 KB), `enabled` (default true). Replaces the whole item."
)


@put(
    "/shop/{guild_id:str}/items/{item_id:str}",
    opt=SCOPE,
    status_code=200,
    summary="Create (201) or replace (200) one of the calling bot's items",
    description=_ITEM_DOC,
    operation_class=documented(ItemIn),
    responses={201: ResponseSpec(Item, description="Created")},
)
async def put_item(
    request: Request, guild_id: FromPath[str], item_id: FromPath[str]
) -> Response[Item]:
    key = _key(request, guild_id, item_id)
    body = await read_body(request, ItemIn)
    created, item = await services(request).writer.run(queries.put_item, PutItem(key, body))
    return Response(item, status_code=201 if created else 200)


@get(
    "/shop/{guild_id:str}/items",
    opt=SCOPE,
    summary="The calling bot's items in a guild (`all=true`: every bot's)",
)
async def list_items(
    request: Request, guild_id: FromPath[str], all: FromQuery[bool] = False
) -> list[Item]:
    guild = snowflake("guild_id", guild_id)
    bot = None if all else caller(request).bot_id
    return await services(request).readers.call(queries.list_items, guild, bot)  # type: ignore[no-any-return]


@get(
    "/shop/{guild_id:str}/items/{item_id:str}", opt=SCOPE, summary="One of the calling bot's items"
)
async def get_item(request: Request, guild_id: FromPath[str], item_id: FromPath[str]) -> Item:
    key = _key(request, guild_id, item_id)
    found = await services(request).readers.call(queries.get_item, key)
    if found is None:
        raise ItemNotFound(key.guild_id, key.id)
    return found  # type: ignore[no-any-return]


@delete(
    "/shop/{guild_id:str}/items/{item_id:str}",
    opt=SCOPE,
    status_code=204,
    summary="Delete an item nobody holds (409 item_held otherwise)",
)
async def delete_item(request: Request, guild_id: FromPath[str], item_id: FromPath[str]) -> None:
    key = _key(request, guild_id, item_id)
    outcome = await services(request).writer.run(queries.delete_item, key)
    if outcome == "missing":
        raise ItemNotFound(key.guild_id, key.id)
    if outcome == "held":
        raise ItemHeld(key.id)


@post(
    "/shop/{guild_id:str}/items/{item_id:str}/buy",
    opt=SCOPE,
    status_code=201,
    summary="Buy for a member: the purchase entry, the stock and the inventory in one step",
    description=(
        "Body: `user_id`, `quantity` (default 1). Debits `price × quantity` from the"
        " member to the bot's treasury. 409 `insufficient_funds`, `out_of_stock`,"
        " `limit_reached`, `item_disabled`; nothing changes on a refusal."
        " `Idempotency-Key` as for transfers."
    ),
    operation_class=documented(BuyIn),
)
async def buy(
    request: Request,
    guild_id: FromPath[str],
    item_id: FromPath[str],
    idempotency_key: IdempotencyKey = None,
) -> Response[Purchase]:
    key = _key(request, guild_id, item_id)
    body = await read_body(request, BuyIn)
    user_id = int(body.user_id)
    # What a key promises covers the path: the same body for another item is another
    # request; "5" and 5 are one user.
    request_id = ["buy", key.guild_id, key.id, user_id, body.quantity]
    digest = hashlib.sha256(_encode(request_id)).digest()
    command = BuyItem(
        bot_id=key.bot_id,
        guild_id=key.guild_id,
        item_id=key.id,
        user_id=user_id,
        quantity=body.quantity,
        idempotency_key=idempotency_key,
        body_hash=digest if idempotency_key else None,
    )
    return respond(await services(request).writer.run(apply, command))  # type: ignore[return-value]


ROUTES: list[Any] = [put_item, list_items, get_item, delete_item, buy]
