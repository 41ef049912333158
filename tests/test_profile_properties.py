"""Properties of PATCH/add (SPEC §5), with hypothesis.

- add(d) then add(-d) returns a profile to where it started;
- a bulk request with one bad item, anywhere, leaves every row unchanged (checked
  through an independent SQLite connection);
- no JSON body, however odd, gets a 500.

Hypothesis prints the failing example and a `@reproduce_failure` blob to replay it.
"""

from __future__ import annotations

import itertools
import sqlite3
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from tests.profile_support import ensure, snapshot

MAX = 2**53 - 1
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
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


# -- the API against a model -------------------------------------------------------------------

MEMBERS = [(1, 1), (2, 1)]
small = st.integers(0, 50)
small_delta = st.integers(-30, 30)
keys_ = st.sampled_from(["global", "voice", "afk"])
set_body = st.fixed_dictionaries(
    {},
    optional={
        "experience": small,
        "level": small,
        "pray": st.fixed_dictionaries({}, optional={"date": small, "streak": small}),
        "text": st.none()
        | st.fixed_dictionaries({}, optional={"level": small, "message_count": small}),
        "timespent": st.dictionaries(keys_, small, min_size=1, max_size=2),
        "data": st.none() | st.dictionaries(st.sampled_from("abc"), small, min_size=1, max_size=2),
    },
)
add_body = st.fixed_dictionaries(
    {},
    optional={
        "experience": small_delta,
        "level": small_delta,
        "pray": st.fixed_dictionaries({}, optional={"streak": small_delta}),
        "text": st.fixed_dictionaries({}, optional={"experience": small_delta}),
        "timespent": st.dictionaries(keys_, small_delta, min_size=1, max_size=2),
        "data": st.dictionaries(st.sampled_from("abc"), small, min_size=1, max_size=2),
    },
)
DEFAULT = {
    "experience": 0,
    "level": 1,
    "pray": {"date": 0, "streak": 0},
    "text": None,
    "timespent": {"global": 0},
    "data": None,
}
ZERO_TEXT = {"level": 0, "experience": 0, "message_count": 0}


def model_set(profile: dict, body: dict) -> dict:
    new = {**profile}
    for name in ("experience", "level"):
        if name in body:
            new[name] = body[name]
    if "pray" in body:
        new["pray"] = {**profile["pray"], **body["pray"]}
    if "text" in body:
        text = body["text"]
        new["text"] = None if text is None else {**(profile["text"] or ZERO_TEXT), **text}
    if "timespent" in body:
        new["timespent"] = {**profile["timespent"], **body["timespent"]}
    if "data" in body:
        new["data"] = body["data"]
    return new


def model_add(profile: dict, body: dict) -> dict | None:
    """The profile after the add, or None when a result leaves [0, 2^53-1]."""
    new = {**profile}
    for name in ("experience", "level"):
        new[name] = profile[name] + body.get(name, 0)
    if "pray" in body:
        new["pray"] = {k: v + body["pray"].get(k, 0) for k, v in profile["pray"].items()}
    if "text" in body:
        base = profile["text"] or ZERO_TEXT
        new["text"] = {k: v + body["text"].get(k, 0) for k, v in base.items()}
    if "timespent" in body:
        merged = dict(profile["timespent"])
        for k, d in body["timespent"].items():
            merged[k] = merged.get(k, 0) + d
        new["timespent"] = merged
    if "data" in body:
        new["data"] = {**(profile["data"] or {}), **body["data"]}
    numbers = [new["experience"], new["level"], *new["pray"].values(), *new["timespent"].values()]
    numbers += list((new["text"] or {}).values())
    return new if all(n >= 0 for n in numbers) else None


@SETTINGS
@given(
    steps=st.lists(
        st.tuples(
            # creates and edits more often than deletes, so edits meet existing profiles
            st.sampled_from(
                ["create", "create", "set", "set", "add", "add", "delete", "bulk_set", "bulk_add"]
            ),
            st.sampled_from(MEMBERS),
            st.data(),
        ),
        min_size=1,
        max_size=16,
    )
)
def test_the_api_behaves_like_a_model(
    client: TestClient, auth: dict, steps: list[tuple[str, tuple[int, int], Any]]
) -> None:
    for g, u in MEMBERS:  # every example starts from no profiles
        client.delete(f"/profile/{g}/{u}", headers=auth)
    model: dict[tuple[int, int], dict] = {}
    for action, (g, u), data in steps:
        url = f"/profile/{g}/{u}"
        if action == "create":
            body = data.draw(set_body)
            r = client.post(url, json=body, headers=auth)
            assert r.status_code == (200 if (g, u) in model else 201)
            model[(g, u)] = model_set(DEFAULT, body)
        elif action in ("set", "bulk_set"):
            body = data.draw(set_body)
            if action == "set":
                r = client.patch(url, json=body, headers=auth)
            else:
                r = client.patch(
                    "/profile", json=[{"guild_id": g, "user_id": u, **body}], headers=auth
                )
            if (g, u) not in model:
                assert r.status_code == 404
                continue
            assert r.status_code == 200, r.text
            model[(g, u)] = model_set(model[(g, u)], body)
        elif action in ("add", "bulk_add"):
            body = data.draw(add_body)
            if action == "add":
                r = client.patch(f"{url}/add", json=body, headers=auth)
            else:
                r = client.patch(
                    "/profile/add", json=[{"guild_id": g, "user_id": u, **body}], headers=auth
                )
            after = model_add(model.get((g, u), DEFAULT), body)
            if after is None:
                assert r.status_code == 422, r.text
                continue
            assert r.status_code == 200, r.text
            model[(g, u)] = after
        else:
            r = client.delete(url, headers=auth)
            assert r.status_code == (204 if model.pop((g, u), None) is not None else 404)
        listed = client.get("/profile?limit=0", headers=auth).json()
        state = {(int(p["guild_id"]), int(p["user_id"])): p for p in listed}
        assert set(state) == set(model)
        for key, profile in model.items():
            assert {k: state[key][k] for k in DEFAULT} == profile, (action, key)
