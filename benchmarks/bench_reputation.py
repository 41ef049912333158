"""Reputation gives per second through the single writer, and user reads per second.

Starts a writer and a reader pool on a fresh database in a temporary directory,
then (1) submits GIVES gives concurrently from many users to many users (every
give checks its source's cooldown, its target's daily and total caps and appends
one entry, all inside group-committed transactions), and (2) reads READS user
objects concurrently. Prints gives/s, reads/s and the mean batch size. Figures
depend on the disk's fsync speed (synchronous=FULL) and on the machine's load.

    python benchmarks/bench_reputation.py [GIVES] [READS]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import apply
from ledger.commands import GiveReputation, UpdateRepSettings
from ledger.reputation import ReputationRefused
from storage.clock import SystemClock, millis
from storage.engine.migrations import apply_migrations
from storage.engine.readers import ReaderPool
from storage.engine.sqlite import connect
from storage.engine.writer import Writer
from storage.queries import reputation as reputation_reads

BOT = "111111111111111111"


async def main(gives: int, reads: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        conn = connect(path)
        apply_migrations(conn)
        conn.close()
        writer = Writer(path)
        writer.start()
        readers = ReaderPool(lambda: connect(path, readonly=True), size=4)
        await readers.open()
        try:
            await writer.run(
                apply,
                UpdateRepSettings(BOT, {"reputation_per_day": 1000, "reputation_cooldown": 300}),
            )
            users = 500

            async def give(n: int) -> bool:
                command = GiveReputation(BOT, str(1 + (n * 7) % users), str(1 + n % users))
                try:
                    await writer.run(apply, command)
                except ReputationRefused:  # self-reputation when source == target
                    return False
                return True

            started = time.perf_counter()
            done = await asyncio.gather(*(give(n) for n in range(gives)))
            elapsed = time.perf_counter() - started
            stats = writer.stats
            print(f"gives: {sum(done)} accepted of {gives} in {elapsed:.2f} s")
            print(f"gives/s: {gives / elapsed:.0f}")
            print(f"mean batch size: {stats.tasks / max(stats.batches, 1):.1f}")

            now = millis(SystemClock())
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    readers.call(reputation_reads.user_view, BOT, str(1 + n % users), now)
                    for n in range(reads)
                )
            )
            elapsed = time.perf_counter() - started
            print(f"user reads/s: {reads / elapsed:.0f}")
        finally:
            await writer.close()
            await readers.close()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args + [5000, 5000][len(args) :])))
