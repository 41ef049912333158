"""Reputation API (SPEC §8): the reference's shapes and examples, settings as the original,
the leaderboard. Limits are in test_reputation_limits.py, bot isolation and the log in
test_reputation_ledger.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests import reputation_helpers
from tests.conftest import BOT
from tests.reputation_helpers import DAY, SECOND, T0, USER_KEYS, Clock, Rep, iso

clock = reputation_helpers.clock  # a fixture shared by several modules
rep = reputation_helpers.rep  # a fixture shared by several modules


# -- the reference's examples -------------------------------------------------------


def test_timestamps_are_the_reference_iso_strings() -> None:
    assert iso(T0) == "2018-04-17T17:03:58.865Z"
    assert iso(0) == "1970-01-01T00:00:00.000Z"
    assert iso(T0 - 865) == "2018-04-17T17:03:58.000Z"


def test_default_settings(rep: Rep) -> None:
    response = rep.settings()
    assert response.status_code == 200
    assert response.json() == {
        "settings": {
            "reputationPerDay": 2,
            "maximumReputation": 0,
            "maximumReputationReceivedDay": 0,
            "reputationCooldown": 86400,
            "accountId": BOT,
        },
        "status": 200,
    }


def test_unknown_user_has_no_reputation(rep: Rep, clock: Clock) -> None:
    response = rep.client.get(f"/reputation/{BOT}/186221791792857088", headers=rep.headers)
    assert response.status_code == 200
    assert response.json() == {
        "user": {
            "reputation": 0,
            "cooldown": [],
            "givenReputation": [],
            "userId": "186221791792857088",
            "botId": BOT,
            "accountId": BOT,
            "availableReputations": 2,
            "nextAvailableReputations": [],
        },
        "date": "2018-04-17T17:03:58.865Z",
        "timeRemaining": 0,
        "status": 200,
    }
    assert list(response.json()) == ["user", "date", "timeRemaining", "status"]


def test_time_remaining_counts_down_to_the_next_free_slot(rep: Rep, clock: Clock) -> None:
    """The original's `timeRemaining`: 0 while the user may give, else the wait."""
    rep.settings(reputationPerDay=2, reputationCooldown=600)
    rep.give("9", "1")
    response = rep.client.get(f"/reputation/{BOT}/9", headers=rep.headers)
    assert response.json()["timeRemaining"] == 0
    clock.ms += 100 * SECOND
    rep.give("9", "2")
    response = rep.client.get(f"/reputation/{BOT}/9", headers=rep.headers)
    assert response.json()["timeRemaining"] == 500 * SECOND


def test_give_answers_like_the_reference(rep: Rep, clock: Clock) -> None:
    response = rep.give("2", "1")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["status", "date", "code", "message", "sourceUser", "targetUser"]
    assert body["status"] == 200 and body["code"] == 0
    assert body["date"] == "2018-04-17T17:03:58.865Z"
    assert body["message"] == "Successfully gave one reputation to the targetUser"
    source, target = body["sourceUser"], body["targetUser"]
    assert list(source) == USER_KEYS and list(target) == USER_KEYS
    # cooldown: when the user GAVE; givenReputation: when the user RECEIVED.
    assert source["cooldown"] == ["2018-04-17T17:03:58.865Z"]
    assert source["givenReputation"] == [] and source["reputation"] == 0
    assert source["availableReputations"] == 1
    assert source["nextAvailableReputations"] == [DAY]
    assert target["cooldown"] == [] and target["reputation"] == 1
    assert target["givenReputation"] == ["2018-04-17T17:03:58.865Z"]
    assert (target["userId"], target["botId"], target["accountId"]) == ("1", BOT, BOT)


def test_get_user_after_gives(rep: Rep, clock: Clock) -> None:
    rep.give("128392910574977024", "1")
    clock.ms += 2574
    rep.give("128392910574977024", "2")
    clock.ms += 10 * 60 * SECOND
    user = rep.user("128392910574977024")
    assert user["cooldown"] == ["2018-04-17T17:03:58.865Z", "2018-04-17T17:04:01.439Z"]
    assert user["availableReputations"] == 0
    # Milliseconds from `date` until each slot frees: the reference's 85671127-style values.
    assert user["nextAvailableReputations"] == [DAY - 602_574, DAY - 600_000]


def test_code_1_body(rep: Rep, clock: Clock) -> None:
    rep.give("2", "1")
    rep.give("2", "3")
    clock.ms += 5
    response = rep.give("2", "4")
    assert response.status_code == 403
    body = response.json()
    assert list(body) == ["status", "date", "code", "message", "user"]
    assert body["status"] == 403 and body["code"] == 1
    assert body["message"] == "The user used all of his reputations."
    assert body["date"] == iso(T0 + 5)
    assert body["user"]["userId"] == "2" and len(body["user"]["cooldown"]) == 2
    assert rep.user("4")["reputation"] == 0


@pytest.mark.parametrize(
    ("path", "body", "reputation_after"),
    [
        ("reset", None, 0),
        ("reset?cooldown=false", None, 0),
        ("increase", {"increase": 1}, 3),
        ("decrease", {"decrease": 1}, 1),
        ("increase", {"increase": 40}, 42),
        ("decrease", {"decrease": 5}, -3),
    ],
)
def test_adjust_answers_like_the_reference(
    rep: Rep, path: str, body: Any, reputation_after: int
) -> None:
    rep.give("5", "1")
    rep.give("6", "1")
    response = rep.post(f"1/{path}", body)
    assert response.status_code == 200
    answer = response.json()
    assert list(answer) == ["user", "status"] and answer["status"] == 200
    assert answer["user"]["reputation"] == reputation_after
    # Received times stay, as in the reference's reset example.
    assert len(answer["user"]["givenReputation"]) == 2
    assert rep.user("1")["reputation"] == reputation_after


# -- settings -------------------------------------------------------------------------


def test_post_settings_sets_every_field_as_the_original(rep: Rep) -> None:
    """The original's POST fills every field not sent with its default."""
    response = rep.settings(reputationPerDay=5, maximumReputationReceivedDay=3)
    assert response.status_code == 200
    assert response.json()["settings"]["reputationPerDay"] == 5
    rep.settings(reputationCooldown=300, maximumReputation=10)
    assert rep.settings().json()["settings"] == {
        "reputationPerDay": 2,
        "maximumReputation": 10,
        "maximumReputationReceivedDay": 0,
        "reputationCooldown": 300,
        "accountId": BOT,
    }
    for empty in ({"content": b""}, {"json": {}}):  # an empty body restores the defaults
        rep.settings(reputationPerDay=7)
        response = rep.client.post("/reputation/settings", headers=rep.headers, **empty)
        assert response.status_code == 200, response.text
        assert response.json()["settings"]["reputationPerDay"] == 2
        assert rep.settings().json()["settings"]["reputationPerDay"] == 2
    rep.settings(reputationPerDay=5)
    response = rep.client.delete("/reputation/settings", headers=rep.headers)
    assert response.status_code == 200
    assert response.json()["settings"]["reputationPerDay"] == 2
    assert rep.settings().json()["settings"]["reputationCooldown"] == 86400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reputationCooldown": 299}, "reputationCooldown"),
        ({"reputationCooldown": 0}, "reputationCooldown"),
        ({"reputationPerDay": -1}, "reputationPerDay"),
        ({"reputationPerDay": 0}, "reputationPerDay"),  # nobody could give
        ({"maximumReputation": None}, "maximumReputation"),
        ({"maximumReputationReceivedDay": 1.5}, "maximumReputationReceivedDay"),
        ({"reputationperday": 3}, "reputationperday"),
    ],
)
def test_bad_settings_are_400_as_the_original(rep: Rep, body: dict, field: str) -> None:
    response = rep.client.post("/reputation/settings", headers=rep.headers, json=body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["status"] == 400 and answer["code"] == 400
    assert field in answer["message"]
    # The original's fields beside ours.
    assert answer["in"] == "body"
    assert answer["errors"][0]["field"] == field
    assert answer["errors"][0]["dataPath"] == f".body.{field}"
    assert rep.settings().json()["settings"]["reputationCooldown"] == 86400


def test_cooldown_of_exactly_300_is_accepted(rep: Rep) -> None:
    assert rep.settings(reputationCooldown=300).status_code == 200


def test_settings_from_get_can_be_posted_back(rep: Rep) -> None:
    current = rep.settings().json()["settings"]
    response = rep.client.post("/reputation/settings", headers=rep.headers, json=current)
    assert response.status_code == 200 and response.json()["settings"] == current


# -- leaderboard --------------------------------------------------------------------


def test_leaderboard_ranks_by_reputation(rep: Rep) -> None:
    for user, amount in [("30", 5), ("4", 9), ("200", 5), ("7", 1)]:
        rep.post(f"{user}/increase", {"increase": amount})
    response = rep.client.get(f"/reputation/{BOT}/leaderboard", headers=rep.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 200 and body["total"] == 4
    # Ties break by user id, numerically (30 before 200).
    assert body["leaderboard"] == [
        {"rank": 1, "userId": "4", "reputation": 9},
        {"rank": 2, "userId": "30", "reputation": 5},
        {"rank": 3, "userId": "200", "reputation": 5},
        {"rank": 4, "userId": "7", "reputation": 1},
    ]
    page = rep.client.get(
        f"/reputation/{BOT}/leaderboard?amount=2&offset=1", headers=rep.headers
    ).json()
    assert [(e["rank"], e["userId"]) for e in page["leaderboard"]] == [(2, "30"), (3, "200")]
    everyone = rep.client.get(f"/reputation/{BOT}/leaderboard?amount=0", headers=rep.headers)
    assert len(everyone.json()["leaderboard"]) == 4
    bad = rep.client.get(f"/reputation/{BOT}/leaderboard?offset=-1", headers=rep.headers)
    assert bad.status_code == 400


def test_leaderboard_carries_the_originals_users(rep: Rep) -> None:
    """The original answered `{users: [user objects, best first]}`: kept beside ours."""
    rep.give("9", "30")
    rep.post("4/increase", {"increase": 3})
    body = rep.client.get(f"/reputation/{BOT}/leaderboard", headers=rep.headers).json()
    assert [u["userId"] for u in body["users"]] == ["4", "30"]
    assert list(body["users"][1]) == USER_KEYS
    assert body["users"][1]["givenReputation"] and body["users"][1]["reputation"] == 1
    page = rep.client.get(f"/reputation/{BOT}/leaderboard?offset=1", headers=rep.headers)
    assert [u["userId"] for u in page.json()["users"]] == ["30"]


def test_user_ids_are_snowflakes(rep: Rep) -> None:
    response = rep.client.get(f"/reputation/{BOT}/someone", headers=rep.headers)
    assert response.status_code == 400 and response.json()["code"] == 400
