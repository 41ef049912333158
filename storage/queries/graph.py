"""Balance over time for GET /stats/balance_graph, SPEC §7.

- A user: their balance after each ledger entry that touched them, read from the
  entry itself (`src_balance`/`dst_balance`), over the two side indexes.
- A guild: the sum of its accounts' balances after each entry that changed it.
- Neither: circulation, the sum of every user balance, after each entry that
  changed it. Only entries with a treasury on one side change it, so it is read
  from the treasuries' side indexes; and as all balances sum to 0, circulation is
  also minus the treasuries' total.

For a guild or the economy the value before the range is the current total minus
the net flow since the range began (or the flow before it, whichever is shorter).
With a bucket, each bucket keeps its last value, timestamped at the bucket start.
All of it is SQL: Python sees one row per point.
"""

from __future__ import annotations

from storage.engine.base import Conn
from storage.errors import DomainError, ProfileNotFound
from storage.ids import pad
from storage.queries.window_tops import balance_before as _balance_before
from storage.queries.windows import Window, first_id_from, id_range, ledger_head

__all__ = ["BUCKETS", "MAX_POINTS", "TooManyPoints", "circulation_before", "limited", "series"]

BUCKETS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}
MAX_POINTS = 100_000


class TooManyPoints(DomainError):
    status = 422
    code = "too_many_points"


def _account(conn: Conn, vp_id: str) -> int:
    row = conn.execute(
        "SELECT id FROM accounts WHERE vp_id = ? AND bot_id IS NULL", (vp_id,)
    ).fetchone()
    if row is None:
        raise ProfileNotFound("no profile has ever existed for this guild and user")
    return int(row[0])


def _flow(guild: str | None) -> str:
    """Rows (id, ts, d): the change each entry made to the guild's or the economy's
    total, for ids in [?1, ?2). Entries inside the group (treasury to treasury,
    member to member) change nothing and are left out, so each entry appears at
    most once and no grouping by entry is needed."""
    if guild is None:
        # A third or more of all entries involve a treasury: reading the id range in
        # order beats an index seek and a row lookup per entry.
        treasuries = "SELECT id FROM accounts WHERE bot_id IS NOT NULL"
        return (
            f"SELECT l.id AS id, l.ts AS ts, CASE WHEN l.src IN ({treasuries}) THEN l.amount"
            f" ELSE -l.amount END AS d FROM ledger l WHERE l.id >= ?1 AND l.id < ?2"
            f" AND (l.src IN ({treasuries})) <> (l.dst IN ({treasuries}))"
        )
    group = "SELECT id FROM accounts WHERE guild_id = ?3"
    return (
        f"SELECT l.id AS id, l.ts AS ts, -l.amount AS d FROM ledger l"
        f" WHERE l.src IN ({group}) AND l.dst NOT IN ({group}) AND l.id >= ?1 AND l.id < ?2"
        f" UNION ALL SELECT l.id, l.ts, l.amount FROM ledger l WHERE l.dst IN ({group})"
        f" AND l.src NOT IN ({group}) AND l.id >= ?1 AND l.id < ?2"
    )


def circulation_before(conn: Conn, bound: int) -> int:
    """Circulation before entry `bound`: minus what the treasuries held then, each
    read from its last entry before the bound (every balance sums to 0)."""
    return -int(
        conn.execute(
            f"SELECT coalesce(sum({_balance_before('?1')}), 0) FROM accounts c"
            " WHERE c.bot_id IS NOT NULL",
            (bound,),
        ).fetchone()[0]
    )


def _net(conn: Conn, guild: str | None, lo: int, hi: int) -> int:
    extra = () if guild is None else (guild,)
    sql = f"SELECT coalesce(sum(d), 0) FROM ({_flow(guild)}) AS flow"
    return int(conn.execute(sql, (lo, hi, *extra)).fetchone()[0])


def _total_now(conn: Conn, guild: str | None) -> int:
    params: tuple
    if guild is None:
        sql, params = "SELECT -coalesce(sum(balance), 0) FROM accounts WHERE bot_id IS NOT NULL", ()
    else:
        sql, params = "SELECT coalesce(sum(balance), 0) FROM accounts WHERE guild_id = ?", (guild,)
    return int(conn.execute(sql, params).fetchone()[0])


def limited(rows: list, bucket: str | None) -> list[tuple[float, int]]:
    if len(rows) > MAX_POINTS:
        raise TooManyPoints(
            f"more than {MAX_POINTS} points: narrow from/to or choose a bucket"
            + ("" if bucket == "day" else " (bucket=hour or day)")
        )
    return [(ts / 1000, balance) for ts, balance in rows]


def _bucketed_totals(
    conn: Conn, guild: str | None, lo: int, hi: int, start: int, bucket: str
) -> list[tuple[float, int]]:
    """Net change per bucket in SQL, running total over the buckets here (one row
    per bucket, so no per-entry running sum is needed)."""
    size = BUCKETS[bucket]
    rows = conn.execute(
        f"SELECT ts / {size} * {size} AS b, sum(d) FROM ({_flow(guild)}) AS flow GROUP BY b ORDER BY b"
        f" LIMIT {MAX_POINTS + 1}",
        (lo, hi) if guild is None else (lo, hi, guild),
    ).fetchall()
    total, out = start, []
    for b, d in rows:
        total += d
        out.append((b, total))
    return limited(out, bucket)


# A user's bucketed series walks back bucket by bucket (a few seeks each) rather
# than reading every entry, when the user has this many times more entries than
# the range has buckets.
ENTRIES_PER_BUCKET = 30


def _user_entries(conn: Conn, account: int, lo: int, hi: int) -> int:
    return int(
        conn.execute(
            "SELECT (SELECT count(*) FROM ledger WHERE src = ?1 AND id >= ?2 AND id < ?3)"
            " + (SELECT count(*) FROM ledger WHERE dst = ?1 AND id >= ?2 AND id < ?3)",
            (account, lo, hi),
        ).fetchone()[0]
    )


def _user_buckets_by_seeks(
    conn: Conn, account: int, lo: int, hi: int, size: int
) -> list[tuple[int, int]]:
    """From the newest bucket back: the user's last entry before the bound (two
    index seeks), its bucket, then the bound moves to that bucket's first entry."""
    out: list[tuple[int, int]] = []
    bound = hi
    while bound > lo:
        last = conn.execute(
            "SELECT coalesce(max(m), 0) FROM (SELECT max(id) AS m FROM ledger"
            " WHERE src = ?1 AND id < ?2 UNION ALL SELECT max(id) FROM ledger"
            " WHERE dst = ?1 AND id < ?2) t",
            (account, bound),
        ).fetchone()[0]
        if last < lo:
            break
        ts, balance = conn.execute(
            "SELECT ts, CASE WHEN src = ? THEN src_balance ELSE dst_balance END"
            " FROM ledger WHERE id = ?",
            (account, last),
        ).fetchone()
        start = ts // size * size
        out.append((start, balance))
        bound = first_id_from(conn, start)
    out.reverse()
    return out


def _span_buckets(conn: Conn, lo: int, hi: int, size: int) -> int:
    first = conn.execute("SELECT ts FROM ledger WHERE id >= ? ORDER BY id LIMIT 1", (lo,))
    last = conn.execute("SELECT ts FROM ledger WHERE id < ? ORDER BY id DESC LIMIT 1", (hi,))
    a, b = first.fetchone(), last.fetchone()
    return 0 if a is None or b is None else b[0] // size - a[0] // size + 1


def series(
    conn: Conn,
    guild_id: int | None,
    vp_id: str | None,
    window: Window,
    bucket: str | None,
) -> list[tuple[float, int]]:
    """`(timestamp seconds, balance)` points, oldest first (a bucketed graph of the
    economy may come from memory instead: boards/flow.py `flow_series`)."""
    lo, hi = id_range(conn, window)
    if vp_id is not None:
        account = _account(conn, vp_id)
        if bucket is not None:
            size = BUCKETS[bucket]
            spans = _span_buckets(conn, lo, hi, size)
            if spans * ENTRIES_PER_BUCKET < _user_entries(conn, account, lo, hi):
                return limited(_user_buckets_by_seeks(conn, account, lo, hi, size), bucket)
        entries = (
            "SELECT id, ts, src_balance AS balance FROM ledger WHERE src = ?1 AND id >= ?2"
            " AND id < ?3 UNION ALL SELECT id, ts, dst_balance FROM ledger WHERE dst = ?1"
            " AND id >= ?2 AND id < ?3"
        )
        params: tuple = (account, lo, hi)
    else:
        guild = None if guild_id is None else pad(guild_id)
        head = ledger_head(conn)
        if guild is None:
            start = circulation_before(conn, lo)
        elif lo - 1 <= head - lo:
            start = _net(conn, guild, 1, lo)
        else:
            start = _total_now(conn, guild) - _net(conn, guild, lo, head)
        if bucket is not None:
            return _bucketed_totals(conn, guild, lo, hi, start, bucket)
        entries = (
            f"SELECT id, ts, ?4 + sum(d) OVER (ORDER BY id) AS balance"
            f" FROM ({_flow(guild)}) AS flow"
        )
        params = (lo, hi, guild, start)
    cap = MAX_POINTS + 1
    if bucket is None:
        sql = f"SELECT ts, balance FROM ({entries}) AS entries ORDER BY id LIMIT {cap}"
    else:
        size = BUCKETS[bucket]
        # Each bucket's last entry; not SQLite's bare column beside max() in a
        # GROUP BY, which PostgreSQL refuses.
        sql = (
            f"SELECT b, balance FROM (SELECT ts / {size} * {size} AS b, balance, id,"
            f" max(id) OVER (PARTITION BY ts / {size} * {size}) AS last FROM ({entries}) e) t"
            f" WHERE id = last ORDER BY b LIMIT {cap}"
        )
    rows = [(r[0], r[1]) for r in conn.execute(sql, params)]
    return limited(rows, bucket)
