"""Rate limits against abuse (issue 10, finding 5): made-up and missing keys count
against the client's address, a valid key never shares its budget with strangers,
and the limiter's memory stays bounded whatever values clients send."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from app.auth import key_digest
from app.config import Settings
from app.main import create_app
from app.ratelimit import RateLimiter
from storage.queries.keys import KeyInfo
from tests import backend

LIMIT = 5  # per day: no test straddles a window boundary in practice


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(db=backend.target(db_path), key_cache_seconds=0.0, rate_limit=f"{LIMIT}/day")


def made_up(i: int) -> dict[str, str]:
    return {"Authorization": f"vps_made-up-{i}"}


def test_made_up_keys_from_one_address_share_its_budget(client: TestClient) -> None:
    statuses = [client.get("/auth/me", headers=made_up(i)).status_code for i in range(100)]
    assert statuses == [401] * LIMIT + [429] * (100 - LIMIT)
    r = client.get("/auth/me", headers=made_up(100))
    assert (r.json()["status"], r.json()["code"]) == (429, "rate_limited")
    assert int(r.headers["Retry-After"]) == int(r.headers["X-RateLimit-Reset"]) >= 1
    assert r.headers["X-RateLimit-Remaining"] == "0"
    # No key at all is the same address, the same budget.
    assert client.get("/profile").status_code == 429


def test_a_new_valid_key_after_a_flood_has_its_own_budget(
    client: TestClient, make_key: Any
) -> None:
    # A small table, so a flood of distinct values overflows it.
    small = dataclasses.replace(client.app.state.settings, rate_limit_tracked=3)
    with TestClient(create_app(small)) as fresh:
        for i in range(100):
            fresh.get("/auth/me", headers=made_up(i))
        assert fresh.get("/auth/me", headers=made_up(1000)).status_code == 429
        key = make_key()
        for used in range(1, LIMIT + 1):
            r = fresh.get("/auth/me", headers=key)
            assert r.status_code == 200, r.text
            assert r.headers["X-RateLimit-Remaining"] == str(LIMIT - used)
        assert fresh.get("/auth/me", headers=key).status_code == 429  # its own budget, spent


def test_a_known_key_is_counted_as_itself_not_its_address(client: TestClient, auth: dict) -> None:
    assert client.get("/auth/me", headers=auth).headers["X-RateLimit-Remaining"] == str(LIMIT - 1)
    for i in range(LIMIT):
        client.get("/auth/me", headers=made_up(i))
    assert client.get("/health").status_code == 429  # the address is spent
    r = client.get("/auth/me", headers={"Authorization": f"Bearer {auth['Authorization']}"})
    assert (r.status_code, r.headers["X-RateLimit-Remaining"]) == (200, str(LIMIT - 2))


# -- the limiter alone -------------------------------------------------------------


class FakeAuth:
    """Answers like the app: 200 (and `scope["user"]`) for a valid key or none, else 401."""

    def __init__(self, valid: dict[str, int]) -> None:
        self.valid = {key_digest(secret): key_id for secret, key_id in valid.items()}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        header = dict(scope["headers"]).get(b"authorization")
        key_id = self.valid.get(key_digest(header.decode())) if header else None
        if key_id is not None:
            scope["user"] = KeyInfo(key_id, "k", "1", (), 0.0)
        status = 401 if header and key_id is None else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def call(limiter: RateLimiter, host: str, key: str | None = None, **headers: str) -> int:
    raw = [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    if key is not None:
        raw.append((b"authorization", key.encode()))
    scope = {"type": "http", "method": "GET", "path": "/", "headers": raw, "client": (host, 1)}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(limiter(scope, receive, send))
    return int(sent[0]["status"])


def test_the_limiter_stays_small_whatever_clients_send() -> None:
    limiter = RateLimiter(FakeAuth({"good": 1}), 1000, 86400, max_tracked=500)

    async def flood() -> None:
        for i in range(100_000):  # made-up keys from one address: one budget
            await limiter(*_request("10.0.0.1", f"made-up-{i}"))
        assert limiter.tracked == 1
        for i in range(20_000):  # distinct addresses: the least recently used go
            await limiter(*_request(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", None))
        assert limiter.tracked <= 500

    asyncio.run(flood())
    assert call(limiter, "10.0.0.1", "good") == 200  # a valid key: its own, new budget


def _request(host: str, key: str | None) -> tuple[dict, Any, Any]:
    headers = [(b"authorization", key.encode())] if key else []
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (host, 1)}

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    async def send(message: dict) -> None:
        pass

    return scope, receive, send


def test_forwarded_for_counts_only_behind_a_trusted_proxy() -> None:
    limiter = RateLimiter(FakeAuth({}), 2, 86400, trusted_proxies=("10.0.0.0/8",))
    # Through the proxy: each client its own budget, by the hop the proxy added.
    assert [call(limiter, "10.1.1.1", x_forwarded_for="1.1.1.1") for _ in range(3)] == [200] * 2 + [
        429
    ]
    assert call(limiter, "10.1.1.1", x_forwarded_for="6.6.6.6, 2.2.2.2") == 200
    # A client cannot pick its budget: the proxy appends the address it saw.
    assert call(limiter, "10.1.1.1", x_forwarded_for="2.2.2.2, 1.1.1.1") == 429
    # Not a trusted peer: its X-Forwarded-For means nothing.
    assert [call(limiter, "3.3.3.3", x_forwarded_for=f"4.4.4.{i}") for i in range(3)] == [
        200,
        200,
        429,
    ]


def test_ipv6_clients_count_by_their_64() -> None:
    limiter = RateLimiter(FakeAuth({}), 2, 86400)
    assert call(limiter, "2001:db8::1") == 200
    assert call(limiter, "2001:db8::2") == 200
    assert call(limiter, "2001:db8::ffff:3") == 429
    assert call(limiter, "2001:db8:0:1::1") == 200
