"""SPEC §6 against the in-process app: arrays of transfers (in order, atomic, which index
failed) and idempotency keys (replays, reuse with another body, per-bot keys)."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from storage.ids import vp_id
from tests import backend, transactions_helpers
from tests.conftest import OTHER_BOT
from tests.transactions_helpers import T2, A, B, C, G, balances, entry_count, send

funded = transactions_helpers.funded  # a fixture shared by several modules


# -- arrays ------------------------------------------------------------------------------


def test_array_applies_in_order(funded: TestClient, auth: dict, db: backend.Connection) -> None:
    # Bob can pay Carol only because Alice paid him first in the same array.
    r = send(
        funded,
        auth,
        [
            {"from": A, "to": B, "amount": 60},
            {"from": B, "to": C, "amount": 50},
            {"from": C, "to": "self", "amount": 50},
        ],
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert [t["amount"] for t in body] == [60, 50, 50]
    assert body[0]["id"] < body[1]["id"] < body[2]["id"]
    got = balances(db)
    assert (got[A], got[B], got[C]) == (40, 10, 0)


@pytest.mark.parametrize(
    ("items", "index", "status", "code"),
    [
        (
            [{"from": A, "to": B, "amount": 60}, {"from": A, "to": C, "amount": 60}],
            1,
            409,
            "insufficient_funds",
        ),
        (
            [{"from": A, "to": B, "amount": 1}, {"from": A, "to": vp_id(G, 9), "amount": 1}],
            1,
            404,
            "unknown_account",
        ),
        (
            [{"from": A, "to": B, "amount": 1}] * 2 + [{"from": T2, "to": B, "amount": 1}],
            2,
            403,
            "impostor",
        ),
        (
            [{"from": A, "to": B, "amount": 1}, {"from": A, "to": A, "amount": 1}],
            1,
            422,
            "same_account",
        ),
        (
            [{"from": B, "to": A, "amount": 1}, {"from": A, "to": B, "amount": 1}],
            0,
            409,
            "insufficient_funds",
        ),
    ],
)
def test_array_is_atomic_and_names_first_failing_index(
    funded: TestClient, auth: dict, make_key, db: backend.Connection, items, index, status, code
) -> None:
    send(funded, make_key(OTHER_BOT), {"from": "self", "to": C, "amount": 1})  # T2 exists
    before, count = balances(db), entry_count(db)
    r = send(funded, auth, items)
    assert r.status_code == status, r.text
    err = r.json()
    assert err["code"] == code and err["index"] == index
    assert f"item {index}" in err["message"]
    assert balances(db) == before and entry_count(db) == count


def test_array_validation_error_names_index(funded: TestClient, auth: dict) -> None:
    r = send(funded, auth, [{"from": A, "to": B, "amount": 1}, {"from": A, "to": B, "amount": 0}])
    assert r.status_code == 422
    assert "[1]" in r.text or "1" in str(r.json().get("errors"))


def test_empty_array_is_refused(funded: TestClient, auth: dict) -> None:
    assert send(funded, auth, []).status_code == 422


def test_malformed_json_is_400(funded: TestClient, auth: dict) -> None:
    r = funded.post(
        "/transaction", content=b"{nope", headers={**auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 400


# -- idempotency ---------------------------------------------------------------------------


def test_replay_returns_the_same_outcome_and_moves_nothing(
    funded: TestClient, auth: dict, db: backend.Connection
) -> None:
    body = {"from": A, "to": B, "amount": 10}
    first = send(funded, auth, body, key="k1")
    after_first, count = balances(db), entry_count(db)
    second = send(funded, auth, body, key="k1")
    assert (
        (second.status_code, second.content)
        == (first.status_code, first.content)
        == (
            201,
            first.content,
        )
    )
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert balances(db) == after_first and entry_count(db) == count


def test_key_reused_with_another_body(
    funded: TestClient, auth: dict, db: backend.Connection
) -> None:
    send(funded, auth, {"from": A, "to": B, "amount": 10}, key="k")
    before = balances(db)
    r = send(funded, auth, {"from": A, "to": B, "amount": 11}, key="k")
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    assert balances(db) == before


def test_stored_refusal_is_replayed_even_once_funds_arrive(
    funded: TestClient, auth: dict, db: backend.Connection
) -> None:
    body = {"from": B, "to": C, "amount": 5}
    first = send(funded, auth, body, key="poor")
    assert first.status_code == 409 and first.json()["code"] == "insufficient_funds"
    send(funded, auth, {"from": A, "to": B, "amount": 50})
    before = balances(db)
    again = send(funded, auth, body, key="poor")
    assert (again.status_code, again.content) == (409, first.content)
    assert balances(db) == before


def test_array_replay(funded: TestClient, auth: dict, db: backend.Connection) -> None:
    body = [{"from": A, "to": B, "amount": 1}, {"from": A, "to": C, "amount": 2}]
    first = send(funded, auth, body, key="arr")
    count = entry_count(db)
    again = send(funded, auth, body, key="arr")
    assert again.status_code == 201 and again.content == first.content
    assert entry_count(db) == count


@pytest.mark.parametrize(("key", "status"), [("k" * 64, 201), ("k" * 65, 422), ("", 422)])
def test_key_length(funded: TestClient, auth: dict, key: str, status: int) -> None:
    headers = {**auth, "Idempotency-Key": key}
    r = funded.post("/transaction", json={"from": A, "to": B, "amount": 1}, headers=headers)
    assert r.status_code == status, r.text


def test_keys_are_per_bot(funded: TestClient, auth: dict, make_key, db: backend.Connection) -> None:
    other = make_key(OTHER_BOT)
    assert send(funded, auth, {"from": "self", "to": A, "amount": 1}, key="same").status_code == 201
    # the same key from another bot, with another body, is a new request
    r = send(funded, other, {"from": "self", "to": A, "amount": 2}, key="same")
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") is None
    assert balances(db)[A] == 103


def test_validation_refusal_is_not_stored(funded: TestClient, auth: dict) -> None:
    assert send(funded, auth, {"from": A, "to": B, "amount": 0}, key="fix").status_code == 422
    assert send(funded, auth, {"from": A, "to": B, "amount": 1}, key="fix").status_code == 201
