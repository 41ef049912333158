"""Limits hold under concurrency: the writer serializes every give, and each give
derives the limits from the entries inside its own task (SPEC §8)."""

from __future__ import annotations

import asyncio
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from app.routes import reputation as reputation_routes
from app.routes import settings as settings_routes
from ledger import apply
from ledger.commands import GiveReputation, UpdateRepSettings
from ledger.outcomes import Gave
from ledger.reputation import ReputationRefused
from storage.engine.migrations import apply_migrations
from storage.engine.sqlite import connect
from storage.engine.writer import Writer
from tests.conftest import BOT, Server


def test_handlers_use_no_deprecated_parameter_styles() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app = Litestar(route_handlers=[*reputation_routes.ROUTES, *settings_routes.ROUTES])
    assert app.route_handler_method_map


@pytest.fixture
async def writer(tmp_path: Path):  # type: ignore[no-untyped-def]
    conn = connect(tmp_path / "rep.db")
    apply_migrations(conn)
    conn.close()
    w = Writer(tmp_path / "rep.db")
    w.start()
    yield w
    await w.close()


async def _gives(writer: Writer, pairs: list[tuple[str, str]]) -> tuple[list, list]:
    results = await asyncio.gather(
        *(writer.run(apply, GiveReputation(BOT, t, s)) for s, t in pairs),
        return_exceptions=True,
    )
    ok = [r for r in results if isinstance(r, Gave)]
    refused = [r for r in results if isinstance(r, ReputationRefused)]
    assert len(ok) + len(refused) == len(pairs), results
    return ok, refused


@pytest.mark.parametrize("per_day", [1, 2, 7])
async def test_parallel_gives_from_one_user_never_exceed_per_day(
    writer: Writer, per_day: int
) -> None:
    await writer.run(apply, UpdateRepSettings(BOT, {"reputation_per_day": per_day}))
    ok, refused = await _gives(writer, [("9", str(100 + n)) for n in range(60)])
    assert len(ok) == per_day
    assert {r.number for r in refused} == {1}


@pytest.mark.parametrize(
    ("setting", "cap", "code"),
    [("maximum_reputation_received_day", 3, 2), ("maximum_reputation", 4, 3)],
)
async def test_parallel_gives_to_one_user_never_exceed_a_cap(
    writer: Writer, setting: str, cap: int, code: int
) -> None:
    await writer.run(apply, UpdateRepSettings(BOT, {setting: cap}))
    ok, refused = await _gives(writer, [(str(100 + n), "1") for n in range(40)])
    assert len(ok) == cap
    assert {r.number for r in refused} == {code}
    assert max(g.target.reputation for g in ok) == cap


@pytest.mark.server
def test_parallel_gives_over_http_never_exceed_per_day(server: Server) -> None:
    admin = server.client()
    try:
        made = admin.post("/keys", json={"name": "repbot", "bot_id": BOT})
        assert made.status_code == 201, made.text
        key = made.json()["key"]
    finally:
        admin.close()
    with server.client(key, limits=httpx.Limits(max_connections=16)) as bot:
        assert bot.post("/reputation/settings", json={"reputationPerDay": 3}).status_code == 200

        def give(n: int) -> httpx.Response:
            return bot.post(f"/reputation/{BOT}/{100 + n}", json={"source_user": "9"})

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(give, range(48)))
        codes = sorted(a.json()["code"] for a in answers)
        assert codes == [0] * 3 + [1] * 45
        assert {a.status_code for a in answers if a.json()["code"] == 1} == {403}
        user = bot.get(f"/reputation/{BOT}/9").json()["user"]
        assert len(user["cooldown"]) == 3 and user["availableReputations"] == 0
