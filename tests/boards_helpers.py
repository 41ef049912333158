"""What the leaderboard tests share: guilds, users and the tops a board serves, two
in-process servers on one database (one with boards, one without), and comparing their
answers."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.clock import ManualClock
from tests import backend
from tests.tops_world import new_database

GUILDS = (5, 6)
USERS = range(1, 7)
T = 480_000 * 3600  # a whole hour, in 2024
BOARD_TOPS = [
    ("points", None),
    ("levels", None),  # ranks only
    ("experience", None),  # tops and ranks: no index orders it
    ("text-level", None),  # ranks only
    ("points", "day"),
    ("points", "week"),
    ("levels", "day"),
    ("experience", "week"),
    ("time", "week"),
    ("text-message", "month"),
    ("points", "last-week"),  # calendar periods: rebuilt when theirs ends
    ("levels", "this-month"),
    ("time", "last-month"),
]


@contextmanager
def two_servers(
    **options: Any,
) -> Iterator[tuple[TestClient, TestClient, dict[str, str], ManualClock]]:
    """(with boards, without boards, key, clock) on one fresh database."""
    clock = ManualClock(float(T))
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        path, headers = new_database(Path(tmp))
        stack.callback(backend.drop, path)  # one per hypothesis example: not kept
        db = backend.target(path)
        clients = [
            stack.enter_context(
                TestClient(
                    create_app(
                        Settings(db=db, key_cache_seconds=0.0, boards=mode, **options),
                        clock=clock,
                    )
                )
            )
            for mode in ("sync", "off")
        ]
        yield clients[0], clients[1], headers, clock


def _pairs(body: list[dict]) -> list[tuple[int, str]]:
    return [(e["score"], e["profile"]["id"]) for e in body]


def compare_tops(boards: TestClient, sql: TestClient, h: dict[str, str], where: str) -> None:
    """Every board's whole global top: cheap enough after each step, and it makes
    the boards catch up step by step, as a busy server's would."""
    for by, timeframe in BOARD_TOPS:
        params = {"by": by, "amount": 0, **({} if timeframe is None else {"timeframe": timeframe})}
        want = sql.get("/profile/top", params=params, headers=h).json()
        got = boards.get("/profile/top", params=params, headers=h).json()
        assert _pairs(got) == _pairs(want), (where, by, timeframe)
    for params in ({}, *({"guild_id": g} for g in GUILDS)):
        stats = sql.get("/stats", params=params, headers=h).json()
        assert boards.get("/stats", params=params, headers=h).json() == stats, (where, params)


def compare(boards: TestClient, sql: TestClient, h: dict[str, str], where: str) -> None:
    profiles = sql.get("/profile", params={"limit": 0}, headers=h).json()
    for bucket in ("minute", "hour", "day"):  # the economy's graph: the flow board
        for window in ({}, {"from": T + 0.5}, {"from": T + 1800.25, "to": T + 86400 + 59.5}):
            params = {"bucket": bucket, **window}
            want = sql.get("/stats/balance_graph", params=params, headers=h).json()
            got = boards.get("/stats/balance_graph", params=params, headers=h).json()
            assert got == want, (where, params)
    for guild in (*GUILDS, 99):
        want = sql.get("/stats", params={"guild_id": guild}, headers=h).json()
        assert boards.get("/stats", params={"guild_id": guild}, headers=h).json() == want, where
    for by, timeframe in BOARD_TOPS:
        params = {"by": by} if timeframe is None else {"by": by, "timeframe": timeframe}
        for guild in (None, *GUILDS):
            path = "/profile/top" if guild is None else f"/profile/{guild}/top"
            for extra in ({"amount": 0}, {"amount": 2, "offset": 1}, {"amount": 3, "offset": 4}):
                want = sql.get(path, params={**params, **extra}, headers=h)
                got = boards.get(path, params={**params, **extra}, headers=h)
                assert got.status_code == want.status_code == 200
                assert _pairs(got.json()) == _pairs(want.json()), (where, by, timeframe, guild)
                assert [e["rank"] for e in got.json()] == [e["rank"] for e in want.json()]
        for p in profiles:
            rank = f"/profile/{p['guild_id']}/{p['user_id']}/rank"
            want = sql.get(rank, params=params, headers=h).json()
            assert boards.get(rank, params=params, headers=h).json() == want, (where, by, p)
