"""Every area decodes request bodies the same strict way (SPEC §2: strict types):
a number sent as a string, a float for an integer or a non-JSON Content-Type is
refused, never coerced; nothing is changed."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.conftest import BOT

JSON = {"Content-Type": "application/json"}
CASES = [
    # (method, path, raw body, status, field)
    # (the reputation area answers 400 as its reference, which has no 422)
    ("POST", f"/reputation/{BOT}/20/increase", b'{"increase": "1"}', 400, "increase"),
    ("POST", f"/reputation/{BOT}/20/decrease", b'{"decrease": 1.0}', 400, "decrease"),
    ("POST", f"/reputation/{BOT}/20", b'{"source_user": 10.5}', 400, "source_user"),
    ("POST", "/reputation/settings", b'{"reputationPerDay": "3"}', 400, "reputationPerDay"),
    ("PUT", "/callback/transaction", b'{"url": "http://x.test/", "secret": 5}', 422, "secret"),
    ("POST", "/profile/1/lookup", b'{"user_ids": [1.0]}', 422, "user_ids[0]"),
    ("POST", "/profile/1/lookup", b'{"user_ids": [1], "x": 1}', 422, "x"),
    ("POST", "/transaction", b'{"from": "self", "to": "self", "amount": "5"}', 422, "amount"),
    ("POST", "/profile/1/2", b'{"level": "3"}', 422, "level"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), CASES)
def test_lax_values_are_refused(
    client: TestClient, auth: dict, method: str, path: str, body: bytes, status: int, field: str
) -> None:
    r = client.request(method, path, content=body, headers={**auth, **JSON})
    assert r.status_code == status, r.text
    reply = r.json()
    assert reply["status"] == status
    assert any(e["field"] == field for e in reply.get("errors", [])), reply


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", f"/reputation/{BOT}/20", b'{"source_user": "10"}'),
        ("PUT", "/callback/transaction", b'{"url": "http://x.test/", "secret": "s"}'),
        ("POST", "/profile/1/lookup", b'{"user_ids": ["1"]}'),
    ],
)
def test_a_body_that_is_not_json_is_415(
    client: TestClient, auth: dict, method: str, path: str, body: bytes
) -> None:
    r = client.request(method, path, content=body, headers={**auth, "Content-Type": "text/plain"})
    assert r.status_code == 415, r.text


def test_nothing_changed_by_a_refused_body(client: TestClient, auth: dict) -> None:
    path = f"/reputation/{BOT}/20"
    bad = client.post(f"{path}/increase", content=b'{"increase": "7"}', headers={**auth, **JSON})
    assert bad.status_code == 400
    assert client.get(path, headers=auth).json()["user"]["reputation"] == 0
