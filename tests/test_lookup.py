"""Bulk lookup (SPEC §10): POST /profile/{guild_id}/lookup."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from storage.queries import keys


@pytest.fixture
def profiles(client: TestClient, auth: dict) -> None:
    for guild, user in [(1, 10), (1, 11), (1, 2**64 - 1), (2, 10)]:
        assert client.post(f"/profile/{guild}/{user}", headers=auth).status_code == 201


@pytest.mark.parametrize(
    ("guild", "asked", "found"),
    [
        ("1", [10, "11", 12], ["10", "11"]),
        ("1", ["11", 10], ["11", "10"]),  # in the order asked
        ("1", [10, "10", 10], ["10"]),  # duplicates once
        ("1", [str(2**64 - 1)], [str(2**64 - 1)]),
        ("2", [10, 11], ["10"]),  # only that guild
        ("3", [10], []),
        ("1", [], []),
    ],
)
def test_returns_the_profiles_that_exist(
    client: TestClient, auth: dict, profiles: None, guild: str, asked: list, found: list
) -> None:
    r = client.post(f"/profile/{guild}/lookup", json={"user_ids": asked}, headers=auth)
    assert r.status_code == 200, r.text
    assert [p["user_id"] for p in r.json()] == found
    assert all(p["guild_id"] == guild for p in r.json())


def test_deleted_profiles_are_not_found(client: TestClient, auth: dict, profiles: None) -> None:
    assert client.delete("/profile/1/10", headers=auth).status_code == 204
    r = client.post("/profile/1/lookup", json={"user_ids": [10, 11]}, headers=auth)
    assert [p["user_id"] for p in r.json()] == ["11"]


@pytest.mark.parametrize(
    ("guild", "body", "status"),
    [
        ("1", {"user_ids": list(range(1001))}, 422),
        ("1", {"user_ids": ["x1"]}, 422),
        ("1", {"user_ids": [str(2**64)]}, 422),
        ("1", {"user_ids": [-1]}, 422),
        ("1", {}, 422),
        ("1", {"user_ids": [1], "more": 1}, 422),
        ("abc", {"user_ids": [1]}, 422),
    ],
)
def test_bad_lookups(client: TestClient, auth: dict, guild: str, body: dict, status: int) -> None:
    r = client.post(f"/profile/{guild}/lookup", json=body, headers=auth)
    assert r.status_code == status, r.text
    assert r.json()["code"] == "validation_error"


def test_thousand_ids_is_fine(client: TestClient, auth: dict, profiles: None) -> None:
    r = client.post("/profile/1/lookup", json={"user_ids": list(range(1000))}, headers=auth)
    assert [p["user_id"] for p in r.json()] == ["10", "11"]


def test_needs_profiles_read(client: TestClient, make_key) -> None:
    only_ledger = make_key(scopes=("ledger:read",))
    r = client.post("/profile/1/lookup", json={"user_ids": [1]}, headers=only_ledger)
    assert (r.status_code, r.json()["message"]) == (403, "missing scope profiles:read")
    assert "profiles:read" in keys.SCOPES


def test_other_profile_routes_still_answer(client: TestClient, auth: dict) -> None:
    assert client.post("/profile/1/12", headers=auth).status_code == 201
    assert client.get("/profile/1/12", headers=auth).status_code == 200
    assert client.get("/profile/1", headers=auth).json()[0]["user_id"] == "12"
    assert client.get("/profile/1/lookup", headers=auth).status_code in (404, 405, 422)
