"""Several server processes on one database (`serve --workers N`, or servers side by
side): the ledger stays exactly what one process would keep, and a process dying
costs nothing acknowledged.

Bounded: 8 clients x 60 requests over two servers; the kill test runs its load for
at most ten seconds. Random choices print their seed (VOICEPROFILE_TEST_SEED).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import backend
from tests.conftest import Server, free_port, start_server
from tests.receivers import Receiver
from tests.test_keys_cli import cli
from tests.test_ledger_concurrency import USERS, _balances, _bot, _random_body, _seed, _verify

pytestmark = pytest.mark.server


@pytest.fixture
def second(server: Server, tmp_path: Path) -> Iterator[Server]:
    """Another server process on the first one's database."""
    srv = start_server(server.db, tmp_path / "second.log")
    srv.admin_key = server.admin_key
    try:
        yield srv
    finally:
        srv.stop()


def _ledger_ids(db: Path) -> list[int]:
    conn = backend.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM ledger ORDER BY id")]
    finally:
        conn.close()


def test_two_processes_keep_one_exact_ledger(server: Server, second: Server) -> None:
    key = _bot(server)
    start = _balances(server.db)
    seed = _seed()
    acked: list[dict[str, Any]] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def client(n: int) -> None:
        rng = random.Random(seed + n)
        srv = (server, second)[n % 2]
        with srv.client(key) as c:
            for _ in range(60):
                r = c.post("/transaction", json=_random_body(rng))
                with lock:
                    statuses[r.status_code] += 1
                    if r.status_code == 201:
                        acked.append(r.json())

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sum(statuses.values()) == 8 * 60
    assert set(statuses) <= {201, 409}, statuses
    final = _balances(server.db)
    assert sum(final.values()) == 0
    assert all(final[u] >= 0 for u in USERS)  # no overdraft across processes
    replay = dict(start)
    for t in acked:
        replay[t["from"]["id"]] -= t["amount"]
        replay[t["to"]["id"]] += t["amount"]
    assert replay == final
    ids = _ledger_ids(server.db)
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # commit order, no gaps
    # Each process reads what the other committed, its in-memory boards included.
    want = sorted((-final[u], u) for u in USERS)
    for srv in (server, second):
        with srv.client(key) as c:
            top = c.get("/profile/9/top", params={"by": "points", "limit": 10})
            got = [(-row["profile"]["voicepoints"], row["profile"]["id"]) for row in top.json()]
            assert [g[0] for g in got] == [w[0] for w in want], top.text
    done = _verify(server.db)
    assert done.returncode == 0, done.stdout


def test_one_idempotency_key_in_two_processes_moves_money_once(
    server: Server, second: Server
) -> None:
    key = _bot(server)
    body = {"from": USERS[0], "to": USERS[1], "amount": 7}
    results: list[httpx.Response] = []
    lock = threading.Lock()
    go = threading.Barrier(16)

    def client(n: int) -> None:
        with (server, second)[n % 2].client(key) as c:
            go.wait()
            r = c.post("/transaction", json=body, headers={"Idempotency-Key": "once"})
            with lock:
                results.append(r)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 16
    assert {(r.status_code, r.content) for r in results} == {(201, results[0].content)}
    final = _balances(server.db)
    assert (final[USERS[0]], final[USERS[1]]) == (93, 107)


def test_callback_events_are_sent_once_and_a_survivor_takes_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events committed through either process arrive once each (one process holds
    the delivery lease); when that process dies, the other one delivers."""
    monkeypatch.setenv("VOICEPROFILE_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("VOICEPROFILE_CALLBACK_POLL", "0.1")
    receiver = Receiver(free_port()).start()
    db = tmp_path / "s.db"
    servers = [start_server(db, tmp_path / "a.log")]
    try:
        servers.append(start_server(db, tmp_path / "b.log"))
        key = servers[0].admin_key
        with servers[0].client(key) as http:
            body = {"url": receiver.url, "secret": "s" * 32}
            assert http.put("/callback/profile.create", json=body).status_code == 200
        for user in range(1, 21):
            with servers[user % 2].client(key) as http:
                assert http.post(f"/profile/1/{user}").status_code == 201
        events = receiver.wait_for(20)
        time.sleep(1.0)  # ten polls: time for a second sender to show up
        users = sorted(int(e["data"]["user_id"]) for e in receiver.wait_for(20))
        assert users == list(range(1, 21)), users  # each once
        assert len(events) == 20
        holder = next(s for s in servers if _holds(s, db))
        survivor = next(s for s in servers if s is not holder)
        os.killpg(holder.process.pid, signal.SIGKILL)
        holder.process.wait(10)
        with survivor.client(key) as http:
            assert http.post("/profile/1/99").status_code == 201
        users = [int(e["data"]["user_id"]) for e in receiver.wait_for(21)]
        assert users.count(99) == 1
    finally:
        for s in servers:
            s.stop()
        receiver.stop()


def _pids(server: Server) -> set[str]:
    """The server's process and its granian workers."""
    pid = server.process.pid
    return {str(pid), *Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def _holds(server: Server, db: Path) -> bool:
    """Whether one of this server's processes holds the delivery lease."""
    return _holds_pg(server, db) if backend.POSTGRES else _holds_flock(server, db)


def _holds_pg(server: Server, db: Path) -> bool:
    """The session holding the advisory lock (storage/engine/lease.py) came from a
    TCP port on 127.0.0.1; the socket bound to it is open in one of the server's
    processes (/proc/net/tcp gives the socket's inode, /proc/PID/fd its owners)."""
    conn = backend.connect(db)
    try:
        row = conn.execute(
            "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 30321"
            " AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())"
        ).fetchone()
    finally:
        conn.close()
    if row is None:
        return False
    inodes = {
        fields[9]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if int((fields := line.split())[1].split(":")[1], 16) == row[0]
    }
    sockets = {f"socket:[{inode}]" for inode in inodes}
    for pid in _pids(server):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):  # closed meanwhile
                if os.readlink(fd) in sockets:
                    return True
    return False


def _holds_flock(server: Server, db: Path) -> bool:
    """/proc/locks names the flock's holding pid and the lock file's inode."""
    inode = Path(f"{db}-callbacks.lock").stat().st_ino
    pids = _pids(server)
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "FLOCK" in fields and fields[4] in pids and fields[5].endswith(f":{inode}"):
            return True
    return False


def test_kill_9_of_one_process_loses_nothing_and_the_other_answers(
    server: Server, second: Server
) -> None:
    key = _bot(server)
    seed = _seed()
    acked: list[dict[str, Any]] = []
    errors: Counter[int] = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        rng = random.Random(seed + n)
        url = (server, second)[n % 2].url
        with httpx.Client(base_url=url, headers={"Authorization": key}, timeout=5) as c:
            for _ in range(2000):  # bounded even if the kill came late
                if stop.is_set():
                    return
                try:
                    r = c.post("/transaction", json=_random_body(rng))
                except httpx.HTTPError:
                    if n % 2 == 0:
                        return  # the killed server is gone
                    raise
                with lock:
                    if r.status_code == 201:
                        acked.append(r.json())
                    elif r.status_code >= 500:
                        errors[r.status_code] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(acked) < 150:
        time.sleep(0.05)
    os.killpg(server.process.pid, signal.SIGKILL)  # the server and its granian worker
    server.process.wait(10)
    after = len(acked)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(acked) < after + 50:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(30)
    assert len(acked) >= after + 50, "the surviving process stopped answering"
    assert not errors, errors
    with second.client(key) as c:
        for t in acked:
            got = c.get(f"/transaction/{t['id']}")
            assert got.status_code == 200, (t, got.text)
            assert got.json() == t
    done = _verify(server.db)
    assert done.returncode == 0, done.stdout


def test_serve_workers_2_runs_two_processes_that_share_the_work(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "w.db", tmp_path / "w.log", env={"VOICEPROFILE_WORKERS": "2"})
    try:
        pid = srv.process.pid
        workers = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        assert len(workers) == 2, workers
        key = _bot(srv)
        statuses: Counter[int] = Counter()
        for n in range(40):  # a new connection each: the kernel spreads them
            body = {"from": USERS[n % 4], "to": USERS[(n + 1) % 4], "amount": 1}
            r = httpx.post(f"{srv.url}/transaction", json=body, headers={"Authorization": key})
            statuses[r.status_code] += 1
        assert statuses == {201: 40}
        assert sum(_balances(srv.db)[u] for u in USERS) == 400
    finally:
        assert srv.stop() == 0
    done = _verify(srv.db)
    assert done.returncode == 0, done.stdout


def test_a_key_rotated_or_revoked_in_one_process_stops_at_once_in_the_other(
    server: Server, second: Server
) -> None:
    """Each process caches a verified key for KEY_CACHE_SECONDS (5 s); a rotation
    through one process, or `keys revoke` from the CLI, ends it in every process
    on the host at once (storage/engine/host.py)."""
    with server.client() as admin:
        made = admin.post("/keys", json={"name": "bot", "bot_id": "42"})
    assert made.status_code == 201, made.text
    old = made.json()["key"]

    def status(srv: Server, key: str) -> int:
        with srv.client(key) as c:
            return c.get("/auth/me").status_code

    assert [status(server, old), status(second, old)] == [200, 200]  # cached in both
    with server.client(old) as c:
        rotated = c.post("/auth/reset_token")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["key"]
    assert [status(second, old), status(server, old)] == [401, 401]
    assert [status(second, new), status(server, new)] == [200, 200]
    done = cli("keys", "revoke", str(made.json()["id"]), "--db", str(backend.target(server.db)))
    assert done.returncode == 0, done.stderr
    assert [status(server, new), status(second, new)] == [401, 401]
