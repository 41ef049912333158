"""Bulk lookup body, SPEC §10."""

from typing import Annotated

from msgspec import Meta

from schemas.base import MAX_SNOWFLAKE, Request, Snowflake

__all__ = ["LOOKUP_MAX", "Lookup"]

LOOKUP_MAX = 1000


class Lookup(Request):
    user_ids: Annotated[list[Snowflake], Meta(max_length=LOOKUP_MAX)]
    """Up to 1000 user ids, as strings or integers."""

    def __post_init__(self) -> None:
        for index, value in enumerate(self.user_ids):
            if int(value) > MAX_SNOWFLAKE:
                raise ValueError(f"user_ids[{index}] must be below 2^64")
