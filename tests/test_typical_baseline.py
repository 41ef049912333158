"""The benchmark's baseline (benchmarks/typical_fastapi.py) must be a correct
transfer service, or the ratio bench_http.py prints would compare against a
shortcut: it moves money and records it, and refuses an overdraft changing nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from benchmarks.typical_fastapi import create_app, seed

KEY = "k"


def _state(db: Path) -> tuple[dict[str, int], list[tuple]]:
    with sqlite3.connect(db) as c:
        balances = dict(c.execute("SELECT id, balance FROM accounts"))
        rows = c.execute("SELECT from_id, to_id, amount, reason FROM ledger").fetchall()
    return balances, rows


async def test_typical_baseline_moves_money_and_refuses_an_overdraft(tmp_path: Path) -> None:
    db = tmp_path / "typical.db"
    seed(str(db), [("a", 100), ("b", 0)])
    transport = httpx.ASGITransport(app=create_app(str(db), KEY))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"Authorization": KEY}
    ) as client:
        moved = await client.post("/transaction", json={"from": "a", "to": "b", "amount": 30,
                                                  "reason": "gift"})  # fmt: skip
        assert moved.status_code == 201
        assert moved.json()["balances"] == {"from": 70, "to": 30}
        assert moved.json()["from"] == "a"
        refused = await client.post("/transaction", json={"from": "b", "to": "a", "amount": 31})
        assert refused.status_code == 409
        assert (await client.post("/transaction", json={"from": "a", "to": "b", "amount": 1},
                           headers={"Authorization": "wrong"})).status_code == 401  # fmt: skip
    assert _state(db) == ({"a": 70, "b": 30}, [("a", "b", 30, "gift")])
