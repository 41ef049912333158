"""Ledger read queries (GET /transaction), run on reader connections."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass

from schemas.transactions import KINDS, Balances, Party, Transaction
from storage.ids import pad, unpad

__all__ = ["Filters", "entries", "entry", "to_transaction"]

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
    (
        eid,
        kind,
        ts,
        amount,
        reason,
        src_bal,
        dst_bal,
        reverts,
        svp,
        sbot,
        sguild,
        suser,
        dvp,
        dbot,
        dguild,
        duser,
        bbot,
    ) = row
    return Transaction(
        id=eid,
        kind=KINDS[kind],
        timestamp=ts / 1000,
        from_=_party(svp, sbot, sguild, suser),
        to=_party(dvp, dbot, dguild, duser),
        amount=amount,
        reason=reason,
        bot_id=unpad(bbot),
        balances=Balances(from_=src_bal, to=dst_bal),
        reverts=reverts,
    )


def entry(conn: sqlite3.Connection, entry_id: int) -> Transaction | None:
    row = conn.execute(f"{SELECT} WHERE l.id = ?", (entry_id,)).fetchone()
    return None if row is None else to_transaction(row)


@dataclass(frozen=True)
class Filters:
    user_id: int | None = None
    guild_id: int | None = None
    vp_id: str | None = None
    reason: str | None = None
    src: str | None = None  # user id, guild id or vp_id of the `from` side
    dst: str | None = None
    after: float | None = None  # epoch seconds, exclusive
    before: float | None = None


def _accounts_matching(value: str) -> tuple[str, tuple]:
    """Accounts a `from`/`to` filter value names: a vp_id, or a user or guild id."""
    if len(value) == 64:
        return "SELECT id FROM accounts WHERE vp_id = ?", (value,)
    padded = pad(value)
    # Plain `?` each time: a numbered `?1` would mean the statement's first parameter,
    # not this clause's, once other filters come before it.
    return (
        "SELECT id FROM accounts WHERE user_id = ? UNION SELECT id FROM accounts"
        " WHERE guild_id = ? UNION SELECT id FROM accounts WHERE bot_id = ?",
        (padded,) * 3,
    )


def _id_at(conn: sqlite3.Connection, ms: int) -> int:
    """The first entry id whose time is > `ms`. Times never go backwards along ids, so
    a binary search over the primary key finds it without an index on time."""
    top = conn.execute("SELECT coalesce(max(id), 0) FROM ledger").fetchone()[0]
    lo, hi = 1, top + 1
    while lo < hi:
        mid = (lo + hi) // 2
        ts = conn.execute(
            "SELECT ts FROM ledger WHERE id >= ? ORDER BY id LIMIT 1", (mid,)
        ).fetchone()
        if ts is not None and ts[0] > ms:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _where(conn: sqlite3.Connection, f: Filters) -> tuple[str, list]:
    clauses: list[str] = []
    params: list = []

    def either(sub: str, sub_params: tuple) -> None:
        clauses.append(f"(l.src IN ({sub}) OR l.dst IN ({sub}))")
        params.extend(sub_params * 2)

    if f.vp_id is not None:
        either("SELECT id FROM accounts WHERE vp_id = ?", (f.vp_id,))
    if f.user_id is not None:
        either("SELECT id FROM accounts WHERE user_id = ?", (pad(f.user_id),))
    if f.guild_id is not None:
        either("SELECT id FROM accounts WHERE guild_id = ?", (pad(f.guild_id),))
    for column, value in (("l.src", f.src), ("l.dst", f.dst)):
        if value is not None:
            sub, sub_params = _accounts_matching(value)
            clauses.append(f"{column} IN ({sub})")
            params.extend(sub_params)
    if f.reason is not None:
        clauses.append("instr(lower(l.reason), lower(?)) > 0")
        params.append(f.reason)
    if f.after is not None:
        clauses.append("l.id >= ?")
        params.append(_id_at(conn, math.floor(f.after * 1000)))
    if f.before is not None:
        clauses.append("l.id < ?")
        params.append(_id_at(conn, math.ceil(f.before * 1000) - 1))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def entries(
    conn: sqlite3.Connection, f: Filters, limit: int | None, offset: int
) -> tuple[list[Transaction], int]:
    where, params = _where(conn, f)
    if where:
        total = conn.execute(f"SELECT count(*) FROM ledger l{where}", params).fetchone()[0]
    else:
        total = conn.execute("SELECT coalesce(max(id), 0) FROM ledger").fetchone()[0]
    page = "" if limit is None else f" LIMIT {int(limit)} OFFSET {int(offset)}"
    rows = conn.execute(f"{SELECT}{where} ORDER BY l.id DESC{page}", params).fetchall()
    return [to_transaction(r) for r in rows], total
