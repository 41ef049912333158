"""What the heavy-read tests share: the time and guild of their world, filling it in bulk,
and running a setup on each of the reader pool's connections."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient

T = 480_000 * 3600  # a whole hour, in 2024 (the clock of two_servers)
GUILD = 5
WINDOWED = ["points", "levels", "time", "text-message"]


def _bulk(client: TestClient, h: dict[str, str], method: str, path: str, items: list) -> None:
    for i in range(0, len(items), 500):
        got = client.request(method, path, json=items[i : i + 500], headers=h)
        assert got.status_code in (200, 201), got.text


def _populate(client: TestClient, h: dict[str, str], clock: Any, n: int, seed: int = 0) -> None:
    """`n` profiles in GUILD (and a few in guild 6): positive, zero and negative
    window scores, with ties, for every windowed type. Since T + 50 the points
    window sees only the second round of transfers."""
    rnd = random.Random(seed)
    users = range(1, n + 1)
    clock.set(T)
    adds = [
        {
            "guild_id": GUILD if u % 9 else 6,
            "user_id": u,
            "experience": rnd.choice([0, 0, 1, 2, 3]),
            "timespent": {"global": rnd.choice([0, 0, 0, 60, 120])},
            "text": {"message_count": rnd.choice([0, 0, 1, 4])},
        }
        for u in users
    ]
    _bulk(client, h, "PATCH", "/profile/add", adds)
    member = {
        u: {"guild_id": a["guild_id"], "user_id": u} for u, a in zip(users, adds, strict=True)
    }
    mints = [{"from": "self", "to": member[u], "amount": 5 + u % 3} for u in users if u % 4 < 2]
    _bulk(client, h, "POST", "/transaction", mints)
    clock.set(T + 100)
    moves = [{"from": member[u], "to": "self", "amount": 1 + u % 2} for u in users if u % 4 == 0]
    moves += [{"from": "self", "to": member[u], "amount": 1 + u % 3} for u in users if u % 4 == 2]
    _bulk(client, h, "POST", "/transaction", moves)
    later = [a | {"experience": rnd.choice([0, 1, 5])} for a in adds[::3]]
    clock.set(T + 2 * 3600)
    _bulk(client, h, "PATCH", "/profile/add", later)
    for u in list(users)[::5]:  # deleted profiles never appear
        client.delete(f"/profile/{member[u]['guild_id']}/{u}", headers=h)


def _on_readers(client: TestClient, setup: Callable[[Any], None]) -> None:
    """Run `setup(sqlite3_connection)` on each reader connection's own thread."""
    pool = client.app.state.services.readers

    async def install() -> None:
        for reader in pool._all:  # a thread per reader (storage/engine/readers.py)
            await reader.run(setup, reader.conn)

    client.blocking_portal.call(install)
