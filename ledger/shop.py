"""Buying from a bot's shop, and the revert of a purchase (SPEC §13).

A purchase is one ledger command: the `purchase` entry (member → the item's bot's
treasury), the stock and the member's inventory change together, inside the
writer's one serial transaction, so no two buys can both take the last item or
both spend one balance. Everything is checked (SQL reads of the item and the
holding, the funds on the ledger's state) before anything is written.
"""

from __future__ import annotations

from typing import NamedTuple

from ledger import idempotency, item_store, postings
from ledger.accounts import Account
from ledger.commands import BuyItem
from ledger.economy_errors import (
    InventoryLimit,
    ItemDisabled,
    ItemNotFound,
    LimitReached,
    OutOfStock,
)
from ledger.errors import NotRevertible
from ledger.item_store import ItemRow
from ledger.outcomes import Posted
from ledger.state import LedgerState
from schemas.base import MAX_COUNTER
from schemas.economy import InventoryLine, Purchase
from schemas.transactions import Transaction
from storage.clock import millis
from storage.errors import DomainError, ProfileNotFound
from storage.ids import pad, unpad, vp_id
from storage.queries import outbox
from storage.queries.profiles import decode_map

__all__ = ["Bought", "buy", "line", "member", "returned_items", "shop_item", "take_back"]


def shop_item(state: LedgerState, guild_id: int, bot_id: str, item_id: str) -> ItemRow:
    found = item_store.item(state.conn, guild_id, bot_id, item_id)
    if found is None:
        raise ItemNotFound(guild_id, item_id)
    return found


def member(state: LedgerState, guild_id: int, user_id: int) -> Account:
    """The member's account, which must hold an open profile (404 otherwise)."""
    account = state.account(vp_id(guild_id, user_id))
    if account is None or not state.is_open(account):
        raise ProfileNotFound(
            f"profile {guild_id}/{user_id} not found", guild_id=str(guild_id), user_id=str(user_id)
        )
    return account


def line(account: Account, bot_id: str, item_id: str, item: ItemRow, held: int) -> InventoryLine:
    return InventoryLine(
        account.guild_id or "",
        account.user_id or "",
        bot_id,
        item_id,
        held,
        item.name,
        decode_map(item.data) if item.data is not None else None,
    )


def buy(state: LedgerState, cmd: BuyItem) -> Posted:
    key = cmd.idempotency_key
    if key is None:
        return Posted(_buy(state, cmd))
    assert cmd.body_hash is not None
    stored = idempotency.first_outcome(state, state.treasury(cmd.bot_id), key, cmd.body_hash)
    if stored is not None:
        return stored
    # As for transfers: the first outcome is kept, refusal or not, so a retry never
    # buys a second time nor succeeds where the first attempt was refused.
    try:
        with state.attempt():
            outcome = Posted(_buy(state, cmd))
    except DomainError as exc:
        outcome = Posted(None, refusal=exc)
    idempotency.keep(state, cmd.bot_id, key, cmd.body_hash, outcome)
    return outcome


def _buy(state: LedgerState, cmd: BuyItem) -> Purchase:
    item = shop_item(state, cmd.guild_id, cmd.bot_id, cmd.item_id)
    buyer = member(state, cmd.guild_id, cmd.user_id)
    quantity = cmd.quantity
    if not item.enabled:
        raise ItemDisabled(cmd.item_id)
    if item.stock is not None and item.stock < quantity:
        raise OutOfStock(cmd.item_id, item.stock, quantity)
    held, bought = item_store.holding(state.conn, buyer.id, cmd.bot_id, cmd.item_id)
    if item.per_user_limit is not None and bought + quantity > item.per_user_limit:
        raise LimitReached(cmd.item_id, item.per_user_limit, bought, quantity)
    if held + quantity > MAX_COUNTER:
        raise InventoryLimit(cmd.item_id)
    tx: Transaction | None = None
    cost = item.price * quantity
    if cost:  # the funds are checked here; a refusal undoes the staged entry
        bot = state.treasury(cmd.bot_id)
        reason = f"purchase of {quantity} {cmd.item_id}"
        tx = postings.post(state, postings.PURCHASE, buyer, bot, cost, reason, bot)
    # -- everything checked: write ------------------------------------------------------
    if item.stock is not None:
        item_store.change_stock(state.conn, cmd.guild_id, cmd.bot_id, cmd.item_id, -quantity)
    item_store.record(
        state.conn,
        millis(state.ctx.clock),
        item_store.PURCHASE,
        buyer.id,
        pad(cmd.bot_id),
        cmd.item_id,
        quantity,
        held + quantity,
        bought + quantity,
        entry=None if tx is None else tx.id,
    )
    stock = None if item.stock is None else item.stock - quantity
    done = Purchase(tx, line(buyer, cmd.bot_id, cmd.item_id, item, held + quantity), stock)
    outbox.emit(state.ctx, cmd.bot_id, "purchase", done)
    return done


# -- revert of a purchase (ledger/transfers.py calls these) -----------------------------


class Bought(NamedTuple):
    """A purchase to take back, and what the buyer holds and bought of it now."""

    buyer: Account
    bot_id: str
    item_id: str
    quantity: int
    held: int
    bought: int


def returned_items(state: LedgerState, entry_id: int) -> Bought:
    """What reverting purchase `entry_id` takes back; refused if the member no longer
    holds that many (the items were used, given or sold)."""
    found = item_store.logged_purchase(state.conn, entry_id)
    if found is None:
        raise NotRevertible(f"purchase {entry_id} has no items in the item log")
    account_id, bot, item_id, quantity = found
    buyer = state.account_by_id(account_id)
    held, bought = item_store.holding(state.conn, account_id, bot, item_id)
    if held < quantity:
        raise NotRevertible(
            f"the {quantity} {item_id} bought were used, given or sold since: the member"
            f" holds {held}",
            held=held,
        )
    return Bought(buyer, unpad(bot), item_id, quantity, held, bought)


def take_back(state: LedgerState, items: Bought, revert: Transaction) -> None:
    buyer, bot_id, item_id, quantity, held, bought = items
    item_store.record(
        state.conn,
        millis(state.ctx.clock),
        item_store.REVERT,
        buyer.id,
        pad(bot_id),
        item_id,
        -quantity,
        held - quantity,
        bought - quantity,
        entry=revert.id,
    )
    assert buyer.guild_id is not None
    item_store.change_stock(state.conn, int(buyer.guild_id), bot_id, item_id, quantity)
