"""Reputation bodies, SPEC §8: the reference ("shimakaze") field names, camelCase."""

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from schemas.base import MAX_COUNTER, Request, Snowflake, check_snowflakes

__all__ = [
    "DEFAULT_SETTINGS",
    "Adjusted",
    "Decrease",
    "Give",
    "Given",
    "Increase",
    "Leaderboard",
    "LeaderboardEntry",
    "RepSettings",
    "RepSettingsIn",
    "RepUser",
    "SettingsOut",
    "UserOut",
]

Limit = Annotated[int, Meta(ge=0, le=MAX_COUNTER)]
PerDay = Annotated[int, Meta(ge=1, le=MAX_COUNTER)]  # 0 would let nobody give
Cooldown = Annotated[int, Meta(ge=300, le=MAX_COUNTER // 1000)]
Amount = Annotated[int, Meta(ge=1, le=MAX_COUNTER)]


class Give(Request):
    source_user: Snowflake

    def __post_init__(self) -> None:
        check_snowflakes(self, "source_user")


class Increase(Request):
    increase: Amount


class Decrease(Request):
    decrease: Amount


class RepSettingsIn(Request, rename="camel"):
    """POST /reputation/settings: every field optional; as in the original, the
    fields not sent are set to their defaults (an empty body restores them all)."""

    reputation_per_day: PerDay | UnsetType = UNSET
    maximum_reputation: Limit | UnsetType = UNSET
    maximum_reputation_received_day: Limit | UnsetType = UNSET
    reputation_cooldown: Cooldown | UnsetType = UNSET
    account_id: str | UnsetType = UNSET
    """Ignored: lets a client post back the object GET returned."""


class RepSettings(msgspec.Struct, rename="camel", frozen=True):
    reputation_per_day: int
    maximum_reputation: int
    maximum_reputation_received_day: int
    reputation_cooldown: int
    account_id: str = ""


DEFAULT_SETTINGS = RepSettings(2, 0, 0, 86400)


class RepUser(msgspec.Struct, rename="camel"):
    """The reference's user object. `cooldown`: when this user GAVE reputation (still
    counting against reputationPerDay); `givenReputation`: when this user RECEIVED
    reputation in the last 24 h. Times are ISO-8601 UTC with milliseconds."""

    reputation: int
    cooldown: list[str]
    given_reputation: list[str]
    user_id: str
    bot_id: str
    account_id: str
    available_reputations: int
    next_available_reputations: list[int]
    """Milliseconds from `date` until each cooldown slot frees, oldest first."""


class UserOut(msgspec.Struct, rename="camel"):
    user: RepUser
    date: str
    time_remaining: int
    """Milliseconds from `date` until the user may give again (0: now), the
    original's field."""
    status: int = 200


class Adjusted(msgspec.Struct):
    """Reset, increase and decrease answer with the user and the status."""

    user: RepUser
    status: int = 200


class Given(msgspec.Struct, rename="camel"):
    status: int
    date: str
    code: int
    message: str
    source_user: RepUser
    target_user: RepUser


class SettingsOut(msgspec.Struct):
    settings: RepSettings
    status: int = 200


class LeaderboardEntry(msgspec.Struct, rename="camel"):
    rank: int
    user_id: str
    reputation: int


class Leaderboard(msgspec.Struct):
    leaderboard: list[LeaderboardEntry]
    users: list[RepUser]
    """The original's list: the full user objects of the page's first 50 entries."""
    total: int
    date: str
    status: int = 200
