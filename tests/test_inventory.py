"""Inventories (SPEC §13): use, give, sell, grant and revoke of the calling bot's
items, every bot's items in one list, refusals that change nothing, and a deleted
profile's items."""

from __future__ import annotations

import sqlite3

import pytest
from litestar.testing import TestClient

from tests.conftest import BOT, OTHER_BOT

G = 8
PATH = f"/profile/{G}/1/inventory"


def _state(db: sqlite3.Connection) -> tuple:
    return (
        db.execute("SELECT count(*) FROM ledger").fetchone()[0],
        db.execute("SELECT vp_id, balance FROM accounts ORDER BY id").fetchall(),
        db.execute("SELECT count(*) FROM item_log").fetchone()[0],
        db.execute("SELECT * FROM inventory ORDER BY 1, 2, 3").fetchall(),
    )


@pytest.fixture
def held(client: TestClient, auth: dict) -> dict:
    """Members 1 and 2; member 1 holds 3 `gem` (sell price 4) and 1 `badge` (no sell price)."""
    client.put(
        f"/shop/{G}/items/gem", json={"name": "Gem", "price": 10, "sell_price": 4}, headers=auth
    )
    client.put(f"/shop/{G}/items/badge", json={"name": "Badge", "price": 0}, headers=auth)
    for user in (1, 2):
        assert client.post(f"/profile/{G}/{user}", headers=auth).status_code == 201
    assert client.post(f"{PATH}/gem/grant", json={"quantity": 3}, headers=auth).status_code == 200
    assert client.post(f"{PATH}/badge/grant", headers=auth).status_code == 200
    return auth


def _quantities(client: TestClient, auth: dict, user: int = 1) -> dict[str, int]:
    lines = client.get(f"/profile/{G}/{user}/inventory", headers=auth).json()
    return {line["item_id"]: line["quantity"] for line in lines}


def test_grant_use_and_revoke_move_no_money(
    client: TestClient, held: dict, db: sqlite3.Connection
) -> None:
    entries = db.execute("SELECT count(*) FROM ledger").fetchone()[0]
    used = client.post(f"{PATH}/gem/use", json={"quantity": 2}, headers=held)
    assert used.status_code == 200
    assert used.json() == {
        "guild_id": str(G),
        "user_id": "1",
        "bot_id": BOT,
        "item_id": "gem",
        "quantity": 1,
        "name": "Gem",
        "data": None,
    }
    assert client.post(f"{PATH}/badge/revoke", headers=held).json()["quantity"] == 0
    assert _quantities(client, held) == {"gem": 1}  # nothing held: not listed
    assert db.execute("SELECT count(*) FROM ledger").fetchone()[0] == entries
    kinds = [k for (k,) in db.execute("SELECT kind FROM item_log ORDER BY id")]
    assert kinds == [5, 5, 2, 6]  # grant, grant, use, revoke


def test_give_moves_items_to_another_member(client: TestClient, held: dict) -> None:
    r = client.post(f"{PATH}/gem/give", json={"to_user_id": "2", "quantity": 2}, headers=held)
    assert r.status_code == 200, r.text
    assert (r.json()["from"]["quantity"], r.json()["to"]["quantity"]) == (1, 2)
    assert (r.json()["from"]["user_id"], r.json()["to"]["user_id"]) == ("1", "2")
    assert _quantities(client, held, 2) == {"gem": 2}


def test_sell_refunds_the_sell_price_from_the_treasury(client: TestClient, held: dict) -> None:
    r = client.post(f"{PATH}/gem/sell", json={"quantity": 2}, headers=held)
    assert r.status_code == 200, r.text
    tx = r.json()["transaction"]
    assert (tx["kind"], tx["amount"], tx["from"]["bot_id"], tx["to"]["user_id"]) == (
        "refund",
        8,
        BOT,
        "1",
    )
    assert r.json()["item"]["quantity"] == 1
    assert client.get(f"/profile/{G}/1", headers=held).json()["voicepoints"] == 8
    assert client.get(f"/shop/{G}/items/gem", headers=held).json()["stock"] is None


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("gem/use", {"quantity": 4}, 409, "not_enough_items"),
        ("gem/revoke", {"quantity": 4}, 409, "not_enough_items"),
        ("gem/sell", {"quantity": 4}, 409, "not_enough_items"),
        ("gem/give", {"to_user_id": 2, "quantity": 4}, 409, "not_enough_items"),
        ("badge/sell", None, 409, "not_sellable"),
        ("gem/give", {"to_user_id": 3}, 404, "profile_not_found"),
        ("gem/give", {"to_user_id": 1}, 422, "same_account"),
        ("gem/grant", {"quantity": 2**53 - 1}, 409, "inventory_limit"),
        ("nothing/use", None, 404, "item_not_found"),
        ("gem/use", {"quantity": 0}, 422, "validation_error"),
        ("gem/use", {"quantity": 1, "extra": 1}, 422, "validation_error"),
        ("GEM/use", None, 422, "validation_error"),
    ],
)
def test_refusals_change_nothing(
    client: TestClient,
    held: dict,
    db: sqlite3.Connection,
    path: str,
    body: dict | None,
    status: int,
    code: str,
) -> None:
    before = _state(db)
    r = client.post(f"{PATH}/{path}", json=body, headers=held)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert _state(db) == before


def test_a_member_without_a_profile_has_no_inventory(client: TestClient, held: dict) -> None:
    assert client.get(f"/profile/{G}/9/inventory", headers=held).status_code == 404
    r = client.post(f"/profile/{G}/9/inventory/gem/grant", headers=held)
    assert (r.status_code, r.json()["code"]) == (404, "profile_not_found")


def test_only_the_owning_bot_changes_its_items_and_every_bot_shows(
    client: TestClient, held: dict, make_key
) -> None:
    other = make_key(OTHER_BOT)
    client.put(f"/shop/{G}/items/gem", json={"name": "Other gem", "price": 1}, headers=other)
    # The other bot's `gem` is its own item: using it does not touch BOT's gems.
    r = client.post(f"{PATH}/gem/use", headers=other)
    assert (r.status_code, r.json()["held"]) == (409, 0)
    assert client.post(f"{PATH}/gem/grant", headers=other).status_code == 200
    lines = client.get(PATH, headers=other).json()
    assert [(x["bot_id"], x["item_id"], x["quantity"], x["name"]) for x in lines] == [
        (BOT, "badge", 1, "Badge"),
        (BOT, "gem", 3, "Gem"),
        (OTHER_BOT, "gem", 1, "Other gem"),
    ]


def test_a_deleted_profile_loses_its_items_and_a_new_one_starts_empty(
    client: TestClient, held: dict, db: sqlite3.Connection
) -> None:
    assert client.delete(f"/profile/{G}/1", headers=held).status_code == 204
    assert client.post(f"/profile/{G}/1", headers=held).status_code == 201
    assert _quantities(client, held) == {}
    closes = db.execute("SELECT item_id, quantity FROM item_log WHERE kind = 8 ORDER BY id")
    assert closes.fetchall() == [("badge", -1), ("gem", -3)]
    # nobody holds them now: the items can be deleted
    assert client.delete(f"/shop/{G}/items/gem", headers=held).status_code == 204
