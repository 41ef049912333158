"""The database bench_reads.py and bench_heavy_reads.py read, generated straight with
SQL (no server), and kept for a day when the benchmark is given `--db`.

`generate` writes accounts with random profile values, a ledger whose balances are
replayed exactly (no user below zero, sums to zero, hash chain valid: `voiceprofile
ledger verify --db …` passes), one "hot" user drawn for `hot_share` of the entries
(~100k of 10M: the graph target), and activity buckets over the last 30 days. 10% of
profiles are in one big guild, the rest spread over `guilds` guilds.
"""

from __future__ import annotations

import hashlib
import random
import time
from pathlib import Path

from ledger.chain import GENESIS, entry_hash
from storage.engine.migrations import apply_migrations
from storage.engine.sqlite import connect
from storage.ids import pad, treasury_id
from storage.queries import keys

__all__ = ["BIG_GUILD", "USER_BASE", "build_or_reuse", "generate", "guild_of"]

BOTS = (111111111111111111, 222222222222222222, 333333333333333333)
BIG_GUILD = 100000000000000000
USER_BASE = 200000000000000000
DAY_MS = 86_400_000


def guild_of(i: int, guilds: int) -> int:
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
        hashlib.sha256(f"{guild_of(i, guilds)}:{USER_BASE + i}".encode()).hexdigest()
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
                pad(guild_of(i, guilds)),
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


def build_or_reuse(
    db: Path, keep: bool, profiles: int, entries: int, guilds: int, hot_share: float
) -> str:
    """The API key of `db`, generated now unless it was kept (`keep`: with its key in
    <db>.key) less than a day ago with the same shape."""
    key_file = db.with_name(db.name + ".key")
    shape = f"{profiles} {entries} {guilds} {hot_share}"
    key = _reusable_key(db, key_file, shape)
    if key is not None:
        print(f"reusing {db} built {(time.time() - key_file.stat().st_mtime) / 3600:.1f} h ago")
        return key
    for stale in (db, key_file, *(db.with_name(db.name + x) for x in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)
    key = generate(db, profiles, entries, guilds, hot_share)
    if keep:
        key_file.write_text(f"{key}\n{shape}\n")
        print(f"kept {db} (reused for a day)")
    return key


def _reusable_key(db: Path, key_file: Path, shape: str) -> str | None:
    """The key of a kept database of this shape built less than a day ago."""
    if not (db.exists() and key_file.exists()):
        return None
    if time.time() - key_file.stat().st_mtime > 86400:
        return None
    key, _, kept_shape = key_file.read_text().partition("\n")
    return key if kept_shape.strip() == shape else None
