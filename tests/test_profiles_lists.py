"""Profiles, SPEC §5: the lists: numeric order and paging, guild lists, the tree view,
streamed views valid at every chunk boundary, guilds of a user, no treasuries."""

from __future__ import annotations

import json

import pytest
from litestar.testing import TestClient

from tests.profile_support import (
    PROFILE_KEYS,
    ensure,
)
from tests.profiles_helpers import MEMBERS, ORDERED, _chunks_of, _populate, ids

# -- lists ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ORDERED),
        ("?limit=3", ORDERED[:3]),
        ("?limit=3&page=1", ORDERED[3:6]),
        ("?limit=3&page=2", ORDERED[6:]),
        ("?limit=3&page=3", []),
        ("?limit=0", ORDERED),
        ("?limit=-1", ORDERED),
        ("?limit=-1&page=5", ORDERED),  # everything: page has no meaning
        ("?limit=1000000000000000000000&page=0", ORDERED),
        ("?limit=1000000&page=1000000000000000", []),
        ("?view=list&limit=2", ORDERED[:2]),
    ],
)
def test_list_is_ordered_numerically_and_paged(
    client: TestClient, auth: dict, query: str, expected: list
) -> None:
    _populate(client, auth, MEMBERS)
    r = client.get(f"/profile{query}", headers=auth)
    assert r.status_code == 200, r.text
    assert r.headers["x-total-count"] == str(len(MEMBERS))
    assert ids(r.json()) == expected


def test_default_limit_is_50(client: TestClient, auth: dict) -> None:
    _populate(client, auth, [(1, u) for u in range(1, 61)])
    r = client.get("/profile", headers=auth)
    assert len(r.json()) == 50
    assert r.headers["x-total-count"] == "60"
    assert ids(client.get("/profile?page=1", headers=auth).json()) == [
        (1, u) for u in range(51, 61)
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [m for m in ORDERED if m[0] == 10]),
        ("?limit=2&page=1", [m for m in ORDERED if m[0] == 10][2:4]),
        ("?limit=0", [m for m in ORDERED if m[0] == 10]),
    ],
)
def test_guild_list(client: TestClient, auth: dict, query: str, expected: list) -> None:
    _populate(client, auth, MEMBERS)
    r = client.get(f"/profile/10{query}", headers=auth)
    assert r.status_code == 200
    assert r.headers["x-total-count"] == "3"
    assert ids(r.json()) == expected


def test_guild_list_of_an_unknown_guild_is_empty(client: TestClient, auth: dict) -> None:
    r = client.get("/profile/77", headers=auth)
    assert (r.status_code, r.json(), r.headers["x-total-count"]) == (200, [], "0")


def _tree(members: list[tuple[int, int]]) -> dict[str, list[str]]:
    tree: dict[str, list[str]] = {}
    for g, u in sorted(members):
        tree.setdefault(str(g), []).append(str(u))
    return tree


@pytest.mark.parametrize("path", ["/profile", "/profile/10", "/profile/4"])
@pytest.mark.parametrize("paging", ["", "&limit=1&page=1", "&limit=0"])
def test_tree_view_nests_guild_then_user_and_ignores_paging(
    client: TestClient, auth: dict, path: str, paging: str
) -> None:
    _populate(client, auth, MEMBERS)
    r = client.get(f"{path}?view=tree{paging}", headers=auth)
    assert r.status_code == 200
    tree = r.json()
    guild = path.rsplit("/", 1)[1]
    wanted = _tree([m for m in MEMBERS if path == "/profile" or str(m[0]) == guild])
    # JSON objects keep their order: guilds and users come numerically ordered too.
    assert {g: list(users) for g, users in tree.items()} == wanted
    assert list(tree) == list(wanted)
    for g, users in tree.items():
        for u, profile in users.items():
            assert (profile["guild_id"], profile["user_id"]) == (g, u)
            assert set(profile) == PROFILE_KEYS


@pytest.mark.parametrize("chunk", [1, 2, 3, 500])
@pytest.mark.parametrize("count", [0, 1, 2, 5])
def test_streamed_views_are_valid_json_at_every_chunk_boundary(
    client: TestClient, auth: dict, monkeypatch: pytest.MonkeyPatch, chunk: int, count: int
) -> None:
    _chunks_of(client, chunk)
    members = [(1 + i % 2, 100 + i) for i in range(count)]
    if members:
        _populate(client, auth, members)
    listed = client.get("/profile?limit=0", headers=auth)
    assert ids(json.loads(listed.content)) == sorted(members)
    assert listed.headers["x-total-count"] == str(count)
    tree = json.loads(client.get("/profile?view=tree", headers=auth).content)
    assert {g: list(u) for g, u in tree.items()} == _tree(members)
    guild = json.loads(client.get("/profile/1?view=tree", headers=auth).content)
    assert {g: list(u) for g, u in guild.items()} == _tree([m for m in members if m[0] == 1])


@pytest.mark.parametrize("count", [0, 1, 1001])
def test_streamed_views_with_the_real_chunk_size(
    client: TestClient, auth: dict, count: int
) -> None:
    members = [(1 + i % 3, i) for i in range(count)]
    if members:
        _populate(client, auth, members)
    listed = client.get("/profile?limit=0", headers=auth)
    assert listed.headers["content-type"].startswith("application/json")
    assert ids(json.loads(listed.content)) == sorted(members)
    tree = json.loads(client.get("/profile?view=tree", headers=auth).content)
    assert sum(len(users) for users in tree.values()) == count
    assert {g: list(u) for g, u in tree.items()} == _tree(members)


def test_guild_lists(client: TestClient, auth: dict) -> None:
    assert client.get("/profile/guilds", headers=auth).json() == []
    _populate(client, auth, MEMBERS)
    ensure(client, auth, 99, 7, voicepoints=5)  # the bot's treasury now exists too
    assert client.get("/profile/guilds", headers=auth).json() == ["2", "3", "10", "99"]
    client.delete("/profile/3/5", headers=auth)
    assert client.get("/profile/guilds", headers=auth).json() == ["2", "10", "99"]


@pytest.mark.parametrize(
    ("user", "expected"),
    [("10", ["2"]), ("100", ["10"]), ("1", ["10"]), ("424242", []), ("0010", ["2"])],
)
def test_guilds_of_a_user(client: TestClient, auth: dict, user: str, expected: list) -> None:
    _populate(client, auth, MEMBERS)
    r = client.get(f"/profile/guilds/{user}", headers=auth)
    assert (r.status_code, r.json()) == (200, expected)


def test_guilds_of_a_user_in_numeric_order(client: TestClient, auth: dict) -> None:
    _populate(client, auth, [(10, 5), (9, 5), (100, 5), (9, 6)])
    assert client.get("/profile/guilds/5", headers=auth).json() == ["9", "10", "100"]


def test_treasuries_never_appear_in_lists(client: TestClient, auth: dict) -> None:
    ensure(client, auth, 1, 2, voicepoints=10)
    assert ids(client.get("/profile?limit=0", headers=auth).json()) == [(1, 2)]
    assert ids(client.get("/profile", headers=auth).json()) == [(1, 2)]
    assert list(client.get("/profile?view=tree", headers=auth).json()) == ["1"]
