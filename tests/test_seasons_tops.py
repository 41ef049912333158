"""`top?season=N` and `rank?season=N` read a season's archive: the standings as they
were when the season ended, for every `by` the live tops accept."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from storage.queries.tops import METRICS
from tests import backend
from tests.profile_support import ensure

GUILD = "600000000000000001"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    # chunks of 3: a streamed season top crosses several chunk boundaries
    return Settings(
        db=backend.target(db_path), key_cache_seconds=0.0, boards="sync", stream_chunk=3
    )


def _world(client: TestClient, auth: dict[str, str], seed: int) -> None:
    rng = random.Random(seed)
    print("seed", seed)
    for user in range(1, 12):
        small = lambda: rng.choice([0, 1, 2, 5])  # noqa: E731 - ties on purpose
        ensure(
            client,
            auth,
            GUILD,
            user,
            experience=small(),
            level=small(),
            voicepoints=small(),
            pray={"streak": small()},
            text=None
            if user % 4 == 0
            else {"level": small(), "experience": small(), "message_count": small()},
            timespent={"global": small()},
        )


def _order(entries: list[dict]) -> list[tuple]:
    return [(e["rank"], e["score"], e["profile"]["id"]) for e in entries]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_season_top_and_rank_are_the_live_ones_at_its_end(
    client: TestClient, auth: dict[str, str], seed: int
) -> None:
    _world(client, auth, seed)
    live, ranks = {}, {}
    for by in METRICS:
        live[by] = _order(client.get(f"/profile/{GUILD}/top?by={by}&amount=0", headers=auth).json())
        ranks[by] = [
            client.get(f"/profile/{GUILD}/{u}/rank?by={by}", headers=auth).json()
            for u in range(1, 12)
        ]
    reset = ["experience", "level", "text", "timespent", "pray", "voicepoints"]
    assert (
        client.post(
            f"/profile/{GUILD}/seasons", json={"name": "s", "reset": reset}, headers=auth
        ).status_code
        == 201
    )
    # everything live is reset now; the archive still answers as it was
    for by in METRICS:
        base = f"/profile/{GUILD}/top?by={by}&season=1"
        whole = client.get(base + "&amount=0", headers=auth)  # streamed, in chunks
        assert whole.status_code == 200
        assert _order(whole.json()) == live[by], by
        page = client.get(base + "&amount=4&offset=3", headers=auth).json()
        assert _order(page) == live[by][3:7]
        assert _order(client.get(base + "&amount=0&offset=5", headers=auth).json()) == live[by][5:]
        for u in range(1, 12):
            r = client.get(f"/profile/{GUILD}/{u}/rank?by={by}&season=1", headers=auth)
            assert r.json() == ranks[by][u - 1], (by, u)


def test_archived_profile_carries_the_season_end_values(
    client: TestClient, auth: dict[str, str]
) -> None:
    ensure(
        client,
        auth,
        GUILD,
        7,
        experience=40,
        level=3,
        voicepoints=9,
        data={"x": 1},
        text={"level": 1, "experience": 2, "message_count": 3},
    )
    client.post(
        f"/profile/{GUILD}/seasons", json={"name": "s", "reset": ["experience"]}, headers=auth
    )
    client.patch(f"/profile/{GUILD}/7/add", json={"experience": 5}, headers=auth)
    [entry] = client.get(f"/profile/{GUILD}/top?by=levels&season=1", headers=auth).json()
    profile = entry["profile"]
    assert (entry["rank"], entry["score"]) == (1, 3)
    assert (profile["experience"], profile["level"], profile["voicepoints"]) == (40, 3, 9)
    assert profile["text"] == {"level": 1, "experience": 2, "message_count": 3}
    assert profile["data"] is None and profile["user_id"] == "7"
    live = client.get(f"/profile/{GUILD}/top?by=levels", headers=auth).json()
    assert live[0]["profile"]["experience"] == 5


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("top?season=2", 404, "season_not_found"),
        ("top?season=0", 422, "validation_error"),
        ("top?season=abc", 422, "validation_error"),
        ("top?season=18446744073709551616", 422, "validation_error"),
        ("1/rank?season=9223372036854775808", 422, "validation_error"),
        ("top?season=1&amount=9223372036854775808", 422, "validation_error"),
        ("top?season=1&by=nope", 422, "validation_error"),
        ("top?season=1&timeframe=week", 422, "validation_error"),
        ("top?season=1&since=5", 422, "validation_error"),
        ("top?season=1&offset=-1", 422, "validation_error"),
        ("1/rank?season=2", 404, "season_not_found"),
        ("1/rank?season=1&timeframe=this-week", 422, "validation_error"),
        ("99/rank?season=1", 404, "profile_not_found"),
    ],
)
def test_bad_season_reads(
    client: TestClient, auth: dict[str, str], query: str, status: int, code: str
) -> None:
    ensure(client, auth, GUILD, 1, experience=1)
    client.post(f"/profile/{GUILD}/seasons", json={"name": "s"}, headers=auth)
    r = client.get(f"/profile/{GUILD}/{query}", headers=auth)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == r.status_code and "message" in body
    assert body["code"] == code


def test_another_guilds_season_is_not_found(client: TestClient, auth: dict[str, str]) -> None:
    ensure(client, auth, GUILD, 1)
    client.post(f"/profile/{GUILD}/seasons", json={"name": "s"}, headers=auth)
    r = client.get("/profile/600000000000000002/top?season=1", headers=auth)
    assert r.status_code == 404 and r.json()["code"] == "season_not_found"
