"""What the profile endpoint tests share: the default fields, the largest number, a set of
members to list (and their order), and setting the stream chunk size."""

from __future__ import annotations

import dataclasses

from litestar.testing import TestClient

DEFAULTS = {
    "experience": 0,
    "voicepoints": 0,
    "level": 1,
    "pray": {"date": 0, "streak": 0},
    "text": None,
    "timespent": {"global": 0},
    "data": None,
}
MAX = 2**53 - 1


def fields(profile: dict) -> dict:
    return {k: v for k, v in profile.items() if k in DEFAULTS}


# Numeric order differs from text order: guild 2 before 10, user 9 before 10.
MEMBERS = [(10, 1), (2, 10), (2, 9), (10, 100), (10, 20), (2, 100000000000000000000 // 10), (3, 5)]
ORDERED = sorted(MEMBERS)


def _populate(client: TestClient, auth: dict, members: list[tuple[int, int]]) -> None:
    items = [{"guild_id": g, "user_id": u} for g, u in members]
    r = client.patch("/profile/add", json=items, headers=auth)
    assert r.status_code == 200, r.text


def ids(profiles: list[dict]) -> list[tuple[int, int]]:
    return [(int(p["guild_id"]), int(p["user_id"])) for p in profiles]


def _chunks_of(client: TestClient, size: int) -> None:
    """Stream `size` profiles a chunk from now on (Settings.stream_chunk)."""
    svc = client.app.state.services
    svc.settings = dataclasses.replace(svc.settings, stream_chunk=size)
