"""The shop (SPEC §13): items per bot and guild, the economy scope, purchases as callback
events, and the documentation of the economy routes. Buying and reverting purchases are in
test_shop_purchases.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from schemas.economy import KEY_PATTERN
from storage.engine.migrations import apply_migrations
from storage.queries import keys
from tests import backend, shop_helpers
from tests.conftest import BOT, OTHER_BOT
from tests.shop_helpers import ROOT, VIP, G, _buy

settings = shop_helpers.settings  # a fixture shared by several modules
shop = shop_helpers.shop  # a fixture shared by several modules


# -- items ------------------------------------------------------------------------------


def test_put_creates_then_replaces_the_whole_item(client: TestClient, auth: dict) -> None:
    made = client.put(f"/shop/{G}/items/vip", json=VIP, headers=auth)
    assert made.status_code == 201
    assert made.json() | {"created_at": 0, "updated_at": 0} == {
        "guild_id": str(G),
        "bot_id": BOT,
        "item_id": "vip",
        "name": "VIP",
        "price": 30,
        "sell_price": 10,
        "stock": 5,
        "per_user_limit": None,
        "data": {"role": "42"},
        "enabled": True,
        "created_at": 0,
        "updated_at": 0,
    }
    again = client.put(f"/shop/{G}/items/vip", json={"name": "V", "price": 1}, headers=auth)
    assert again.status_code == 200
    assert (again.json()["sell_price"], again.json()["stock"], again.json()["data"]) == (
        None,
        None,
        None,
    )
    assert again.json()["created_at"] == made.json()["created_at"]
    assert client.get(f"/shop/{G}/items/vip", headers=auth).json() == again.json()


@pytest.mark.parametrize(
    ("item_id", "body", "status", "field"),
    [
        ("VIP", {"name": "x", "price": 1}, 422, "item_id"),
        ("a" * 65, {"name": "x", "price": 1}, 422, "item_id"),
        ("vip", {"name": "x", "price": -1}, 422, "price"),
        ("vip", {"name": "x", "price": "1"}, 422, "price"),
        ("vip", {"name": "", "price": 1}, 422, "name"),
        ("vip", {"name": "x", "price": 1, "stock": -1}, 422, "stock"),
        ("vip", {"name": "x", "price": 1, "per_user_limit": 0}, 422, "per_user_limit"),
        ("vip", {"name": "x", "price": 1, "colour": "red"}, 422, "colour"),
        ("vip", {"name": "x", "price": 1, "data": {"x": "y" * 11000}}, 413, "data"),
    ],
)
def test_bad_items_are_refused(
    client: TestClient, auth: dict, item_id: str, body: dict, status: int, field: str
) -> None:
    r = client.put(f"/shop/{G}/items/{item_id}", json=body, headers=auth)
    assert r.status_code == status, r.text
    assert field in r.text
    assert client.get(f"/shop/{G}/items", headers=auth).json() == []


def test_each_bot_sees_its_items_and_all_shows_every_bot(
    client: TestClient, auth: dict, make_key
) -> None:
    other = make_key(OTHER_BOT)
    client.put(f"/shop/{G}/items/vip", json=VIP, headers=auth)
    client.put(f"/shop/{G}/items/vip", json={**VIP, "price": 99}, headers=other)
    client.put(f"/shop/{G}/items/boost", json=VIP, headers=other)
    client.put(f"/shop/{G + 1}/items/elsewhere", json=VIP, headers=auth)
    mine = client.get(f"/shop/{G}/items", headers=auth).json()
    assert [(i["bot_id"], i["item_id"], i["price"]) for i in mine] == [(BOT, "vip", 30)]
    every = client.get(f"/shop/{G}/items?all=true", headers=auth).json()
    assert [(i["bot_id"], i["item_id"]) for i in every] == [
        (BOT, "vip"),
        (OTHER_BOT, "boost"),
        (OTHER_BOT, "vip"),
    ]
    assert client.get(f"/shop/{G}/items/boost", headers=auth).status_code == 404


def test_delete_an_item_only_when_nobody_holds_it(
    client: TestClient, shop: dict, db: backend.Connection
) -> None:
    assert _buy(client, shop, {"user_id": 1}).status_code == 201
    held = client.delete(f"/shop/{G}/items/vip", headers=shop)
    assert (held.status_code, held.json()["code"]) == (409, "item_held")
    revoke = f"/profile/{G}/1/inventory/vip/revoke"
    assert client.post(revoke, headers=shop).status_code == 200
    assert client.delete(f"/shop/{G}/items/vip", headers=shop).status_code == 204
    assert client.delete(f"/shop/{G}/items/vip", headers=shop).status_code == 404
    assert db.execute("SELECT count(*) FROM shop_items").fetchone()[0] == 0


# -- scope, events, the ledger's reads ---------------------------------------------------


def test_the_economy_scope_is_needed(client: TestClient, make_key) -> None:
    without = make_key(scopes=tuple(s for s in keys.DEFAULT_SCOPES if s != "economy"))
    r = client.get(f"/shop/{G}/items", headers=without)
    assert (r.status_code, r.json()["message"]) == (403, "missing scope economy")
    assert "economy" in client.get("/auth/me", headers=make_key()).json()["scopes"]


def test_the_migration_gives_economy_to_keys_with_every_other_scope(tmp_path: Path) -> None:
    """A database at 0006 (the run's engine, its own migration files) gets 0009's scope."""
    conn: Any = backend.connect(tmp_path / "old.db")
    engine = conn.dialect.name
    conn.execute("CREATE TABLE migrations (id INTEGER PRIMARY KEY, name TEXT, applied_at REAL)")
    for path in sorted((ROOT / "storage/engine/sql" / engine).glob("000[1-6]_*.sql")):
        if engine == "sqlite":
            conn.executescript(f"BEGIN;\n{path.read_text()}\nCOMMIT;")
        else:
            conn.script(path.read_text())  # one simple query: one transaction
        conn.execute("INSERT INTO migrations VALUES (?, 'x', 0)", (int(path.name[:4]),))
    every = "profiles:read profiles:write ledger:read ledger:write reputation settings"
    for name, scopes in [("bot", every), ("admin", every + " admin"), ("reader", "profiles:read")]:
        conn.execute(
            "INSERT INTO api_keys (name, bot_id, hash, scopes, created_at) VALUES (?, '1', ?, ?, 0)",
            (name, name.encode(), scopes),
        )
    apply_migrations(conn)
    got = dict(conn.execute("SELECT name, scopes FROM api_keys"))
    conn.close()
    assert got == {
        "bot": every + " callbacks economy images",  # 0007 callbacks, 0009 economy, 0011 images
        "admin": every + " callbacks economy images admin",
        "reader": "profiles:read",
    }


def test_a_purchase_is_a_callback_event_and_filterable_by_kind(
    client: TestClient, shop: dict, db: backend.Connection
) -> None:
    hook = {"url": "http://127.0.0.1:9/hook", "secret": "s"}
    assert client.put("/callback/purchase", json=hook, headers=shop).status_code == 200
    bought = _buy(client, shop, {"user_id": 1})
    (body,) = [
        json.loads(r[0]) for r in db.execute("SELECT body FROM outbox WHERE event = 'purchase'")
    ]
    assert (body["event"], body["data"]) == ("purchase", bought.json())
    purchases = client.get("/transaction?kind=purchase", headers=shop)
    assert [t["id"] for t in purchases.json()] == [bought.json()["transaction"]["id"]]
    assert purchases.headers["X-Total-Count"] == "1"
    assert client.get("/transaction?kind=reset", headers=shop).json()[0]["kind"] == "reset"
    bad = client.get("/transaction?kind=gift", headers=shop)
    assert bad.status_code == 422 and "purchase" in bad.json()["message"]


# -- documentation -------------------------------------------------------------------------

ECONOMY_ROUTES = [
    ("PUT", "/shop/{guild_id}/items/{item_id}", "ItemIn", "Item"),
    ("GET", "/shop/{guild_id}/items", None, None),
    ("GET", "/shop/{guild_id}/items/{item_id}", None, "Item"),
    ("DELETE", "/shop/{guild_id}/items/{item_id}", None, None),
    ("POST", "/shop/{guild_id}/items/{item_id}/buy", "BuyIn", "Purchase"),
    ("GET", "/profile/{guild_id}/{user_id}/inventory", None, None),
    (
        "POST",
        "/profile/{guild_id}/{user_id}/inventory/{item_id}/use",
        "QuantityIn",
        "InventoryLine",
    ),
    ("POST", "/profile/{guild_id}/{user_id}/inventory/{item_id}/give", "GiveIn", "Gift"),
    ("POST", "/profile/{guild_id}/{user_id}/inventory/{item_id}/sell", "QuantityIn", "Sale"),
    ("POST", "/profile/{guild_id}/{user_id}/inventory/{item_id}/grant", "QuantityIn", None),
    ("POST", "/profile/{guild_id}/{user_id}/inventory/{item_id}/revoke", "QuantityIn", None),
    ("PUT", "/rewards/{guild_id}/{reward_id}", "RewardIn", "Reward"),
    ("GET", "/rewards/{guild_id}", None, None),
    ("GET", "/rewards/{guild_id}/{reward_id}", None, "Reward"),
    ("DELETE", "/rewards/{guild_id}/{reward_id}", None, None),
    ("POST", "/rewards/{guild_id}/{reward_id}/claim", "ClaimIn", "Claimed"),
    ("GET", "/rewards/{guild_id}/{reward_id}/{user_id}", None, "ClaimState"),
]


def test_the_html_page_lists_every_economy_route_with_its_scope(client: TestClient) -> None:
    page = client.get("/").text
    assert "a shop with inventories and claimable rewards" in page
    for method, path, _, _ in ECONOMY_ROUTES:
        row = f"<tr><td><code>{method}</code></td><td><code>{path}</code></td>"
        assert row in page, (method, path)
        assert page.split(row, 1)[1].split("</tr>", 1)[0].endswith("<td>economy</td>"), path


def test_openapi_documents_the_economy_bodies_answers_and_idempotency(
    client: TestClient,
) -> None:
    doc = client.get("/schema/openapi.json").json()
    for method, path, body, answer in ECONOMY_ROUTES:
        operation = doc["paths"][path][method.lower()]
        if body is not None:
            assert f'"title": "{body}"' in json.dumps(operation["requestBody"]), path
        if answer is not None:
            ok = next(v for k, v in operation["responses"].items() if k in ("200", "201"))
            assert ok["content"]["application/json"]["schema"] == {
                "$ref": f"#/components/schemas/{answer}"
            }, path
        assert "409" in operation["responses"] and "422" in operation["responses"], path
    buy = doc["paths"]["/shop/{guild_id}/items/{item_id}/buy"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in buy["parameters"]]
    for code in ("insufficient_funds", "out_of_stock", "limit_reached", "item_disabled"):
        assert code in buy["description"]
    claim = doc["paths"]["/rewards/{guild_id}/{reward_id}/claim"]["post"]
    assert "Retry-After" in claim["description"]
    retry = claim["responses"]["409"]["headers"]["Retry-After"]
    assert (retry["schema"]["pattern"], retry["required"]) == ("^[0-9]+$", False)
    kinds = doc["components"]["schemas"]["Transaction"]["properties"]["kind"]["enum"]
    assert {"purchase", "refund", "reward"} <= set(kinds)
    (item_id,) = [p for p in buy["parameters"] if p["name"] == "item_id"]
    assert item_id["schema"]["pattern"] == KEY_PATTERN
