"""Profiles, SPEC §5: PATCH sets the given fields and merges nested objects per key; PATCH
…/add adds numbers and merges data, refuses what leaves the range, creates a missing
profile first."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests import backend
from tests.profile_support import (
    ensure,
    snapshot,
)
from tests.profiles_helpers import DEFAULTS, MAX, fields

# -- PATCH (set) ---------------------------------------------------------------------------

START = {
    "experience": 10,
    "level": 2,
    "pray": {"date": 9, "streak": 1},
    "text": {"level": 1, "experience": 2, "message_count": 3},
    "timespent": {"global": 10, "afk": 2},
    "data": {"a": 1, "nested": {"x": 1}},
}


@pytest.mark.parametrize(
    ("start", "change", "expected"),
    [
        (START, {}, {}),
        (START, {"experience": 5}, {"experience": 5}),
        (START, {"level": 0, "experience": MAX}, {"level": 0, "experience": MAX}),
        (START, {"pray": {"streak": 3}}, {"pray": {"date": 9, "streak": 3}}),
        (START, {"pray": {}}, {}),
        (
            START,
            {"text": {"level": 4}},
            {"text": {"level": 4, "experience": 2, "message_count": 3}},
        ),
        ({}, {"text": {"level": 4}}, {"text": {"level": 4, "experience": 0, "message_count": 0}}),
        (START, {"text": None}, {"text": None}),
        ({}, {"text": None}, {}),
        (START, {"timespent": {"voice": 5}}, {"timespent": {"global": 10, "afk": 2, "voice": 5}}),
        (START, {"timespent": {"global": 0}}, {"timespent": {"global": 0, "afk": 2}}),
        (START, {"data": {"b": 1}}, {"data": {"b": 1}}),  # replaced, not merged
        (START, {"data": {"nested": {"y": 2}}}, {"data": {"nested": {"y": 2}}}),
        (START, {"data": None}, {"data": None}),
        ({}, {"data": {"b": 1}}, {"data": {"b": 1}}),
    ],
)
def test_patch_sets_given_fields_and_merges_nested_objects_per_key(
    client: TestClient, auth: dict, start: dict, change: dict, expected: dict
) -> None:
    before = ensure(client, auth, 1, 2, voicepoints=7, **start)
    r = client.patch("/profile/1/2", json=change, headers=auth)
    assert r.status_code == 200, r.text
    assert fields(r.json()) == {**fields(before), **expected}
    assert r.json()["voicepoints"] == 7
    assert r.json()["created_at"] == before["created_at"]
    assert client.get("/profile/1/2", headers=auth).json() == r.json()


def test_patch_accepts_integer_snowflake_path_forms(client: TestClient, auth: dict) -> None:
    ensure(client, auth, 5, 6)
    r = client.patch("/profile/0005/006", json={"level": 9}, headers=auth)
    assert (r.status_code, r.json()["level"], r.json()["guild_id"]) == (200, 9, "5")


# -- PATCH …/add ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "change", "expected"),
    [
        (START, {"experience": 5}, {"experience": 15}),
        (START, {"experience": -10}, {"experience": 0}),  # down to exactly 0 is fine
        (START, {"level": -2, "experience": -1}, {"level": 0, "experience": 9}),
        (START, {"pray": {"streak": 1}}, {"pray": {"date": 9, "streak": 2}}),
        (
            START,
            {"text": {"message_count": 3}},
            {"text": {"level": 1, "experience": 2, "message_count": 6}},
        ),
        (
            {},
            {"text": {"message_count": 3}},
            {"text": {"level": 0, "experience": 0, "message_count": 3}},
        ),
        (
            START,
            {"timespent": {"global": 60, "voice": 5}},
            {"timespent": {"global": 70, "afk": 2, "voice": 5}},
        ),
        (START, {"timespent": {"afk": -2}}, {"timespent": {"global": 10, "afk": 0}}),
        (START, {"data": {"b": 2}}, {"data": {"a": 1, "nested": {"x": 1}, "b": 2}}),
        (START, {"data": {"nested": {"y": 2}}}, {"data": {"a": 1, "nested": {"y": 2}}}),  # shallow
        (START, {"data": {"a": None}}, {"data": {"a": None, "nested": {"x": 1}}}),
        ({}, {"data": {"b": 2}}, {"data": {"b": 2}}),
        ({"experience": MAX - 1}, {"experience": 1}, {"experience": MAX}),
        (START, {}, {}),
    ],
)
def test_add_adds_numbers_and_merges_data(
    client: TestClient, auth: dict, start: dict, change: dict, expected: dict
) -> None:
    before = ensure(client, auth, 1, 2, **start)
    r = client.patch("/profile/1/2/add", json=change, headers=auth)
    assert r.status_code == 200, r.text
    assert fields(r.json()) == {**fields(before), **expected}
    assert client.get("/profile/1/2", headers=auth).json() == r.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"experience": -11}, "experience"),
        ({"level": 5, "experience": -11}, "experience"),  # the valid part is not applied either
        ({"pray": {"streak": -2}}, "pray.streak"),
        ({"text": {"level": -2}}, "text.level"),
        ({"timespent": {"voice": 5, "afk": -3}}, "timespent.afk"),
        ({"timespent": {"new": -1}}, "timespent.new"),
        ({"experience": MAX}, "experience"),  # 10 + MAX leaves the range
    ],
)
def test_add_below_zero_or_past_the_range_changes_nothing(
    client: TestClient, auth: dict, db: backend.Connection, change: dict, field: str
) -> None:
    ensure(client, auth, 1, 2, **START)
    before = snapshot(db)
    r = client.patch("/profile/1/2/add", json=change, headers=auth)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["field"] == field
    assert snapshot(db) == before


def test_add_creates_a_missing_profile_with_defaults_first(client: TestClient, auth: dict) -> None:
    r = client.patch("/profile/3/4/add", json={"experience": 5, "level": 1}, headers=auth)
    assert r.status_code == 200, r.text
    assert fields(r.json()) == {**DEFAULTS, "experience": 5, "level": 2}
    assert client.get("/profile/3/4", headers=auth).json() == r.json()


def test_add_that_fails_does_not_create_the_profile(client: TestClient, auth: dict) -> None:
    r = client.patch("/profile/3/4/add", json={"experience": -1}, headers=auth)
    assert r.status_code == 422
    assert client.get("/profile/3/4", headers=auth).status_code == 404
