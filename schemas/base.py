"""Shared building blocks for request and response Structs."""

from typing import Annotated, Any

import msgspec
from msgspec import Meta

__all__ = [
    "MAX_COUNTER",
    "Counter",
    "Delta",
    "Request",
    "Snowflake",
    "check_snowflakes",
    "snowflake_value",
]

MAX_COUNTER = 2**53 - 1
MAX_SNOWFLAKE = 2**64 - 1

Counter = Annotated[int, Meta(ge=0, le=MAX_COUNTER)]
Delta = Annotated[int, Meta(ge=-MAX_COUNTER, le=MAX_COUNTER)]

# A Discord id as a JSON string or integer. The 2**64 bound is checked by
# `check_snowflakes` in the Struct's __post_init__ (msgspec constraints stop at int64).
# `(?!\n)$`: Python's bare "$" also matches before a trailing newline; `\Z` would
# fix that but means nothing to the JavaScript regexes of OpenAPI tools.
Snowflake = Annotated[int, Meta(ge=0)] | Annotated[str, Meta(pattern=r"^[0-9]{1,20}(?!\n)$")]


class Request(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Base of every request body: unknown fields are an error, not silence."""


def snowflake_value(value: int | str) -> int:
    return value if isinstance(value, int) else int(value)


def check_snowflakes(obj: Any, *fields: str) -> None:
    for name in fields:
        value = getattr(obj, name)
        if int(value) > MAX_SNOWFLAKE:
            # "field: message" lets the error handler name the field (app/errors.py).
            raise ValueError(f"{name}: must be below 2^64")
