"""Append N ledger entries to a database quickly, so figures can be taken at 10M entries.

    python benchmarks/prefill.py --db /tmp/big.db --entries 10000000 [--users 10000]

Writes straight with SQL (no server), but keeps everything `ledger verify` checks: a
correct hash chain, the balances recorded on each entry and the accounts' cached
balances. Users are profiles in guild 1 (ids 1..users) funded by bot 1's treasury;
entries are a mix of treasury -> user and user -> user transfers. Appends after
whatever the ledger already holds. Not durable while it runs (`synchronous=OFF`):
it is a generator for benchmarks, never for real data.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.chain import GENESIS, entry_hash
from storage.engine.base import Conn
from storage.engine.migrations import apply_migrations
from storage.engine.sqlite import connect
from storage.ids import pad, treasury_id, vp_id

__all__ = ["BOT", "GUILD", "ensure_accounts", "prefill"]

BOT, GUILD = 1, 1
_BATCH = 100_000


def ensure_accounts(conn: Conn, users: int) -> tuple[int, list[int]]:
    """Bot 1's treasury and open profiles 1..users in guild 1; returns their row ids.
    Either engine (bench_ledger.py compares SQLite with PostgreSQL)."""
    now = time.time()
    conn.execute("BEGIN" if conn.dialect.name == "postgres" else "BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO accounts (vp_id, bot_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (treasury_id(BOT), pad(BOT)),
    )
    conn.executemany(
        "INSERT INTO accounts (vp_id, guild_id, user_id, open, created_at, updated_at)"
        " VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT DO NOTHING",
        ((vp_id(GUILD, u), pad(GUILD), pad(u), now, now) for u in range(1, users + 1)),
    )
    conn.execute("COMMIT")
    treasury = conn.execute(
        "SELECT id FROM accounts WHERE vp_id = ?", (treasury_id(BOT),)
    ).fetchone()[0]
    ids = [
        conn.execute("SELECT id FROM accounts WHERE vp_id = ?", (vp_id(GUILD, u),)).fetchone()[0]
        for u in range(1, users + 1)
    ]
    return treasury, ids


def prefill(path: str | Path, entries: int, users: int = 10_000, seed: int = 1) -> float:
    """Append `entries` entries; returns the seconds it took."""
    started = time.perf_counter()
    conn = connect(path)
    apply_migrations(conn)
    conn.execute("PRAGMA synchronous = OFF")
    treasury, user_ids = ensure_accounts(conn, users)
    vp = dict(conn.execute("SELECT id, vp_id FROM accounts"))
    balance = dict(conn.execute("SELECT id, balance FROM accounts"))
    head = conn.execute("SELECT id, ts, hash FROM ledger ORDER BY id DESC LIMIT 1").fetchone()
    last_id, last_ts, last_hash = head if head else (0, int(time.time() * 1000) - entries, GENESIS)
    rng = random.Random(seed)
    bot_vp = vp[treasury]
    done = 0
    while done < entries:
        rows = []
        for _ in range(min(_BATCH, entries - done)):
            last_id += 1
            last_ts += rng.choice((0, 1, 1, 2))
            dst = rng.choice(user_ids)
            src = rng.choice(user_ids)
            amount = rng.randint(1, 100)
            if src == dst or balance[src] < amount:
                src, amount = treasury, rng.randint(100, 1000)
            balance[src] -= amount
            balance[dst] += amount
            reason = "prefill" if last_id % 7 else "lunch money"
            last_hash = entry_hash(
                last_hash,
                last_id,
                1,
                last_ts,
                vp[src],
                vp[dst],
                amount,
                balance[src],
                balance[dst],
                bot_vp,
                None,
                reason,
            )
            rows.append(
                (
                    last_id,
                    1,
                    last_ts,
                    src,
                    dst,
                    amount,
                    balance[src],
                    balance[dst],
                    treasury,
                    reason,
                    None,
                    last_hash,
                )
            )
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO ledger (id, kind, ts, src, dst, amount, src_balance, dst_balance, bot,"
            " reason, reverts, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
        done += len(rows)
        print(f"  prefill: {done}/{entries} entries", file=sys.stderr, flush=True)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "UPDATE accounts SET balance = ? WHERE id = ?", [(b, a) for a, b in balance.items()]
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    seconds = prefill(args.db, args.entries, args.users, args.seed)
    print(f"prefilled {args.entries} entries in {seconds:.1f} s ({args.entries / seconds:,.0f}/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
