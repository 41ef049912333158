"""Properties of PATCH and PATCH/add (SPEC §5), with hypothesis: random steps of set and
add against the API behave like a simple model of a profile.

Hypothesis prints the failing example and a `@reproduce_failure` blob to replay it."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import TestClient

from tests.profile_properties_helpers import SETTINGS

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
