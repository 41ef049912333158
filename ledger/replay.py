"""The one replay of the log: `ledger verify` and `import` both walk entries with it.

Entries come in id order, sides named by their public ids (as the hash chain is).
For each, the replay checks that ids have no gaps, time never goes backwards, the
sides are known and differ, a revert points to an earlier entry, the balances
recorded on the entry equal the replayed ones under the balance rules
(ledger/rules.py), and the hash chains to the previous entry's.
"""

from __future__ import annotations

from typing import NamedTuple

from ledger.chain import GENESIS, entry_hash
from ledger.rules import moved
from storage.errors import DomainError

__all__ = ["Entry", "Replay"]


class Entry(NamedTuple):
    id: int
    kind: int
    ts: int
    src: str  # vp_id
    dst: str
    amount: int
    src_balance: int
    dst_balance: int
    bot: str
    reverts: int | None
    reason: str
    hash: bytes


class Replay:
    def __init__(self) -> None:
        self.balances: dict[str, int] = {}
        self.treasuries: set[str] = set()
        self.entries = 0
        self._prev = (0, 0, GENESIS)  # id, ts, hash

    def account(self, vp_id: str, is_treasury: bool) -> None:
        self.balances.setdefault(vp_id, 0)
        if is_treasury:
            self.treasuries.add(vp_id)

    def entry(self, e: Entry) -> list[str]:
        """The entry's problems (none: it is sound); the replay moves on either way."""
        problems = []
        last_id, last_ts, last_hash = self._prev
        if e.id != last_id + 1:
            problems.append(f"entry {e.id}: ids jump from {last_id} (it should be {last_id + 1})")
        if e.ts < last_ts:
            problems.append(f"entry {e.id}: time goes backwards ({e.ts} < {last_ts})")
        self._prev = (e.id, e.ts, e.hash)
        self.entries += 1
        if e.reverts is not None and not 0 < e.reverts < e.id:
            problems.append(f"entry {e.id}: reverts {e.reverts}, which is not an earlier entry")
        balances = self.balances
        if e.src not in balances or e.dst not in balances or e.bot not in balances:
            return [*problems, f"entry {e.id}: refers to an unknown account"]
        if e.src == e.dst:
            return [*problems, f"entry {e.id}: from and to are the same account"]
        src, dst = balances[e.src], balances[e.dst]
        try:
            moved(src, dst, e.amount, e.src in self.treasuries)
        except DomainError as refusal:
            problems.append(f"entry {e.id}: {e.src} → {e.dst}: {refusal.message}")
        src, dst = src - e.amount, dst + e.amount
        balances[e.src], balances[e.dst] = src, dst
        if (src, dst) != (e.src_balance, e.dst_balance):
            problems.append(
                f"entry {e.id}: recorded balances {e.src_balance}/{e.dst_balance}, the"
                f" balances after should be {src}/{dst}"
            )
        expected = entry_hash(
            last_hash,
            e.id,
            e.kind,
            e.ts,
            e.src,
            e.dst,
            e.amount,
            e.src_balance,
            e.dst_balance,
            e.bot,
            e.reverts,
            e.reason,
        )
        if expected != e.hash:
            problems.append(
                f"entry {e.id}: hash does not chain (edited, inserted or removed entry)"
            )
        return problems

    def total(self) -> int:
        return sum(self.balances.values())
