"""Shared building blocks for request and response Structs, and the product's
vocabulary every room uses: the snowflake rule, the counters' range, the 10 KB limit
on stored JSON, the scopes."""

import re
from typing import Annotated, Any, Literal, get_args

import msgspec
from msgspec import Meta

__all__ = [
    "DATA_LIMIT",
    "DEFAULT_SCOPES",
    "MAX_COUNTER",
    "MAX_SNOWFLAKE",
    "SCOPES",
    "SNOWFLAKE_PATTERN",
    "Counter",
    "Delta",
    "Request",
    "Scope",
    "Snowflake",
    "check_snowflakes",
    "is_snowflake",
    "snowflake_value",
]

MAX_COUNTER = 2**53 - 1
MAX_SNOWFLAKE = 2**64 - 1
DATA_LIMIT = 10 * 1024
"""Bytes of a stored JSON value (a profile's `data`, a setting), encoded (SPEC §4)."""

Scope = Literal[
    "profiles:read",
    "profiles:write",
    "ledger:read",
    "ledger:write",
    "reputation",
    "settings",
    "callbacks",
    "economy",
    "images",
    "admin",
]
SCOPES: tuple[str, ...] = get_args(Scope)
DEFAULT_SCOPES = tuple(s for s in SCOPES if s != "admin")
"""What a new key gets unless told otherwise: every scope but `admin`."""

Counter = Annotated[int, Meta(ge=0, le=MAX_COUNTER)]
Delta = Annotated[int, Meta(ge=-MAX_COUNTER, le=MAX_COUNTER)]


def _digits_at_most(limit: str) -> str:
    """A regex for the strings of exactly len(limit) digits whose value is <= limit:
    for each digit of `limit`, the same prefix then a smaller digit and any tail."""
    options = []
    for i, digit in enumerate(limit):
        if digit != "0":
            tail = len(limit) - i - 1
            smaller = "0" if digit == "1" else f"[0-{int(digit) - 1}]"
            rest = "" if not tail else "[0-9]" if tail == 1 else f"[0-9]{{{tail}}}"
            options.append(limit[:i] + smaller + rest)
    return "|".join([*options, limit])


# A snowflake in a path, query or string field: 1-20 ASCII digits, value below 2^64
# (SPEC §4), as one regex so the OpenAPI document states the whole rule.
# `(?!\n)$`: Python's bare "$" also matches before a trailing newline; `\Z` would
# fix that but means nothing to the JavaScript regexes of OpenAPI tools.
SNOWFLAKE_PATTERN = f"^(?:[0-9]{{1,19}}|{_digits_at_most(str(MAX_SNOWFLAKE))})(?!\\n)$"
_SNOWFLAKE = re.compile(SNOWFLAKE_PATTERN)


def is_snowflake(text: str) -> bool:
    """1-20 ASCII digits, value below 2^64 (str.isdigit would also take "１２")."""
    return _SNOWFLAKE.match(text) is not None


# A Discord id as a JSON string or integer. The integer's 2**64 bound is checked by
# `check_snowflakes` in the Struct's __post_init__ (msgspec constraints stop at int64);
# `extra_json_schema` only tells the OpenAPI document.
Snowflake = (
    Annotated[int, Meta(ge=0, extra_json_schema={"maximum": MAX_SNOWFLAKE})]
    | Annotated[str, Meta(pattern=SNOWFLAKE_PATTERN)]
)


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
