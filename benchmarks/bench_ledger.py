"""Durable transfers per second through the ledger in-process (no HTTP).

    python benchmarks/bench_ledger.py [--prefill N] [--scale 1.0]

Drives the real Writer + `ledger.transfers.apply` (one user -> user transfer per
command, each acknowledged only after its group commit returned) at 1, 64 and 1024
concurrent callers, and measures in the same run the raw SQLite ceiling: executemany
of the same kind of ledger rows in batches of 1000 per transaction, same schema,
indexes and page cache, WAL, synchronous=FULL. Prints transfers/s, the mean batch size and the
ratio to the ceiling (target: >= 0.5 at 1024 callers). `--prefill N` first appends N
entries (benchmarks/prefill.py) to both databases, to measure at 10M entries;
`--from-db PATH` starts both from a copy of a database prefill.py made earlier.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.prefill import BOT, GUILD, ensure_accounts, prefill
from ledger import apply, postings
from ledger.chain import GENESIS, entry_hash
from ledger.commands import PostTransfers, Transfer
from ledger.state import LedgerState
from storage.engine.migrations import apply_migrations
from storage.engine.sqlite import connect
from storage.engine.writer import CACHE_KIB, WriteContext, Writer
from storage.ids import vp_id

USERS = 1000
LEVELS = {1: 400, 64: 8000, 1024: 30000}  # callers -> transfers measured
RAW_ROWS = 30000


def _fund(ctx: WriteContext, users: list[str]) -> None:
    state = ctx.state(LedgerState)
    with state.attempt():
        treasury = state.treasury(str(BOT))
        for vp in users:
            account = state.account(vp)
            assert account is not None
            postings.post(state, postings.TRANSFER, treasury, account, 10**9, "funding", treasury)


async def _ledger(path: Path, scale: float) -> dict[int, tuple[float, float]]:
    users = [vp_id(GUILD, u) for u in range(1, USERS + 1)]
    writer = Writer(path)
    writer.start()
    await writer.run(_fund, users)
    rng = random.Random(7)
    results = {}
    for callers, total in LEVELS.items():
        total = max(callers, int(total * scale))
        commands = []
        for _ in range(total):
            src, dst = rng.sample(users, 2)
            commands.append(PostTransfers(str(BOT), (Transfer(src, dst, 1, "bench"),)))
        it = iter(commands)
        batches_before, tasks_before = writer.stats.batches, writer.stats.tasks

        async def caller(it=it) -> None:
            for command in it:
                posted = await writer.run(apply, command)
                assert posted.refusal is None
                posted.json()  # the response a caller sends (rendered on its side)

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(callers)))
        elapsed = time.perf_counter() - started
        batches = writer.stats.batches - batches_before
        results[callers] = (total / elapsed, (writer.stats.tasks - tasks_before) / batches)
    await writer.close()
    return results


def _raw(path: Path) -> float:
    """The ceiling: the same rows, executemany, 1000 per durable transaction."""
    conn = connect(path)
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # as the writer's connection
    apply_migrations(conn)
    treasury, ids = ensure_accounts(conn, USERS)
    vp = dict(conn.execute("SELECT id, vp_id FROM accounts"))
    head = conn.execute("SELECT id, ts, hash FROM ledger ORDER BY id DESC LIMIT 1").fetchone()
    last_id, ts, last_hash = head if head else (0, int(time.time() * 1000), GENESIS)
    rng = random.Random(8)
    rows = []
    for _ in range(RAW_ROWS):
        last_id += 1
        src, dst = rng.sample(ids, 2)
        last_hash = entry_hash(
            last_hash, last_id, 1, ts, vp[src], vp[dst], 1, 0, 0, vp[treasury], None, "bench"
        )
        rows.append((last_id, 1, ts, src, dst, 1, 0, 0, treasury, "bench", None, last_hash))
    sql = (
        "INSERT INTO ledger (id, kind, ts, src, dst, amount, src_balance, dst_balance, bot,"
        " reason, reverts, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    started = time.perf_counter()
    for i in range(0, len(rows), 1000):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows[i : i + 1000])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(rows) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefill", type=int, default=0, help="entries to append first")
    parser.add_argument(
        "--from-db", help="start both databases as copies of this one (made by prefill.py)"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the transfer counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vp-bench-") as tmp:
        ledger_db, raw_db = Path(tmp) / "ledger.db", Path(tmp) / "raw.db"
        for db in (ledger_db, raw_db):
            if args.from_db:
                shutil.copyfile(args.from_db, db)
            conn = connect(db)
            apply_migrations(conn)
            ensure_accounts(conn, USERS)
            conn.close()
            if args.prefill:
                print(f"prefilling {db.name} with {args.prefill} entries ...", flush=True)
                prefill(db, args.prefill, USERS)
        raw = _raw(raw_db)
        ledger = asyncio.run(_ledger(ledger_db, args.scale))
        raw_after = _raw(raw_db)  # again, so a busy neighbour shows as a spread
    ceiling = max(raw, raw_after)
    start = args.from_db or f"{args.prefill} prefilled entries"
    print(f"starting from: {start}  (machine shared with other processes)")
    print(
        f"raw SQLite ceiling (executemany, 1000/commit, FULL): {raw:,.0f} / {raw_after:,.0f} rows/s"
    )
    print(f"{'callers':>8} {'transfers/s':>12} {'mean batch':>11} {'x ceiling':>10}")
    for callers, (rate, batch) in ledger.items():
        print(f"{callers:>8} {rate:>12,.0f} {batch:>11.1f} {rate / ceiling:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
