"""The ledger under concurrent load and a crash, against the real server process.

Bounded: 8 clients x 100 requests; the crash test runs its load for about a second.
Random choices print their seed (VOICEPROFILE_TEST_SEED replays one).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from storage.ids import vp_id
from tests import backend
from tests.conftest import Server, start_server

pytestmark = pytest.mark.server

G = 9
USERS = [vp_id(G, u) for u in range(1, 5)]
CLIENTS, REQUESTS = 8, 100


def _seed() -> int:
    seed = int(os.environ.get("VOICEPROFILE_TEST_SEED") or random.randrange(2**32))
    print(f"seed {seed} (replay with VOICEPROFILE_TEST_SEED={seed})")
    return seed


def _bot(server: Server) -> str:
    with server.client() as c:
        made = c.post("/keys", json={"name": "load", "bot_id": "4242"})
        assert made.status_code == 201, made.text
        key: str = made.json()["key"]
        bot = server.client(key)
        for user in range(1, 5):
            assert bot.post(f"/profile/{G}/{user}", json={"voicepoints": 100}).status_code == 201
        bot.close()
    return key


def _balances(db: Path) -> dict[str, int]:
    conn = backend.connect(db)
    try:
        return dict(conn.execute("SELECT vp_id, balance FROM accounts"))
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


def _random_body(rng: random.Random) -> dict[str, Any]:
    sides = [*USERS, "self"]
    src = rng.choice(sides)
    dst = rng.choice([s for s in sides if s != src])
    return {"from": src, "to": dst, "amount": rng.randint(1, 60)}


def test_concurrent_transfers_conserve_and_match_the_acknowledged(server: Server) -> None:
    key = _bot(server)
    start = _balances(server.db)
    seed = _seed()
    acked: list[dict[str, Any]] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def client(n: int) -> None:
        rng = random.Random(seed + n)
        with server.client(key) as c:
            for _ in range(REQUESTS):
                r = c.post("/transaction", json=_random_body(rng))
                with lock:
                    statuses[r.status_code] += 1
                    if r.status_code == 201:
                        acked.append(r.json())

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sum(statuses.values()) == CLIENTS * REQUESTS
    assert set(statuses) <= {201, 409}, statuses
    assert statuses[201] > 0
    final = _balances(server.db)
    assert sum(final.values()) == 0
    assert all(final[u] >= 0 for u in USERS)
    replay = dict(start)
    for t in acked:
        replay[t["from"]["id"]] -= t["amount"]
        replay[t["to"]["id"]] += t["amount"]
    assert replay == final
    assert len({t["id"] for t in acked}) == len(acked)
    done = _verify(server.db)
    assert done.returncode == 0, done.stdout


def test_concurrent_requests_with_one_key_move_money_once(server: Server) -> None:
    key = _bot(server)
    body = {"from": USERS[0], "to": USERS[1], "amount": 7}
    results: list[httpx.Response] = []
    lock = threading.Lock()
    go = threading.Barrier(16)

    def client() -> None:
        with server.client(key) as c:
            go.wait()
            r = c.post("/transaction", json=body, headers={"Idempotency-Key": "once"})
            with lock:
                results.append(r)

    threads = [threading.Thread(target=client) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 16
    assert {(r.status_code, r.content) for r in results} == {(201, results[0].content)}
    final = _balances(server.db)
    assert (final[USERS[0]], final[USERS[1]]) == (93, 107)


def test_kill_9_loses_nothing_acknowledged(server: Server, tmp_path: Path) -> None:
    key = _bot(server)
    seed = _seed()
    acked: list[dict[str, Any]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        rng = random.Random(seed + n)
        with httpx.Client(base_url=server.url, headers={"Authorization": key}, timeout=5) as c:
            for _ in range(2000):  # bounded even if the kill came late
                if stop.is_set():
                    return
                body = _random_body(rng)
                try:
                    r = c.post("/transaction", json=[body, body] if rng.random() < 0.3 else body)
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 201:
                    with lock:
                        got = r.json()
                        acked.extend(got if isinstance(got, list) else [got])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(acked) < 150:
        time.sleep(0.05)
    os.killpg(server.process.pid, signal.SIGKILL)  # the server and its granian worker
    server.process.wait(10)
    stop.set()
    for t in threads:
        t.join(30)
    assert acked, "no transfer was acknowledged before the kill"

    again = start_server(server.db, tmp_path / "after-crash.log")
    try:
        with again.client(key) as c:
            for t in acked:
                got = c.get(f"/transaction/{t['id']}")
                assert got.status_code == 200, (t, got.text)
                assert got.json() == t
    finally:
        again.stop()
    done = _verify(server.db)
    assert done.returncode == 0, done.stdout
