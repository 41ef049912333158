"""Ledger read queries (GET /transaction), run on reader connections.

A filtered page must stay fast with 10M entries. Account filters (`vp_id`, `user_id`,
`guild_id`, `from`, `to`) are first resolved to the few account row ids they name;
then one of them drives the query: for each of its accounts and sides, the narrow
`ledger_src`/`ledger_dst` index (implicitly `(account, id)`) yields that account's
entries already in id order, and SQLite merges those arms (`MERGE (UNION)`), so a
page reads about `offset + limit` index entries instead of sorting every match. The
other filters are checked on the rows the driver yields. Times are turned into an id
range (times never go backwards along ids), so `after`/`before` narrow every arm's
index range too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from schemas.transactions import KINDS, Balances, Party, Transaction
from storage.engine.base import Conn, Dialect
from storage.ids import pad, unpad
from storage.queries.windows import first_id_from, ledger_head

__all__ = ["CHUNK", "Filters", "chunk_before", "count", "entries", "entry", "to_transaction"]

CHUNK = 1000  # rows per streamed chunk when `limit <= 0`
_MAX_ARMS = 200  # SQLite allows 500 arms in a compound SELECT; beyond this, sort instead

SELECT = (
    "SELECT l.id, l.kind, l.ts, l.amount, l.reason, l.src_balance, l.dst_balance, l.reverts,"
    " s.vp_id, s.bot_id, s.guild_id, s.user_id, d.vp_id, d.bot_id, d.guild_id, d.user_id,"
    " b.bot_id FROM ledger l JOIN accounts s ON s.id = l.src JOIN accounts d ON d.id = l.dst"
    " JOIN accounts b ON b.id = l.bot"
)


def _party(vp: str, bot: str | None, guild: str | None, user: str | None) -> Party:
    if bot is not None:
        return Party(id=vp, bot_id=unpad(bot))
    return Party(id=vp, guild_id=unpad(guild or "0"), user_id=unpad(user or "0"))


def to_transaction(row: tuple) -> Transaction:
    (eid, kind, ts, amount, reason, src_bal, dst_bal, reverts, *sides, bbot) = row
    return Transaction(
        id=eid,
        kind=KINDS[kind],
        timestamp=ts / 1000,
        from_=_party(*sides[:4]),
        to=_party(*sides[4:]),
        amount=amount,
        reason=reason,
        bot_id=unpad(bbot),
        balances=Balances(from_=src_bal, to=dst_bal),
        reverts=reverts,
    )


def entry(conn: Conn, entry_id: int) -> Transaction | None:
    row = conn.execute(f"{SELECT} WHERE l.id = ?", (entry_id,)).fetchone()
    return None if row is None else to_transaction(row)


@dataclass(frozen=True)
class Filters:
    user_id: int | None = None
    guild_id: int | None = None
    vp_id: str | None = None
    reason: str | None = None
    src: str | None = None  # user id, guild id, bot id or vp_id of the `from` side
    dst: str | None = None
    after: float | None = None  # epoch seconds, exclusive
    before: float | None = None
    kind: int | None = None  # schemas/transactions.py KINDS


def _ids(conn: Conn, sql: str, params: tuple) -> list[int]:
    return [r[0] for r in conn.execute(sql, params)]


def _named_by(conn: Conn, value: str) -> list[int]:
    """Accounts a `from`/`to` value names: a vp_id, or a user, guild or bot id."""
    if len(value) == 64:
        return _ids(conn, "SELECT id FROM accounts WHERE vp_id = ?", (value,))
    padded = pad(value)
    return _ids(
        conn,
        "SELECT id FROM accounts WHERE user_id = ? UNION SELECT id FROM accounts"
        " WHERE guild_id = ? UNION SELECT id FROM accounts WHERE bot_id = ?",
        (padded, padded, padded),
    )


@dataclass
class _Plan:
    """What a filter set becomes: an id range, account sets, and the SQL of the ids."""

    lo: int  # first id that may match
    hi: int  # one past the last id that may match
    either: list[list[int]]  # each: entries with src or dst in it
    src: list[int] | None
    dst: list[int] | None
    reason: str | None
    kind: int | None = None
    empty: bool = False


def _plan(conn: Conn, f: Filters) -> _Plan:
    lo, hi = 1, ledger_head(conn)
    # Entries after `after` and before `before` (exclusive): by ms, `ts > after` is
    # `ts >= after + 1` (times never go backwards along ids: a binary search).
    if f.after is not None:
        lo = first_id_from(conn, math.floor(f.after * 1000) + 1, hi)
    if f.before is not None:
        hi = first_id_from(conn, math.ceil(f.before * 1000), hi)
    either = []
    if f.vp_id is not None:
        either.append(_ids(conn, "SELECT id FROM accounts WHERE vp_id = ?", (f.vp_id,)))
    if f.user_id is not None:
        either.append(_ids(conn, "SELECT id FROM accounts WHERE user_id = ?", (pad(f.user_id),)))
    if f.guild_id is not None:
        either.append(_ids(conn, "SELECT id FROM accounts WHERE guild_id = ?", (pad(f.guild_id),)))
    src = None if f.src is None else _named_by(conn, f.src)
    dst = None if f.dst is None else _named_by(conn, f.dst)
    plan = _Plan(lo, hi, either, src, dst, f.reason or None, f.kind)
    sets = [*either, *(s for s in (src, dst) if s is not None)]
    plan.empty = lo >= hi or any(not s for s in sets)
    return plan


def _in(ids: list[int]) -> str:
    return ",".join(str(int(i)) for i in ids)  # row ids from our own query: plain ints


def _id_sql(p: _Plan, dialect: Dialect, below: int | None = None) -> tuple[str, list]:
    """SQL selecting the ids of matching entries (unordered), and its parameters."""
    hi = p.hi if below is None else min(p.hi, below)
    checks = ["id >= ?", "id < ?"]
    params: list = [p.lo, hi]
    # The driver: the side filter if there is one (one index), else the smallest
    # either-set (both indexes). The other sets become row checks.
    columns: tuple[str, ...] = ()
    driver: list[int] = []
    others = list(p.either)
    if p.src is not None or p.dst is not None:
        columns, driver = (("src",), p.src) if p.src is not None else (("dst",), p.dst)  # type: ignore[assignment]
        if p.src is not None and p.dst is not None:
            checks.append(f"dst IN ({_in(p.dst)})")
    elif others:
        driver = min(others, key=len)
        others.remove(driver)
        columns = ("src", "dst")
    for group in others:
        checks.append(f"(src IN ({_in(group)}) OR dst IN ({_in(group)}))")
    if p.kind is not None:
        checks.append("kind = ?")
        params.append(p.kind)
    if p.reason is not None:
        checks.append(dialect.contains_ci("reason"))
        params.append(p.reason)
    where = " AND ".join(checks)
    if not columns:
        return f"SELECT id FROM ledger WHERE {where}", params
    if len(driver) * len(columns) > _MAX_ARMS:
        # Many accounts (a whole guild): let SQLite walk ids newest first and test
        # membership, which stops early when the set is common.
        member = " OR ".join(f"{c} IN ({_in(driver)})" for c in columns)
        return f"SELECT id FROM ledger WHERE ({member}) AND {where}", params
    arms = [f"{c} = {int(a)}" for a in driver for c in columns]
    sql = " UNION ".join(f"SELECT id FROM ledger WHERE {arm} AND {where}" for arm in arms)
    return sql, params * len(arms)


def count(conn: Conn, f: Filters) -> int:
    p = _plan(conn, f)
    if p.empty:
        return 0
    if not p.either and p.src is None and p.dst is None and p.reason is None and p.kind is None:
        return p.hi - p.lo  # ids have no gaps
    sql, params = _id_sql(p, conn.dialect)
    return int(conn.execute(f"SELECT count(*) FROM ({sql}) AS matches", params).fetchone()[0])


def _page(
    conn: Conn, p: _Plan, limit: int, offset: int, below: int | None = None
) -> list[Transaction]:
    if p.empty:
        return []
    sql, params = _id_sql(p, conn.dialect, below)
    rows = conn.execute(
        f"{SELECT} JOIN ({sql} ORDER BY id DESC LIMIT ? OFFSET ?) AS m ON m.id = l.id"
        " ORDER BY l.id DESC",
        [*params, limit, offset],
    ).fetchall()
    return [to_transaction(r) for r in rows]


def entries(conn: Conn, f: Filters, limit: int, offset: int) -> tuple[list[Transaction], int]:
    """One page, newest first, and the total number of matches."""
    p = _plan(conn, f)
    return _page(conn, p, limit, offset), count(conn, f)


def chunk_before(
    conn: Conn, f: Filters, below: int | None, size: int = CHUNK
) -> tuple[list[Transaction], int | None]:
    """The next `size` matches with ids below `below` (keyset paging for streaming);
    returns them and the cursor for the next call (None when done)."""
    items = _page(conn, _plan(conn, f), size, 0, below)
    return items, (items[-1].id if len(items) == size else None)
