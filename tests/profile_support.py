"""Helpers shared by the profile tests: requests in one line, and a snapshot of the
committed state read through an independent connection."""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from litestar.testing import TestClient

__all__ = [
    "PROFILE_KEYS",
    "ensure",
    "snapshot",
    "treasury_balance",
    "vp",
]

PROFILE_KEYS = {
    "id",
    "guild_id",
    "user_id",
    "experience",
    "voicepoints",
    "level",
    "pray",
    "text",
    "timespent",
    "data",
    "created_at",
    "updated_at",
}


def vp(guild: int | str, user: int | str) -> str:
    return hashlib.sha256(f"{guild}:{user}".encode()).hexdigest()


def ensure(client: TestClient, auth: dict[str, str], guild: Any, user: Any, **body: Any) -> dict:
    """Create (or reset) a profile with `body`; returns it."""
    r = client.post(f"/profile/{guild}/{user}", json=body, headers=auth)
    assert r.status_code in (200, 201), r.text
    return r.json()  # type: ignore[no-any-return]


def snapshot(db: sqlite3.Connection) -> tuple[list[tuple], list[tuple]]:
    """Every account and ledger row, as committed."""
    accounts = db.execute("SELECT * FROM accounts ORDER BY id").fetchall()
    ledger = db.execute("SELECT * FROM ledger ORDER BY id").fetchall()
    return accounts, ledger


def treasury_balance(db: sqlite3.Connection, bot_id: str) -> int:
    row = db.execute(
        "SELECT balance FROM accounts WHERE bot_id = ?", (f"{int(bot_id):020d}",)
    ).fetchone()
    return 0 if row is None else int(row[0])
