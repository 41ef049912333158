"""Tops (leaderboards) and ranks over all time, SPEC §7.

Every metric orders by its keys descending, then by profile id ascending. Each
(metric, scope) but `points` and `experience` has an index in exactly that order
(migration 0003), so a page of a top is an index walk and a rank is a few index
range counts. `points` reads the scope's rows (no index on a balance, which every
transfer changes), and so does `experience` (an index on it would be one more
index every experience gain rewrites; issue 14): both are served by an in-memory
board once it is built (storage/boards/registry.py). Nothing is sorted in Python. Treasuries and
deleted profiles are not `open` and never appear.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from schemas.profiles import Profile
from storage.engine.base import Conn
from storage.ids import pad
from storage.queries.profiles import COLUMNS, to_profile

__all__ = [
    "METRICS",
    "Metric",
    "Scope",
    "chunk_after",
    "count",
    "key_values",
    "order_by",
    "page",
    "rank",
]


class Metric(NamedTuple):
    keys: tuple[str, ...]  # SQL expressions, each ordered descending; the first is the score
    activity: str | None  # what a window sums: "ledger", an activity column, or None
    indexed: bool = True  # an index gives this order (keyset paging is cheap)


METRICS: dict[str, Metric] = {
    "points": Metric(("balance",), "ledger", indexed=False),  # see migration 0003
    "levels": Metric(("level", "experience"), "experience"),
    # Experience alone: more XP ranks above a higher level (issue 14). Its window is
    # the experience gained, as for `levels`; no index (see the module docstring).
    "experience": Metric(("experience",), "experience", indexed=False),
    "time": Metric(("time_global",), "time"),
    "text-level": Metric(("coalesce(text_level, 0)", "coalesce(text_experience, 0)"), None),
    "text-message": Metric(("coalesce(text_messages, 0)",), "messages"),
    "pray-streak": Metric(("pray_streak",), None),
}


class Scope(NamedTuple):
    where: str
    params: tuple

    @classmethod
    def of(cls, guild_id: int | None) -> Scope:
        if guild_id is None:
            return cls("open = 1", ())
        return cls("open = 1 AND guild_id = ?", (pad(guild_id),))


def _order(metric: Metric, skip: int = 0) -> str:
    """ORDER BY of the top; `skip` leaves out leading keys a query holds equal (the
    planner then sees that an expression index gives the order without a sort)."""
    return "".join(f"{k} DESC, " for k in metric.keys[skip:]) + "vp_id"


def _select(metric: Metric) -> str:
    return f"SELECT {', '.join(metric.keys)}, {COLUMNS} FROM accounts"


def _rows(rows: list[Any], metric: Metric) -> list[tuple[int, Profile]]:
    n = len(metric.keys)
    return [(r[0], to_profile(r[n:])) for r in rows]


def count(conn: Conn, scope: Scope) -> int:
    return conn.execute(
        f"SELECT count(*) FROM accounts WHERE {scope.where}", scope.params
    ).fetchone()[0]


def page(
    conn: Conn, metric: Metric, scope: Scope, limit: int, offset: int
) -> list[tuple[int, Profile]]:
    """`(score, profile)` of ranks offset+1 … offset+limit."""
    rows = conn.execute(
        f"{_select(metric)} WHERE {scope.where} ORDER BY {_order(metric)} LIMIT ? OFFSET ?",
        (*scope.params, limit, offset),
    ).fetchall()
    return _rows(rows, metric)


def order_by(metric: Metric) -> str:
    """The ORDER BY terms of the metric's top (storage/ordered_tops.py sorts a
    scope once by them when no index gives the order)."""
    return _order(metric)


def _level(
    keys: tuple[str, ...], values: tuple[int, ...], vp: str, level: int, key_op: str, vp_op: str
) -> tuple[str, list[Any]]:
    """One index range of a keyset comparison: rows equal to `values` on the first
    `level` keys and `key_op` on the next one, or, once every key is equal, `vp_op`
    on vp_id. Paging walks these ranges after a cursor; a rank counts those ahead."""
    conds = [f"{k} = ?" for k in keys[:level]]
    params: list[Any] = list(values[:level])
    if level == len(keys):
        conds.append(f"vp_id {vp_op} ?")
        params.append(vp)
    else:
        conds.append(f"{keys[level]} {key_op} ?")
        params.append(values[level])
    return " AND ".join(conds), params


Cursor = tuple[tuple[int, ...], str]  # the last row's key values and vp_id


def chunk_after(
    conn: Conn, metric: Metric, scope: Scope, after: Cursor | None, size: int
) -> tuple[list[tuple[int, Profile]], Cursor | None]:
    """The next `size` rows after `after`, for streaming a whole top with flat memory.

    Keyset paging with mixed directions (keys descending, vp_id ascending) is one
    index range per level: same keys and a later vp_id, then same first keys and a
    smaller next key, … so each query seeks instead of skipping an offset.
    """
    keys = metric.keys
    order = _order(metric)
    found: list[Any] = []
    if after is None:
        found = conn.execute(
            f"{_select(metric)} WHERE {scope.where} ORDER BY {order} LIMIT ?",
            (*scope.params, size),
        ).fetchall()
    else:
        values, vp = after
        for level in range(len(keys), -1, -1):
            need = size - len(found)
            if need <= 0:
                break
            where, params = _level(keys, values, vp, level, key_op="<", vp_op=">")
            found += conn.execute(
                f"{_select(metric)} WHERE {scope.where} AND {where}"
                f" ORDER BY {_order(metric, level)} LIMIT ?",
                (*scope.params, *params, need),
            ).fetchall()
    if not found:
        return [], None
    last = found[-1]
    n = len(keys)
    return _rows(found, metric), (tuple(last[:n]), last[n])


def key_values(conn: Conn, metric: Metric, vp_id: str) -> tuple[int, ...] | None:
    row = conn.execute(
        f"SELECT {', '.join(metric.keys)} FROM accounts WHERE vp_id = ? AND open = 1", (vp_id,)
    ).fetchone()
    return None if row is None else tuple(row)


def rank(conn: Conn, metric: Metric, scope: Scope, values: tuple[int, ...], vp_id: str) -> int:
    """1 + the number of profiles ahead: one index range count per key level."""
    keys = metric.keys
    ahead = 0
    for level in range(len(keys) + 1):
        where, params = _level(keys, values, vp_id, level, key_op=">", vp_op="<")
        ahead += conn.execute(
            f"SELECT count(*) FROM accounts WHERE {scope.where} AND {where}",
            (*scope.params, *params),
        ).fetchone()[0]
    return ahead + 1
