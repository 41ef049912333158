"""What indexes on `balance` would cost the transfer write path (why 0003 has none).

    python benchmarks/bench_tops_write_cost.py [--profiles 100000] [--transfers 40000]

Points tops would be index walks with `tops_points` and `tops_points_guild`
(below), but every posting would then move two more index entries per side.
This runs the same random user-to-user transfers through `ledger.postings.post`
in writer-sized transactions (256 per COMMIT) on copies of one generated
database, as migrated and with those two indexes added, and prints transfers
per second of each and their ratio. `synchronous` is NORMAL here so the figure is the CPU
and page work of the statements, not the fsync the real writer adds per batch
(which makes the relative cost smaller still). The machine may be shared:
read the ratio, not the absolute rates.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_reads import generate  # noqa: E402

from ledger import postings  # noqa: E402
from ledger.accounts import by_id  # noqa: E402
from storage.db import connect  # noqa: E402
from storage.writer import WriteContext  # noqa: E402

BALANCE_INDEXES = (
    "CREATE INDEX tops_points ON accounts (open, balance DESC, vp_id) WHERE open = 1",
    "CREATE INDEX tops_points_guild ON accounts (guild_id, open, balance DESC, vp_id)"
    " WHERE open = 1",
)


def run(path: Path, profiles: int, transfers: int, with_indexes: bool) -> float:
    conn = connect(path)
    conn.execute("PRAGMA synchronous = NORMAL")
    if with_indexes:
        for sql in BALANCE_INDEXES:
            conn.execute(sql)
    ctx = WriteContext(conn)
    rnd = random.Random(1)
    first = 4  # account ids 1-3 are the treasuries
    accounts = {}

    def account(aid: int):
        if aid not in accounts:
            accounts[aid] = by_id(conn, aid)
        return accounts[aid]

    bot = account(1)
    started = time.perf_counter()
    done = 0
    while done < transfers:
        conn.execute("BEGIN IMMEDIATE")
        for _ in range(256):
            src = account(rnd.randint(first, first + profiles - 1))
            dst = account(rnd.randint(first, first + profiles - 1))
            if src.id == dst.id:
                continue
            try:
                postings.post(ctx, postings.TRANSFER, src, dst, rnd.randint(1, 100), "", bot)
            except Exception:
                continue  # an empty balance: skipped like a refused transfer
            done += 1
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return done / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--transfers", type=int, default=40_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.db"
        generate(base, args.profiles, args.profiles * 5, max(2, args.profiles // 1000), 0.0)
        rates = {}
        # Interleaved twice: the machine may be shared and its speed drift.
        for attempt in (1, 2):
            for label, with_indexes in (
                ("as migrated (0003)", False),
                ("+ 2 balance indexes", True),
            ):
                copy = Path(tmp) / f"{with_indexes}{attempt}.db"
                shutil.copy(base, copy)
                rate = run(copy, args.profiles, args.transfers, with_indexes)
                rates.setdefault(label, []).append(rate)
                print(f"{label:<24} run {attempt}: {rate:9.0f} transfers/s", flush=True)
                copy.unlink()
        plain, indexed = (max(r) for r in rates.values())
        print(f"with the balance indexes / without (best runs): {indexed / plain:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
