"""API keys: random secrets shown once, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time

import msgspec

from storage.errors import NotFound
from storage.ids import pad, unpad

__all__ = [
    "DEFAULT_SCOPES",
    "SCOPES",
    "KeyInfo",
    "KeyNotFound",
    "count_keys",
    "create_key",
    "hash_secret",
    "list_keys",
    "lookup",
    "revoke_key",
    "rotate_key",
]

SCOPES = (
    "profiles:read",
    "profiles:write",
    "ledger:read",
    "ledger:write",
    "reputation",
    "settings",
    "callbacks",
    "images",
    "admin",
)
DEFAULT_SCOPES = SCOPES[:-1]
_PREFIX = "vps_"


class KeyInfo(msgspec.Struct, frozen=True):
    id: int
    name: str
    bot_id: str
    scopes: tuple[str, ...]
    created_at: float
    revoked_at: float | None = None


class KeyNotFound(NotFound):
    code = "key_not_found"


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _new_secret() -> str:
    return _PREFIX + secrets.token_urlsafe(32)  # 32 random bytes


def _info(row: tuple) -> KeyInfo:
    kid, name, bot, scopes, created, revoked = row
    return KeyInfo(kid, name, unpad(bot), tuple(scopes.split()), created, revoked)


_COLS = "id, name, bot_id, scopes, created_at, revoked_at"


def create_key(
    conn: sqlite3.Connection, name: str, bot_id: int | str, scopes: tuple[str, ...] = DEFAULT_SCOPES
) -> tuple[KeyInfo, str]:
    """Insert a key; returns its record and the secret (the only time it exists)."""
    secret = _new_secret()
    ordered = " ".join(s for s in SCOPES if s in scopes)
    kid = conn.execute(
        "INSERT INTO api_keys (name, bot_id, hash, scopes, created_at) VALUES (?, ?, ?, ?, ?)",
        (name, pad(bot_id), hash_secret(secret), ordered, time.time()),
    ).lastrowid
    row = conn.execute(f"SELECT {_COLS} FROM api_keys WHERE id = ?", (kid,)).fetchone()
    return _info(row), secret


def list_keys(conn: sqlite3.Connection, include_revoked: bool = True) -> list[KeyInfo]:
    where = "" if include_revoked else " WHERE revoked_at IS NULL"
    return [_info(r) for r in conn.execute(f"SELECT {_COLS} FROM api_keys{where} ORDER BY id")]


def revoke_key(conn: sqlite3.Connection, key_id: int) -> KeyInfo:
    if not 0 < key_id < 2**63:  # ids are SQLite rowids; a larger int would not even bind
        raise KeyNotFound(f"no key with id {key_id}")
    conn.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        (time.time(), key_id),
    )
    row = conn.execute(f"SELECT {_COLS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    if row is None:
        raise KeyNotFound(f"no key with id {key_id}")
    return _info(row)


def rotate_key(conn: sqlite3.Connection, key_id: int) -> tuple[KeyInfo, str]:
    """A new secret for the same key record; the old secret stops working at once."""
    secret = _new_secret()
    changed = conn.execute(
        "UPDATE api_keys SET hash = ? WHERE id = ? AND revoked_at IS NULL",
        (hash_secret(secret), key_id),
    ).rowcount
    if not changed:
        raise KeyNotFound(f"no active key with id {key_id}")
    row = conn.execute(f"SELECT {_COLS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    return _info(row), secret


def lookup(conn: sqlite3.Connection, secret: str) -> KeyInfo | None:
    row = conn.execute(
        f"SELECT {_COLS} FROM api_keys WHERE hash = ? AND revoked_at IS NULL",
        (hash_secret(secret),),
    ).fetchone()
    return None if row is None else _info(row)


def count_keys(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM api_keys").fetchone()[0]
