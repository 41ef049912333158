"""Durable transfers per second through the ledger in-process (no HTTP).

    python benchmarks/bench_ledger.py [--prefill N] [--scale 1.0] [--pg | --db-url URL]

Drives the real Writer + `ledger.transfers.apply` (one user -> user transfer per
command, each acknowledged only after its group commit returned) at 1, 64 and 1024
concurrent callers, and measures in the same run the raw SQLite ceiling: executemany
of the same kind of ledger rows in batches of 1000 per transaction, same schema,
indexes and page cache, WAL, synchronous=FULL. Prints transfers/s, the mean batch size and the
ratio to the ceiling (target: >= 0.5 at 1024 callers). `--prefill N` first appends N
entries (benchmarks/prefill.py) to both databases, to measure at 10M entries;
`--from-db PATH` starts both from a copy of a database prefill.py made earlier.

`--pg` (a throwaway durable PostgreSQL this run starts and stops) or `--db-url
postgresql://…` (benchmarks/pg_server.py) runs the same writer on PostgreSQL too,
each level right after SQLite's on the same commands, `--rounds` times (3), and
prints each engine's median round: PostgreSQL's transfers/s against the SQLite
ceiling (target: >= 0.6 at 1024 callers) and, as the median of each round's own
ratio, against SQLite's writer at the same level (target: >= 0.8 at 64 callers).
PostgreSQL starts from an empty ledger, so not with --prefill or --from-db.

`--keyed` gives every command its own Idempotency-Key (new in each round, so no
round replays another's), as a bot that retries safely sends them.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import pg_server
from benchmarks.prefill import BOT, GUILD, ensure_accounts, prefill
from ledger import apply, postings
from ledger.chain import GENESIS, entry_hash
from ledger.commands import PostTransfers, Transfer
from ledger.state import LedgerState
from storage.engine import open_engine
from storage.engine.base import Conn
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


async def _drive(
    writer: Writer, commands: list[PostTransfers], callers: int
) -> tuple[float, float]:
    """`commands` from `callers` concurrent callers: (transfers/s, mean batch)."""
    it = iter(commands)
    batches_before, tasks_before = writer.stats.batches, writer.stats.tasks

    async def caller() -> None:
        for command in it:
            posted = await writer.run(apply, command)
            assert posted.refusal is None
            posted.json()  # the response a caller sends (rendered on its side)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    elapsed = time.perf_counter() - started
    batches = writer.stats.batches - batches_before
    return len(commands) / elapsed, (writer.stats.tasks - tasks_before) / batches


Rounds = dict[int, list[tuple[float, float]]]  # callers -> (transfers/s, mean batch) each round


def _keyed(commands: list[PostTransfers], tag: str) -> list[PostTransfers]:
    """The same commands, each with a key of its own (`tag` keeps rounds apart)."""
    return [
        PostTransfers(
            c.bot_id,
            c.items,
            idempotency_key=f"{tag}-{n}",
            body_hash=hashlib.sha256(b"%d" % n).digest(),
        )
        for n, c in enumerate(commands)
    ]


async def _ledgers(
    dbs: dict[str, str | Path], scale: float, rounds: int, keyed: bool = False
) -> dict[str, Rounds]:
    """Each database's writer in turn at each level, `rounds` times, on the same
    commands: the engines compared run seconds apart, so a busy neighbour hits both
    alike (and a burst of it only one round)."""
    users = [vp_id(GUILD, u) for u in range(1, USERS + 1)]
    writers = {name: Writer(db) for name, db in dbs.items()}
    for writer in writers.values():
        writer.start()
        await writer.run(_fund, users)
    rng = random.Random(7)
    results: dict[str, Rounds] = {name: {} for name in dbs}
    for callers, total in LEVELS.items():
        total = max(callers, int(total * scale))
        commands = []
        for _ in range(total):
            src, dst = rng.sample(users, 2)
            commands.append(PostTransfers(str(BOT), (Transfer(src, dst, 1, "bench"),)))
        for round_ in range(rounds):
            run = _keyed(commands, f"{callers}.{round_}") if keyed else commands
            for name, writer in writers.items():
                found = await _drive(writer, run, callers)
                results[name].setdefault(callers, []).append(found)
    for writer in writers.values():
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


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _prepare(conn: Conn) -> None:
    apply_migrations(conn)
    ensure_accounts(conn, USERS)
    conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefill", type=int, default=0, help="entries to append first")
    parser.add_argument(
        "--from-db", help="start both databases as copies of this one (made by prefill.py)"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the transfer counts")
    parser.add_argument(
        "--rounds", type=int, help="turns at each level (default: 1, or 3 beside PostgreSQL)"
    )
    parser.add_argument(
        "--keyed", action="store_true", help="an Idempotency-Key of its own on every command"
    )
    pg_server.add_arguments(parser)
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.pg or args.db_url else 1)
    if (args.pg or args.db_url) and (args.prefill or args.from_db):
        parser.error("--prefill and --from-db fill SQLite files: PostgreSQL starts empty")
    with pg_server.from_args(args) as pg, tempfile.TemporaryDirectory(prefix="vp-bench-") as tmp:
        ledger_db, raw_db = Path(tmp) / "ledger.db", Path(tmp) / "raw.db"
        for db in (ledger_db, raw_db):
            if args.from_db:
                shutil.copyfile(args.from_db, db)
            _prepare(connect(db))
            if args.prefill:
                print(f"prefilling {db.name} with {args.prefill} entries ...", flush=True)
                prefill(db, args.prefill, USERS)
        dbs: dict[str, str | Path] = {"sqlite": ledger_db}
        if pg is not None:
            dbs["postgres"] = pg.database("ledger")
            _prepare(open_engine(dbs["postgres"]).connect())
        raw = _raw(raw_db)
        ledger = asyncio.run(_ledgers(dbs, args.scale, rounds, args.keyed))
        raw_after = _raw(raw_db)  # again, so a busy neighbour shows as a spread
        described = pg.settings() if pg is not None else ""
    ceiling = max(raw, raw_after)
    start = args.from_db or f"{args.prefill} prefilled entries"
    keys = "; every command with an Idempotency-Key of its own" if args.keyed else ""
    print(f"starting from: {start}{keys}  (machine shared with other processes)")
    print(
        f"raw SQLite ceiling (executemany, 1000/commit, FULL): {raw:,.0f} / {raw_after:,.0f} rows/s"
    )
    print(f"SQLite, the project's writer{' (median round)' if rounds > 1 else ''}:")
    print(f"{'callers':>8} {'transfers/s':>12} {'mean batch':>11} {'x ceiling':>10}")
    for callers, found in ledger["sqlite"].items():
        rate, batch = sorted(found)[len(found) // 2]
        print(f"{callers:>8} {rate:>12,.0f} {batch:>11.1f} {rate / ceiling:>10.2f}")
    if "postgres" in ledger:
        print(f"{described}, the same writer:")
        print(
            f"{'callers':>8} {'transfers/s':>12} {'mean batch':>11} {'x SQLite ceiling':>17}"
            f" {'x SQLite writer':>16}  (each round's)"
        )
        for callers, found in ledger["postgres"].items():
            rate, batch = sorted(found)[len(found) // 2]
            # Each round's own ratio (its two runs were seconds apart), then the median.
            sqlite = ledger["sqlite"][callers]
            paired = [pg[0] / lite[0] for pg, lite in zip(found, sqlite, strict=True)]
            print(
                f"{callers:>8} {rate:>12,.0f} {batch:>11.1f} {rate / ceiling:>17.2f}"
                f" {_median(paired):>16.2f}  ({', '.join(f'{r:.2f}' for r in paired)})"
            )
        print(
            "targets: PostgreSQL >= 0.6 x the SQLite ceiling (at 1024 callers),"
            " >= 0.8 x the SQLite writer at 64 callers"
        )
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
