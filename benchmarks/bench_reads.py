"""Read latency of tops, ranks, windowed tops (rolling and UTC calendar periods),
stats and balance graphs (SPEC §7), served by the real `voiceprofile serve` process
over HTTP, on a generated database.

    python benchmarks/bench_reads.py                    # 100k profiles, 1M ledger entries
    python benchmarks/bench_reads.py --big              # 1M profiles, 10M entries (slow to build)
    python benchmarks/bench_reads.py --db /tmp/x.db     # reuse a database built before

How to read it: one line per endpoint with p50 and p99 latency in ms over
sequential requests from one keep-alive client (so it is latency, not
throughput), then the resident memory growth of the server while it streams
`GET /profile?limit=0` (every profile): flat memory means the growth stays small
whatever the number of profiles. The machine may be shared: compare ratios
between runs rather than absolute figures.

The generator writes straight SQL (no server): accounts with random profile
values, a ledger whose balances are replayed exactly (no user below zero, sums to
zero, hash chain valid: `voiceprofile ledger verify --db …` passes), one "hot"
user drawn for `--hot-share` of the entries (~100k of 10M: the graph target), and
activity buckets over the last 30 days. 10% of profiles are in one big guild, the rest
spread over `--guilds` guilds.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger.chain import GENESIS, entry_hash  # noqa: E402
from storage.engine.migrations import apply_migrations  # noqa: E402
from storage.engine.sqlite import connect  # noqa: E402
from storage.ids import pad, treasury_id  # noqa: E402
from storage.queries import keys  # noqa: E402

BOTS = (111111111111111111, 222222222222222222, 333333333333333333)
BIG_GUILD = 100000000000000000
USER_BASE = 200000000000000000
DAY_MS = 86_400_000
ROLLING = ("day", "week", "month")
CALENDAR = ("this-week", "last-week", "this-month", "last-month")


def _guild(i: int, guilds: int) -> int:
    return BIG_GUILD if i % 10 == 0 else BIG_GUILD + 1 + (i * 7919) % max(1, guilds - 1)


def generate(path: Path, profiles: int, entries: int, guilds: int, hot_share: float) -> str:
    """Build the database; returns an API key with every scope but admin."""
    rnd = random.Random(42)
    started = time.perf_counter()
    conn = connect(path)
    apply_migrations(conn)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA cache_size = -400000")
    # Bulk load without secondary indexes, then build each once from sorted data.
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " AND tbl_name IN ('accounts', 'ledger', 'activity')"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")

    n_bots = len(BOTS)
    first_user = n_bots + 1  # account ids: 1..3 treasuries, then profiles
    vps = [treasury_id(b) for b in BOTS]
    vps += [
        hashlib.sha256(f"{_guild(i, guilds)}:{USER_BASE + i}".encode()).hexdigest()
        for i in range(profiles)
    ]
    balance = [0] * (n_bots + profiles + 1)
    now_ms = int(time.time() * 1000)
    start_ms = now_ms - 60 * DAY_MS
    step = 60 * DAY_MS / max(1, entries)
    hot = first_user
    conn.execute("BEGIN")
    prev = GENESIS
    rows = []
    rand, randint = rnd.random, rnd.randint
    for eid in range(1, entries + 1):
        ts = start_ms + int(eid * step)
        r = rand()
        user = hot if r < hot_share else randint(first_user, first_user + profiles - 1)
        other = randint(first_user, first_user + profiles - 1)
        r = rand()
        if r < 0.25 or (balance[user] == 0 and balance[other] == 0):
            src, dst = randint(1, n_bots), user if balance[user] == 0 else other
            amount = randint(1, 1000)
        elif r < 0.35:
            src, dst = (user, randint(1, n_bots)) if balance[user] else (other, 1)
            amount = randint(1, min(balance[src], 500))
        else:
            src, dst = (user, other) if balance[user] else (other, user)
            if src == dst:
                dst = 1
            amount = randint(1, min(balance[src], 500))
        balance[src] -= amount
        balance[dst] += amount
        bot = src if src <= n_bots else 1
        prev = entry_hash(
            prev,
            eid,
            1,
            ts,
            vps[src - 1],
            vps[dst - 1],
            amount,
            balance[src],
            balance[dst],
            vps[bot - 1],
            None,
            "",
        )
        rows.append((eid, ts, src, dst, amount, balance[src], balance[dst], bot, prev))
        if len(rows) >= 50_000:
            _flush_ledger(conn, rows)
    _flush_ledger(conn, rows)

    now = time.time()
    conn.executemany(
        "INSERT INTO accounts (id, vp_id, bot_id, balance, open) VALUES (?, ?, ?, ?, 0)",
        [(i + 1, vps[i], pad(b), balance[i + 1]) for i, b in enumerate(BOTS)],
    )
    batch = []
    for i in range(profiles):
        aid = first_user + i
        experience = int(rnd.paretovariate(1.2) * 100)
        has_text = rand() < 0.7
        batch.append(
            (
                aid,
                vps[aid - 1],
                pad(_guild(i, guilds)),
                pad(USER_BASE + i),
                balance[aid],
                experience,
                1 + int((experience / 50) ** 0.5),
                randint(0, 1_700_000_000),
                randint(0, 30),
                randint(0, 40) if has_text else None,
                randint(0, 100_000) if has_text else None,
                randint(0, 20_000) if has_text else None,
                int(rnd.paretovariate(1.1) * 60),
                now,
                now,
            )
        )
        if len(batch) >= 50_000:
            _flush_accounts(conn, batch)
    _flush_accounts(conn, batch)

    hour_now = int(now // 3600)
    act = []
    for i in range(profiles):
        if rand() < 0.5:
            for hour in rnd.sample(range(hour_now - 30 * 24, hour_now + 1), randint(1, 4)):
                act.append(
                    (first_user + i, hour, randint(0, 500), randint(0, 3600), randint(0, 50))
                )
        if len(act) >= 50_000:
            conn.executemany("INSERT INTO activity VALUES (?, ?, ?, ?, ?)", act)
            act.clear()
    conn.executemany("INSERT INTO activity VALUES (?, ?, ?, ?, ?)", act)
    conn.execute("COMMIT")
    for _, sql in indexes:
        conn.execute(sql)
    _, secret = keys.create_key(conn, "bench", str(BOTS[0]), keys.DEFAULT_SCOPES)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert sum(balance) == 0 and min(balance[first_user:]) >= 0
    print(
        f"generated {profiles} profiles, {entries} entries in {time.perf_counter() - started:.0f} s"
        f" ({path.stat().st_size / 1e6:.0f} MB)",
        flush=True,
    )
    return secret


def _flush_ledger(conn, rows: list) -> None:
    conn.executemany(
        "INSERT INTO ledger (id, kind, ts, src, dst, amount, src_balance, dst_balance, bot,"
        " reason, reverts, hash) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, '', NULL, ?)",
        rows,
    )
    rows.clear()


def _flush_accounts(conn, batch: list) -> None:
    conn.executemany(
        "INSERT INTO accounts (id, vp_id, guild_id, user_id, balance, open, experience, level,"
        " pray_date, pray_streak, text_level, text_experience, text_messages, time_global,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        batch,
    )
    batch.clear()


# -- the server ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    out = log.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            str(db),
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
        # `sync` builds an in-memory board on the first request that needs it (the
        # warm-up request, whose time is printed as "first"), so the figures are
        # the steady state; the default `background` answers that request by SQL.
        env={**os.environ, "PYTHONPATH": str(ROOT), "VOICEPROFILE_BOARDS": "sync"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server did not start: {log.read_text()}")


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its descendants (granian runs a worker child)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            found = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{p}/status").read_text())
        except OSError:
            continue
        total += int(found[1]) if found else 0
    return total


# -- measuring ---------------------------------------------------------------------------


BUDGET_S = 20.0  # per endpoint: a slow one gets fewer requests (3 at least)


def measure(client: httpx.Client, label: str, paths: list[str], n: int) -> None:
    t0 = time.perf_counter()
    for path in paths[:2]:
        client.get(path).raise_for_status()
    first = (time.perf_counter() - t0) * 1000
    times, size = [], 0
    deadline = time.perf_counter() + BUDGET_S
    for i in range(n):
        if i >= 3 and time.perf_counter() > deadline:
            break
        path = paths[i % len(paths)]
        t0 = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
        size = len(r.content)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(
        f"{label:<52} p50 {statistics.median(times):8.2f} ms   p99 {p99:8.2f} ms"
        f"   ({len(times)} req, {size} B; first {first:.0f} ms)",
        flush=True,
    )


def stream_rss(client: httpx.Client, pid: int) -> None:
    base = _tree_rss_kb(pid)
    peak = [base]
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(pid))
            time.sleep(0.05)

    watcher = threading.Thread(target=poll)
    watcher.start()
    t0 = time.perf_counter()
    size = 0
    with client.stream("GET", "/profile", params={"limit": 0}) as r:
        for chunk in r.iter_bytes():
            size += len(chunk)
    done.set()
    watcher.join()
    print(
        f"GET /profile?limit=0: {size / 1e6:.0f} MB streamed in {time.perf_counter() - t0:.1f} s;"
        f" server RSS {base / 1024:.0f} MB -> peak {peak[0] / 1024:.0f} MB"
        f" (growth {(peak[0] - base) / 1024:.1f} MB; target <= 50 MB)",
        flush=True,
    )


def run(url: str, key: str, pid: int, profiles: int, guilds: int, quick: bool) -> None:
    n, heavy = (20, 5) if quick else (200, 20)
    typical = BIG_GUILD + 1
    members = [USER_BASE + i for i in range(1, profiles) if _guild(i, guilds) == typical][:50]
    # Every 10th profile is in the big guild; the first, the hot user, is left out.
    big_members = [USER_BASE + i for i in range(10, profiles, 10)][:: max(1, profiles // 500)]
    hot = f"guild_id={BIG_GUILD}&user_id={USER_BASE}"
    start_rss = _tree_rss_kb(pid)
    with httpx.Client(base_url=url, headers={"Authorization": key}, timeout=600) as c:
        print(
            f"-- tops (amount=5); a typical guild has ~{profiles * 9 // 10 // max(1, guilds - 1)}"
            f" profiles, the big one {profiles // 10}"
        )
        for by in (
            "points",
            "levels",
            "experience",
            "time",
            "text-level",
            "text-message",
            "pray-streak",
        ):
            measure(c, f"GET /profile/top?by={by}", [f"/profile/top?by={by}"], n)
        for by in ("points", "levels"):
            measure(
                c,
                f"GET /profile/{{guild}}/top?by={by} (typical)",
                [f"/profile/{typical}/top?by={by}"],
                n,
            )
            measure(
                c,
                f"GET /profile/{{guild}}/top?by={by} (big)",
                [f"/profile/{BIG_GUILD}/top?by={by}"],
                n,
            )
        measure(
            c, "GET /profile/top?by=points&offset=1000", ["/profile/top?by=points&offset=1000"], n
        )
        print("-- ranks")
        for by in ("points", "levels", "text-level"):
            measure(
                c,
                f"rank by={by} (typical guild)",
                [f"/profile/{typical}/{u}/rank?by={by}" for u in members],
                n,
            )
            measure(
                c,
                f"rank by={by} (big guild)",
                [f"/profile/{BIG_GUILD}/{u}/rank?by={by}" for u in big_members],
                heavy,
            )
        print("-- windows: rolling, then UTC calendar periods")
        for tf in ROLLING + CALENDAR:
            measure(
                c,
                f"guild top by=points timeframe={tf} (typical)",
                [f"/profile/{typical}/top?by=points&timeframe={tf}"],
                heavy,
            )
            measure(
                c,
                f"guild top by=levels timeframe={tf} (typical)",
                [f"/profile/{typical}/top?by=levels&timeframe={tf}"],
                heavy,
            )
        for tf in ("week", "last-week"):
            measure(
                c,
                f"rank by=points timeframe={tf} (typical)",
                [f"/profile/{typical}/{u}/rank?by=points&timeframe={tf}" for u in members],
                heavy,
            )
        for tf in ("day", "week", "this-week", "last-month"):
            measure(
                c,
                f"global top by=points timeframe={tf}",
                [f"/profile/top?by=points&timeframe={tf}"],
                heavy,
            )
            measure(
                c,
                f"global top by=time timeframe={tf}",
                [f"/profile/top?by=time&timeframe={tf}"],
                heavy,
            )
        measure(
            c,
            "guild top by=points timeframe=week (big)",
            [f"/profile/{BIG_GUILD}/top?by=points&timeframe=week"],
            heavy,
        )
        print(
            f"server RSS: {start_rss / 1024:.0f} MB at start, {_tree_rss_kb(pid) / 1024:.0f} MB"
            " with the in-memory boards of the reads above built",
            flush=True,
        )
        print("-- stats")
        measure(c, "GET /stats", ["/stats"], heavy)
        measure(c, "GET /stats?guild_id= (typical)", [f"/stats?guild_id={typical}"], n)
        measure(c, "GET /stats?guild_id= (big)", [f"/stats?guild_id={BIG_GUILD}"], heavy)
        print("-- balance graphs")
        hot_entries = c.get(
            f"/transaction?vp_id={hashlib.sha256(f'{BIG_GUILD}:{USER_BASE}'.encode()).hexdigest()}&limit=1"
        ).headers.get("x-total-count")
        measure(
            c,
            f"graph hot user ({hot_entries} entries) bucket=day",
            [f"/stats/balance_graph?{hot}&bucket=day"],
            heavy,
        )
        measure(
            c,
            "graph hot user bucket=day format=svg",
            [f"/stats/balance_graph?{hot}&bucket=day&format=svg"],
            heavy,
        )
        measure(
            c,
            "graph typical user (all points)",
            [f"/stats/balance_graph?guild_id={BIG_GUILD}&user_id={u}" for u in big_members],
            n,
        )
        measure(
            c,
            "graph typical guild bucket=day",
            [f"/stats/balance_graph?guild_id={typical}&bucket=day"],
            heavy,
        )
        measure(
            c,
            "graph economy bucket=day, last 7 days",
            [f"/stats/balance_graph?bucket=day&from={time.time() - 7 * 86400:.0f}"],
            heavy,
        )
        measure(
            c,
            "graph economy bucket=day, all time",
            ["/stats/balance_graph?bucket=day"],
            max(2, heavy // 4),
        )
        print("-- streaming")
        stream_rss(c, pid)


def _reusable_key(db: Path, key_file: Path, shape: str) -> str | None:
    """The key of a kept database of this shape built less than a day ago."""
    if not (db.exists() and key_file.exists()):
        return None
    if time.time() - key_file.stat().st_mtime > 86400:
        return None
    key, _, kept_shape = key_file.read_text().partition("\n")
    return key if kept_shape.strip() == shape else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--big", action="store_true", help="1M profiles / 10M entries")
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--guilds", type=int, default=None, help="default: profiles / 1000")
    parser.add_argument(
        "--hot-share",
        type=float,
        default=0.0131,
        help="how often the hot user is drawn; about 3/4 of the draws touch it, so the"
        " default gives it ~100k of 10M entries (the graph target's user)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        help="keep the database here and reuse it while it is under a day old (its key"
        " is kept beside it in <db>.key); windows are relative to when it was built",
    )
    parser.add_argument("--quick", action="store_true", help="fewer requests per endpoint")
    args = parser.parse_args()
    if args.big:
        args.profiles, args.entries = 1_000_000, 10_000_000
    guilds = args.guilds or max(2, args.profiles // 1000)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.db"
        key_file = db.with_name(db.name + ".key")
        shape = f"{args.profiles} {args.entries} {guilds} {args.hot_share}"
        key = _reusable_key(db, key_file, shape)
        if key is None:
            for stale in (db, key_file, *(db.with_name(db.name + x) for x in ("-wal", "-shm"))):
                stale.unlink(missing_ok=True)
            key = generate(db, args.profiles, args.entries, guilds, args.hot_share)
            if args.db:
                key_file.write_text(f"{key}\n{shape}\n")
                print(f"kept {db} (reused for a day)")
        else:
            print(f"reusing {db} built {(time.time() - key_file.stat().st_mtime) / 3600:.1f} h ago")
        proc, url = start_server(db, Path(tmp) / "server.log")
        try:
            run(url, key, proc.pid, args.profiles, guilds, args.quick)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
