"""Ledger commands: one tagged union of plain data, handed to the writer and applied
by `ledger.apply` (the only code that changes voicepoints and reputation).

Every command is `gc=False`: plain frozen data that can never be part of a reference
cycle, so the garbage collector need not track the tens of thousands a busy writer
holds at once (its collections cost the in-process ledger a tenth of its throughput).
"""

from typing import Any, Literal

import msgspec

from schemas.profiles import ProfileCreate

__all__ = [
    "AdjustReputation",
    "BuyItem",
    "ChangeItems",
    "ClaimReward",
    "Command",
    "CreateProfile",
    "DeleteProfile",
    "EditProfiles",
    "EndSeason",
    "GiveItems",
    "GiveReputation",
    "ImportProfiles",
    "ImportRow",
    "PostTransfers",
    "ResetRepSettings",
    "ResetReputation",
    "RevertEntry",
    "SellItems",
    "Transfer",
    "UpdateRepSettings",
]


class Transfer(msgspec.Struct, frozen=True, gc=False, array_like=True):
    src: str  # vp_id
    dst: str  # vp_id
    amount: int
    reason: str = ""


class PostTransfers(msgspec.Struct, tag=True, frozen=True, gc=False):
    """One transfer (`single`) or an array applied atomically, in order."""

    bot_id: str
    items: tuple[Transfer, ...]
    single: bool = True
    idempotency_key: str | None = None
    body_hash: bytes | None = None


class RevertEntry(msgspec.Struct, tag=True, frozen=True, gc=False):
    bot_id: str
    entry_id: int


class CreateProfile(msgspec.Struct, tag=True, frozen=True, gc=False):
    """POST /profile/{g}/{u}: create, or reset to the body's values and defaults."""

    bot_id: str
    guild_id: int
    user_id: int
    body: ProfileCreate
    may_move_money: bool = True
    """The caller holds `ledger:write`: only then may a reset move voicepoints."""


class EditProfiles(msgspec.Struct, tag=True, frozen=True, gc=False):
    """PATCH (set) or PATCH …/add of one or many profiles, applied atomically."""

    items: tuple[tuple[int, int, Any], ...]  # (guild_id, user_id, ProfileEdit | ProfileAdd)
    add: bool
    single: bool


class DeleteProfile(msgspec.Struct, tag=True, frozen=True, gc=False):
    bot_id: str
    guild_id: int
    user_id: int
    may_move_money: bool = True


class EndSeason(msgspec.Struct, tag=True, frozen=True, gc=False):
    """Archive a guild's standings as its next season, then reset `reset` (SPEC §12)."""

    bot_id: str
    guild_id: int
    name: str
    reset: tuple[str, ...]
    may_move_money: bool = True


class ImportRow(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """One member's imported values; None: the source does not carry that field, so
    an existing profile keeps its value (a new one gets the default)."""

    user_id: int
    experience: int | None = None
    level: int | None = None
    voicepoints: int | None = None
    message_count: int | None = None
    text_level: int | None = None
    text_experience: int | None = None
    timespent: int | None = None
    pray_streak: int | None = None


class ImportProfiles(msgspec.Struct, tag=True, frozen=True, gc=False):
    """POST /profile/{g}/import: a guild's members set to imported values, balances by
    `import` entries against the bot's treasury; all of it or nothing."""

    bot_id: str
    guild_id: int
    source: str
    rows: tuple[ImportRow, ...]
    dry_run: bool = False
    may_move_money: bool = True


class GiveReputation(msgspec.Struct, tag=True, frozen=True, gc=False):
    bot_id: str
    target: str
    source: str


class AdjustReputation(msgspec.Struct, tag=True, frozen=True, gc=False):
    """Increase (amount > 0) or decrease (amount < 0) by an operator: no limits apply."""

    bot_id: str
    user: str
    amount: int


class ResetReputation(msgspec.Struct, tag=True, frozen=True, gc=False):
    bot_id: str
    user: str
    cooldown: bool = False


class UpdateRepSettings(msgspec.Struct, tag=True, frozen=True, gc=False):
    bot_id: str
    changes: dict[str, int]
    """Column name -> new value, only for the fields the request carried."""


class ResetRepSettings(msgspec.Struct, tag=True, frozen=True, gc=False):
    bot_id: str


# -- the economy (SPEC §13): items are the calling bot's, members are in `guild_id` --


class BuyItem(msgspec.Struct, tag=True, frozen=True, gc=False):
    bot_id: str
    guild_id: int
    item_id: str
    user_id: int
    quantity: int
    idempotency_key: str | None = None
    body_hash: bytes | None = None


class SellItems(msgspec.Struct, tag=True, frozen=True, gc=False):
    bot_id: str
    guild_id: int
    item_id: str
    user_id: int
    quantity: int


class GiveItems(msgspec.Struct, tag=True, frozen=True, gc=False):
    bot_id: str
    guild_id: int
    item_id: str
    user_id: int
    to_user_id: int
    quantity: int


class ChangeItems(msgspec.Struct, tag=True, frozen=True, gc=False):
    """`use` or `revoke` (take items away) or `grant` (give new ones); no money moves."""

    bot_id: str
    guild_id: int
    item_id: str
    user_id: int
    quantity: int
    action: Literal["use", "grant", "revoke"]


class ClaimReward(msgspec.Struct, tag=True, frozen=True, gc=False):
    bot_id: str
    guild_id: int
    reward_id: str
    user_id: int


Command = (
    PostTransfers
    | RevertEntry
    | CreateProfile
    | EditProfiles
    | DeleteProfile
    | EndSeason
    | ImportProfiles
    | GiveReputation
    | AdjustReputation
    | ResetReputation
    | UpdateRepSettings
    | ResetRepSettings
    | BuyItem
    | SellItems
    | GiveItems
    | ChangeItems
    | ClaimReward
)
