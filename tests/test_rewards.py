"""Claimable rewards (SPEC §13): cooldowns and calendar periods exactly at their
boundaries (a manual clock), streaks and their bonus, Retry-After, the member's
standing, and claims that create the profile."""

from __future__ import annotations

import json

import pytest
from litestar.testing import TestClient

from storage.clock import ManualClock
from tests import backend, shop_helpers
from tests.conftest import BOT

G = 9
MONDAY = 1_704_067_200.0  # 2024-01-01T00:00:00Z, a Monday
HOUR, DAY = 3600, 86400

settings = shop_helpers.settings  # a fixture shared by several modules (local receivers)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY + 10 * HOUR)


def _claim(client: TestClient, auth: dict, user: int = 1, reward: str = "r"):  # type: ignore[no-untyped-def]
    return client.post(f"/rewards/{G}/{reward}/claim", json={"user_id": user}, headers=auth)


def _reward(client: TestClient, auth: dict, **body: object) -> None:
    r = client.put(f"/rewards/{G}/r", json=body, headers=auth)
    assert r.status_code in (200, 201), r.text


def test_a_cooldown_holds_to_the_millisecond_and_says_when(
    client: TestClient, auth: dict, clock: ManualClock, db: backend.Connection
) -> None:
    _reward(client, auth, amount=25, cooldown=3600)
    first = _claim(client, auth)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["amount"], body["streak"], body["next_claim_at"]) == (25, 1, clock.now() + 3600)
    assert (body["transaction"]["kind"], body["transaction"]["to"]["user_id"]) == ("reward", "1")
    assert body["transaction"]["from"]["bot_id"] == BOT
    before = db.execute("SELECT count(*) FROM ledger").fetchone()[0]
    clock.advance(3599.999)
    again = _claim(client, auth)
    assert (again.status_code, again.json()["code"]) == (409, "cooldown")
    assert again.json()["next_claim_at"] == body["next_claim_at"]
    assert again.headers["Retry-After"] == "1"
    assert db.execute("SELECT count(*) FROM ledger").fetchone()[0] == before
    assert db.execute("SELECT count(*) FROM reward_claims").fetchone()[0] == 1
    clock.advance(0.001)
    assert _claim(client, auth).status_code == 201
    assert client.get(f"/profile/{G}/1", headers=auth).json()["voicepoints"] == 50


def test_retry_after_counts_whole_seconds_up(
    client: TestClient, auth: dict, clock: ManualClock
) -> None:
    _reward(client, auth, amount=1, cooldown=600)
    _claim(client, auth)
    clock.advance(0.5)
    assert _claim(client, auth).headers["Retry-After"] == "600"


def test_streaks_grow_the_bonus_up_to_streak_max_and_break_after_one_more_period(
    client: TestClient, auth: dict, clock: ManualClock
) -> None:
    _reward(client, auth, amount=10, cooldown=3600, streak_bonus=5, streak_max=3)
    paid = []
    for _ in range(4):
        r = _claim(client, auth)
        paid.append((r.json()["streak"], r.json()["amount"]))
        clock.advance(3600)
    assert paid == [(1, 10), (2, 15), (3, 20), (4, 20)]
    # The last claim was 1 h ago; the streak lives until 2 h after it, exclusive.
    clock.advance(3600 - 0.001)
    assert _claim(client, auth).json()["streak"] == 5
    clock.advance(2 * 3600)
    assert _claim(client, auth).json()["streak"] == 1


def test_a_daily_reward_follows_the_utc_calendar(
    client: TestClient, auth: dict, clock: ManualClock
) -> None:
    _reward(client, auth, amount=10, period="day", streak_bonus=1)
    clock.set(MONDAY + DAY - 1)  # Monday 23:59:59
    assert _claim(client, auth).json()["next_claim_at"] == MONDAY + DAY
    clock.set(MONDAY + DAY - 0.001)
    r = _claim(client, auth)
    assert (r.status_code, r.headers["Retry-After"]) == (409, "1")
    clock.set(MONDAY + DAY)  # Tuesday 00:00:00: the next day, the streak goes on
    assert (_claim(client, auth).json()["streak"], _claim(client, auth).status_code) == (2, 409)
    clock.set(MONDAY + 2 * DAY + DAY - 0.001)  # Wednesday 23:59:59.999
    assert _claim(client, auth).json()["streak"] == 3
    clock.set(MONDAY + 4 * DAY)  # Friday: Thursday was missed
    assert _claim(client, auth).json()["streak"] == 1


def test_a_weekly_reward_starts_its_weeks_on_monday(
    client: TestClient, auth: dict, clock: ManualClock
) -> None:
    _reward(client, auth, amount=100, period="week")
    clock.set(MONDAY + 6 * DAY + 23 * HOUR)  # Sunday 23:00
    assert _claim(client, auth).json()["next_claim_at"] == MONDAY + 7 * DAY
    clock.set(MONDAY + 7 * DAY)  # Monday 00:00 of the next week
    assert _claim(client, auth).json()["streak"] == 2
    clock.set(MONDAY + 13 * DAY)
    assert _claim(client, auth).status_code == 409
    clock.set(MONDAY + 21 * DAY)  # a week skipped
    assert _claim(client, auth).json()["streak"] == 1


def test_a_claim_creates_the_profile_and_a_deleted_one_keeps_its_cooldown(
    client: TestClient, auth: dict, clock: ManualClock
) -> None:
    _reward(client, auth, amount=7, period="day")
    assert client.get(f"/profile/{G}/5", headers=auth).status_code == 404
    assert _claim(client, auth, user=5).status_code == 201
    assert client.get(f"/profile/{G}/5", headers=auth).json()["voicepoints"] == 7
    assert client.delete(f"/profile/{G}/5", headers=auth).status_code == 204
    assert _claim(client, auth, user=5).json()["code"] == "cooldown"
    assert client.get(f"/profile/{G}/5", headers=auth).status_code == 404
    clock.advance(DAY)
    assert _claim(client, auth, user=5).status_code == 201
    assert client.get(f"/profile/{G}/5", headers=auth).json()["voicepoints"] == 7


def test_the_member_standing(client: TestClient, auth: dict, clock: ManualClock) -> None:
    _reward(client, auth, amount=10, cooldown=3600, streak_bonus=2)
    path = f"/rewards/{G}/r/1"
    fresh = client.get(path, headers=auth).json()
    assert fresh == {
        "guild_id": str(G),
        "user_id": "1",
        "reward_id": "r",
        "claimable": True,
        "next_claim_at": None,
        "streak": 0,
        "streak_until": None,
        "next_amount": 10,
        "last_claim_at": None,
    }
    claimed_at = clock.now()
    _claim(client, auth)
    clock.advance(60)
    waiting = client.get(path, headers=auth).json()
    assert (waiting["claimable"], waiting["next_claim_at"], waiting["streak"]) == (
        False,
        claimed_at + 3600,
        1,
    )
    assert (waiting["streak_until"], waiting["next_amount"]) == (claimed_at + 7200, 12)
    assert waiting["last_claim_at"] == claimed_at
    clock.advance(3600)
    assert client.get(path, headers=auth).json()["claimable"] is True
    clock.advance(7200)
    broken = client.get(path, headers=auth).json()
    assert (broken["streak"], broken["streak_until"], broken["next_amount"]) == (0, None, 10)


def test_rewards_are_listed_replaced_and_deleted_per_bot(
    client: TestClient, auth: dict, make_key, clock: ManualClock
) -> None:
    made = client.put(f"/rewards/{G}/daily", json={"amount": 5, "period": "day"}, headers=auth)
    assert made.status_code == 201
    assert made.json() | {"created_at": 0, "updated_at": 0} == {
        "guild_id": str(G),
        "bot_id": BOT,
        "reward_id": "daily",
        "amount": 5,
        "cooldown": None,
        "period": "day",
        "streak_bonus": 0,
        "streak_max": None,
        "created_at": 0,
        "updated_at": 0,
    }
    replaced = client.put(f"/rewards/{G}/daily", json={"amount": 6, "cooldown": 60}, headers=auth)
    assert (replaced.status_code, replaced.json()["period"]) == (200, None)
    client.put(f"/rewards/{G}/weekly", json={"amount": 50, "period": "week"}, headers=auth)
    assert [r["reward_id"] for r in client.get(f"/rewards/{G}", headers=auth).json()] == [
        "daily",
        "weekly",
    ]
    other = make_key("222222222222222222")
    assert client.get(f"/rewards/{G}", headers=other).json() == []
    assert _claim(client, other, reward="daily").json()["code"] == "reward_not_found"
    assert _claim(client, auth, reward="daily").status_code == 201
    assert client.delete(f"/rewards/{G}/daily", headers=auth).status_code == 204
    assert client.get(f"/rewards/{G}/daily", headers=auth).status_code == 404
    # set again: the member's claim still counts
    client.put(f"/rewards/{G}/daily", json={"amount": 6, "cooldown": 60}, headers=auth)
    assert _claim(client, auth, reward="daily").json()["code"] == "cooldown"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 5}, "cooldown"),
        ({"amount": 5, "cooldown": 60, "period": "day"}, "cooldown"),
        ({"amount": 5, "cooldown": 59}, "cooldown"),
        ({"amount": 0, "cooldown": 60}, "amount"),
        ({"amount": 5, "period": "month"}, "period"),
        ({"amount": 5, "period": "day", "streak_max": 0}, "streak_max"),
        ({"amount": 5, "period": "day", "streak_bonus": -1}, "streak_bonus"),
    ],
)
def test_bad_rewards_are_refused(client: TestClient, auth: dict, body: dict, field: str) -> None:
    r = client.put(f"/rewards/{G}/r", json=body, headers=auth)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field


def test_a_claim_is_a_callback_event(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    hook = {"url": "http://127.0.0.1:9/hook", "secret": "s"}
    assert client.put("/callback/reward", json=hook, headers=auth).status_code == 200
    _reward(client, auth, amount=3, period="day")
    claimed = _claim(client, auth)
    _claim(client, auth)  # refused: no event
    events = [
        json.loads(r[0]) for r in db.execute("SELECT body FROM outbox WHERE event = 'reward'")
    ]
    assert [e["data"] for e in events] == [claimed.json()]
