"""The query plan of every SELECT a read issues, on the run's engine: for the tests
that check a read walks an index in order (no sort) or reads an index range.

SQLite: its `EXPLAIN QUERY PLAN` of each statement, traced as run. PostgreSQL: its
`EXPLAIN` of each statement as executed, with sequential scans and sorts priced out
of reach (`enable_seqscan`, `enable_sort` off): on a test's few rows the planner
would rightly prefer them, so a plan that still holds one shows that no index
serves the statement, which at a million profiles means reading them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests import backend

__all__ = ["plans"]


def _is_select(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SELECT", "WITH"))


def plans(db: Any, run: Callable[[Any], object]) -> list[tuple[str, str]]:
    """(statement, plan) of every SELECT `run(db)` issues, in order."""
    if not backend.POSTGRES:
        traced: list[str] = []
        db.set_trace_callback(traced.append)
        try:
            run(db)
        finally:
            db.set_trace_callback(None)
        return [
            (q, " | ".join(str(row[3]) for row in db.execute(f"EXPLAIN QUERY PLAN {q}")))
            for q in traced
            if _is_select(q)
        ]
    seen: list[tuple[str, tuple]] = []
    execute = db.execute

    def recording(sql: str, params: Any = ()) -> Any:
        seen.append((sql, tuple(params)))
        return execute(sql, params)

    db.execute = recording  # this connection only, for the length of `run`
    try:
        run(db)
    finally:
        del db.execute
    execute("SET enable_seqscan = off")
    execute("SET enable_sort = off")
    try:
        return [
            (sql, " | ".join(row[0] for row in execute(f"EXPLAIN {sql}", params)))
            for sql, params in seen
            if _is_select(sql)
        ]
    finally:
        execute("RESET enable_seqscan")
        execute("RESET enable_sort")
