"""The economy's bucketed balance graph from memory: circulation's net change per
minute, caught up from new ledger entries on every read.

Circulation changes only with an entry that has a treasury on exactly one side
(storage/graph.py). SQL sums those entries over the graph's range on each
request: seconds over 10M entries. This board keeps, per minute that had such an
entry, the net change and how many there were (a few MB for years of minutes);
a bucketed graph then adds whole minutes in memory and asks SQL only for the
entries of the partial minutes at its edges. Its answers are those of
`graph._bucketed_totals`.
"""

from __future__ import annotations

import bisect
import time
from array import array

from storage.boards.base import Cached, Stale
from storage.engine.base import Conn
from storage.queries.windows import first_id_from, ledger_head

__all__ = ["FlowBoard", "board_flow"]

MINUTE = 60_000
_TREASURIES = "SELECT id FROM accounts WHERE bot_id IS NOT NULL"
_PER_MINUTE = (
    f"SELECT ts / {MINUTE} AS m, sum(CASE WHEN src IN ({_TREASURIES}) THEN amount"
    f" ELSE -amount END), count(*) FROM ledger WHERE id >= ? AND id < ?"
    f" AND (src IN ({_TREASURIES})) <> (dst IN ({_TREASURIES})) GROUP BY m ORDER BY m"
)


class FlowBoard(Cached):
    def __init__(self) -> None:
        super().__init__()
        self.hi = 1  # ledger ids below this are counted
        self.minutes = array("q")  # ascending: minutes with an entry that changed circulation
        self.net: list[int] = []  # circulation's change in that minute
        self.entries = array("q")  # how many such entries

    def _add(self, conn: Conn, lo: int, hi: int) -> None:
        for minute, net, count in conn.execute(_PER_MINUTE, (lo, hi)):
            if self.minutes and self.minutes[-1] == minute:
                self.net[-1] += net
                self.entries[-1] += count
            else:  # ledger times never decrease along ids: minutes come in order
                self.minutes.append(minute)
                self.net.append(net)
                self.entries.append(count)

    def size(self) -> int:
        return len(self.minutes)

    def build(self, conn: Conn, now: float) -> None:
        self.hi = ledger_head(conn)
        self._add(conn, 1, self.hi)

    def sync(self, conn: Conn, now: float) -> None:
        head = ledger_head(conn)
        if head > self.hi:
            self._add(conn, self.hi, head)
            self.hi = head

    def buckets(self, conn: Conn, lo: int, hi: int, start: int, size: int) -> list[tuple[int, int]]:
        """(bucket start ms, circulation after its last entry) for the ledger ids
        [lo, hi), from circulation `start` before lo; buckets without an entry that
        changed circulation are left out."""
        flows: list[tuple[int, int, int]] = []  # (minute, net, entries), in order
        if lo < hi:
            first_ts = conn.execute("SELECT ts FROM ledger WHERE id = ?", (lo,)).fetchone()[0]
            last_ts = conn.execute("SELECT ts FROM ledger WHERE id = ?", (hi - 1,)).fetchone()[0]
            first_whole = -(-first_ts // MINUTE)  # the first minute that starts in range
            last_whole = last_ts // MINUTE  # minutes before this one end in range
            if first_whole >= last_whole:  # no whole minute inside: SQL reads it all
                flows = conn.execute(_PER_MINUTE, (lo, hi)).fetchall()
            else:
                a = first_id_from(conn, first_whole * MINUTE, hi, lo)
                b = first_id_from(conn, last_whole * MINUTE, hi, a)
                flows = conn.execute(_PER_MINUTE, (lo, a)).fetchall()
                i = bisect.bisect_left(self.minutes, first_whole)
                j = bisect.bisect_left(self.minutes, last_whole)
                flows += zip(self.minutes[i:j], self.net[i:j], self.entries[i:j], strict=True)
                flows += conn.execute(_PER_MINUTE, (b, hi)).fetchall()
        per = size // MINUTE
        out: list[tuple[int, int]] = []
        total = start
        for minute, net, _ in flows:
            total += net
            bucket = minute // per * size
            if out and out[-1][0] == bucket:
                out[-1] = (bucket, total)
            else:
                out.append((bucket, total))
        return out


def board_flow(
    conn: Conn, board: FlowBoard, lo: int, hi: int, start: int, size: int
) -> list[tuple[int, int]]:
    with board.lock:
        board.synced(conn, time.time())
        try:
            return board.buckets(conn, lo, hi, start, size)
        except (KeyError, ValueError, IndexError, TypeError) as exc:
            board.broken = True
            raise Stale(f"flow board failed: {exc!r}", fault=True) from exc
