"""The shop (SPEC §13): buying as one ledger step, refusals that change nothing, the per-user
limit, free items, Idempotency-Key, and reverts of purchases."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests import backend, shop_helpers
from tests.conftest import BOT, OTHER_BOT
from tests.shop_helpers import VIP, G, _buy, _state

settings = shop_helpers.settings  # a fixture shared by several modules
shop = shop_helpers.shop  # a fixture shared by several modules


# -- buying -----------------------------------------------------------------------------


def test_a_purchase_moves_money_stock_and_inventory_in_one_step(
    client: TestClient, shop: dict, db: backend.Connection
) -> None:
    r = _buy(client, shop, {"user_id": "1", "quantity": 2})
    assert r.status_code == 201, r.text
    body = r.json()
    tx = body["transaction"]
    assert (tx["kind"], tx["amount"], tx["from"]["user_id"], tx["to"]["bot_id"]) == (
        "purchase",
        60,
        "1",
        BOT,
    )
    assert tx["balances"] == {"from": 40, "to": -40}
    assert body["item"] == {
        "guild_id": str(G),
        "user_id": "1",
        "bot_id": BOT,
        "item_id": "vip",
        "quantity": 2,
        "name": "VIP",
        "data": {"role": "42"},
    }
    assert body["stock"] == 3
    assert client.get(f"/profile/{G}/1", headers=shop).json()["voicepoints"] == 40
    assert client.get(f"/shop/{G}/items/vip", headers=shop).json()["stock"] == 3
    assert client.get(f"/profile/{G}/1/inventory", headers=shop).json() == [body["item"]]
    assert db.execute("SELECT kind, quantity, held, entry FROM item_log").fetchall() == [
        (1, 2, 2, tx["id"])
    ]


@pytest.mark.parametrize(
    ("item", "body", "status", "code"),
    [
        ({"price": 30}, {"user_id": 1, "quantity": 4}, 409, "insufficient_funds"),
        ({"price": 1, "stock": 2}, {"user_id": 1, "quantity": 3}, 409, "out_of_stock"),
        ({"price": 1, "stock": 0}, {"user_id": 1}, 409, "out_of_stock"),
        ({"price": 1, "per_user_limit": 2}, {"user_id": 1, "quantity": 3}, 409, "limit_reached"),
        ({"price": 1, "enabled": False}, {"user_id": 1}, 409, "item_disabled"),
        ({"price": 1}, {"user_id": 2}, 404, "profile_not_found"),
        ({"price": 1}, {"user_id": 1, "quantity": 0}, 422, "validation_error"),
        ({"price": 1}, {"quantity": 1}, 422, "validation_error"),
    ],
)
def test_a_refused_purchase_changes_nothing(
    client: TestClient,
    shop: dict,
    db: backend.Connection,
    item: dict,
    body: dict,
    status: int,
    code: str,
) -> None:
    client.put(f"/shop/{G}/items/thing", json={"name": "thing", **item}, headers=shop)
    before = _state(db)
    r = _buy(client, shop, body, item="thing")
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert _state(db) == before


def test_unknown_item_is_404_and_another_bots_item_is_unknown(
    client: TestClient, shop: dict, make_key
) -> None:
    r = _buy(client, shop, {"user_id": 1}, item="nothing")
    assert (r.status_code, r.json()["code"]) == (404, "item_not_found")
    other = make_key(OTHER_BOT)
    assert _buy(client, other, {"user_id": 1}).json()["code"] == "item_not_found"


def test_the_per_user_limit_counts_what_was_bought_not_what_is_held(
    client: TestClient, shop: dict
) -> None:
    client.put(
        f"/shop/{G}/items/ticket", json={"name": "t", "price": 1, "per_user_limit": 2}, headers=shop
    )
    assert _buy(client, shop, {"user_id": 1, "quantity": 2}, item="ticket").status_code == 201
    assert (
        client.post(
            f"/profile/{G}/1/inventory/ticket/use", json={"quantity": 2}, headers=shop
        ).status_code
        == 200
    )
    again = _buy(client, shop, {"user_id": 1}, item="ticket")
    assert (again.status_code, again.json()["limit"], again.json()["bought"]) == (409, 2, 2)
    client.post(f"/profile/{G}/2", json={"voicepoints": 5}, headers=shop)
    assert _buy(client, shop, {"user_id": 2, "quantity": 2}, item="ticket").status_code == 201


def test_a_free_item_is_bought_without_an_entry(
    client: TestClient, shop: dict, db: backend.Connection
) -> None:
    client.put(f"/shop/{G}/items/badge", json={"name": "b", "price": 0}, headers=shop)
    entries = db.execute("SELECT count(*) FROM ledger").fetchone()[0]
    r = _buy(client, shop, {"user_id": 1, "quantity": 3}, item="badge")
    assert (r.status_code, r.json()["transaction"], r.json()["item"]["quantity"]) == (201, None, 3)
    assert db.execute("SELECT count(*) FROM ledger").fetchone()[0] == entries


def test_an_idempotency_key_buys_once_and_replays_the_first_answer(
    client: TestClient, shop: dict, db: backend.Connection
) -> None:
    first = _buy(client, shop, {"user_id": 1}, **{"Idempotency-Key": "order-1"})
    assert first.status_code == 201
    again = _buy(client, shop, {"user_id": "1", "quantity": 1}, **{"Idempotency-Key": "order-1"})
    assert (again.status_code, again.content) == (201, first.content)
    assert again.headers["Idempotent-Replayed"] == "true"
    other = _buy(client, shop, {"user_id": 1, "quantity": 2}, **{"Idempotency-Key": "order-1"})
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert db.execute("SELECT count(*) FROM item_log").fetchone()[0] == 1
    # A refusal is a first outcome too: it is replayed even once the money is there.
    refused = _buy(client, shop, {"user_id": 1, "quantity": 4}, **{"Idempotency-Key": "order-2"})
    assert refused.json()["code"] == "insufficient_funds"
    client.post(
        "/transaction",
        json={"from": "self", "to": {"guild_id": G, "user_id": 1}, "amount": 500},
        headers=shop,
    )
    retried = _buy(client, shop, {"user_id": 1, "quantity": 4}, **{"Idempotency-Key": "order-2"})
    assert (retried.status_code, retried.content) == (409, refused.content)


# -- reverts ----------------------------------------------------------------------------


def test_reverting_a_purchase_returns_money_items_and_stock(
    client: TestClient, shop: dict, db: backend.Connection
) -> None:
    tx = _buy(client, shop, {"user_id": 1, "quantity": 2}).json()["transaction"]
    r = client.post(f"/transaction/{tx['id']}/revert", headers=shop)
    assert r.status_code == 201, r.text
    assert (r.json()["kind"], r.json()["amount"], r.json()["reverts"]) == ("revert", 60, tx["id"])
    assert client.get(f"/profile/{G}/1", headers=shop).json()["voicepoints"] == 100
    assert client.get(f"/profile/{G}/1/inventory", headers=shop).json() == []
    assert client.get(f"/shop/{G}/items/vip", headers=shop).json()["stock"] == 5
    # what was bought no longer counts against the per-user limit
    assert db.execute("SELECT quantity, bought FROM inventory").fetchall() == [(0, 0)]


def test_a_revert_after_a_restock_to_the_top_keeps_the_stock_in_range(
    client: TestClient, shop: dict
) -> None:
    """The stock a revert gives back stops at 2^53-1, the most a PUT accepts, so the
    item can still be read back and PUT again as it is."""
    tx = _buy(client, shop, {"user_id": 1}).json()["transaction"]
    top = {**VIP, "stock": 2**53 - 1}
    assert client.put(f"/shop/{G}/items/vip", json=top, headers=shop).status_code == 200
    assert client.post(f"/transaction/{tx['id']}/revert", headers=shop).status_code == 201
    item = client.get(f"/shop/{G}/items/vip", headers=shop).json()
    assert item["stock"] == 2**53 - 1
    fields = ("name", "price", "sell_price", "stock", "per_user_limit", "data", "enabled")
    again = client.put(f"/shop/{G}/items/vip", json={k: item[k] for k in fields}, headers=shop)
    assert again.status_code == 200, again.text


def test_a_purchase_whose_items_were_used_cannot_be_reverted(
    client: TestClient, shop: dict, db: backend.Connection
) -> None:
    tx = _buy(client, shop, {"user_id": 1, "quantity": 2}).json()["transaction"]
    assert client.post(f"/profile/{G}/1/inventory/vip/use", headers=shop).status_code == 200
    before = _state(db)
    r = client.post(f"/transaction/{tx['id']}/revert", headers=shop)
    assert (r.status_code, r.json()["code"], r.json()["held"]) == (409, "not_revertible", 1)
    assert _state(db) == before


def test_only_the_shops_bot_reverts_its_purchases(client: TestClient, shop: dict, make_key) -> None:
    tx = _buy(client, shop, {"user_id": 1}).json()["transaction"]
    other = make_key(OTHER_BOT)
    assert client.post(f"/transaction/{tx['id']}/revert", headers=other).status_code == 403
