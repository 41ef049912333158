"""Rate limits shared by several server processes on one database (issue 13,
app/rate_share.py): a budget spent through one process is spent in the others
within one exchange, on either backend."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.ratelimit import SHARE_FRACTION, RateLimiter
from storage.clock import ManualClock
from storage.engine.host import HostBudgets
from tests.conftest import Server, start_server
from tests.test_ratelimit_abuse import FakeAuth, call

LIMIT = 20


class Table:
    """rate_usage in memory: what app/rate_share.py writes and reads through the
    database, for limiters in one test."""

    def __init__(self, *limiters: RateLimiter) -> None:
        self.limiters = limiters
        self.rows: dict[tuple[int, str], int] = {}  # (limiter, who) -> used

    def exchange(self, n: int) -> None:
        """Limiter `n` tells its counts and learns the others'."""
        limiter = self.limiters[n]
        window, used = limiter.usage()
        self.rows.update({(n, who): count for who, count in used})
        others: dict[str, int] = {}
        for (m, who), count in self.rows.items():
            if m != n:
                others[who] = others.get(who, 0) + count
        limiter.learn(window, others)


def test_a_budget_spent_in_one_process_is_spent_in_the_other() -> None:
    clock = ManualClock()
    a, b = (RateLimiter(FakeAuth({}), LIMIT, 86400, clock=clock) for _ in range(2))
    table = Table(a, b)
    assert [call(a, "203.0.113.7") for _ in range(12)] == [200] * 12
    table.exchange(0)
    table.exchange(1)
    assert [call(b, "203.0.113.7") for _ in range(5)] == [200] * 5
    assert a.usage()[1] == []  # nothing new to tell
    table.exchange(1)
    table.exchange(0)
    table.exchange(0)  # what each knows of the others is replaced, not added up
    assert [call(a, "203.0.113.7") for _ in range(4)] == [200, 200, 200, 429]
    table.exchange(0)
    table.exchange(1)
    assert call(b, "203.0.113.7") == 429
    assert call(b, "198.51.100.1") == 200  # another address has its own budget
    clock.advance(86400)  # the next window: every budget starts again
    assert call(b, "203.0.113.7") == 200


def test_only_budgets_past_a_fraction_of_the_limit_are_told() -> None:
    limiter = RateLimiter(FakeAuth({}), 100, 86400, clock=ManualClock())
    floor = 100 // SHARE_FRACTION
    for _ in range(floor - 1):
        call(limiter, "203.0.113.7")
    assert limiter.usage()[1] == []
    call(limiter, "203.0.113.7")
    assert limiter.usage()[1] == [("a203.0.113.7", floor)]


def test_the_workers_of_one_host_count_together_exactly(tmp_path: Path) -> None:
    clock = ManualClock()
    a, b = (RateLimiter(FakeAuth({}), LIMIT, 86400, clock=clock) for _ in range(2))
    a.host = HostBudgets(tmp_path / "budgets.map")
    b.host = HostBudgets(tmp_path / "budgets.map")
    statuses = [call((a, b)[i % 3 == 0], "203.0.113.7") for i in range(30)]
    assert statuses == [200] * LIMIT + [429] * (30 - LIMIT)
    assert call(a, "198.51.100.1") == 200  # another address, its own slot
    # What either tells other hosts is the host's count, refused requests included.
    assert sorted(a.usage()[1]) == [("a198.51.100.1", 1), ("a203.0.113.7", 30)]
    clock.advance(86400)  # a new window takes the ended window's slots
    assert [call(b, "203.0.113.7") for _ in range(3)] == [200] * 3
    assert a.host.count("a203.0.113.7", int(clock.now() // 86400)) == 3


def test_a_key_one_worker_checked_is_charged_first_in_the_others(tmp_path: Path) -> None:
    """A worker runs a request of a key it has not checked yet and charges it when
    the answer starts (it cannot refuse what it has done): without the host
    knowing the key, each worker's first request of a spent key would pass."""
    clock = ManualClock()
    a, b = (RateLimiter(FakeAuth({"good": 7}), LIMIT, 86400, clock=clock) for _ in range(2))
    a.host = HostBudgets(tmp_path / "budgets.map")
    b.host = HostBudgets(tmp_path / "budgets.map")
    assert [call(a, "203.0.113.7", "good") for _ in range(LIMIT)] == [200] * LIMIT
    assert call(b, "198.51.100.1", "good") == 429  # b never checked it: the host knows it
    assert call(b, "198.51.100.1", "made-up") == 401  # unknown keys still pay by address


# -- real server processes ------------------------------------------------------------


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Two server processes on one database, a budget of LIMIT an hour, counts
    exchanged every 0.2 s."""
    env = {"VOICEPROFILE_RATE_LIMIT": f"{LIMIT}/hour", "VOICEPROFILE_RATE_SHARE_SECONDS": "0.2"}
    db = tmp_path / "shared.db"
    first = start_server(db, tmp_path / "first.log", env=env)
    try:
        second = start_server(db, tmp_path / "second.log", env=env)
        second.admin_key = first.admin_key
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def _get(client: httpx.Client) -> httpx.Response:
    return client.get("/auth/me")


@pytest.mark.server
def test_two_processes_share_one_budget(pair: tuple[Server, Server]) -> None:
    with pair[0].client() as a, pair[1].client() as b:
        r = _get(a)
        if int(r.headers["X-RateLimit-Reset"]) < 60:  # the hour is ending: take the next
            time.sleep(int(r.headers["X-RateLimit-Reset"]) + 1)
            r = _get(a)
        assert r.status_code == 200, r.text
        assert [_get(a).status_code for _ in range(11)] == [200] * 11
        time.sleep(1.5)  # several exchanges
        answers = [_get(b) for _ in range(10)]
        assert [r.status_code for r in answers] == [200] * 8 + [429] * 2
        assert [r.headers["X-RateLimit-Remaining"] for r in answers[:3]] == ["7", "6", "5"]
        time.sleep(1.5)
        refused = _get(a)
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate_limited"


@pytest.mark.server
def test_serve_workers_2_counts_one_budget_exactly(tmp_path: Path) -> None:
    """Each request on a new connection, so both workers take some: together they
    accept exactly the limit."""
    env = {"VOICEPROFILE_RATE_LIMIT": "10/hour", "VOICEPROFILE_WORKERS": "2"}
    srv = start_server(tmp_path / "w2.db", tmp_path / "w2.log", env=env)
    try:
        headers = {"Authorization": srv.admin_key}
        first = httpx.get(f"{srv.url}/auth/me", headers=headers, timeout=30)
        if int(first.headers["X-RateLimit-Reset"]) < 60:  # the hour is ending: take the next
            time.sleep(int(first.headers["X-RateLimit-Reset"]) + 1)
            first = httpx.get(f"{srv.url}/auth/me", headers=headers, timeout=30)
        rest = [httpx.get(f"{srv.url}/auth/me", headers=headers, timeout=30) for _ in range(14)]
        statuses = [r.status_code for r in [first, *rest]]
        assert statuses == [200] * 10 + [429] * 5
        assert [r.headers["X-RateLimit-Remaining"] for r in rest[:3]] == ["8", "7", "6"]
    finally:
        srv.stop()
