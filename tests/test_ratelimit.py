"""Rate limits per key (SPEC §10): headers on every response, 429 with Retry-After."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings, parse_rate
from app.main import create_app
from tests import backend
from tests.conftest import OTHER_BOT

# A day-long window: the test never straddles a window boundary in practice.
LIMIT = 5


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(db=backend.target(db_path), key_cache_seconds=0.0, rate_limit=f"{LIMIT}/day")


def test_headers_count_down_then_429(client: TestClient, auth: dict) -> None:
    for used in range(1, LIMIT + 1):
        r = client.get("/auth/me", headers=auth)
        assert r.status_code == 200
        assert r.headers["X-RateLimit-Limit"] == str(LIMIT)
        assert r.headers["X-RateLimit-Remaining"] == str(LIMIT - used)
        assert 1 <= int(r.headers["X-RateLimit-Reset"]) <= 86400
    r = client.get("/auth/me", headers=auth)
    assert r.status_code == 429
    body = r.json()
    assert (body["status"], body["code"]) == (429, "rate_limited")
    assert int(r.headers["Retry-After"]) == int(r.headers["X-RateLimit-Reset"]) >= 1
    assert r.headers["X-RateLimit-Remaining"] == "0"


@pytest.mark.parametrize("path", ["/reputation/settings", "/settings/guild/1"])
def test_the_reference_areas_answer_429_with_their_numeric_code(
    client: TestClient, auth: dict, path: str
) -> None:
    """Reputation and settings keep their reference API's numeric `code` on every
    error (SPEC §8, §9), the 429 built outside the app included."""
    for _ in range(LIMIT):
        client.get(path, headers=auth)
    r = client.get(path, headers=auth)
    assert r.status_code == 429
    assert (r.json()["status"], r.json()["code"]) == (429, 429)


def test_each_key_has_its_own_budget(client: TestClient, auth: dict, make_key) -> None:
    other = make_key(OTHER_BOT)
    for _ in range(LIMIT):
        client.get("/auth/me", headers=auth)
    assert client.get("/auth/me", headers=auth).status_code == 429
    r = client.get("/auth/me", headers=other)
    assert (r.status_code, r.headers["X-RateLimit-Remaining"]) == (200, str(LIMIT - 1))


def test_bearer_and_bare_key_share_a_budget(client: TestClient, auth: dict) -> None:
    bearer = {"Authorization": f"Bearer {auth['Authorization']}"}
    client.get("/auth/me", headers=auth)
    r = client.get("/auth/me", headers=bearer)
    assert r.headers["X-RateLimit-Remaining"] == str(LIMIT - 2)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/health", 200),
        ("GET", "/no/such/route", 404),
        ("GET", "/profile", 401),  # no key: counted by client address
    ],
)
def test_every_response_carries_the_headers(
    client: TestClient, method: str, path: str, status: int
) -> None:
    r = client.request(method, path)
    assert r.status_code == status
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(r.headers)


def test_off_means_no_limit_and_no_headers(db_path: Path) -> None:
    settings = Settings(db=backend.target(db_path), rate_limit="0")
    with TestClient(create_app(settings)) as client:
        for _ in range(3):
            r = client.get("/health")
            assert r.status_code == 200
            assert "x-ratelimit-limit" not in r.headers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6000/min", (6000, 60)),
        ("100/s", (100, 1)),
        ("50000/hour", (50000, 3600)),
        ("7/day", (7, 86400)),
        ("120", (120, 60)),
        ("off", None),
        ("0", None),
    ],
)
def test_parse_rate(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["fast", "10/fortnight", "-5/min", "1.5/s"])
def test_bad_rate_stops_the_start(text: str) -> None:
    with pytest.raises(SystemExit, match="VOICEPROFILE_RATE_LIMIT"):
        Settings.from_env({"VOICEPROFILE_RATE_LIMIT": text})
