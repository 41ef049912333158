"""Tops and ranks over a time window, SPEC §7.

A window score is what an open profile gained in the window: for `points` the
net voicepoints received (credits minus debits of every ledger entry in the id
range of the window, exact), for `levels`/`time`/`text-message` the sums of its
activity buckets. The profiles with a nonzero score (`w` below) are aggregated by
SQL; every other profile in scope scores 0. The order is: positive scores, then
the zeros by profile id, then negative scores (points only) — three segments, so a
page needs only the aggregate and an index walk over the zeros.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from schemas.profiles import Profile
from storage.engine.base import Conn
from storage.ids import pad
from storage.queries.profiles import COLUMNS, to_profile
from storage.queries.tops import Metric, Scope, count
from storage.queries.windows import Window, hours, id_range, ledger_head

__all__ = [
    "SEEKS_PER_PROFILE",
    "Aggregate",
    "aggregate",
    "balance_before",
    "window_page",
    "window_rank",
]

# A guild's window reads a few index seeks per profile rather than its entries
# once the window holds this many times more entries than the guild has profiles.
SEEKS_PER_PROFILE = 3


class Aggregate(NamedTuple):
    cte: str  # "w(account, wvp, s)": in-scope open profiles with a nonzero score
    params: tuple
    scope: Scope


def aggregate(conn: Conn, metric: Metric, guild_id: int | None, window: Window) -> Aggregate:
    scope = Scope.of(guild_id)
    guild = "" if guild_id is None else " AND c.guild_id = ?"
    gparams: tuple = () if guild_id is None else (pad(guild_id),)
    if metric.activity == "ledger":
        lo, hi = id_range(conn, window)
        if guild_id is not None and SEEKS_PER_PROFILE * count(conn, scope) < hi - lo:
            # Few profiles, many entries: each entry stores the balances after it,
            # so a profile's net in [lo, hi) is its balance after its last entry
            # before hi minus that before lo: a few index seeks per profile,
            # however many entries the window holds.
            head = ledger_head(conn)
            after = "c.balance" if hi >= head else balance_before("?2")
            cte = (
                f"w AS (SELECT account, wvp, s FROM (SELECT c.id AS account, c.vp_id AS wvp,"
                f" {after} - {balance_before('?1')} AS s FROM accounts c"
                f" WHERE c.open = 1 AND c.guild_id = ?3) AS nets WHERE s != 0)"
            )
            return Aggregate(cte, (lo, hi, *gparams), scope)
        cte = (
            "w AS (SELECT c.id AS account, c.vp_id AS wvp, f.s AS s FROM (SELECT account,"
            " sum(d) AS s FROM (SELECT dst AS account, amount AS d FROM ledger"
            " WHERE id >= ?1 AND id < ?2 UNION ALL SELECT src, -amount FROM ledger"
            " WHERE id >= ?1 AND id < ?2) AS moves GROUP BY account) f JOIN accounts c"
            f" ON c.id = f.account WHERE c.open = 1 AND f.s != 0{guild.replace('?', '?3')})"
        )
        return Aggregate(cte, (lo, hi, *gparams), scope)
    assert metric.activity is not None
    column = metric.activity
    h_lo, h_hi = hours(window)
    if guild_id is None:
        cte = (
            f"w AS (SELECT c.id AS account, c.vp_id AS wvp, f.s AS s FROM (SELECT account,"
            f" sum({column}) AS s FROM activity WHERE hour >= ? AND hour < ?"
            f" GROUP BY account) f JOIN accounts c ON c.id = f.account"
            f" WHERE c.open = 1 AND f.s != 0)"
        )
        return Aggregate(cte, (h_lo, h_hi), scope)
    cte = (
        f"w AS (SELECT c.id AS account, c.vp_id AS wvp, sum(a.{column}) AS s"
        f" FROM accounts c JOIN activity a ON a.account = c.id WHERE c.open = 1"
        f" AND c.guild_id = ? AND a.hour >= ? AND a.hour < ? GROUP BY c.id"
        f" HAVING sum(a.{column}) != 0)"
    )
    return Aggregate(cte, (*gparams, h_lo, h_hi), scope)


def balance_before(bound: str) -> str:
    """SQL for account c's balance after its last ledger entry with id < bound: the
    later of its last entry as src and its last as dst (an index seek each). Not
    SQLite's two-argument max(), which PostgreSQL has not."""
    last = (
        f"(SELECT max(id) FROM ledger WHERE src = c.id AND id < {bound}),"
        f" (SELECT max(id) FROM ledger WHERE dst = c.id AND id < {bound})"
    )
    return (
        "coalesce((SELECT CASE WHEN l.src = c.id THEN l.src_balance ELSE l.dst_balance END"
        f" FROM ledger l WHERE l.id IN ({last}) ORDER BY l.id DESC LIMIT 1), 0)"
    )


def _signed(
    conn: Conn, agg: Aggregate, positive: bool, limit: int, offset: int
) -> list[tuple[int, Profile]]:
    sign = ">" if positive else "<"
    rows = conn.execute(
        f"WITH {agg.cte} SELECT w.s, {COLUMNS} FROM w JOIN accounts ON accounts.id = w.account"
        f" WHERE w.s {sign} 0 ORDER BY w.s DESC, w.wvp LIMIT ? OFFSET ?",
        (*agg.params, limit, offset),
    ).fetchall()
    return [(r[0], to_profile(r[1:])) for r in rows]


def _zeros(conn: Conn, agg: Aggregate, limit: int, offset: int) -> list[tuple[int, Profile]]:
    rows = conn.execute(
        f"WITH {agg.cte} SELECT {COLUMNS} FROM accounts WHERE {agg.scope.where}"
        f" AND id NOT IN (SELECT account FROM w) ORDER BY vp_id LIMIT ? OFFSET ?",
        (*agg.params, *agg.scope.params, limit, offset),
    ).fetchall()
    return [(0, to_profile(r)) for r in rows]


def _signed_counts(conn: Conn, agg: Aggregate) -> tuple[int, int]:
    # count(CASE ...), not sum() of a comparison: in PostgreSQL a comparison is a
    # boolean, which sum() does not take.
    row = conn.execute(
        f"WITH {agg.cte} SELECT count(CASE WHEN s > 0 THEN 1 END),"
        " count(CASE WHEN s < 0 THEN 1 END) FROM w",
        agg.params,
    ).fetchone()
    return row[0], row[1]


def window_page(
    conn: Conn,
    metric: Metric,
    guild_id: int | None,
    window: Window,
    limit: int,
    offset: int,
) -> list[tuple[int, Profile]]:
    """Ranks offset+1 … offset+limit of the window's top: one aggregate of the
    window, so a page, not a stream (storage/ordered_tops.py streams)."""
    agg = aggregate(conn, metric, guild_id, window)
    out = _signed(conn, agg, True, limit, offset)  # usually the whole answer: one pass
    if len(out) == limit:
        return out
    if out or offset == 0:
        pos = offset + len(out)
        neg = _signed_counts(conn, agg)[1]
    else:
        pos, neg = _signed_counts(conn, agg)
    at, end = offset + len(out), offset + limit
    at = max(at, pos)
    if at >= end:
        return out
    total = count(conn, agg.scope)
    zeros = total - pos - neg
    if at < pos + zeros:
        take = min(end, pos + zeros) - at
        out += _zeros(conn, agg, take, at - pos)
        at += take
    if at < end and at < total:
        out += _signed(conn, agg, False, min(end, total) - at, at - pos - zeros)
    return out


def window_rank(
    conn: Conn, metric: Metric, guild_id: int | None, window: Window, vp_id: str
) -> tuple[int, int, int]:
    """(rank, score, total) of one profile, with SQL counts over the aggregate."""
    agg = aggregate(conn, metric, guild_id, window)
    # `w` is used twice, so SQLite materializes it once: one pass over the window.
    score, higher, tied_before, nonzero, nonzero_before = conn.execute(
        f"WITH {agg.cte}, me(score) AS (SELECT coalesce((SELECT s FROM w WHERE wvp = ?), 0))"
        " SELECT me.score, count(CASE WHEN w.s > me.score THEN 1 END),"
        " count(CASE WHEN w.s = me.score AND w.wvp < ? THEN 1 END), count(w.s),"
        " count(CASE WHEN w.wvp < ? THEN 1 END) FROM me LEFT JOIN w ON 1 = 1 GROUP BY me.score",
        (*agg.params, vp_id, vp_id, vp_id),
    ).fetchone()
    total = count(conn, agg.scope)
    zeros = total - nonzero
    ahead = higher + tied_before
    if score < 0:
        ahead += zeros
    elif score == 0:
        before: Any = conn.execute(
            f"SELECT count(*) FROM accounts WHERE {agg.scope.where} AND vp_id < ?",
            (*agg.scope.params, vp_id),
        ).fetchone()[0]
        ahead += before - nonzero_before
    return ahead + 1, score, total
