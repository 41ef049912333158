"""`voiceprofile ledger verify`: replay the log and check everything derived from it.

One pass over the ledger in id order (ledger/replay.py), then every account's
cached balance is compared with the replay and the sum of all balances must be 0;
reputation is replayed too (ledger/reputation.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ledger import reputation, store
from ledger.chain import GENESIS
from ledger.replay import Entry, Replay
from storage.engine.base import Conn

__all__ = ["Report", "verify"]


@dataclass
class Report:
    entries: int = 0
    accounts: int = 0
    problems: list[str] = field(default_factory=list)
    head: tuple[int, bytes] = (0, GENESIS)
    """The last entry replayed, (id, hash): an anchor to keep outside the file."""

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    conn: Conn,
    progress: Callable[[int], None] | None = None,
    max_problems: int = 100,
    anchors: Sequence[tuple[int, bytes]] = (),
) -> Report:
    """Check the database `conn` reads, in one snapshot (it opens the transaction).

    Each anchor (entry id, hash) kept from an earlier run must still hold: the chain
    shows an edit, but someone with the file can rewrite an entry and recompute
    every hash after it; a head kept elsewhere cannot be rewritten with the file."""
    report = Report()
    problems = report.problems

    def problem(text: str) -> None:
        if len(problems) < max_problems:
            problems.append(text)

    conn.execute("BEGIN")  # one snapshot for the whole replay
    try:
        replay = Replay()
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
            report.head = (eid, entry.hash)
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
        for entry_id, anchored in anchors:
            found = GENESIS if entry_id == 0 else store.entry_hash(conn, entry_id)
            if found is None:
                problem(
                    f"anchor: entry {entry_id} is gone (the ledger is shorter than when anchored)"
                )
            elif found != anchored:
                problem(
                    f"anchor: entry {entry_id} has hash {found.hex()}, the anchor says"
                    f" {anchored.hex()}: the ledger was rewritten up to there"
                )
    finally:
        conn.execute("COMMIT")
    return report
