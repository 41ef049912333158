"""The economy's reads (on reader connections) and its writes that move no money:
item and reward definitions, as writer tasks `fn(ctx, arg)` that check, then write.

Buying, using, giving, selling, granting, revoking and claiming are ledger commands
(ledger/shop.py, ledger/inventory.py, ledger/rewards.py). Plain SQL both engines take.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from schemas.economy import InventoryLine, Item, ItemIn, Reward, RewardIn
from storage.engine.base import Conn
from storage.engine.writer import WriteContext
from storage.ids import pad, unpad, vp_id
from storage.queries.profiles import decode_map, encoded_data

__all__ = [
    "Key",
    "PutItem",
    "PutReward",
    "claim_view",
    "delete_item",
    "delete_reward",
    "get_item",
    "get_reward",
    "inventory",
    "list_items",
    "list_rewards",
    "put_item",
    "put_reward",
]


class Key(msgspec.Struct, frozen=True):
    """An item or a reward: the guild, the owning bot, its id."""

    guild_id: int
    bot_id: str
    id: str

    def params(self) -> tuple[str, str, str]:
        return pad(self.guild_id), pad(self.bot_id), self.id


class PutItem(msgspec.Struct, frozen=True):
    key: Key
    body: ItemIn


class PutReward(msgspec.Struct, frozen=True):
    key: Key
    body: RewardIn


# -- items ---------------------------------------------------------------------------

_ITEM = (
    "SELECT guild_id, bot_id, item_id, name, price, sell_price, stock, per_user_limit, data,"
    " enabled, created_at, updated_at FROM shop_items"
)
_ITEM_KEY = "guild_id = ? AND bot_id = ? AND item_id = ?"


def _item(row: Any) -> Item:
    guild, bot, item_id, name, price, sell, stock, limit, data, enabled, created, updated = row
    return Item(
        unpad(guild),
        unpad(bot),
        item_id,
        name,
        price,
        sell,
        stock,
        limit,
        None if data is None else decode_map(data),
        bool(enabled),
        created,
        updated,
    )


def list_items(conn: Conn, guild_id: int, bot_id: str | None) -> list[Item]:
    """The bot's items in the guild (every bot's with None), by bot then item id."""
    if bot_id is None:
        rows = conn.execute(
            f"{_ITEM} WHERE guild_id = ? ORDER BY bot_id, item_id", (pad(guild_id),)
        )
    else:
        rows = conn.execute(
            f"{_ITEM} WHERE guild_id = ? AND bot_id = ? ORDER BY item_id",
            (pad(guild_id), pad(bot_id)),
        )
    return [_item(r) for r in rows]


def get_item(conn: Conn, key: Key) -> Item | None:
    row = conn.execute(f"{_ITEM} WHERE {_ITEM_KEY}", key.params()).fetchone()
    return None if row is None else _item(row)


def put_item(ctx: WriteContext, command: PutItem) -> tuple[bool, Item]:
    """Create or replace the whole item; (created, the item as stored)."""
    body, now = command.body, ctx.clock.now()
    data = encoded_data(body.data)  # 413/422 before anything is written
    existed = ctx.conn.execute(f"SELECT 1 FROM shop_items WHERE {_ITEM_KEY}", command.key.params())
    created = existed.fetchone() is None
    ctx.conn.execute(
        "INSERT INTO shop_items (guild_id, bot_id, item_id, name, price, sell_price, stock,"
        " per_user_limit, data, enabled, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (guild_id, bot_id, item_id) DO UPDATE SET name = excluded.name,"
        " price = excluded.price, sell_price = excluded.sell_price, stock = excluded.stock,"
        " per_user_limit = excluded.per_user_limit, data = excluded.data,"
        " enabled = excluded.enabled, updated_at = excluded.updated_at",
        (
            *command.key.params(),
            body.name,
            body.price,
            body.sell_price,
            body.stock,
            body.per_user_limit,
            data,
            int(body.enabled),
            now,
            now,
        ),
    )
    found = get_item(ctx.conn, command.key)
    assert found is not None
    return created, found


def delete_item(ctx: WriteContext, key: Key) -> Literal["deleted", "missing", "held"]:
    """Remove an item nobody holds (members' holdings need their definition)."""
    conn = ctx.conn
    if conn.execute(f"SELECT 1 FROM shop_items WHERE {_ITEM_KEY}", key.params()).fetchone() is None:
        return "missing"
    held = conn.execute(
        "SELECT 1 FROM inventory i JOIN accounts a ON a.id = i.account"
        " WHERE i.bot_id = ? AND i.item_id = ? AND i.quantity > 0 AND a.guild_id = ? LIMIT 1",
        (pad(key.bot_id), key.id, pad(key.guild_id)),
    ).fetchone()
    if held is not None:
        return "held"
    conn.execute(f"DELETE FROM shop_items WHERE {_ITEM_KEY}", key.params())
    return "deleted"


# -- inventories ---------------------------------------------------------------------


def inventory(conn: Conn, guild_id: int, user_id: int) -> list[InventoryLine] | None:
    """Every bot's items the member holds, by bot then item; None without a profile."""
    found = conn.execute(
        "SELECT id FROM accounts WHERE vp_id = ? AND open = 1", (vp_id(guild_id, user_id),)
    ).fetchone()
    if found is None:
        return None
    rows = conn.execute(
        "SELECT i.bot_id, i.item_id, i.quantity, s.name, s.data FROM inventory i"
        " LEFT JOIN shop_items s ON s.guild_id = ? AND s.bot_id = i.bot_id"
        " AND s.item_id = i.item_id WHERE i.account = ? AND i.quantity > 0"
        " ORDER BY i.bot_id, i.item_id",
        (pad(guild_id), found[0]),
    )
    guild, user = str(guild_id), str(user_id)
    return [
        InventoryLine(
            guild,
            user,
            unpad(bot),
            item_id,
            quantity,
            name,
            None if data is None else decode_map(data),
        )
        for bot, item_id, quantity, name, data in rows
    ]


# -- rewards -------------------------------------------------------------------------

_REWARD = (
    "SELECT guild_id, bot_id, reward_id, amount, cooldown, period, streak_bonus, streak_max,"
    " created_at, updated_at FROM rewards"
)
_REWARD_KEY = "guild_id = ? AND bot_id = ? AND reward_id = ?"


def _reward(row: Any) -> Reward:
    guild, bot, reward_id, *rest = row
    return Reward(unpad(guild), unpad(bot), reward_id, *rest)


def list_rewards(conn: Conn, guild_id: int, bot_id: str) -> list[Reward]:
    rows = conn.execute(
        f"{_REWARD} WHERE guild_id = ? AND bot_id = ? ORDER BY reward_id",
        (pad(guild_id), pad(bot_id)),
    )
    return [_reward(r) for r in rows]


def get_reward(conn: Conn, key: Key) -> Reward | None:
    row = conn.execute(f"{_REWARD} WHERE {_REWARD_KEY}", key.params()).fetchone()
    return None if row is None else _reward(row)


def put_reward(ctx: WriteContext, command: PutReward) -> tuple[bool, Reward]:
    body, now = command.body, ctx.clock.now()
    existed = ctx.conn.execute(f"SELECT 1 FROM rewards WHERE {_REWARD_KEY}", command.key.params())
    created = existed.fetchone() is None
    ctx.conn.execute(
        "INSERT INTO rewards (guild_id, bot_id, reward_id, amount, cooldown, period,"
        " streak_bonus, streak_max, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (guild_id, bot_id, reward_id) DO UPDATE SET amount = excluded.amount,"
        " cooldown = excluded.cooldown, period = excluded.period,"
        " streak_bonus = excluded.streak_bonus, streak_max = excluded.streak_max,"
        " updated_at = excluded.updated_at",
        (
            *command.key.params(),
            body.amount,
            body.cooldown,
            body.period,
            body.streak_bonus,
            body.streak_max,
            now,
            now,
        ),
    )
    found = get_reward(ctx.conn, command.key)
    assert found is not None
    return created, found


def delete_reward(ctx: WriteContext, key: Key) -> bool:
    """Remove a reward; its claims stay (a reward set again keeps members' cooldowns)."""
    return bool(ctx.conn.execute(f"DELETE FROM rewards WHERE {_REWARD_KEY}", key.params()).rowcount)


def claim_view(conn: Conn, key: Key, user_id: int) -> tuple[Reward, tuple[int, int] | None] | None:
    """The reward and the member's last claim (epoch ms, streak); None: no reward."""
    found = get_reward(conn, key)
    if found is None:
        return None
    account = conn.execute(
        "SELECT id FROM accounts WHERE vp_id = ?", (vp_id(key.guild_id, user_id),)
    ).fetchone()
    if account is None:
        return found, None
    last = conn.execute(
        "SELECT ts, streak FROM reward_claims WHERE account = ? AND bot_id = ? AND reward_id = ?"
        " ORDER BY id DESC LIMIT 1",
        (account[0], pad(key.bot_id), key.id),
    ).fetchone()
    return found, None if last is None else (int(last[0]), int(last[1]))
