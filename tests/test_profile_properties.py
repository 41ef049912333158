"""Properties of PATCH/add (SPEC §5), with hypothesis.

- add(d) then add(-d) returns a profile to where it started;
- a bulk request with one bad item, anywhere, leaves every row unchanged (checked
  through an independent SQLite connection);
- no JSON body, however odd, gets a 500.

The API against a model is in test_profile_properties_model.py. Hypothesis prints the
failing example and a `@reproduce_failure` blob to replay it."""

from __future__ import annotations

import itertools
import sqlite3
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import TestClient

from tests.profile_properties_helpers import SETTINGS
from tests.profile_support import ensure, snapshot

MAX = 2**53 - 1
_users = itertools.count(1)

counter = st.one_of(st.integers(0, 100), st.integers(0, MAX), st.sampled_from([0, 1, MAX]))
TIME_KEYS = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=64
)


@st.composite
def start_and_delta(draw: st.DrawFn) -> tuple[dict, dict]:
    """A profile and an add body whose every result stays within [0, 2^53-1]."""

    def pair() -> tuple[int, int | None]:
        value = draw(counter)
        delta = draw(st.none() | st.integers(-value, MAX - value))
        return value, delta

    start: dict[str, Any] = {}
    delta: dict[str, Any] = {}
    for name in ("experience", "level"):
        start[name], d = pair()
        if d is not None:
            delta[name] = d
    for group, names in (
        ("pray", ("date", "streak")),
        ("text", ("level", "experience", "message_count")),
    ):
        start[group], delta[group] = {}, {}
        for name in names:
            start[group][name], d = pair()
            if d is not None:
                delta[group][name] = d
    keys = draw(st.lists(TIME_KEYS, max_size=3, unique=True).map(lambda k: ["global", *k]))
    start["timespent"], delta["timespent"] = {}, {}
    for key in dict.fromkeys(keys):
        start["timespent"][key], d = pair()
        if d is not None:
            delta["timespent"][key] = d
    for group in ("pray", "text", "timespent"):
        if not delta[group] and draw(st.booleans()):
            del delta[group]
    return start, delta


def _negate(delta: Any) -> Any:
    if isinstance(delta, dict):
        return {k: _negate(v) for k, v in delta.items()}
    return -delta


def _state(profile: dict) -> dict:
    return {k: v for k, v in profile.items() if k != "updated_at"}


@SETTINGS
@given(case=start_and_delta())
def test_add_then_subtract_returns_to_the_start(
    client: TestClient, auth: dict, case: tuple[dict, dict]
) -> None:
    start, delta = case
    user = next(_users)
    before = ensure(client, auth, 1, user, **start)
    added = client.patch(f"/profile/1/{user}/add", json=delta, headers=auth)
    assert added.status_code == 200, added.text
    back = client.patch(f"/profile/1/{user}/add", json=_negate(delta), headers=auth)
    assert back.status_code == 200, back.text
    assert _state(back.json()) == _state(before)


# -- a bulk with one bad item ------------------------------------------------------------------

EXISTING = [(1, 1), (1, 2), (2, 1), (10, 9)]
VICTIM = (3, 3)  # exists with experience 10; good items never touch it

good_edit = st.fixed_dictionaries(
    {"guild_id": st.just(0), "user_id": st.just(0)},
    optional={
        "experience": counter,
        "level": counter,
        "pray": st.fixed_dictionaries({}, optional={"streak": counter, "date": counter}),
        "text": st.none() | st.fixed_dictionaries({}, optional={"level": counter}),
        "timespent": st.dictionaries(TIME_KEYS, counter, max_size=2),
        "data": st.none() | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    },
)
good_add = st.fixed_dictionaries(
    {"guild_id": st.just(0), "user_id": st.just(0)},
    optional={
        "experience": st.integers(0, 1000),
        "timespent": st.dictionaries(TIME_KEYS, st.integers(0, 1000), max_size=2),
        "text": st.fixed_dictionaries({}, optional={"message_count": st.integers(0, 9)}),
        "data": st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    },
)


def _victim(**fields: Any) -> dict[str, Any]:
    return {"guild_id": VICTIM[0], "user_id": VICTIM[1], **fields}


# kind -> (bad item, expected status), for each endpoint
BAD_EDITS = {
    "missing": ({"guild_id": 77, "user_id": 77}, 404),
    "negative": (_victim(level=-1), 422),
    "too_big": (_victim(experience=MAX + 1), 422),
    "voicepoints": (_victim(voicepoints=1), 422),
    "data": (_victim(data={"x": "y" * 10300}), 413),
    "snowflake": ({"guild_id": "1x", "user_id": 1}, 422),
    "unknown": (_victim(exp=1), 422),
}
BAD_ADDS = {
    "negative": (_victim(experience=-11), 422),
    "range": (_victim(experience=MAX), 422),
    "voicepoints": (_victim(voicepoints=-1), 422),
    "data": (_victim(data={"x": "y" * 10300}), 413),
    "snowflake": ({"guild_id": 1, "user_id": 2**64}, 422),
    "new_negative": ({"guild_id": 88, "user_id": 88, "level": -2}, 422),
}


@st.composite
def bulk_with_one_bad(draw: st.DrawFn, add: bool) -> tuple[list[dict], int, int]:
    targets = EXISTING + ([(50, 50), (50, 51)] if add else [])
    items = []
    for template in draw(st.lists(good_add if add else good_edit, max_size=5)):
        guild, user = draw(st.sampled_from(targets))
        items.append(
            {**template, "guild_id": draw(st.sampled_from([guild, str(guild)])), "user_id": user}
        )
    bad, status = draw(st.sampled_from(sorted((BAD_ADDS if add else BAD_EDITS).items())))[1]
    index = draw(st.integers(0, len(items)))
    items.insert(index, bad)
    return items, index, status


@pytest.fixture
def populated(client: TestClient, auth: dict) -> None:
    for guild, user in EXISTING:
        ensure(client, auth, guild, user, experience=5, data={"k": 1})
    ensure(client, auth, *VICTIM, experience=10)


@pytest.mark.parametrize("path", ["/profile", "/profile/add"])
@SETTINGS
@given(data=st.data())
def test_a_bulk_with_one_bad_item_changes_nothing(
    client: TestClient,
    auth: dict,
    db: sqlite3.Connection,
    populated: None,
    path: str,
    data: st.DataObject,
) -> None:
    items, index, status = data.draw(bulk_with_one_bad(path.endswith("add")))
    before = snapshot(db)
    r = client.patch(path, json=items, headers=auth)
    assert r.status_code == status, r.text
    assert r.json()["index"] == index
    assert snapshot(db) == before


# -- never a 500 -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    *("experience", "level", "pray", "text", "timespent", "data", "voicepoints"),
                    *("guild_id", "user_id", "streak", "date", "message_count", "global", "x"),
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@SETTINGS
@given(
    body=json_values | st.lists(json_values, max_size=3),
    target=st.sampled_from(
        [
            ("POST", "/profile/1/1"),
            ("PATCH", "/profile/1/1"),
            ("PATCH", "/profile/1/1/add"),
            ("PATCH", "/profile"),
            ("PATCH", "/profile/add"),
        ]
    ),
)
def test_no_body_gets_a_500(
    client: TestClient, auth: dict, body: Any, target: tuple[str, str]
) -> None:
    method, path = target
    r = client.request(method, path, json=body, headers=auth)
    assert r.status_code in {200, 201, 400, 404, 413, 422}, r.text
    if r.status_code >= 400:
        error = r.json()
        assert error["status"] == r.status_code
        assert isinstance(error["code"], str) and error["message"]
