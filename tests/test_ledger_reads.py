"""GET /transaction stays fast on a big ledger: its queries walk indexes in id order
and stop at the page, instead of sorting every match (checked on the query plans).

sqlite_only: SQLite's plans (EXPLAIN QUERY PLAN) of a file benchmarks/prefill.py
builds; the filters' results on PostgreSQL are checked by tests/test_transactions.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from benchmarks.prefill import prefill
from storage.engine.sqlite import connect
from storage.ids import treasury_id, vp_id
from storage.queries import ledger as ledger_reads

pytestmark = pytest.mark.sqlite_only


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    path = Path(tmp_path_factory.mktemp("reads")) / "reads.db"
    prefill(path, 3000, users=50)
    conn = connect(path)
    # no ANALYZE: the plans must hold on a database that never ran it
    yield conn
    conn.close()


def _plan(conn: sqlite3.Connection, f: ledger_reads.Filters) -> str:
    sql, params = ledger_reads._id_sql(ledger_reads._plan(conn, f), conn.dialect)
    rows = conn.execute(f"EXPLAIN QUERY PLAN {sql} ORDER BY id DESC LIMIT 50", params)
    return "\n".join(r[3] for r in rows)


@pytest.mark.parametrize(
    ("filters", "needles"),
    [
        (ledger_reads.Filters(), ["INTEGER PRIMARY KEY"]),
        (ledger_reads.Filters(vp_id=vp_id(1, 7)), ["MERGE (UNION)", "ledger_src", "ledger_dst"]),
        (ledger_reads.Filters(user_id=7), ["MERGE (UNION)", "ledger_src", "ledger_dst"]),
        (ledger_reads.Filters(vp_id=treasury_id(1)), ["MERGE (UNION)"]),
        (ledger_reads.Filters(src="7"), ["ledger_src (src=? AND rowid>? AND rowid<?)"]),
        (ledger_reads.Filters(dst=vp_id(1, 7)), ["ledger_dst (dst=? AND rowid>? AND rowid<?)"]),
        (ledger_reads.Filters(vp_id=vp_id(1, 7), before=2e9), ["rowid>? AND rowid<?"]),
        (ledger_reads.Filters(reason="lunch"), ["INTEGER PRIMARY KEY"]),
    ],
)
def test_filtered_pages_walk_indexes_without_sorting(
    ledger: sqlite3.Connection, filters: ledger_reads.Filters, needles: list[str]
) -> None:
    plan = _plan(ledger, filters)
    for needle in needles:
        assert needle in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # no sort of all matches


def test_pages_agree_with_a_plain_scan(ledger: sqlite3.Connection) -> None:
    account = ledger.execute("SELECT id FROM accounts WHERE vp_id = ?", (vp_id(1, 7),)).fetchone()[
        0
    ]
    expected = [
        r[0]
        for r in ledger.execute(
            "SELECT id FROM ledger WHERE src = ?1 OR dst = ?1 ORDER BY id DESC", (account,)
        )
    ]
    f = ledger_reads.Filters(vp_id=vp_id(1, 7))
    items, total = ledger_reads.entries(ledger, f, 20, 20)
    assert [t.id for t in items] == expected[20:40] and total == len(expected)
