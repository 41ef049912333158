"""Looking up accounts from inside the writer.

Account identity (row id, vp_id, owner) never changes once written, so it is
cached in the writer's context; whether a profile is open is read fresh.
"""

from __future__ import annotations

import functools
import sqlite3
from typing import NamedTuple

from storage.ids import pad, treasury_id, unpad
from storage.writer import WriteContext

__all__ = ["Account", "by_id", "by_vp", "ensure_treasury", "party", "treasury_vp"]


class Account(NamedTuple):
    id: int
    vp_id: str
    bot_id: str | None  # set for a treasury (public, unpadded form)
    guild_id: str | None
    user_id: str | None

    @property
    def is_treasury(self) -> bool:
        return self.bot_id is not None


_COLS = "id, vp_id, bot_id, guild_id, user_id"


def _account(row: tuple) -> Account:
    aid, vp, bot, guild, user = row
    return Account(aid, vp, bot and unpad(bot), guild and unpad(guild), user and unpad(user))


def _cache(ctx: WriteContext) -> dict[str, Account]:
    # not setdefault: that would build an empty dict on every lookup
    found = ctx.cache.get("accounts")
    if found is None:
        found = ctx.cache["accounts"] = {}
    return found  # type: ignore[no-any-return]


def by_vp(ctx: WriteContext, vp_id: str) -> Account | None:
    cache = _cache(ctx)
    found = cache.get(vp_id)
    if found is None:
        row = ctx.conn.execute(f"SELECT {_COLS} FROM accounts WHERE vp_id = ?", (vp_id,)).fetchone()
        if row is None:
            return None
        found = cache[vp_id] = _account(row)
    return found


def by_id(conn: sqlite3.Connection, account_id: int) -> Account:
    row = conn.execute(f"SELECT {_COLS} FROM accounts WHERE id = ?", (account_id,)).fetchone()
    return _account(row)


# sha256 per call adds up at tens of thousands of transfers per second
treasury_vp = functools.lru_cache(maxsize=4096)(treasury_id)


def ensure_treasury(ctx: WriteContext, bot_id: str) -> Account:
    vp = treasury_vp(bot_id)
    found = by_vp(ctx, vp)
    if found is None:
        ctx.conn.execute("INSERT INTO accounts (vp_id, bot_id) VALUES (?, ?)", (vp, pad(bot_id)))
        found = by_vp(ctx, vp)
        assert found is not None
    return found


def is_open(ctx: WriteContext, account: Account) -> bool:
    if account.is_treasury:
        return True
    row = ctx.conn.execute("SELECT open FROM accounts WHERE id = ?", (account.id,)).fetchone()
    return bool(row[0])


def party(account: Account) -> dict[str, str]:
    if account.is_treasury:
        return {"id": account.vp_id, "bot_id": account.bot_id or ""}
    return {
        "id": account.vp_id,
        "guild_id": account.guild_id or "",
        "user_id": account.user_id or "",
    }
