"""Accounts as the ledger sees them: a bot's treasury or a member's profile."""

from __future__ import annotations

import functools
from typing import NamedTuple

from schemas.transactions import Party
from storage.ids import treasury_id

__all__ = ["Account", "party", "treasury_vp"]


class Account(NamedTuple):
    id: int
    vp_id: str
    bot_id: str | None  # set for a treasury (public, unpadded form)
    guild_id: str | None
    user_id: str | None

    @property
    def is_treasury(self) -> bool:
        return self.bot_id is not None


# sha256 per call adds up at tens of thousands of transfers per second
treasury_vp = functools.lru_cache(maxsize=4096)(treasury_id)


@functools.lru_cache(maxsize=65536)
def party(account: Account) -> Party:
    """An account's public side of an entry; accounts never change identity, so the
    same (never mutated) Party serves every entry."""
    if account.is_treasury:
        return Party(id=account.vp_id, bot_id=account.bot_id or "")
    return Party(id=account.vp_id, guild_id=account.guild_id or "", user_id=account.user_id or "")
