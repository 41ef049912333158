"""The economy as JSON Lines (`voiceprofile export` / `import`): one object a line.

A `header`, every `account` (treasuries and members with their profile columns),
every ledger `entry` (sides named by their public ids, as the hash chain is), then a
`row` for every row of every other table that is state, verbatim.
"""

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from schemas.base import SNOWFLAKE_PATTERN

__all__ = [
    "EXPORT_FORMAT",
    "INT_MAX",
    "INT_MIN",
    "VERSION",
    "AccountLine",
    "EntryLine",
    "Header",
    "Line",
    "RowLine",
]

EXPORT_FORMAT = "voiceprofile-export"
VERSION = 1

NULL = msgspec.Raw(b"null")
Hex64 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
SnowflakeText = Annotated[str, Meta(pattern=SNOWFLAKE_PATTERN)]
# SQLite's INTEGER is signed 64-bit: anything wider must fail on its line.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
Int = Annotated[int, Meta(ge=INT_MIN, le=INT_MAX)]
RowId = Annotated[int, Meta(ge=1, le=INT_MAX)]


class Header(msgspec.Struct, tag="header", forbid_unknown_fields=True):
    format: str
    version: int
    tables: list[str]


class AccountLine(msgspec.Struct, tag="account", forbid_unknown_fields=True, omit_defaults=True):
    """An account: a bot's treasury (bot_id) or a member (guild_id, user_id), with its
    profile columns as stored. `row` keeps the internal id other tables refer to."""

    row: RowId
    id: Hex64
    balance: Int
    bot_id: SnowflakeText | None = None
    guild_id: SnowflakeText | None = None
    user_id: SnowflakeText | None = None
    open: bool = False
    experience: Int = 0
    level: Int = 1
    pray_date: Int = 0
    pray_streak: Int = 0
    text_level: Int | None = None
    text_experience: Int | None = None
    text_messages: Int | None = None
    time_global: Int = 0
    # JSON columns as stored, byte for byte (msgspec.Raw; `null` for none).
    timespent: msgspec.Raw = msgspec.field(default_factory=lambda: NULL)
    data: msgspec.Raw = msgspec.field(default_factory=lambda: NULL)
    created_at: float | None = None
    updated_at: float | None = None
    extra: dict[str, Any] = {}
    """Columns other areas' migrations added to `accounts`, verbatim."""


class EntryLine(msgspec.Struct, tag="entry", forbid_unknown_fields=True, omit_defaults=True):
    """A ledger entry, sides named by their public ids (as the hash chain is)."""

    id: RowId
    kind: Annotated[int, Meta(ge=1, le=31)]
    ts: Int
    src: Hex64
    dst: Hex64
    amount: Annotated[int, Meta(ge=1, le=2**53 - 1)]
    src_balance: Int
    dst_balance: Int
    bot: Hex64
    hash: Hex64
    reason: str = ""
    reverts: RowId | None = None
    extra: dict[str, Any] = {}
    """Columns other areas' migrations added to `ledger`, verbatim."""


class RowLine(msgspec.Struct, tag="row", forbid_unknown_fields=True):
    """A row of any other table (settings, reputation, keys, callbacks...), verbatim;
    a BLOB value is written as {"hex": "..."}."""

    table: str
    values: dict[str, Any]


Line = Header | AccountLine | EntryLine | RowLine
