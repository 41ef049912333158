"""Reputation API (SPEC §8): every limit at its boundary (per day, cooldown, received per
day, maximum), resets, bad bodies, paths and queries, the original server's bugs not
copied."""

from __future__ import annotations

import pytest

from tests import reputation_helpers
from tests.conftest import BOT
from tests.reputation_helpers import DAY, SECOND, T0, Clock, Rep

clock = reputation_helpers.clock  # a fixture shared by several modules
rep = reputation_helpers.rep  # a fixture shared by several modules


# -- limits at their boundaries -------------------------------------------------------


@pytest.mark.parametrize("per_day", [1, 2, 5])
def test_reputation_per_day_exactly_at_the_cap(rep: Rep, per_day: int) -> None:
    rep.settings(reputationPerDay=per_day)
    for n in range(per_day):
        response = rep.give("9", str(100 + n))
        assert response.status_code == 200, response.text
        assert response.json()["sourceUser"]["availableReputations"] == per_day - n - 1
    refused = rep.give("9", "200")
    assert refused.status_code == 403 and refused.json()["code"] == 1


@pytest.mark.parametrize("cooldown", [300, 3600, 86400])
def test_cooldown_frees_exactly_at_the_configured_time(
    rep: Rep, clock: Clock, cooldown: int
) -> None:
    rep.settings(reputationPerDay=1, reputationCooldown=cooldown)
    assert rep.give("9", "1").status_code == 200
    # nextAvailableReputations counts down from the configured cooldown, not 24 h.
    assert rep.user("9")["nextAvailableReputations"] == [cooldown * SECOND]
    clock.ms = T0 + cooldown * SECOND - 1
    assert rep.user("9")["nextAvailableReputations"] == [1]
    assert rep.give("9", "2").json()["code"] == 1
    clock.ms = T0 + cooldown * SECOND
    user = rep.user("9")
    assert (user["cooldown"], user["availableReputations"]) == ([], 1)
    assert rep.give("9", "2").status_code == 200


def test_cooldown_slots_free_one_by_one(rep: Rep, clock: Clock) -> None:
    rep.settings(reputationPerDay=2, reputationCooldown=600)
    rep.give("9", "1")
    clock.ms += 100 * SECOND
    rep.give("9", "2")
    clock.ms = T0 + 600 * SECOND
    assert rep.user("9")["nextAvailableReputations"] == [100 * SECOND]
    assert rep.give("9", "3").status_code == 200
    assert rep.give("9", "4").json()["code"] == 1


@pytest.mark.parametrize("cap", [1, 2, 3])
def test_received_per_day_cap_uses_its_own_setting(rep: Rep, clock: Clock, cap: int) -> None:
    # maximumReputation stays above the daily cap: the original compared the daily
    # count with maximumReputation, so it would never refuse here.
    rep.settings(maximumReputationReceivedDay=cap, maximumReputation=100)
    for n in range(cap):
        assert rep.give(str(10 + n), "1").status_code == 200
    refused = rep.give("99", "1")
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == 2 and body["user"]["userId"] == "1"
    assert body["message"] == "The user received the maximum amount of reputation for today"
    # The original's extra field, between the message and the user.
    assert body["maximumReputationReceivedDay"] == cap
    assert list(body) == [
        "status", "date", "code", "message", "maximumReputationReceivedDay", "user"
    ]  # fmt: skip
    # The giver's slot was not used by the refused give.
    assert rep.user("99")["availableReputations"] == 2
    clock.ms = T0 + DAY - 1
    assert rep.give("99", "1").json()["code"] == 2
    clock.ms = T0 + DAY
    assert rep.give("99", "1").status_code == 200


def test_received_per_day_cap_disabled_by_default(rep: Rep) -> None:
    for n in range(10):
        assert rep.give(str(10 + n), "1").status_code == 200
    assert rep.user("1")["reputation"] == 10


@pytest.mark.parametrize("maximum", [1, 3])
def test_maximum_reputation_exactly_at_the_cap(rep: Rep, maximum: int) -> None:
    rep.settings(maximumReputation=maximum, maximumReputationReceivedDay=50)
    for n in range(maximum):
        assert rep.give(str(10 + n), "1").status_code == 200
    refused = rep.give("99", "1")
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == 3 and body["user"]["reputation"] == maximum
    assert body["message"] == "The user reached the maximum possible amount of reputation"
    assert body["maximumReputation"] == maximum and "maximumReputationReceivedDay" not in body


def test_increase_is_not_capped_and_a_decrease_makes_room(rep: Rep) -> None:
    rep.settings(maximumReputation=2)
    assert rep.post("1/increase", {"increase": 5}).json()["user"]["reputation"] == 5
    assert rep.give("9", "1").json()["code"] == 3
    rep.post("1/decrease", {"decrease": 4})
    assert rep.give("9", "1").status_code == 200


def test_self_reputation_is_400_code_4(rep: Rep) -> None:
    response = rep.give("7", "7")
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["code"], body["user"]["userId"]) == (400, 4, "7")
    assert rep.user("7")["reputation"] == 0 and rep.user("7")["cooldown"] == []


def test_reset_without_cooldown_keeps_the_cooldown(rep: Rep) -> None:
    rep.give("9", "1")
    rep.give("9", "2")
    user = rep.post("9/reset").json()["user"]
    assert len(user["cooldown"]) == 2
    assert rep.give("9", "3").json()["code"] == 1


def test_reset_with_cooldown_frees_the_slots(rep: Rep, clock: Clock) -> None:
    rep.post("9/increase", {"increase": 3})
    rep.give("9", "1")
    rep.give("9", "2")
    user = rep.post("9/reset?cooldown=true").json()["user"]
    assert (user["reputation"], user["cooldown"], user["availableReputations"]) == (0, [], 2)
    clock.ms += 1
    assert rep.give("9", "3").status_code == 200
    assert rep.give("9", "4").status_code == 200
    assert rep.give("9", "5").json()["code"] == 1
    # What the others received is untouched.
    assert rep.user("1")["reputation"] == 1


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("1/increase", {"increase": 0}, "increase"),
        ("1/increase", {"increase": -3}, "increase"),
        ("1/decrease", {"decrease": 0}, "decrease"),
        ("1/increase", {"increase": 1.5}, "increase"),
        ("1/increase", {"decrease": 1}, "decrease"),
        ("1", {"source_user": "abc"}, "source_user"),
        ("1", {"source_user": 2**64}, "source_user"),
        ("1", {}, "source_user"),
    ],
)
def test_bad_bodies_are_400(rep: Rep, path: str, body: dict, field: str) -> None:
    response = rep.post(path, body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["code"] == 400 and field in answer["message"] and answer["in"] == "body"


@pytest.mark.parametrize(
    ("path", "where", "field"),
    [
        ("abc", "path", "user_id"),
        ("leaderboard?offset=-1", "query", "offset"),
        (f"leaderboard?amount={2**60}", "query", "amount"),
        ("leaderboard?amount=x", "query", "amount"),
    ],
)
def test_bad_paths_and_queries_say_where(rep: Rep, path: str, where: str, field: str) -> None:
    response = rep.client.get(f"/reputation/{BOT}/{path}", headers=rep.headers)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert (answer["code"], answer["in"]) == (400, where)
    assert answer["errors"][0]["dataPath"] == f".{where}.{field}"


def test_reputation_stays_within_the_counter_range(rep: Rep) -> None:
    assert rep.post("1/increase", {"increase": 2**53 - 1}).status_code == 200
    assert rep.post("1/increase", {"increase": 1}).status_code == 400
    assert rep.user("1")["reputation"] == 2**53 - 1


def test_snowflakes_accepted_as_integers(rep: Rep) -> None:
    response = rep.client.post(f"/reputation/{BOT}/5", headers=rep.headers, json={"source_user": 6})
    assert response.status_code == 200
    assert response.json()["sourceUser"]["userId"] == "6"
