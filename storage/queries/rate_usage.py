"""The rate-limit counts server processes exchange through the database
(migration 0013, app/rate_share.py)."""

from __future__ import annotations

import msgspec

from storage.engine.base import Conn
from storage.engine.writer import WriteContext

__all__ = ["Report", "others", "report_task"]


class Report(msgspec.Struct, frozen=True):
    """One process's counts in one window: (who, used) of each budget worth telling."""

    period: int
    window: int
    process: str
    used: list[tuple[str, int]]


_UPSERT = (
    "INSERT INTO rate_usage (period, window_no, who, process, used) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (period, window_no, who, process) DO UPDATE SET used = excluded.used"
)


def report_task(ctx: WriteContext, report: Report) -> None:
    """Store `report`'s counts, and drop every row of a window that has ended."""
    conn = ctx.conn
    conn.execute(
        "DELETE FROM rate_usage WHERE (window_no + 1) * period <= ?",
        (report.window * report.period,),
    )
    conn.executemany(
        _UPSERT,
        [(report.period, report.window, who, report.process, n) for who, n in report.used],
    )


def others(conn: Conn, period: int, window: int, process: str) -> dict[str, int]:
    """What every other process reported for `window`: used, by budget."""
    rows = conn.execute(
        "SELECT who, SUM(used) FROM rate_usage WHERE period = ? AND window_no = ?"
        " AND process <> ? GROUP BY who",
        (period, window, process),
    ).fetchall()
    return {who: int(used) for who, used in rows}
