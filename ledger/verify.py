"""`voiceprofile ledger verify`: replay the log and check everything derived from it.

One pass over the ledger in id order (ledger/replay.py), then every account's
cached balance is compared with the replay and the sum of all balances must be 0;
reputation is replayed too (ledger/reputation.py), and the economy's item log,
inventories and claims (ledger/economy_verify.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from ledger import economy_verify, reputation, store
from ledger.replay import Entry, Replay

__all__ = ["Report", "verify"]


@dataclass
class Report:
    entries: int = 0
    accounts: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    conn: sqlite3.Connection, progress: Callable[[int], None] | None = None, max_problems: int = 100
) -> Report:
    """Check the database `conn` reads, in one snapshot (it opens the transaction)."""
    report = Report()
    problems = report.problems

    def problem(text: str) -> None:
        if len(problems) < max_problems:
            problems.append(text)

    conn.execute("BEGIN")  # one snapshot for the whole replay
    try:
        replay = Replay()
        economy = economy_verify.Entries()
        vps: dict[int, str] = {}
        cached: dict[int, int] = {}
        for aid, vp, bot, balance in store.accounts(conn):
            vps[aid] = vp
            cached[aid] = balance
            replay.account(vp, bot is not None)
        for row in store.entries(conn):
            eid, kind, ts, src, dst, amount, src_bal, dst_bal, bot, reason, reverts, digest = row
            entry = Entry(
                eid,
                kind,
                ts,
                vps.get(src, f"#{src}"),
                vps.get(dst, f"#{dst}"),
                amount,
                src_bal,
                dst_bal,
                vps.get(bot, f"#{bot}"),
                reverts,
                reason,
                bytes(digest),
            )
            for text in replay.entry(entry):
                problem(text)
            economy.see(eid, kind, src, dst, amount, reverts)
            if progress and replay.entries % 100_000 == 0:
                progress(replay.entries)
        report.entries = replay.entries
        for aid, balance in cached.items():
            report.accounts += 1
            expected = replay.balances[vps[aid]]
            if expected != balance:
                problem(f"account {vps[aid]}: cached balance {balance}, ledger gives {expected}")
        total = replay.total()
        if total != 0:
            problem(f"the balances sum to {total}, not 0")
        for text in reputation.verify(conn):
            problem(text)
        for text in economy_verify.verify(conn, economy, lambda a: vps.get(a, f"#{a}")):
            problem(text)
    finally:
        conn.execute("COMMIT")
    return report
