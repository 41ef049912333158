"""`by=experience` (issue 14): experience alone, so a member with more XP ranks above
one with a higher level; ties by profile id; windows count experience gained. Each
case is checked from the in-memory boards and from SQL alone."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from storage.ids import vp_id
from tests.tops_world import fresh_client

G = 31
OTHER = 32
# user -> (level, experience) at creation
MEMBERS = {1: (1, 1000), 2: (5, 10), 3: (2, 300), 4: (9, 300), 5: (0, 0)}


def _setup(client: TestClient, h: dict[str, str]) -> None:
    for user, (level, xp) in MEMBERS.items():
        body = {"level": level, "experience": xp}
        assert client.post(f"/profile/{G}/{user}", json=body, headers=h).status_code == 201
    # another guild's bigger member: in the global top, never in this guild's
    assert client.post(f"/profile/{OTHER}/1", json={"experience": 5000}, headers=h).status_code
    # gained now, so inside every rolling window (a creation's values are not a gain)
    r = client.patch(f"/profile/{G}/2/add", json={"experience": 50}, headers=h)
    assert r.status_code == 200


def _top(client: TestClient, h: dict[str, str], path: str, **params: object) -> list:
    r = client.get(path, params={"by": "experience", "amount": 0, **params}, headers=h)
    assert r.status_code == 200, r.text
    return [(e["rank"], e["score"], e["profile"]["user_id"]) for e in r.json()]


def _ranks_agree(client: TestClient, h: dict[str, str], top: list, **params: object) -> None:
    for rank, score, user in top:
        r = client.get(
            f"/profile/{G}/{user}/rank", params={"by": "experience", **params}, headers=h
        )
        assert r.json() == {"rank": rank, "score": score, "total": len(top)}, (user, params)


def _tie(a: str, b: str) -> tuple[str, str]:
    """Users 3 and 4 (300 XP each) in profile id order."""
    return (a, b) if vp_id(G, a) < vp_id(G, b) else (b, a)


@pytest.mark.parametrize("boards", ["sync", "off"])
def test_experience_alone_orders_the_top_and_the_ranks(boards: str) -> None:
    with fresh_client(boards) as (client, h):
        _setup(client, h)
        first, second = _tie("3", "4")
        top = _top(client, h, f"/profile/{G}/top")
        assert top == [
            (1, 1000, "1"),  # level 1, most XP: first, although `levels` puts it last but one
            (2, 300, first),  # a tie at 300: by profile id, whatever their levels
            (3, 300, second),
            (4, 60, "2"),
            (5, 0, "5"),
        ]
        levels = client.get(f"/profile/{G}/top", params={"by": "levels", "amount": 0}, headers=h)
        assert [e["profile"]["user_id"] for e in levels.json()][:3] == ["4", "2", "3"]
        _ranks_agree(client, h, top)
        paged = _top(client, h, f"/profile/{G}/top", amount=2, offset=1)
        assert paged == top[1:3]
        everyone = _top(client, h, "/profile/top")
        assert everyone[0] == (1, 5000, "1") and len(everyone) == 6  # the other guild's member
        assert [t[1:] for t in everyone[1:]] == [t[1:] for t in top]


@pytest.mark.parametrize("boards", ["sync", "off"])
@pytest.mark.parametrize(
    "window",
    [{"timeframe": "day"}, {"timeframe": "week"}, {"timeframe": "this-month"}, {"since": 0}],
)
def test_windowed_experience_is_what_was_gained(boards: str, window: dict) -> None:
    with fresh_client(boards) as (client, h):
        _setup(client, h)
        top = _top(client, h, f"/profile/{G}/top", **window)
        zeros = sorted((u for u in MEMBERS if u != 2), key=lambda u: vp_id(G, u))
        assert top == [(1, 50, "2"), *((i, 0, str(u)) for i, u in enumerate(zeros, 2))]
        _ranks_agree(client, h, top, **window)
        # the same window over `levels` scores the same gains (one board serves both)
        levels = client.get(
            f"/profile/{G}/top", params={"by": "levels", "amount": 0, **window}, headers=h
        )
        assert [(e["score"], e["profile"]["id"]) for e in levels.json()] == [
            (e[1], vp_id(G, e[2])) for e in top
        ]
