"""Voice profile bodies, SPEC §5."""

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from schemas.base import Counter, Delta, Request, Snowflake, check_snowflakes

__all__ = [
    "Pray",
    "Profile",
    "ProfileAdd",
    "ProfileAddItem",
    "ProfileCreate",
    "ProfileEdit",
    "ProfileEditItem",
    "Text",
]

TimeKey = Annotated[str, Meta(min_length=1, max_length=64)]
Data = dict[str, Any]


class Pray(msgspec.Struct):
    date: int = 0
    streak: int = 0


class Text(msgspec.Struct):
    level: int = 0
    experience: int = 0
    message_count: int = 0


class Profile(msgspec.Struct):
    id: str
    guild_id: str
    user_id: str
    experience: int
    voicepoints: int
    level: int
    pray: Pray
    text: Text | None
    timespent: dict[str, int]
    data: Data | None
    created_at: float
    updated_at: float


class PrayIn(Request):
    date: Counter | UnsetType = UNSET
    streak: Counter | UnsetType = UNSET


class TextIn(Request):
    level: Counter | UnsetType = UNSET
    experience: Counter | UnsetType = UNSET
    message_count: Counter | UnsetType = UNSET


class ProfileCreate(Request):
    """POST body: every field optional, defaults for the rest; `voicepoints` is the
    opening balance, recorded in the ledger."""

    experience: Counter = 0
    voicepoints: Counter = 0
    level: Counter = 1
    pray: PrayIn | UnsetType = UNSET
    text: TextIn | None = None
    timespent: dict[TimeKey, Counter] = {}
    data: Data | None = None


class ProfileEdit(Request, kw_only=True):
    """PATCH body: only the fields present change. `voicepoints` is refused with a
    pointer to POST /transaction (checked by the handler to give that message)."""

    experience: Counter | UnsetType = UNSET
    level: Counter | UnsetType = UNSET
    pray: PrayIn | UnsetType = UNSET
    text: TextIn | UnsetType | None = UNSET
    timespent: dict[TimeKey, Counter] | UnsetType = UNSET
    data: Data | UnsetType | None = UNSET
    voicepoints: Any = UNSET


class PrayAdd(Request):
    date: Delta | UnsetType = UNSET
    streak: Delta | UnsetType = UNSET


class TextAdd(Request):
    level: Delta | UnsetType = UNSET
    experience: Delta | UnsetType = UNSET
    message_count: Delta | UnsetType = UNSET


class ProfileAdd(Request, kw_only=True):
    """PATCH …/add body: numbers are added (negative allowed, results stay ≥ 0);
    `data` keys are shallow-merged."""

    experience: Delta | UnsetType = UNSET
    level: Delta | UnsetType = UNSET
    pray: PrayAdd | UnsetType = UNSET
    text: TextAdd | UnsetType = UNSET
    timespent: dict[TimeKey, Delta] | UnsetType = UNSET
    data: Data | UnsetType = UNSET
    voicepoints: Any = UNSET


class ProfileEditItem(ProfileEdit, kw_only=True):
    guild_id: Snowflake
    user_id: Snowflake

    def __post_init__(self) -> None:
        check_snowflakes(self, "guild_id", "user_id")


class ProfileAddItem(ProfileAdd, kw_only=True):
    guild_id: Snowflake
    user_id: Snowflake

    def __post_init__(self) -> None:
        check_snowflakes(self, "guild_id", "user_id")
