"""What the auth tests share: the check of a refusal's status and code; and a
fresh SQLite database with a key for each bot, as the state machines start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storage.engine.migrations import apply_migrations
from storage.engine.sqlite import connect
from storage.queries import keys


def assert_error(r: Any, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    # The reputation and settings areas keep their reference APIs' numeric codes.
    assert body["status"] == status and body["code"] in (code, status), body
    return body  # type: ignore[no-any-return]


def bots_with_keys(path: Path, bots: list[str]) -> dict[str, dict[str, str]]:
    """A new database at `path`, migrated, with a default-scope key for each bot:
    the Authorization header of each, by bot id."""
    conn = connect(path)
    apply_migrations(conn)
    auth = {}
    for bot in bots:
        _, secret = keys.create_key(conn, "prop", bot, keys.DEFAULT_SCOPES)
        auth[bot] = {"Authorization": secret}
    conn.close()
    return auth
