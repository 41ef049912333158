"""What the transaction tests share: a guild, three users and two treasuries, calls that
create a profile or send a transaction, reads of the committed ledger, and the `funded`
fixture."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from storage.ids import treasury_id, vp_id
from tests import backend
from tests.conftest import BOT, OTHER_BOT

G = "131853185391"
ALICE, BOB, CAROL = "1001", "1002", "1003"
A, B, C = (vp_id(G, u) for u in (ALICE, BOB, CAROL))
T = treasury_id(BOT)
T2 = treasury_id(OTHER_BOT)


def profile(client: TestClient, auth: dict, user: str, points: int = 0, guild: str = G) -> None:
    r = client.post(f"/profile/{guild}/{user}", json={"voicepoints": points}, headers=auth)
    assert r.status_code in (200, 201), r.text


def send(client: TestClient, auth: dict, body: Any, key: str | None = None) -> Any:
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}
    return client.post("/transaction", json=body, headers=headers)


def balances(db: backend.Connection) -> dict[str, int]:
    return dict(db.execute("SELECT vp_id, balance FROM accounts"))


def entry_count(db: backend.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM ledger").fetchone()[0])


@pytest.fixture
def funded(client: TestClient, auth: dict) -> TestClient:
    """Alice 100, Bob 0, Carol 0 (all funded from BOT's treasury)."""
    profile(client, auth, ALICE, 100)
    profile(client, auth, BOB)
    profile(client, auth, CAROL)
    return client
