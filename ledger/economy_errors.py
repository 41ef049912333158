"""Why the economy refused a change (SPEC §13); app/errors.py renders them."""

from __future__ import annotations

import math

from storage.errors import Conflict, NotFound

__all__ = [
    "Cooldown",
    "InventoryLimit",
    "ItemDisabled",
    "ItemHeld",
    "ItemNotFound",
    "LimitReached",
    "NotEnoughItems",
    "NotSellable",
    "OutOfStock",
    "RewardNotFound",
]


class ItemNotFound(NotFound):
    code = "item_not_found"

    def __init__(self, guild_id: int, item_id: str) -> None:
        super().__init__(f"no item {item_id!r} of this bot in guild {guild_id}")


class RewardNotFound(NotFound):
    code = "reward_not_found"

    def __init__(self, guild_id: int, reward_id: str) -> None:
        super().__init__(f"no reward {reward_id!r} of this bot in guild {guild_id}")


class ItemDisabled(Conflict):
    code = "item_disabled"

    def __init__(self, item_id: str) -> None:
        super().__init__(f"item {item_id!r} is not on sale (enabled is false)")


class OutOfStock(Conflict):
    code = "out_of_stock"

    def __init__(self, item_id: str, stock: int, quantity: int) -> None:
        super().__init__(f"item {item_id!r}: {stock} left in stock, {quantity} asked", stock=stock)


class LimitReached(Conflict):
    code = "limit_reached"

    def __init__(self, item_id: str, limit: int, bought: int, quantity: int) -> None:
        super().__init__(
            f"item {item_id!r}: a member may buy {limit} in all; bought {bought},"
            f" {quantity} more asked",
            limit=limit,
            bought=bought,
        )


class NotEnoughItems(Conflict):
    code = "not_enough_items"

    def __init__(self, item_id: str, held: int, quantity: int) -> None:
        super().__init__(f"item {item_id!r}: holds {held}, needs {quantity}", held=held)


class InventoryLimit(Conflict):
    code = "inventory_limit"

    def __init__(self, item_id: str) -> None:
        super().__init__(f"item {item_id!r}: a holding stays within 2^53-1")


class NotSellable(Conflict):
    code = "not_sellable"

    def __init__(self, item_id: str) -> None:
        super().__init__(f"item {item_id!r} has no sell_price: it cannot be sold")


class ItemHeld(Conflict):
    code = "item_held"

    def __init__(self, item_id: str) -> None:
        super().__init__(
            f"item {item_id!r} is still held by members: revoke it first, or set"
            " enabled to false to take it off sale"
        )


class Cooldown(Conflict):
    """A claim before the next one is allowed: the body says when, and so does a
    Retry-After header (app/errors.py adds the headers an error carries)."""

    code = "cooldown"

    def __init__(self, reward_id: str, next_claim_at: float, now: float) -> None:
        super().__init__(
            f"reward {reward_id!r} can be claimed again at {next_claim_at:.3f}",
            next_claim_at=next_claim_at,
        )
        self.headers = {"Retry-After": str(max(1, math.ceil(next_claim_at - now)))}
