"""The benchmark's baseline (benchmarks/typical_fastapi.py) must be a correct
transfer service, or the ratio bench_http.py prints would compare against a
shortcut: it moves money and records it, and refuses an overdraft changing nothing."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import httpx

from benchmarks.typical_fastapi import create_app, seed

KEY = "k"


def _state(db: Path) -> tuple[dict[str, int], list[tuple]]:
    with closing(sqlite3.connect(db)) as c:
        balances = dict(c.execute("SELECT id, balance FROM accounts"))
        rows = c.execute("SELECT from_id, to_id, amount, reason FROM ledger").fetchall()
    return balances, rows


async def test_typical_baseline_moves_money_and_refuses_an_overdraft(tmp_path: Path) -> None:
    db = tmp_path / "typical.db"
    seed(str(db), [("a", 100), ("b", 0)])
    app = create_app(str(db), KEY)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"Authorization": KEY}
    ) as client:
        gift = {"from": "a", "to": "b", "amount": 30, "reason": "gift"}
        moved = await client.post("/transaction", json=gift)
        assert moved.status_code == 201
        assert moved.json()["balances"] == {"from": 70, "to": 30}
        assert moved.json()["from"] == "a"
        refused = await client.post("/transaction", json={"from": "b", "to": "a", "amount": 31})
        assert refused.status_code == 409
        stranger = {"Authorization": "wrong"}
        one = {"from": "a", "to": "b", "amount": 1}
        assert (await client.post("/transaction", json=one, headers=stranger)).status_code == 401
    app.state.engine.dispose()
    assert _state(db) == ({"a": 70, "b": 30}, [("a", "b", 30, "gift")])
