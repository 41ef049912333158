"""Every SQL statement the ledger runs on the economy's tables: items as a purchase
reads and changes them, the item log and its projection (inventories), claims.

Read inside the writer's transaction on every use, never cached across batches:
several processes will share one database. Plain SQL both engines take.
"""

from __future__ import annotations

from typing import NamedTuple

from schemas.base import MAX_COUNTER
from storage.engine.base import Conn
from storage.ids import pad

__all__ = [
    "CLOSE",
    "GIVE",
    "GRANT",
    "PURCHASE",
    "REVERT",
    "REVOKE",
    "SELL",
    "USE",
    "ItemRow",
    "LastClaim",
    "RewardRow",
    "add_claim",
    "change_stock",
    "holding",
    "holdings",
    "item",
    "last_claim",
    "logged_purchase",
    "record",
    "reward",
]

# The item log's kinds (migration 0009).
PURCHASE, USE, GIVE, SELL, GRANT, REVOKE, REVERT, CLOSE = range(1, 9)


class ItemRow(NamedTuple):
    name: str
    price: int
    sell_price: int | None
    stock: int | None
    per_user_limit: int | None
    data: str | None
    enabled: bool


def item(conn: Conn, guild_id: int, bot_id: str, item_id: str) -> ItemRow | None:
    row = conn.execute(
        "SELECT name, price, sell_price, stock, per_user_limit, data, enabled FROM shop_items"
        " WHERE guild_id = ? AND bot_id = ? AND item_id = ?",
        (pad(guild_id), pad(bot_id), item_id),
    ).fetchone()
    if row is None:
        return None
    name, price, sell_price, stock, limit, data, enabled = row
    return ItemRow(name, price, sell_price, stock, limit, data, bool(enabled))


def change_stock(conn: Conn, guild_id: int, bot_id: str, item_id: str, delta: int) -> None:
    """Take from (delta < 0) or give back to a limited stock; unlimited stays so. A
    give-back stops at 2^53-1, the most a PUT can set (a revert after a restock to
    the top would otherwise leave a stock no client could send back)."""
    conn.execute(
        "UPDATE shop_items SET stock = CASE WHEN stock > ? - ? THEN ? ELSE stock + ? END"
        " WHERE guild_id = ? AND bot_id = ? AND item_id = ? AND stock IS NOT NULL",
        (MAX_COUNTER, delta, MAX_COUNTER, delta, pad(guild_id), pad(bot_id), item_id),
    )


def holding(conn: Conn, account: int, bot_id: str, item_id: str) -> tuple[int, int]:
    """(quantity held, quantity bought in all) of one member's item."""
    row = conn.execute(
        "SELECT quantity, bought FROM inventory WHERE account = ? AND bot_id = ? AND item_id = ?",
        (account, pad(bot_id), item_id),
    ).fetchone()
    return (0, 0) if row is None else (int(row[0]), int(row[1]))


def holdings(conn: Conn, account: int) -> list[tuple[str, str, int, int]]:
    """(padded bot id, item id, quantity, bought) of every item the member holds."""
    return [
        (r[0], r[1], int(r[2]), int(r[3]))
        for r in conn.execute(
            "SELECT bot_id, item_id, quantity, bought FROM inventory"
            " WHERE account = ? AND quantity > 0 ORDER BY bot_id, item_id",
            (account,),
        )
    ]


def record(
    conn: Conn,
    ts: int,
    kind: int,
    account: int,
    bot: str,
    item_id: str,
    delta: int,
    held: int,
    bought: int,
    entry: int | None = None,
    peer: int | None = None,
) -> None:
    """Append one change to the item log and set the projection to match.
    `bot` is the padded bot id; `held` and `bought` are the values after."""
    conn.execute(
        "INSERT INTO item_log (ts, kind, account, bot_id, item_id, quantity, held, entry, peer)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (ts, kind, account, bot, item_id, delta, held, entry, peer),
    )
    conn.execute(
        "INSERT INTO inventory (account, bot_id, item_id, quantity, bought) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (account, bot_id, item_id) DO UPDATE SET quantity = excluded.quantity,"
        " bought = excluded.bought",
        (account, bot, item_id, held, bought),
    )


def logged_purchase(conn: Conn, entry_id: int) -> tuple[int, str, str, int] | None:
    """(account, padded bot id, item id, quantity) the purchase entry bought."""
    row = conn.execute(
        "SELECT account, bot_id, item_id, quantity FROM item_log WHERE entry = ? AND kind = ?",
        (entry_id, PURCHASE),
    ).fetchone()
    return None if row is None else (int(row[0]), row[1], row[2], int(row[3]))


# -- rewards and claims ---------------------------------------------------------------


class RewardRow(NamedTuple):
    amount: int
    cooldown: int | None
    period: str | None
    streak_bonus: int
    streak_max: int | None


class LastClaim(NamedTuple):
    ts: int  # epoch ms
    streak: int


def reward(conn: Conn, guild_id: int, bot_id: str, reward_id: str) -> RewardRow | None:
    row = conn.execute(
        "SELECT amount, cooldown, period, streak_bonus, streak_max FROM rewards"
        " WHERE guild_id = ? AND bot_id = ? AND reward_id = ?",
        (pad(guild_id), pad(bot_id), reward_id),
    ).fetchone()
    return None if row is None else RewardRow(*row)


def last_claim(conn: Conn, account: int, bot_id: str, reward_id: str) -> LastClaim | None:
    row = conn.execute(
        "SELECT ts, streak FROM reward_claims WHERE account = ? AND bot_id = ? AND reward_id = ?"
        " ORDER BY id DESC LIMIT 1",
        (account, pad(bot_id), reward_id),
    ).fetchone()
    return None if row is None else LastClaim(int(row[0]), int(row[1]))


def add_claim(
    conn: Conn,
    ts: int,
    account: int,
    bot_id: str,
    reward_id: str,
    streak: int,
    amount: int,
    entry: int,
) -> None:
    conn.execute(
        "INSERT INTO reward_claims (ts, account, bot_id, reward_id, streak, amount, entry)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (ts, account, pad(bot_id), reward_id, streak, amount, entry),
    )
