"""API key bodies, SPEC §10."""

from typing import Annotated

import msgspec
from msgspec import Meta

from schemas.base import Request, Scope, Snowflake, check_snowflakes

__all__ = ["Key", "KeyCreate", "KeyWithSecret", "Scope"]


class KeyCreate(Request):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    bot_id: Snowflake
    scopes: list[Scope] | None = None
    """Defaults to every scope but `admin`."""

    def __post_init__(self) -> None:
        check_snowflakes(self, "bot_id")


class Key(msgspec.Struct):
    id: int
    name: str
    bot_id: str
    scopes: list[str]
    created_at: float
    revoked_at: float | None = None


class KeyWithSecret(Key, kw_only=True):
    key: str
    """The secret: shown this once, stored only as a hash."""
