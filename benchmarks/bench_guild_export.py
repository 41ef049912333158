"""Per-guild export (issue 14) on the real server: one big guild streamed as CSV and
as JSON Lines, with the server's resident memory sampled while it streams.

    python benchmarks/bench_guild_export.py [--members N]   # default 100000

How to read it: rows per second should not fall as the guild grows (each chunk is
a seek on the (guild, user) index, never an offset or a sort), and the RSS growth
should stay small and about the same for 10k and 100k members (flat memory: the
server holds one chunk at a time, not the guild).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.http_server import serve, stop, tree_rss_kb  # noqa: E402
from storage.engine.migrations import apply_migrations  # noqa: E402
from storage.engine.sqlite import connect  # noqa: E402
from storage.ids import pad, vp_id  # noqa: E402
from storage.queries import keys  # noqa: E402

GUILD, OTHER = 131853185391, 131853185392
USER_BASE = 200_000_000_000_000_000


def populate(path: Path, members: int) -> str:
    """The guild's members (half with text stats) and a smaller other guild, written
    straight to SQLite; returns a key."""
    conn = connect(path)
    apply_migrations(conn)
    conn.execute("BEGIN")
    rows = []
    for guild, n in ((GUILD, members), (OTHER, members // 10)):
        for i in range(n):
            user = USER_BASE + i
            text = (i % 50, i % 1000, i * 3) if i % 2 else (None, None, None)
            rows.append(
                (vp_id(guild, user), pad(guild), pad(user), i * 7, i % 100, *text, i * 11, i % 9)
            )
    conn.executemany(
        "INSERT INTO accounts (vp_id, guild_id, user_id, open, experience, level, text_level,"
        " text_experience, text_messages, time_global, pray_streak, created_at, updated_at)"
        " VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
        rows,
    )
    conn.execute("COMMIT")
    _, secret = keys.create_key(conn, "bench", "1", keys.DEFAULT_SCOPES)
    conn.close()
    return secret


def stream(url: str, key: str, pid: int, fmt: str, members: int) -> None:
    base = peak = tree_rss_kb(pid)
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kb(pid))
            time.sleep(0.05)

    watcher = threading.Thread(target=poll)
    watcher.start()
    started, size, lines = time.perf_counter(), 0, 0
    try:
        with httpx.stream(
            "GET",
            f"{url}/profile/{GUILD}/export",
            params={"format": fmt},
            headers={"Authorization": key},
            timeout=600,
        ) as r:
            r.raise_for_status()
            for chunk in r.iter_bytes():
                size += len(chunk)
                lines += chunk.count(b"\n")
    finally:
        done.set()
        watcher.join()
    elapsed = time.perf_counter() - started
    rows = lines - (1 if fmt == "csv" else 0)
    assert rows == members, (rows, members)
    print(
        f"export {fmt:<5} {members} members: {elapsed:.2f} s, {rows / elapsed:,.0f} rows/s,"
        f" {size / 1e6:.1f} MB; server RSS {base / 1024:.0f} MB -> peak {peak / 1024:.0f} MB"
        f" (growth {(peak - base) / 1024:.1f} MB)",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        key = populate(db, args.members)
        process, url = serve(db, Path(tmp) / "server.log")
        try:
            for fmt in ("csv", "jsonl", "csv"):  # the second csv: warm caches
                stream(url, key, process.pid, fmt, args.members)
        finally:
            stop(process)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
