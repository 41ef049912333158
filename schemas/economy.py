"""Shop, inventory and reward bodies, SPEC §13."""

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from schemas.base import MAX_COUNTER, Request, Snowflake, check_snowflakes
from schemas.transactions import Transaction

__all__ = [
    "KEY_PATTERN",
    "MAX_COOLDOWN",
    "BuyIn",
    "ClaimIn",
    "ClaimState",
    "Claimed",
    "Gift",
    "GiveIn",
    "InventoryLine",
    "Item",
    "ItemIn",
    "Purchase",
    "QuantityIn",
    "Reward",
    "RewardIn",
    "Sale",
]

KEY_PATTERN = r"^[a-z0-9_-]{1,64}(?!\n)$"  # no trailing newline ("$" alone allows one)
"""An item or reward id: 1-64 of lowercase letters, digits, `_` and `-`."""
MAX_COOLDOWN = 3650 * 86400  # ten years

Amount = Annotated[int, Meta(ge=0, le=MAX_COUNTER)]
Quantity = Annotated[int, Meta(ge=1, le=MAX_COUNTER)]


class ItemIn(Request):
    """PUT /shop/{guild_id}/items/{item_id}: the whole item (fields left out take
    their defaults)."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    price: Amount
    sell_price: Amount | None = None
    """What `sell` pays back per item; null: the item cannot be sold."""
    stock: Amount | None = None
    """Items left to sell; null: unlimited."""
    per_user_limit: Annotated[int, Meta(ge=1, le=MAX_COUNTER)] | None = None
    """Most one member may buy in all; null: no limit."""
    data: dict[str, Any] | None = None
    """Anything the bot needs (e.g. the role it grants), at most 10 KB encoded."""
    enabled: bool = True
    """false takes the item off sale; what members hold stays usable."""


class Item(msgspec.Struct):
    guild_id: str
    bot_id: str
    item_id: str
    name: str
    price: int
    sell_price: int | None
    stock: int | None
    per_user_limit: int | None
    data: dict[str, Any] | None
    enabled: bool
    created_at: float
    updated_at: float


class BuyIn(Request):
    user_id: Snowflake
    quantity: Quantity = 1

    def __post_init__(self) -> None:
        check_snowflakes(self, "user_id")


class QuantityIn(Request):
    quantity: Quantity = 1


class GiveIn(Request):
    to_user_id: Snowflake
    quantity: Quantity = 1

    def __post_init__(self) -> None:
        check_snowflakes(self, "to_user_id")


class InventoryLine(msgspec.Struct):
    """What one member holds of one bot's item (`name` and `data` from the item)."""

    guild_id: str
    user_id: str
    bot_id: str
    item_id: str
    quantity: int
    name: str | None = None
    data: dict[str, Any] | None = None


class Purchase(msgspec.Struct):
    transaction: Transaction | None
    """The `purchase` entry; null for a free item."""
    item: InventoryLine
    stock: int | None
    """What is left to sell after this purchase (null: unlimited)."""


class Sale(msgspec.Struct):
    transaction: Transaction | None
    """The `refund` entry; null when the sell price is 0."""
    item: InventoryLine


class Gift(msgspec.Struct):
    from_: InventoryLine = msgspec.field(name="from")
    to: InventoryLine


class RewardIn(Request):
    """PUT /rewards/{guild_id}/{reward_id}: `cooldown` seconds or a calendar `period`."""

    amount: Annotated[int, Meta(ge=1, le=MAX_COUNTER)]
    cooldown: Annotated[int, Meta(ge=60, le=MAX_COOLDOWN)] | None = None
    period: Literal["day", "week"] | None = None
    streak_bonus: Amount = 0
    """Added per claim of the streak after the first."""
    streak_max: Annotated[int, Meta(ge=1, le=MAX_COUNTER)] | None = None
    """The streak length from which the bonus stops growing; null: it never stops."""

    def __post_init__(self) -> None:
        if (self.cooldown is None) == (self.period is None):
            raise ValueError("cooldown: give either `cooldown` (seconds) or `period`")


class Reward(msgspec.Struct):
    guild_id: str
    bot_id: str
    reward_id: str
    amount: int
    cooldown: int | None
    period: Literal["day", "week"] | None
    streak_bonus: int
    streak_max: int | None
    created_at: float
    updated_at: float


class ClaimIn(Request):
    user_id: Snowflake

    def __post_init__(self) -> None:
        check_snowflakes(self, "user_id")


class Claimed(msgspec.Struct):
    transaction: Transaction
    guild_id: str
    user_id: str
    reward_id: str
    amount: int
    streak: int
    next_claim_at: float


class ClaimState(msgspec.Struct):
    guild_id: str
    user_id: str
    reward_id: str
    claimable: bool
    next_claim_at: float | None
    """When the next claim is allowed (now or past when `claimable`); null: never claimed."""
    streak: int
    """The running streak (0 when there is none or it was broken)."""
    streak_until: float | None
    """The streak breaks unless the next claim comes before this time."""
    next_amount: int
    """What a claim pays now (or at `next_claim_at`)."""
    last_claim_at: float | None
