"""Regressions found by the schemathesis run (tests/test_fuzz_schemathesis.py)."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient


def test_transaction_filters_combine_with_from_and_to(client: TestClient, auth: dict) -> None:
    """`from`/`to` after another filter used to bind the wrong parameters (500)."""
    for user in (10, 11):
        assert client.post(f"/profile/1/{user}", json={"voicepoints": 5}, headers=auth).status_code
    pay = {"from": {"guild_id": 1, "user_id": 10}, "to": {"guild_id": 1, "user_id": 11}}
    assert client.post("/transaction", json={**pay, "amount": 2}, headers=auth).status_code == 201
    r = client.get("/transaction?guild_id=1&reason=&from=10&to=11", headers=auth)
    assert r.status_code == 200, r.text
    assert [(t["from"]["user_id"], t["to"]["user_id"]) for t in r.json()] == [("10", "11")]
    r = client.get("/transaction?guild_id=0&from=0&to=0&after=0&before=0", headers=auth)
    assert (r.status_code, r.json()) == (200, [])


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", f"/transaction/{2**63}", 404),
        ("GET", "/transaction/5252149739823600232300544", 404),
        ("POST", "/transaction/5252149739823600232300544/revert", 404),
        ("GET", "/transaction?limit=99999999999999999999", 200),
        ("GET", "/transaction?limit=9999999999&page=9999999999", 200),
        ("GET", "/profile?limit=9999999999&page=9999999999", 200),
        ("GET", "/profile/1?limit=99999999999999999999", 200),
        ("GET", "/transaction?after=inf", 200),
        ("GET", "/transaction?before=nan", 200),
        ("GET", "/transaction?after=1e308&before=-1e308", 200),
    ],
)
def test_huge_numbers_are_not_a_server_error(
    client: TestClient, auth: dict, method: str, path: str, status: int
) -> None:
    r = client.request(method, path, headers=auth)
    assert r.status_code in (status, 422), r.text
