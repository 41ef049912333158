"""Members' inventories over HTTP, SPEC §13: what they hold, and use, give, sell,
grant, revoke (each a ledger command on the calling bot's item)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath

from app.auth import caller
from app.bodies import documented, read_body
from app.routes.common import snowflake
from app.routes.shop import SCOPE, economy_key
from app.services import services
from ledger import apply
from ledger.commands import ChangeItems, GiveItems, SellItems
from schemas.economy import Gift, GiveIn, InventoryLine, QuantityIn, Sale
from storage.errors import ProfileNotFound
from storage.queries import economy as queries

__all__ = ["ROUTES"]

_PATH = "/profile/{guild_id:str}/{user_id:str}/inventory/{item_id:str}"
_QUANTITY = documented(QuantityIn | None, required=False)


def _ids(request: Request, guild_id: str, user_id: str, item_id: str) -> tuple[str, int, int, str]:
    return (
        caller(request).bot_id,
        snowflake("guild_id", guild_id),
        snowflake("user_id", user_id),
        economy_key("item_id", item_id),
    )


def _quantity(body: QuantityIn | None) -> int:
    """An empty body means one."""
    return 1 if body is None else int(body.quantity)


@get(
    "/profile/{guild_id:str}/{user_id:str}/inventory",
    opt=SCOPE,
    summary="Every bot's items a member holds",
)
async def get_inventory(
    request: Request, guild_id: FromPath[str], user_id: FromPath[str]
) -> list[InventoryLine]:
    gid, uid = snowflake("guild_id", guild_id), snowflake("user_id", user_id)
    found = await services(request).readers.call(queries.inventory, gid, uid)
    if found is None:
        raise ProfileNotFound(f"profile {gid}/{uid} not found")
    return found  # type: ignore[no-any-return]


async def _change(
    request: Request, guild_id: str, user_id: str, item_id: str, action: Any
) -> InventoryLine:
    """use, grant, revoke: the ids checked before the optional `{"quantity"}` body."""
    bot, guild, user, item = _ids(request, guild_id, user_id, item_id)
    body = await read_body(request, QuantityIn | None, required=False)
    command = ChangeItems(bot, guild, item, user, _quantity(body), action)
    return await services(request).writer.run(apply, command)  # type: ignore[no-any-return]


@post(
    f"{_PATH}/use",
    opt=SCOPE,
    status_code=200,
    summary="Use (consume) items a member holds",
    description="Body (optional): `quantity` (default 1). 409 `not_enough_items`.",
    operation_class=_QUANTITY,
)
async def use(
    request: Request, guild_id: FromPath[str], user_id: FromPath[str], item_id: FromPath[str]
) -> InventoryLine:
    return await _change(request, guild_id, user_id, item_id, "use")


@post(
    f"{_PATH}/grant",
    opt=SCOPE,
    status_code=200,
    summary="Give a member items of the calling bot, for free (no money moves)",
    description="Body (optional): `quantity` (default 1).",
    operation_class=_QUANTITY,
)
async def grant(
    request: Request, guild_id: FromPath[str], user_id: FromPath[str], item_id: FromPath[str]
) -> InventoryLine:
    return await _change(request, guild_id, user_id, item_id, "grant")


@post(
    f"{_PATH}/revoke",
    opt=SCOPE,
    status_code=200,
    summary="Take items of the calling bot away from a member (no money moves)",
    description="Body (optional): `quantity` (default 1). 409 `not_enough_items`.",
    operation_class=_QUANTITY,
)
async def revoke(
    request: Request, guild_id: FromPath[str], user_id: FromPath[str], item_id: FromPath[str]
) -> InventoryLine:
    return await _change(request, guild_id, user_id, item_id, "revoke")


@post(
    f"{_PATH}/give",
    opt=SCOPE,
    status_code=200,
    summary="Move items from a member to another member of the guild",
    description="Body: `to_user_id`, `quantity` (default 1). 409 `not_enough_items`.",
    operation_class=documented(GiveIn),
)
async def give(
    request: Request, guild_id: FromPath[str], user_id: FromPath[str], item_id: FromPath[str]
) -> Gift:
    bot, guild, user, item = _ids(request, guild_id, user_id, item_id)
    body = await read_body(request, GiveIn)
    command = GiveItems(bot, guild, item, user, int(body.to_user_id), body.quantity)
    return await services(request).writer.run(apply, command)  # type: ignore[no-any-return]


@post(
    f"{_PATH}/sell",
    opt=SCOPE,
    status_code=200,
    summary="Sell items back to the bot for their sell_price (a refund entry)",
    description="Body (optional): `quantity` (default 1). 409 `not_sellable`, `not_enough_items`.",
    operation_class=_QUANTITY,
)
async def sell(
    request: Request, guild_id: FromPath[str], user_id: FromPath[str], item_id: FromPath[str]
) -> Sale:
    bot, guild, user, item = _ids(request, guild_id, user_id, item_id)
    body = await read_body(request, QuantityIn | None, required=False)
    command = SellItems(bot, guild, item, user, _quantity(body))
    return await services(request).writer.run(apply, command)  # type: ignore[no-any-return]


ROUTES: list[Any] = [get_inventory, use, grant, revoke, give, sell]
