"""Profile listing speed: the streamed whole list (`GET /profile?limit=0`, chunks of
`profile_lists.CHUNK`) and a deep page, on N profiles written straight to SQLite.

Read the figures as profiles per second for the stream (it should not fall as N
grows: each chunk is an index range, not a sort of the table) and milliseconds for
one page. Usage: `python benchmarks/bench_profile_lists.py [N]` (default 100000).
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from storage.engine.migrations import apply_migrations
from storage.engine.sqlite import connect
from storage.ids import pad, vp_id
from storage.queries import profile_lists


def populate(path: Path, n: int) -> None:
    conn = connect(path)
    apply_migrations(conn)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO accounts (vp_id, guild_id, user_id, open, created_at, updated_at)"
        " VALUES (?, ?, ?, 1, 0, 0)",
        ((vp_id(i % 97, i), pad(i % 97), pad(i)) for i in range(n)),
    )
    conn.execute("COMMIT")
    conn.close()


def stream_all(conn: sqlite3.Connection, guild_id: int | None) -> int:
    after, total = None, 0
    while True:
        items, after = profile_lists.chunk_after(conn, guild_id, after)
        total += len(items)
        if after is None:
            return total


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        populate(path, n)
        conn = connect(path, readonly=True)
        started = time.perf_counter()
        assert stream_all(conn, None) == n
        elapsed = time.perf_counter() - started
        print(f"stream all {n} profiles: {elapsed:.2f} s, {n / elapsed:,.0f} profiles/s")
        started = time.perf_counter()
        profile_lists.page(conn, None, 50, n // 2)
        print(f"one page of 50 at offset {n // 2}: {(time.perf_counter() - started) * 1000:.1f} ms")
        started = time.perf_counter()
        profile_lists.page(conn, 5, 50, 0)
        print(f"first page of one guild: {(time.perf_counter() - started) * 1000:.1f} ms")
        conn.close()


if __name__ == "__main__":
    main()
