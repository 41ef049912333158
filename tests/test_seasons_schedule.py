"""Scheduled seasons: PUT /profile/{guild_id}/seasons/schedule makes the server end a
season at each UTC week or month boundary by itself, once per boundary, even across
restarts and downtime."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient

from storage.clock import Clock, ManualClock
from tests import backend
from tests.conftest import BOT, start_server
from tests.profile_support import ensure

GUILD = "700000000000000001"
WEDNESDAY = datetime(2026, 11, 25, 12, tzinfo=UTC).timestamp()  # ISO week 2026-W48
NEXT_MONDAY = datetime(2026, 11, 30, tzinfo=UTC).timestamp()
DAY = 86400


@pytest.fixture
def clock() -> Clock:
    return ManualClock(WEDNESDAY)


def _tick(client: TestClient) -> int:
    """What the server's season task does at each look (at start, then periodically)."""
    seasons = client.app.state.services.seasons
    return client.blocking_portal.call(seasons.tick)  # type: ignore[no-any-return]


def _names(client: TestClient, auth: dict[str, str]) -> list[str]:
    return [s["name"] for s in client.get(f"/profile/{GUILD}/seasons", headers=auth).json()]


def test_weekly_schedule_ends_each_boundary_once(
    client: TestClient, auth: dict[str, str], clock: ManualClock, db: backend.Connection
) -> None:
    ensure(client, auth, GUILD, 1, experience=50, level=3, voicepoints=8)
    body = {"every": "week", "reset": ["experience", "voicepoints"]}
    r = client.put(f"/profile/{GUILD}/seasons/schedule", json=body, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "guild_id": GUILD,
        "every": "week",
        "reset": ["experience", "voicepoints"],
        "next_at": NEXT_MONDAY,
    }
    assert client.get(f"/profile/{GUILD}/seasons/schedule", headers=auth).json() == r.json()
    assert _tick(client) == 0  # the boundary has not come
    clock.set(NEXT_MONDAY - 0.001)
    assert _tick(client) == 0
    clock.set(NEXT_MONDAY)
    assert _tick(client) == 1
    assert _tick(client) == 0  # the same boundary, looked at again
    assert _names(client, auth) == ["week 2026-W48"]
    [season] = client.get(f"/profile/{GUILD}/seasons", headers=auth).json()
    assert (season["ended_at"], season["bot_id"], season["voicepoints"]) == (NEXT_MONDAY, BOT, 8)
    profile = client.get(f"/profile/{GUILD}/1", headers=auth).json()
    assert (profile["experience"], profile["level"], profile["voicepoints"]) == (0, 3, 0)
    top = client.get(f"/profile/{GUILD}/top?by=levels&season=1", headers=auth).json()
    assert top[0]["profile"]["experience"] == 50
    # three boundaries pass unseen: one season for them, named after the last week
    clock.set(NEXT_MONDAY + 21 * DAY + 5)
    assert _tick(client) == 1
    assert _tick(client) == 0
    assert _names(client, auth) == ["week 2026-W48", "week 2026-W51"]


def test_monthly_schedule_across_the_year_end(
    client: TestClient, auth: dict[str, str], clock: ManualClock
) -> None:
    clock.set(datetime(2026, 12, 20, tzinfo=UTC).timestamp())
    ensure(client, auth, GUILD, 1, experience=5)
    r = client.put(
        f"/profile/{GUILD}/seasons/schedule", json={"every": "month", "reset": []}, headers=auth
    )
    new_year = datetime(2027, 1, 1, tzinfo=UTC).timestamp()
    assert r.json()["next_at"] == new_year
    clock.set(new_year + 60)
    assert _tick(client) == 1
    clock.set(datetime(2027, 1, 31, 23, 59, tzinfo=UTC).timestamp())
    assert _tick(client) == 0
    clock.set(datetime(2027, 2, 1, tzinfo=UTC).timestamp())
    assert _tick(client) == 1
    assert _names(client, auth) == ["month 2026-12", "month 2027-01"]
    # nothing named: archived, nothing reset
    assert client.get(f"/profile/{GUILD}/1", headers=auth).json()["experience"] == 5


def test_delete_stops_the_schedule(
    client: TestClient, auth: dict[str, str], clock: ManualClock
) -> None:
    ensure(client, auth, GUILD, 1)
    client.put(f"/profile/{GUILD}/seasons/schedule", json={"every": "week"}, headers=auth)
    assert client.delete(f"/profile/{GUILD}/seasons/schedule", headers=auth).status_code == 204
    clock.set(NEXT_MONDAY + 1)
    assert _tick(client) == 0 and _names(client, auth) == []
    for method in (client.get, client.delete):
        r = method(f"/profile/{GUILD}/seasons/schedule", headers=auth)
        assert r.status_code == 404 and r.json()["code"] == "schedule_not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"every": "day"}, "every"),
        ({"reset": []}, "every"),
        ({"every": "week", "reset": ["nope"]}, "reset"),
        ({"every": "week", "at": 1}, "at"),
    ],
)
def test_bad_schedules_are_refused(
    client: TestClient, auth: dict[str, str], db: backend.Connection, body: dict, field: str
) -> None:
    r = client.put(f"/profile/{GUILD}/seasons/schedule", json=body, headers=auth)
    assert r.status_code == 422 and field in r.text
    assert db.execute("SELECT count(*) FROM season_schedules").fetchone()[0] == 0


def test_schedule_scopes(
    client: TestClient, make_key: Callable[..., dict[str, str]], db: backend.Connection
) -> None:
    path = f"/profile/{GUILD}/seasons/schedule"
    reader = make_key(scopes=("profiles:read",))
    writer = make_key(scopes=("profiles:read", "profiles:write"))
    assert client.put(path, json={"every": "week"}, headers=reader).status_code == 403
    r = client.put(path, json={"every": "week", "reset": ["voicepoints"]}, headers=writer)
    assert r.status_code == 403 and r.json()["message"] == "missing scope ledger:write"
    assert db.execute("SELECT count(*) FROM season_schedules").fetchone()[0] == 0
    assert client.put(path, json={"every": "week"}, headers=writer).status_code == 200
    assert client.get(path, headers=reader).status_code == 200
    assert client.delete(path, headers=reader).status_code == 403


# -- a real server, stopped and started again with its clock moved ---------------------


@pytest.mark.server
def test_a_boundary_passed_while_down_is_ended_once_across_restarts(tmp_path: Path) -> None:
    db, log = tmp_path / "vp.db", tmp_path / "server.log"
    now = time.time()
    # the next Monday 00:00 UTC, and a moment 1 hour past it
    monday = (now // DAY - (now // DAY - 4) % 7 + 7) * DAY
    past = {"VOICEPROFILE_CLOCK_OFFSET": str(monday - now + 3600)}
    server = start_server(db, log)
    key = server.admin_key
    try:
        with server.client() as http:
            body = {"experience": 40, "level": 2}
            assert http.post(f"/profile/{GUILD}/1", json=body).status_code == 201
            r = http.put(
                f"/profile/{GUILD}/seasons/schedule",
                json={"every": "week", "reset": ["experience"]},
            )
            assert r.status_code == 200 and r.json()["next_at"] == monday
            assert http.get(f"/profile/{GUILD}/seasons").json() == []
    finally:
        server.stop()
    # down across the boundary: the server ends it at start, before it answers
    server = start_server(db, log, env=past)
    try:
        with server.client(key) as http:
            [season] = http.get(f"/profile/{GUILD}/seasons").json()
            assert season["number"] == 1 and season["ended_at"] >= monday
            assert http.get(f"/profile/{GUILD}/1").json()["experience"] == 0
            top = http.get(f"/profile/{GUILD}/top?by=levels&season=1").json()
            assert top[0]["profile"]["experience"] == 40
    finally:
        server.stop()
    server = start_server(db, log, env=past)  # the same boundary, seen at a new start
    try:
        with server.client(key) as http:
            assert http.patch(f"/profile/{GUILD}/1/add", json={"experience": 7}).status_code == 200
            assert len(http.get(f"/profile/{GUILD}/seasons").json()) == 1
    finally:
        server.stop()
    conn = backend.connect(db)
    assert conn.execute("SELECT count(*) FROM seasons").fetchone()[0] == 1
    assert conn.execute("SELECT experience FROM accounts WHERE open = 1").fetchone()[0] == 7
    conn.close()
