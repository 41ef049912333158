"""What the reputation API tests share: the reference's example time, a clock moved by
hand (the `clock` fixture), the reference API as a bot calls it (`rep`), ISO times."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from storage.queries import reputation as reputation_reads
from tests.conftest import BOT

T0 = 1_523_984_638_865  # 2018-04-17T17:03:58.865Z, the reference's example time
SECOND, DAY = 1000, 86_400_000
USER_KEYS = [
    "reputation",
    "cooldown",
    "givenReputation",
    "userId",
    "botId",
    "accountId",
    "availableReputations",
    "nextAvailableReputations",
]


class Clock:
    """The app's clock, in epoch milliseconds (`ms`), moved by hand."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def now(self) -> float:
        return self.ms / 1000

    def monotonic(self) -> float:
        return self.ms / 1000


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


class Rep:
    """The reference API as a bot would call it."""

    def __init__(self, client: TestClient, headers: dict[str, str], bot: str = BOT) -> None:
        self.client, self.headers, self.bot = client, headers, bot

    def settings(self, **changes: int) -> Any:
        if not changes:
            return self.client.get("/reputation/settings", headers=self.headers)
        return self.client.post("/reputation/settings", headers=self.headers, json=changes)

    def give(self, source: str, target: str) -> Any:
        return self.client.post(
            f"/reputation/{self.bot}/{target}", headers=self.headers, json={"source_user": source}
        )

    def user(self, user: str) -> dict[str, Any]:
        response = self.client.get(f"/reputation/{self.bot}/{user}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()["user"]  # type: ignore[no-any-return]

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(f"/reputation/{self.bot}/{path}", headers=self.headers, json=body)


@pytest.fixture
def rep(client: TestClient, auth: dict[str, str], clock: Clock) -> Rep:
    return Rep(client, auth)


def iso(ms: int) -> str:
    return reputation_reads.iso(ms)
