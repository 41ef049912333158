"""What the shop tests share: a guild, the repository root, an item, settings with local
callback receivers, reading the economy's state, the `shop` fixture and buying."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from tests import backend

G = 7
ROOT = Path(__file__).parent.parent
VIP = {"name": "VIP", "price": 30, "sell_price": 10, "stock": 5, "data": {"role": "42"}}


@pytest.fixture
def settings(db_path: Path) -> Settings:
    """The callback receivers here are local (not public) addresses."""
    return Settings(
        db=backend.target(db_path),
        key_cache_seconds=0.0,
        boards="sync",
        allow_hosts=("127.0.0.1",),
    )


def _state(db: backend.Connection) -> tuple:
    """Everything a purchase may change, read through an independent connection."""
    return (
        db.execute("SELECT count(*) FROM ledger").fetchone()[0],
        db.execute("SELECT vp_id, balance FROM accounts ORDER BY id").fetchall(),
        db.execute("SELECT * FROM item_log ORDER BY id").fetchall(),
        db.execute("SELECT * FROM inventory ORDER BY 1, 2, 3").fetchall(),
        db.execute("SELECT item_id, stock FROM shop_items ORDER BY 1").fetchall(),
    )


@pytest.fixture
def shop(client: TestClient, auth: dict) -> dict:
    """Item `vip` (stock 5) and member 1 with 100 voicepoints."""
    assert client.put(f"/shop/{G}/items/vip", json=VIP, headers=auth).status_code == 201
    assert (
        client.post(f"/profile/{G}/1", json={"voicepoints": 100}, headers=auth).status_code == 201
    )
    return auth


def _buy(client: TestClient, auth: dict, body: dict, item: str = "vip", **headers: str):  # type: ignore[no-untyped-def]
    return client.post(f"/shop/{G}/items/{item}/buy", json=body, headers={**auth, **headers})
