"""`ledger verify` for the economy: replay the item log and compare it with the
inventories, and tie item-log rows and claims to the ledger entries that paid.

- Each item-log row's `held` must be the running sum of its member's item, which
  never goes below 0; `inventory` (quantity and bought) must equal the replay.
- Each `purchase` entry has exactly one purchase row of the buyer; each `refund`
  one sale row of the seller; each revert of a purchase one revert row; and each
  `reward` entry exactly one claim of the receiver, for the same amount.

`problems` also says which row each problem is about, so an import can name the
line of its file (ledger/restore.py); `verify` gives the texts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from ledger import item_store, postings
from storage.engine.base import Conn
from storage.ids import unpad

__all__ = ["Entries", "Problem", "problems", "verify"]

_NEGATIVE = {
    item_store.USE,
    item_store.SELL,
    item_store.REVOKE,
    item_store.REVERT,
    item_store.CLOSE,
}
_POSITIVE = {item_store.PURCHASE, item_store.GRANT}


class Paid(NamedTuple):
    kind: int
    src: int
    dst: int
    amount: int


class Entries:
    """The ledger entries the economy accounts for, gathered during the one pass of
    `ledger verify` over the ledger: purchases, refunds, rewards, and the reverts
    of purchases (a revert comes after what it reverts)."""

    def __init__(self) -> None:
        self.paid: dict[int, Paid] = {}

    def see(
        self, eid: int, kind: int, src: int, dst: int, amount: int, reverts: int | None
    ) -> None:
        if kind in (postings.PURCHASE, postings.REFUND, postings.REWARD):
            self.paid[eid] = Paid(kind, src, dst, amount)
        elif kind == postings.REVERT and reverts is not None:
            reverted = self.paid.get(reverts)
            if reverted is not None and reverted.kind == postings.PURCHASE:
                self.paid[eid] = Paid(kind, src, dst, amount)


# The ledger kind each item-log kind's entry must have, and which side the member is.
_PAYS = {
    item_store.PURCHASE: (postings.PURCHASE, "src"),
    item_store.SELL: (postings.REFUND, "dst"),
    item_store.REVERT: (postings.REVERT, "dst"),
}


class Problem(NamedTuple):
    text: str
    table: str
    """The table of the row it is about: `item_log`, `inventory`, `reward_claims` or
    `ledger` (an entry nothing accounts for)."""
    key: object
    """That row's id; for `inventory`, (account, bot_id, item_id)."""


def verify(conn: Conn, entries: Entries, name: Callable[[int], str]) -> list[str]:
    return [p.text for p in problems(conn, entries, name)]


def problems(conn: Conn, entries: Entries, name: Callable[[int], str]) -> list[Problem]:
    found: list[Problem] = []
    used: Counter[int] = Counter()
    held: dict[tuple[int, str, str], tuple[int, int]] = {}
    for lid, kind, account, bot, item_id, quantity, after, entry in conn.execute(
        "SELECT id, kind, account, bot_id, item_id, quantity, held, entry FROM item_log ORDER BY id"
    ):
        key = (account, bot, item_id)
        quantity_before, bought = held.get(key, (0, 0))
        running = quantity_before + quantity
        if kind in (item_store.PURCHASE, item_store.REVERT):
            bought += quantity
        held[key] = (running, bought)
        what = f"item log row {lid} ({name(account)}, item {item_id!r} of bot {unpad(bot)})"
        texts: list[str] = []
        if running < 0:
            texts.append(f"{what}: the holding goes below 0 ({running})")
        if running != after:
            texts.append(f"{what}: records {after} held, the replay gives {running}")
        if (kind in _NEGATIVE and quantity > 0) or (kind in _POSITIVE and quantity < 0):
            texts.append(f"{what}: a change of {quantity} for its kind {kind}")
        if entry is not None:
            used[entry] += 1
            paid, side = entries.paid.get(entry), _PAYS.get(kind)
            if side is None or paid is None or paid.kind != side[0]:
                texts.append(f"{what}: entry {entry} is not the entry that paid for it")
            elif getattr(paid, side[1]) != account:
                texts.append(f"{what}: entry {entry} is another member's")
        found.extend(Problem(text, "item_log", lid) for text in texts)
    cached = {
        (account, bot, item_id): (quantity, bought)
        for account, bot, item_id, quantity, bought in conn.execute(
            "SELECT account, bot_id, item_id, quantity, bought FROM inventory"
        )
    }
    for key in sorted(set(cached) | set(held)):
        have, want = cached.get(key, (0, 0)), held.get(key, (0, 0))
        if have != want:
            account, bot, item_id = key
            text = (
                f"inventory of {name(account)}, item {item_id!r} of bot {unpad(bot)}: held/bought"
                f" {have[0]}/{have[1]}, the item log gives {want[0]}/{want[1]}"
            )
            found.append(Problem(text, "inventory", key))
    for cid, account, amount, entry in conn.execute(
        "SELECT id, account, amount, entry FROM reward_claims ORDER BY id"
    ):
        used[entry] += 1
        paid = entries.paid.get(entry)
        if paid is None or paid.kind != postings.REWARD or paid.dst != account:
            text = f"claim {cid} ({name(account)}): entry {entry} is not its reward"
            found.append(Problem(text, "reward_claims", cid))
        elif paid.amount != amount:
            text = f"claim {cid}: records {amount}, its entry {entry} paid {paid.amount}"
            found.append(Problem(text, "reward_claims", cid))
    for eid in entries.paid:
        if used[eid] != 1:
            text = f"entry {eid}: {used[eid]} item log rows or claims account for it (expected 1)"
            found.append(Problem(text, "ledger", eid))
    return found
