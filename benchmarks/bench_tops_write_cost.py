"""What indexes for `points` tops would cost the transfer write path (why none exists).

    python benchmarks/bench_tops_write_cost.py [--profiles 100000] [--transfers 40000]

Three variants on copies of one generated database with profiles spread over
many guilds: as migrated (no index on the balance); with `tops_points` and
`tops_points_guild` on the balance (points tops would be index walks, but every
balance write moves two more index entries); with the same indexes on a coarse
tier of the balance that a trigger rewrites only when it changes (below). Each
runs the same random user-to-user transfers through `ledger.postings.post`
staged as the writer stages them (ledger/state.py: balances written once per
touched account at the end of each batch of `--batch` transfers, then COMMIT),
and prints transfers per second and the ratios to the first variant. Unlike
bench_ledger.py (1000 users) the indexes here are as deep as at `--profiles`.
`synchronous` is NORMAL by default so the figure is the CPU and page work of the
statements, not the fsync the real writer adds per batch (`--synchronous FULL`
adds it). The machine may be shared: read the ratios, not the absolute rates.
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

from benchmarks.reads_db import generate  # noqa: E402
from ledger import postings  # noqa: E402
from ledger.state import LedgerState  # noqa: E402
from storage.engine.sqlite import connect  # noqa: E402
from storage.engine.writer import CACHE_KIB, WriteContext  # noqa: E402

BALANCE_INDEXES = (
    "CREATE INDEX tops_points ON accounts (open, balance DESC, vp_id) WHERE open = 1",
    "CREATE INDEX tops_points_guild ON accounts (guild_id, open, balance DESC, vp_id)"
    " WHERE open = 1",
)
# A coarse, monotonic tier of the balance (-1 below 0, else 10 x digits + leading
# digit), kept by triggers that write only when it changes, and indexed instead of
# the balance: a top would sort only within the tiers a page reaches, a rank count
# its own tier row by row. Cheap only when transfers rarely cross tiers.
_TIER = "CASE WHEN {b} < 0 THEN -1 ELSE length({b}) * 10 + CAST(substr({b}, 1, 1) AS INTEGER) END"
TIER_INDEXES = (
    "ALTER TABLE accounts ADD COLUMN points_tier INTEGER NOT NULL DEFAULT 10",
    f"UPDATE accounts SET points_tier = {_TIER.format(b='balance')}",
    "CREATE TRIGGER points_tier_on_update AFTER UPDATE OF balance ON accounts"
    f" WHEN new.points_tier IS NOT {_TIER.format(b='new.balance')} BEGIN"
    f" UPDATE accounts SET points_tier = {_TIER.format(b='new.balance')} WHERE id = new.id;"
    " END",
    "CREATE INDEX tops_points ON accounts (open, points_tier DESC, vp_id) WHERE open = 1",
    "CREATE INDEX tops_points_guild ON accounts (guild_id, open, points_tier DESC, vp_id)"
    " WHERE open = 1",
)
VARIANTS = {  # label -> statements run on a copy of the migrated database first
    "as migrated (no index)": (),
    "+ 2 balance indexes": BALANCE_INDEXES,
    "+ tier column/indexes": TIER_INDEXES,
}


def run(path: Path, args: argparse.Namespace, variant: tuple[str, ...] = ()) -> float:
    profiles, transfers, batch = args.profiles, args.transfers, args.batch
    conn = connect(path)
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # as the writer's connection
    conn.execute(f"PRAGMA synchronous = {args.synchronous}")
    for sql in variant:
        conn.execute(sql)
    ctx = WriteContext(conn)
    rnd = random.Random(1)
    first = 4  # account ids 1-3 are the treasuries
    state = ctx.state(LedgerState)
    account = state.account_by_id
    bot = account(1)
    started = time.perf_counter()
    done = 0
    while done < transfers:
        conn.execute("BEGIN IMMEDIATE")
        for _ in range(batch):
            src = account(rnd.randint(first, first + profiles - 1))
            dst = account(rnd.randint(first, first + profiles - 1))
            if src.id == dst.id:
                continue
            try:  # as the writer runs a ledger command
                with state.attempt():
                    postings.post(state, postings.TRANSFER, src, dst, rnd.randint(1, 100), "", bot)
            except Exception:
                continue  # an empty balance: skipped like a refused transfer
            done += 1
        ctx.flush()  # the batch's ledger rows and touched balances, as before COMMIT
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return done / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--transfers", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=256, help="transfers per COMMIT")
    parser.add_argument(
        "--synchronous", choices=("NORMAL", "FULL"), default="NORMAL", help="FULL: as the writer"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.db"
        generate(base, args.profiles, args.profiles * 5, max(2, args.profiles // 1000), 0.0)
        rates = {}
        # Interleaved twice: the machine may be shared and its speed drift.
        for attempt in (1, 2):
            for i, (label, variant) in enumerate(VARIANTS.items()):
                copy = Path(tmp) / f"{i}-{attempt}.db"
                shutil.copy(base, copy)
                rate = run(copy, args, variant)
                rates.setdefault(label, []).append(rate)
                print(f"{label:<24} run {attempt}: {rate:9.0f} transfers/s", flush=True)
                copy.unlink()
        plain, *others = ((label, max(r)) for label, r in rates.items())
        for label, best in others:
            print(f"{label} / {plain[0]} (best runs): {best / plain[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
