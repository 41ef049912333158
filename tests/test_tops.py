"""Tops and ranks over all time (SPEC §7), checked against a sort done here."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from storage.ids import treasury_id, vp_id
from tests.tops_world import (
    BOT,
    GUILDS,
    METRICS,
    build,
    expected_top,
    fresh_client,
    worlds,
)


def _pairs(body: list[dict]) -> list[tuple[int, str]]:
    return [(e["score"], e["profile"]["id"]) for e in body]


@pytest.mark.parametrize("boards", ["sync", "off"])  # in-memory boards, and SQL alone
@settings(max_examples=12, deadline=None)
@given(world=worlds, seed=st.integers(0, 2**32))
def test_every_metric_and_scope_matches_a_sort(boards: str, world: dict, seed: int) -> None:
    note(f"seed={seed}")
    rnd = random.Random(seed)
    with fresh_client(boards, stream_chunk=3) as (client, h):
        profiles = build(client, h, world)
        for by in METRICS:
            for guild in (None, GUILDS[0]):
                path = "/profile/top" if guild is None else f"/profile/{guild}/top"
                want = expected_top(profiles, by, guild)
                everything = client.get(path, params={"by": by, "amount": 0}, headers=h)
                assert everything.status_code == 200
                body = everything.json()
                assert _pairs(body) == want, (by, guild)
                assert [e["rank"] for e in body] == list(range(1, len(want) + 1))
                default = client.get(path, params={"by": by}, headers=h).json()
                assert _pairs(default) == want[:5]
                for _ in range(2):
                    amount, offset = rnd.randint(-1, 7), rnd.randint(0, len(want) + 1)
                    got = client.get(
                        path, params={"by": by, "amount": amount, "offset": offset}, headers=h
                    ).json()
                    stop = None if amount <= 0 else offset + amount
                    assert _pairs(got) == want[offset:stop], (by, guild, amount, offset)
                    assert [e["rank"] for e in got] == list(
                        range(offset + 1, offset + 1 + len(got))
                    )
                if guild is not None:
                    for rank, (score, vp) in enumerate(want, 1):
                        if rnd.random() > 0.3:
                            continue
                        p = next(p for p in profiles if p["id"] == vp)
                        got = client.get(
                            f"/profile/{guild}/{p['user_id']}/rank", params={"by": by}, headers=h
                        ).json()
                        assert got == {"rank": rank, "score": score, "total": len(want)}


def test_static_paths_win_over_ids(client: TestClient, auth: dict[str, str]) -> None:
    """/profile/top is not guild "top"; /profile/{g}/top is not user "top"."""
    client.post("/profile/9/1", json={"voicepoints": 3}, headers=auth)
    top = client.get("/profile/top", headers=auth)
    assert top.status_code == 200 and top.json()[0]["profile"]["user_id"] == "1"
    guild = client.get("/profile/9/top", headers=auth)
    assert guild.status_code == 200 and guild.json()[0]["rank"] == 1
    assert client.get("/profile/9/1", headers=auth).json()["user_id"] == "1"
    assert client.get("/profile/9", headers=auth).json()[0]["user_id"] == "1"
    assert client.get("/profile/9/1/rank", headers=auth).json() == {
        "rank": 1,
        "score": 3,
        "total": 1,
    }


def test_treasuries_and_deleted_profiles_never_appear(
    client: TestClient, auth: dict[str, str]
) -> None:
    client.post("/profile/9/1", json={"voicepoints": 5}, headers=auth)
    client.post("/profile/9/2", json={"voicepoints": 7}, headers=auth)
    client.delete("/profile/9/2", headers=auth)
    for by in METRICS:
        ids = [
            e["profile"]["id"]
            for e in client.get("/profile/top", params={"by": by, "amount": 0}, headers=auth).json()
        ]
        assert ids == [vp_id(9, 1)]
        assert treasury_id(BOT) not in ids
    assert client.get("/profile/9/2/rank", headers=auth).status_code == 404


def test_text_null_scores_zero_and_ties_break_by_profile_id(
    client: TestClient, auth: dict[str, str]
) -> None:
    client.post("/profile/9/1", json={"text": {"level": 0}}, headers=auth)
    client.post("/profile/9/2", headers=auth)
    client.post("/profile/9/3", json={"text": {"level": 1}}, headers=auth)
    got = client.get("/profile/9/top", params={"by": "text-level", "amount": 0}, headers=auth)
    pairs = _pairs(got.json())
    assert pairs[0] == (1, vp_id(9, 3))
    assert pairs[1:] == sorted([(0, vp_id(9, 1)), (0, vp_id(9, 2))], key=lambda t: t[1])
    assert got.json()[1]["profile"]["text"] in (
        None,
        {"level": 0, "experience": 0, "message_count": 0},
    )


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/profile/top", {"by": "coins"}, "by"),
        ("/profile/9/top", {"by": "level"}, "by"),
        ("/profile/9/1/rank", {"by": "xp"}, "by"),
        ("/profile/top", {"offset": -1}, "offset"),
        ("/profile/top", {"offset": 10**20}, "offset"),
        ("/profile/9/top", {"amount": 10**20}, "amount"),
        ("/profile/x/top", {}, "guild_id"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(
    client: TestClient, auth: dict[str, str], path: str, params: dict, field: str
) -> None:
    client.post("/profile/9/1", headers=auth)
    got = client.get(path, params=params, headers=auth)
    assert got.status_code == 422
    assert got.json()["errors"][0]["field"] == field
    if field == "by":
        assert got.json()["valid"] == METRICS
        for name in METRICS:
            assert name in got.json()["message"]


def test_tops_need_profiles_read(client: TestClient, make_key) -> None:
    key = make_key(scopes=("ledger:read",))
    got = client.get("/profile/top", headers=key)
    assert got.status_code == 403 and got.json()["message"] == "missing scope profiles:read"
