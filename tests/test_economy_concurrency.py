"""The economy under parallel requests and a crash, against the real server process:
no client can make a purchase or a claim happen twice (SPEC §13).

Each test is bounded: at most 50 requests fired together through a barrier.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests import backend
from tests.conftest import Server, start_server

pytestmark = pytest.mark.server

G = 31


def _bot(server: Server) -> str:
    with server.client() as c:
        made = c.post("/keys", json={"name": "shop", "bot_id": "5150"})
        assert made.status_code == 201, made.text
        return str(made.json()["key"])


def _together(
    server: Server, key: str, n: int, call: Callable[[httpx.Client, int], httpx.Response]
) -> list[httpx.Response]:
    """`n` clients, each on its own connection, fire at once; their answers."""
    results: list[httpx.Response] = []
    lock = threading.Lock()
    go = threading.Barrier(n, timeout=60)

    def client(i: int) -> None:
        with server.client(key) as c:
            go.wait()
            r = call(c, i)
            with lock:
                results.append(r)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == n
    return results


def _count(db: Path, sql: str) -> int:
    conn = backend.connect(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def _verify(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "ledger", "verify", "--db", str(backend.target(db))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
    )


def test_fifty_buyers_of_the_last_item_one_gets_it(server: Server) -> None:
    key = _bot(server)
    with server.client(key) as c:
        assert (
            c.put(
                f"/shop/{G}/items/crown", json={"name": "Crown", "price": 10, "stock": 1}
            ).status_code
            == 201
        )
        funded = [{"guild_id": G, "user_id": u, "experience": 0} for u in range(1, 51)]
        assert c.patch("/profile/add", json=funded).status_code == 200
        pay = [
            {"from": "self", "to": {"guild_id": G, "user_id": u}, "amount": 10}
            for u in range(1, 51)
        ]
        assert c.post("/transaction", json=pay).status_code == 201

    results = _together(
        server, key, 50, lambda c, i: c.post(f"/shop/{G}/items/crown/buy", json={"user_id": i + 1})
    )
    statuses = Counter(r.status_code for r in results)
    assert statuses == {201: 1, 409: 49}, statuses
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"out_of_stock"}
    assert _count(server.db, "SELECT count(*) FROM ledger WHERE kind = 6") == 1
    assert _count(server.db, "SELECT sum(quantity) FROM inventory") == 1
    assert _count(server.db, "SELECT stock FROM shop_items") == 0
    done = _verify(server.db)
    assert done.returncode == 0, done.stdout


def test_fifty_claims_by_one_member_pay_once(server: Server) -> None:
    key = _bot(server)
    with server.client(key) as c:
        assert (
            c.put(f"/rewards/{G}/daily", json={"amount": 100, "period": "day"}).status_code == 201
        )

    results = _together(
        server, key, 50, lambda c, i: c.post(f"/rewards/{G}/daily/claim", json={"user_id": 7})
    )
    statuses = Counter(r.status_code for r in results)
    assert statuses == {201: 1, 409: 49}, statuses
    assert all("Retry-After" in r.headers for r in results if r.status_code == 409)
    assert _count(server.db, "SELECT count(*) FROM ledger WHERE kind = 8") == 1
    assert _count(server.db, "SELECT count(*) FROM reward_claims") == 1
    with server.client(key) as c:
        assert c.get(f"/profile/{G}/7").json()["voicepoints"] == 100


def test_twenty_buys_with_one_idempotency_key_buy_once(server: Server) -> None:
    key = _bot(server)
    with server.client(key) as c:
        assert (
            c.put(f"/shop/{G}/items/potion", json={"name": "Potion", "price": 3}).status_code == 201
        )
        assert c.post(f"/profile/{G}/1", json={"voicepoints": 100}).status_code == 201

    results = _together(
        server,
        key,
        20,
        lambda c, i: c.post(
            f"/shop/{G}/items/potion/buy",
            json={"user_id": 1, "quantity": 2},
            headers={"Idempotency-Key": "cart-1"},
        ),
    )
    assert {(r.status_code, r.content) for r in results} == {(201, results[0].content)}
    assert _count(server.db, "SELECT count(*) FROM item_log") == 1
    with server.client(key) as c:
        assert c.get(f"/profile/{G}/1").json()["voicepoints"] == 94
        assert c.get(f"/profile/{G}/1/inventory").json()[0]["quantity"] == 2


def test_a_claims_cooldown_survives_kill_9_and_a_restart(server: Server, tmp_path: Path) -> None:
    key = _bot(server)
    with server.client(key) as c:
        assert c.put(f"/rewards/{G}/daily", json={"amount": 5, "cooldown": 3600}).status_code == 201
        first = c.post(f"/rewards/{G}/daily/claim", json={"user_id": 3})
        assert first.status_code == 201, first.text
    os.killpg(server.process.pid, signal.SIGKILL)  # the server and its granian worker
    server.process.wait(10)

    again = start_server(server.db, tmp_path / "after-kill.log")
    try:
        with again.client(key) as c:
            refused = c.post(f"/rewards/{G}/daily/claim", json={"user_id": 3})
            assert (refused.status_code, refused.json()["code"]) == (409, "cooldown")
            assert refused.json()["next_claim_at"] == first.json()["next_claim_at"]
            assert 0 < int(refused.headers["Retry-After"]) <= 3600
            standing = c.get(f"/rewards/{G}/daily/3").json()
            assert (standing["claimable"], standing["streak"]) == (False, 1)
            assert c.get(f"/profile/{G}/3").json()["voicepoints"] == 5
    finally:
        again.stop()
    done = _verify(server.db)
    assert done.returncode == 0, done.stdout
