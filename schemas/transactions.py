"""Transaction (ledger entry) bodies, SPEC §6."""

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from schemas.base import MAX_COUNTER, Request, Snowflake, check_snowflakes

__all__ = ["KINDS", "Balances", "Member", "Party", "Transaction", "TransferIn"]

Kind = Literal[
    "transfer", "reset", "close", "revert", "import", "purchase", "refund", "reward", "season"
]
# The ledger's `kind` column (migration 0008 leaves room up to 31).
KINDS: dict[int, Kind] = {
    1: "transfer",
    2: "reset",
    3: "close",
    4: "revert",
    5: "import",
    6: "purchase",
    7: "refund",
    8: "reward",
    9: "season",
}


class Member(Request):
    user_id: Snowflake
    guild_id: Snowflake

    def __post_init__(self) -> None:
        check_snowflakes(self, "user_id", "guild_id")


# "self" (the calling bot's treasury), a vp_id, or {"user_id", "guild_id"}.
Side = Annotated[str, Meta(pattern=r"^(self|[0-9a-f]{64})$")] | Member


class TransferIn(Request):
    from_: Side = msgspec.field(name="from")
    to: Side
    amount: Annotated[int, Meta(ge=1, le=MAX_COUNTER)]
    reason: Annotated[str, Meta(max_length=200)] = ""


class Party(msgspec.Struct, omit_defaults=True, gc=False):
    id: str
    guild_id: str | None = None
    user_id: str | None = None
    bot_id: str | None = None


class Balances(msgspec.Struct, gc=False):
    from_: int = msgspec.field(name="from")
    to: int


class Transaction(msgspec.Struct, omit_defaults=True, gc=False):
    """An entry as the API shows it. `gc=False` here and in Party and Balances: made
    for every transfer and kept until its commit is acknowledged, never in a cycle,
    so not worth the garbage collector's tracking."""

    id: int
    kind: Kind
    timestamp: float
    from_: Party = msgspec.field(name="from")
    to: Party
    amount: int
    reason: str
    bot_id: str
    balances: Balances
    reverts: int | None = None
