"""`voiceprofile ledger verify`: replay the log and check everything derived from it.

Checks, in one pass over the ledger in id order: ids have no gaps, times never go
backwards, every hash chains to the previous one, the balances recorded on each
entry equal the replayed ones, no user balance goes negative, each revert points to
an earlier entry. Then every account's cached balance is compared with the replay
and the sum of all balances must be 0.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ledger.chain import GENESIS, entry_hash

__all__ = ["Report", "verify"]


@dataclass
class Report:
    entries: int = 0
    accounts: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows(conn: sqlite3.Connection) -> Iterator[tuple]:
    return conn.execute(
        "SELECT id, kind, ts, src, dst, amount, src_balance, dst_balance, bot, reverts, reason,"
        " hash FROM ledger ORDER BY id"
    )


def verify(
    conn: sqlite3.Connection, progress: Callable[[int], None] | None = None, max_problems: int = 100
) -> Report:
    report = Report()
    problems = report.problems

    def problem(text: str) -> None:
        if len(problems) < max_problems:
            problems.append(text)

    accounts = {
        aid: (vp, bot is not None)
        for aid, vp, bot in conn.execute("SELECT id, vp_id, bot_id FROM accounts")
    }
    balances = dict.fromkeys(accounts, 0)
    prev_hash, prev_id, prev_ts = GENESIS, 0, 0
    conn.execute("BEGIN")  # one snapshot for the whole replay
    try:
        for (
            eid,
            kind,
            ts,
            src,
            dst,
            amount,
            src_bal,
            dst_bal,
            bot,
            reverts,
            reason,
            digest,
        ) in _rows(conn):
            if eid != prev_id + 1:
                problem(f"entry {eid}: ids jump from {prev_id}")
            if ts < prev_ts:
                problem(f"entry {eid}: time goes backwards ({ts} < {prev_ts})")
            if src not in accounts or dst not in accounts or bot not in accounts:
                problem(f"entry {eid}: refers to an unknown account")
                prev_hash, prev_id, prev_ts = digest, eid, ts
                continue
            balances[src] -= amount
            balances[dst] += amount
            if balances[src] != src_bal or balances[dst] != dst_bal:
                problem(
                    f"entry {eid}: recorded balances {src_bal}/{dst_bal}, replay gives"
                    f" {balances[src]}/{balances[dst]}"
                )
            if not accounts[src][1] and balances[src] < 0:
                problem(f"entry {eid}: user account {accounts[src][0]} goes negative")
            if reverts is not None and not 0 < reverts < eid:
                problem(f"entry {eid}: reverts {reverts}, which is not an earlier entry")
            expected = entry_hash(
                prev_hash,
                eid,
                kind,
                ts,
                accounts[src][0],
                accounts[dst][0],
                amount,
                src_bal,
                dst_bal,
                accounts[bot][0],
                reverts,
                reason,
            )
            if expected != digest:
                problem(f"entry {eid}: hash does not chain (edited, inserted or removed entry)")
            prev_hash, prev_id, prev_ts = digest, eid, ts
            report.entries += 1
            if progress and report.entries % 100_000 == 0:
                progress(report.entries)
        for aid, cached in conn.execute("SELECT id, balance FROM accounts"):
            report.accounts += 1
            if balances.get(aid, 0) != cached:
                problem(
                    f"account {accounts[aid][0]}: cached balance {cached},"
                    f" ledger gives {balances.get(aid, 0)}"
                )
        total = sum(balances.values())
        if total != 0:
            problem(f"the balances sum to {total}, not 0")
    finally:
        conn.execute("COMMIT")
    return report
