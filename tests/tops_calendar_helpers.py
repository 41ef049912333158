"""What the calendar-timeframe tests share: the guild, its users and dates around 2028's
month and week boundaries, the settings fixture run with and without boards, the clock,
and the `guild` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from storage.clock import ManualClock
from tests import backend

DAY = 86400
GUILD = 9
USERS = (1, 2, 3)


def _at(*date: int) -> float:
    return datetime(*date, tzinfo=UTC).timestamp()  # type: ignore[misc]


MONDAY = _at(2028, 2, 28)  # a Monday; the week before it holds no month boundary
FEB, MARCH, APRIL = _at(2028, 2, 1), _at(2028, 3, 1), _at(2028, 4, 1)  # 2028: a leap year


@pytest.fixture(params=["sync", "off"])
def settings(request: pytest.FixtureRequest, db_path: Path) -> Settings:
    # Boards are never idle here: the clock jumps weeks, and an idle board would be
    # dropped and built afresh, when what is tested is one kept across boundaries.
    return Settings(
        db=backend.target(db_path),
        key_cache_seconds=0.0,
        boards=request.param,
        board_idle_seconds=1e9,
    )


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    yield ManualClock(FEB - 40 * DAY)


@pytest.fixture
def guild(client: TestClient, auth: dict) -> dict:
    for user in USERS:
        assert client.post(f"/profile/{GUILD}/{user}", headers=auth).status_code == 201
    return auth
