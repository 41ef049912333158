"""What members do with the items they hold (SPEC §13): use, give, sell, and the
owning bot's grant and revoke.

Each change appends to the item log and sets the inventory row in the same
transaction (ledger/item_store.py); a sale also posts its `refund` entry. Only the
calling bot's items are addressed, so only its keys change them. As everywhere in
the ledger, every check comes before the first write.
"""

from __future__ import annotations

from ledger import item_store, postings
from ledger.accounts import Account
from ledger.commands import ChangeItems, GiveItems, SellItems
from ledger.economy_errors import InventoryLimit, NotEnoughItems, NotSellable
from ledger.shop import line, member, shop_item
from ledger.state import LedgerState
from schemas.base import MAX_COUNTER
from schemas.economy import Gift, InventoryLine, Sale
from schemas.transactions import Transaction
from storage.clock import millis
from storage.errors import InvalidValue
from storage.ids import pad

__all__ = ["change", "clear", "give", "sell"]

_KINDS = {"use": item_store.USE, "grant": item_store.GRANT, "revoke": item_store.REVOKE}


def _taken(item_id: str, held: int, quantity: int) -> int:
    if held < quantity:
        raise NotEnoughItems(item_id, held, quantity)
    return held - quantity


def _added(item_id: str, held: int, quantity: int) -> int:
    if held + quantity > MAX_COUNTER:
        raise InventoryLimit(item_id)
    return held + quantity


def change(state: LedgerState, cmd: ChangeItems) -> InventoryLine:
    """Use or revoke (take away) or grant (add); no money moves."""
    item = shop_item(state, cmd.guild_id, cmd.bot_id, cmd.item_id)
    holder = member(state, cmd.guild_id, cmd.user_id)
    held, bought = item_store.holding(state.conn, holder.id, cmd.bot_id, cmd.item_id)
    if cmd.action == "grant":
        after, delta = _added(cmd.item_id, held, cmd.quantity), cmd.quantity
    else:
        after, delta = _taken(cmd.item_id, held, cmd.quantity), -cmd.quantity
    _record(state, _KINDS[cmd.action], holder, cmd.bot_id, cmd.item_id, delta, after, bought)
    return line(holder, cmd.bot_id, cmd.item_id, item, after)


def give(state: LedgerState, cmd: GiveItems) -> Gift:
    """From one member to another of the same guild; the items stay the bot's."""
    if cmd.to_user_id == cmd.user_id:
        raise InvalidValue("to_user_id", "a member cannot give to themselves", code="same_account")
    item = shop_item(state, cmd.guild_id, cmd.bot_id, cmd.item_id)
    giver = member(state, cmd.guild_id, cmd.user_id)
    taker = member(state, cmd.guild_id, cmd.to_user_id)
    held, bought = item_store.holding(state.conn, giver.id, cmd.bot_id, cmd.item_id)
    left = _taken(cmd.item_id, held, cmd.quantity)
    to_held, to_bought = item_store.holding(state.conn, taker.id, cmd.bot_id, cmd.item_id)
    to_after = _added(cmd.item_id, to_held, cmd.quantity)
    # -- checked: write -------------------------------------------------------------------
    quantity, bot_id, item_id = cmd.quantity, cmd.bot_id, cmd.item_id
    give_kind = item_store.GIVE
    _record(state, give_kind, giver, bot_id, item_id, -quantity, left, bought, peer=taker)
    _record(state, give_kind, taker, bot_id, item_id, quantity, to_after, to_bought, peer=giver)
    return Gift(
        line(giver, bot_id, item_id, item, left), line(taker, bot_id, item_id, item, to_after)
    )


def sell(state: LedgerState, cmd: SellItems) -> Sale:
    """Back to the bot for `sell_price` each, paid from its treasury (`refund`)."""
    item = shop_item(state, cmd.guild_id, cmd.bot_id, cmd.item_id)
    seller = member(state, cmd.guild_id, cmd.user_id)
    if item.sell_price is None:
        raise NotSellable(cmd.item_id)
    held, bought = item_store.holding(state.conn, seller.id, cmd.bot_id, cmd.item_id)
    left = _taken(cmd.item_id, held, cmd.quantity)
    tx: Transaction | None = None
    pay = item.sell_price * cmd.quantity
    if pay:  # checked by the posting; a refusal undoes it
        bot = state.treasury(cmd.bot_id)
        reason = f"sale of {cmd.quantity} {cmd.item_id}"
        tx = postings.post(state, postings.REFUND, bot, seller, pay, reason, bot)
    entry = None if tx is None else tx.id
    _record(
        state, item_store.SELL, seller, cmd.bot_id, cmd.item_id, -cmd.quantity, left, bought, entry
    )
    return Sale(tx, line(seller, cmd.bot_id, cmd.item_id, item, left))


def clear(state: LedgerState, account: Account) -> None:
    """A deleted profile holds nothing (as its balance went back): one `close` row per
    item held. What it bought still counts against per-user limits."""
    for bot, item_id, held, bought in item_store.holdings(state.conn, account.id):
        item_store.record(
            state.conn,
            millis(state.ctx.clock),
            item_store.CLOSE,
            account.id,
            bot,
            item_id,
            -held,
            0,
            bought,
        )


def _record(
    state: LedgerState,
    kind: int,
    holder: Account,
    bot_id: str,
    item_id: str,
    delta: int,
    held: int,
    bought: int,
    entry: int | None = None,
    peer: Account | None = None,
) -> None:
    item_store.record(
        state.conn,
        millis(state.ctx.clock),
        kind,
        holder.id,
        pad(bot_id),
        item_id,
        delta,
        held,
        bought,
        entry,
        None if peer is None else peer.id,
    )
