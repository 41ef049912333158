"""Shared by the tops, stats and graph tests: a fresh server per hypothesis example,
a random world of profiles and transfers, and the independent computations the
endpoints are checked against (plain Python sorts and ledger replays)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.engine.migrations import apply_migrations
from storage.queries import keys
from tests import backend

BOT = "111111111111111111"
METRICS = ["points", "levels", "experience", "time", "text-level", "text-message", "pray-streak"]
GUILDS = (5, 6, 7)


def new_database(folder: Path) -> tuple[Path, dict[str, str]]:
    """A migrated database named by a file in `folder` (`backend.target` gives what
    the server takes) and the Authorization header of a key of BOT."""
    path = folder / "vp.db"
    conn = backend.connect(path)
    apply_migrations(conn)
    _, secret = keys.create_key(conn, "t", BOT, keys.DEFAULT_SCOPES)
    conn.close()
    return path, {"Authorization": secret}


@contextmanager
def fresh_client(
    boards: str = "sync", **options: Any
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """An in-process server on its own database, and a key of BOT. `boards` is the
    in-memory leaderboards' mode: `sync` checks their answers, `off` the SQL ones."""
    with tempfile.TemporaryDirectory() as tmp:
        path, headers = new_database(Path(tmp))
        settings = Settings(
            db=backend.target(path), key_cache_seconds=0.0, boards=boards, **options
        )
        try:
            with TestClient(create_app(settings)) as client:
                yield client, headers
        finally:
            backend.drop(path)  # one per hypothesis example: not kept to the test's end


small = st.integers(0, 4)
profile_bodies = st.fixed_dictionaries(
    {
        "experience": small,
        "level": st.integers(0, 3),
        "voicepoints": st.integers(0, 20),
        "pray": st.fixed_dictionaries({"streak": st.integers(0, 3)}),
        "text": st.none()
        | st.fixed_dictionaries(
            {"level": st.integers(0, 2), "experience": small, "message_count": small}
        ),
        "timespent": st.fixed_dictionaries({"global": small}),
    }
)
worlds = st.fixed_dictionaries(
    {
        "profiles": st.dictionaries(
            st.tuples(st.sampled_from(GUILDS), st.integers(1, 12)), profile_bodies, max_size=18
        ),
        "transfers": st.lists(
            st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(1, 12)), max_size=25
        ),
        "deleted": st.lists(st.integers(0, 40), max_size=2),
    }
)


def build(client: TestClient, headers: dict[str, str], world: dict[str, Any]) -> list[dict]:
    """Create the world through the API; returns the open profiles as the API shows them."""
    members = sorted(world["profiles"])
    for (guild, user), body in sorted(world["profiles"].items()):
        assert (
            client.post(f"/profile/{guild}/{user}", json=body, headers=headers).status_code == 201
        )
    if members:
        for a, b, amount in world["transfers"]:
            src, dst = members[a % len(members)], members[b % len(members)]
            if src == dst:
                continue
            body = {
                "from": {"guild_id": src[0], "user_id": src[1]},
                "to": {"guild_id": dst[0], "user_id": dst[1]},
                "amount": amount,
            }
            status = client.post("/transaction", json=body, headers=headers).status_code
            assert status in (201, 409)
        for index in world["deleted"]:
            guild, user = members[index % len(members)]
            client.delete(f"/profile/{guild}/{user}", headers=headers)
    return client.get("/profile", params={"limit": 0}, headers=headers).json()


def keys_of(profile: dict, by: str) -> tuple[int, ...]:
    text = profile["text"] or {"level": 0, "experience": 0, "message_count": 0}
    return {
        "points": (profile["voicepoints"],),
        "levels": (profile["level"], profile["experience"]),
        "experience": (profile["experience"],),
        "time": (profile["timespent"]["global"],),
        "text-level": (text["level"], text["experience"]),
        "text-message": (text["message_count"],),
        "pray-streak": (profile["pray"]["streak"],),
    }[by]


def expected_top(profiles: list[dict], by: str, guild: int | None) -> list[tuple[int, str]]:
    """[(score, vp_id)] in top order, by a plain sort."""
    scoped = [p for p in profiles if guild is None or p["guild_id"] == str(guild)]
    ordered = sorted(scoped, key=lambda p: (tuple(-k for k in keys_of(p, by)), p["id"]))
    return [(keys_of(p, by)[0], p["id"]) for p in ordered]


def sorted_scores(scores: dict[str, int], profiles: list[dict], guild: int | None) -> list:
    """[(score, vp_id)] for window scores (missing = 0) in top order."""
    scoped = [p["id"] for p in profiles if guild is None or p["guild_id"] == str(guild)]
    return sorted(((scores.get(vp, 0), vp) for vp in scoped), key=lambda t: (-t[0], t[1]))


def entries(client: TestClient, headers: dict[str, str]) -> list[dict]:
    """Every ledger entry, oldest first."""
    listed = client.get("/transaction", params={"limit": 0}, headers=headers).json()
    return sorted(listed, key=lambda e: e["id"])
