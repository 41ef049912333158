"""Reputation API (SPEC §8): the reference's shapes, every limit at its boundary, the
original server's bugs not copied, bot isolation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from ledger import reputation
from storage.queries import reputation as reputation_reads
from tests import backend
from tests.conftest import BOT, OTHER_BOT

T0 = 1_523_984_638_865  # 2018-04-17T17:03:58.865Z, the reference's example time
SECOND, DAY = 1000, 86_400_000
USER_KEYS = [
    "reputation",
    "cooldown",
    "givenReputation",
    "userId",
    "botId",
    "accountId",
    "availableReputations",
    "nextAvailableReputations",
]


class Clock:
    """The app's clock, in epoch milliseconds (`ms`), moved by hand."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def now(self) -> float:
        return self.ms / 1000

    def monotonic(self) -> float:
        return self.ms / 1000


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


class Rep:
    """The reference API as a bot would call it."""

    def __init__(self, client: TestClient, headers: dict[str, str], bot: str = BOT) -> None:
        self.client, self.headers, self.bot = client, headers, bot

    def settings(self, **changes: int) -> Any:
        if not changes:
            return self.client.get("/reputation/settings", headers=self.headers)
        return self.client.post("/reputation/settings", headers=self.headers, json=changes)

    def give(self, source: str, target: str) -> Any:
        return self.client.post(
            f"/reputation/{self.bot}/{target}", headers=self.headers, json={"source_user": source}
        )

    def user(self, user: str) -> dict[str, Any]:
        response = self.client.get(f"/reputation/{self.bot}/{user}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()["user"]  # type: ignore[no-any-return]

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(f"/reputation/{self.bot}/{path}", headers=self.headers, json=body)


@pytest.fixture
def rep(client: TestClient, auth: dict[str, str], clock: Clock) -> Rep:
    return Rep(client, auth)


def iso(ms: int) -> str:
    return reputation_reads.iso(ms)


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


# -- isolation between bots ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/reputation/{bot}/1", None),
        ("GET", "/reputation/{bot}/leaderboard", None),
        ("POST", "/reputation/{bot}/1", {"source_user": "2"}),
        ("POST", "/reputation/{bot}/1/reset?cooldown=true", None),
        ("POST", "/reputation/{bot}/1/increase", {"increase": 1}),
        ("POST", "/reputation/{bot}/1/decrease", {"decrease": 1}),
    ],
)
def test_another_bots_id_is_403(
    rep: Rep, make_key: Callable[..., dict[str, str]], method: str, path: str, body: Any
) -> None:
    rep.post("1/increase", {"increase": 3})
    other = make_key(OTHER_BOT)
    response = rep.client.request(method, path.format(bot=BOT), headers=other, json=body)
    assert response.status_code == 403
    assert response.json()["status"] == 403 and response.json()["code"] == 403
    assert rep.user("1")["reputation"] == 3


def test_bots_have_their_own_settings_and_users(
    rep: Rep, make_key: Callable[..., dict[str, str]]
) -> None:
    other = Rep(rep.client, make_key(OTHER_BOT), OTHER_BOT)
    rep.settings(reputationPerDay=1)
    rep.give("9", "1")
    assert other.settings().json()["settings"]["reputationPerDay"] == 2
    assert other.settings().json()["settings"]["accountId"] == OTHER_BOT
    assert other.user("1")["reputation"] == 0 and other.user("9")["cooldown"] == []
    assert other.give("9", "1").status_code == 200
    assert rep.give("9", "2").json()["code"] == 1
    assert rep.user("1")["reputation"] == 1


def test_reputation_scope_is_required(client: TestClient, make_key: Callable) -> None:
    headers = make_key(scopes=("settings",))
    response = client.get("/reputation/settings", headers=headers)
    assert response.status_code == 403
    assert response.json()["message"] == "missing scope reputation"


# -- the log ------------------------------------------------------------------------


def test_every_change_is_an_append_only_entry(rep: Rep, db: backend.Connection) -> None:
    rep.give("9", "1")
    rep.post("1/increase", {"increase": 4})
    rep.post("1/decrease", {"decrease": 2})
    rep.post("9/reset?cooldown=true")
    rep.give("9", "9")  # refused: leaves no entry
    rows = db.execute("SELECT kind, amount, reputation FROM reputation_entries ORDER BY id")
    assert rows.fetchall() == [(1, 1, 1), (2, 4, 5), (3, -2, 3), (4, 0, 0)]
    assert reputation.verify(db) == []
    with pytest.raises(backend.INTEGRITY_ERRORS, match="append-only"):
        db.execute("UPDATE reputation_entries SET amount = 100")
    with pytest.raises(backend.INTEGRITY_ERRORS, match="append-only"):
        db.execute("DELETE FROM reputation_entries")


def test_verify_finds_a_tampered_projection(rep: Rep, db: backend.Connection) -> None:
    rep.post("1/increase", {"increase": 4})
    db.execute("UPDATE reputation_users SET reputation = 40")
    assert reputation.verify(db) == [f"reputation of user 1 (bot {BOT}): cached 40, replay gives 4"]


@pytest.mark.parametrize("query", ["", "?cooldown=true"])
def test_a_reset_of_a_user_never_seen_writes_nothing(
    rep: Rep, db: backend.Connection, query: str
) -> None:
    """As the original: the zero user comes back and nothing is stored, so the user
    does not join the leaderboard with 0."""
    response = rep.post(f"77/reset{query}")
    assert response.status_code == 200
    assert response.json()["user"]["reputation"] == 0
    assert db.execute("SELECT count(*) FROM reputation_entries").fetchone()[0] == 0
    board = rep.client.get(f"/reputation/{BOT}/leaderboard", headers=rep.headers).json()
    assert (board["total"], board["leaderboard"]) == (0, [])


def test_a_reset_of_a_user_who_only_gave_still_frees_the_cooldown(rep: Rep) -> None:
    rep.give("9", "1")
    rep.give("9", "2")
    assert rep.post("9/reset?cooldown=true").json()["user"]["availableReputations"] == 2
    assert rep.give("9", "3").status_code == 200
