"""GET /stats (SPEC §7) against totals computed here from the profiles and the log."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from litestar.testing import TestClient

from tests.tops_world import (
    GUILDS,
    build,
    entries,
    fresh_client,
    worlds,
)


def _expected(profiles: list[dict], log: list[dict], guild: int | None) -> dict:
    scoped = [p for p in profiles if guild is None or p["guild_id"] == str(guild)]
    touching = [
        e
        for e in log
        if guild is None or str(guild) in (e["from"].get("guild_id"), e["to"].get("guild_id"))
    ]
    out = {
        "profiles": len(scoped),
        "users": len({p["user_id"] for p in scoped}),
        "transactions": len(touching),
        "voicepoints": sum(p["voicepoints"] for p in scoped),
        "experience": sum(p["experience"] for p in scoped),
        "timespent": sum(p["timespent"]["global"] for p in scoped),
        "messages": sum((p["text"] or {}).get("message_count", 0) for p in scoped),
    }
    if guild is None:
        out["guilds"] = len({p["guild_id"] for p in scoped})
    return out


@settings(max_examples=10, deadline=None)
@given(world=worlds)
def test_stats_match_the_profiles_and_the_ledger(world: dict) -> None:
    with fresh_client() as (client, h):
        profiles = build(client, h, world)
        log = entries(client, h)
        assert client.get("/stats", headers=h).json() == _expected(profiles, log, None)
        for guild in GUILDS:
            got = client.get("/stats", params={"guild_id": guild}, headers=h).json()
            assert got == _expected(profiles, log, guild)


def test_circulation_counts_user_profiles_only(client: TestClient, auth: dict[str, str]) -> None:
    """The treasury issued 30 (its balance is -30); circulation is what users hold."""
    client.post("/profile/9/1", json={"voicepoints": 10}, headers=auth)
    client.post("/profile/9/2", json={"voicepoints": 20}, headers=auth)
    client.post("/profile/8/2", headers=auth)
    got = client.get("/stats", headers=auth).json()
    assert got["voicepoints"] == 30
    assert (got["profiles"], got["users"], got["guilds"], got["transactions"]) == (3, 2, 2, 2)
    assert "guilds" not in client.get("/stats", params={"guild_id": 8}, headers=auth).json()


@pytest.mark.parametrize(
    ("params", "status"), [({"guild_id": "abc"}, 422), ({"guild_id": "1" * 21}, 422)]
)
def test_bad_guild_ids_are_422(
    client: TestClient, auth: dict[str, str], params: dict, status: int
) -> None:
    got = client.get("/stats", params=params, headers=auth)
    assert got.status_code == status and got.json()["errors"][0]["field"] == "guild_id"


def test_stats_need_profiles_read(client: TestClient, make_key) -> None:
    got = client.get("/stats", headers=make_key(scopes=("ledger:read",)))
    assert got.status_code == 403
