"""Several server processes on one host keep one set of in-memory boards: the first
to start keeps them, the others ask it (storage/boards/shared.py), and answers are
the same, exact and current whichever process a client reaches. When the keeper
dies another process keeps them.

Bounded: two servers, a few dozen requests, each wait at most 30 s.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, start_server
from tests.test_ledger_concurrency import USERS, G, _balances, _bot, _verify

pytestmark = pytest.mark.server

READS = [
    f"/profile/{G}/top?by=points&amount=10",
    "/profile/top?by=points&amount=10",
    f"/profile/{G}/top?by=points&amount=10&timeframe=week",
    f"/profile/{G}/1/rank?by=points",
    f"/profile/{G}/top?by=points&amount=0",  # streamed
    "/stats",
]


# Streamed tops go two profiles a chunk, so a stream crosses processes mid-way.
# One worker each, whatever the run's environment says: the tests tell the two
# processes apart (VOICEPROFILE_WORKERS=2 runs the other real-server tests on two).
ENV = {"VOICEPROFILE_STREAM_CHUNK": "2", "VOICEPROFILE_WORKERS": "1"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The first server process: it keeps the boards."""
    srv = start_server(tmp_path / "server.db", tmp_path / "server.log", env=ENV)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def second(server: Server, tmp_path: Path) -> Iterator[Server]:
    """Another server process on the first one's database, started after it."""
    srv = start_server(server.db, tmp_path / "second.log", env=ENV)
    srv.admin_key = server.admin_key
    try:
        yield srv
    finally:
        srv.stop()


def _scrape(server: Server) -> tuple[int, dict[str, int]]:
    """(boards_kept, {board: size}) from one process's /metrics."""
    with server.client() as c:
        text = c.get("/metrics").text
    kept = re.search(r"^voiceprofile_boards_kept (\S+)$", text, re.M)
    assert kept is not None, text
    sizes = re.findall(r'^voiceprofile_board_size\{board="([^"]+)"\} (\S+)$', text, re.M)
    return int(float(kept[1])), {name: int(float(n)) for name, n in sizes}


def _until(check: Callable[[], Any], what: str, seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def _answers(server: Server, key: str) -> list[Any]:
    with server.client(key) as c:
        got = [c.get(path) for path in READS]
    assert [r.status_code for r in got] == [200] * len(READS), [r.text for r in got]
    return [r.json() for r in got]


def _expected_top(db: Path) -> list[tuple[str, int]]:
    balances = _balances(db)
    return sorted(((vp, b) for vp, b in balances.items() if vp in USERS), key=lambda x: -x[1])


def _top(answer: list[dict[str, Any]]) -> list[int]:
    return [row["score"] for row in answer]


def test_one_process_keeps_the_boards_and_the_other_asks_it(server: Server, second: Server) -> None:
    key = _bot(server)
    with server.client(key) as c:
        for n, amount in enumerate((7, 3, 11)):
            body = {"from": USERS[n], "to": USERS[n + 1], "amount": amount}
            assert c.post("/transaction", json=body).status_code == 201
    _answers(second, key)  # the keeper starts building what the second asked for
    _until(lambda: "points" in _scrape(server)[1], "the keeper built the points board")
    assert _scrape(server)[0] == 1
    assert _scrape(second) == (0, {}), "the second process built boards of its own"
    # Both answer the same, from the one set of boards, and current: a transfer
    # acknowledged by one process is in the next top read through the other.
    for n in range(3):
        via, other = (second, server) if n % 2 else (server, second)
        with via.client(key) as c:
            body = {"from": USERS[3], "to": USERS[n], "amount": 5 + n}
            assert c.post("/transaction", json=body).status_code == 201
        a, b = _answers(other, key), _answers(via, key)
        assert a == b
        want = [points for _, points in _expected_top(server.db)]
        assert _top(a[0]) == want
        assert _top(a[4]) == want
    assert _scrape(second) == (0, {}), "answers came from the second process's own boards"


def test_when_the_keeper_dies_another_process_keeps_the_boards(
    server: Server, second: Server
) -> None:
    key = _bot(server)
    _answers(second, key)
    _until(lambda: "points" in _scrape(server)[1], "the keeper built the points board")
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(10)
    with second.client(key) as c:
        body = {"from": USERS[0], "to": USERS[2], "amount": 9}
        assert c.post("/transaction", json=body).status_code == 201
    # The next read finds the keeper gone: the second keeps the boards from now on,
    # and every answer meanwhile (SQL while the board builds) is exact.
    want = [points for _, points in _expected_top(second.db)]
    assert _top(_answers(second, key)[0]) == want
    _until(lambda: _answers(second, key) and "points" in _scrape(second)[1], "a new keeper")
    assert _scrape(second)[0] == 1
    assert _top(_answers(second, key)[0]) == want
    assert second.stop() == 0
    done = _verify(second.db)
    assert done.returncode == 0, done.stdout
