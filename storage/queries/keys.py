"""API keys: random secrets shown once, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import time

import msgspec

from schemas.base import DEFAULT_SCOPES, SCOPES
from storage.engine.base import Conn
from storage.engine.writer import WriteContext
from storage.errors import NotFound
from storage.ids import pad, unpad

__all__ = [
    "DEFAULT_SCOPES",
    "SCOPES",
    "KeyInfo",
    "KeyNotFound",
    "NewKey",
    "count_keys",
    "create_key",
    "create_task",
    "hash_secret",
    "list_keys",
    "lookup",
    "revoke_key",
    "revoke_task",
    "rotate_key",
    "rotate_task",
]

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
    conn: Conn,
    name: str,
    bot_id: int | str,
    scopes: tuple[str, ...] = DEFAULT_SCOPES,
    now: float | None = None,
) -> tuple[KeyInfo, str]:
    """Insert a key; returns its record and the secret (the only time it exists)."""
    secret = _new_secret()
    ordered = " ".join(s for s in SCOPES if s in scopes)
    row = conn.execute(
        "INSERT INTO api_keys (name, bot_id, hash, scopes, created_at) VALUES (?, ?, ?, ?, ?)"
        f" RETURNING {_COLS}",
        (name, pad(bot_id), hash_secret(secret), ordered, time.time() if now is None else now),
    ).fetchone()
    return _info(row), secret


class NewKey(msgspec.Struct, frozen=True):
    name: str
    bot_id: str
    scopes: tuple[str, ...] = DEFAULT_SCOPES


# -- the same, as writer tasks (fn(ctx, arg)) ----------------------------------------------


def create_task(ctx: WriteContext, new: NewKey) -> tuple[KeyInfo, str]:
    return create_key(ctx.conn, new.name, new.bot_id, new.scopes, ctx.clock.now())


def revoke_task(ctx: WriteContext, key_id: int) -> KeyInfo:
    return revoke_key(ctx.conn, key_id, ctx.clock.now())


def rotate_task(ctx: WriteContext, key_id: int) -> tuple[KeyInfo, str]:
    return rotate_key(ctx.conn, key_id)


def list_keys(conn: Conn, include_revoked: bool = True) -> list[KeyInfo]:
    where = "" if include_revoked else " WHERE revoked_at IS NULL"
    return [_info(r) for r in conn.execute(f"SELECT {_COLS} FROM api_keys{where} ORDER BY id")]


def revoke_key(conn: Conn, key_id: int, now: float | None = None) -> KeyInfo:
    if not 0 < key_id < 2**63:  # ids are 64-bit integers; a larger int would not even bind
        raise KeyNotFound(f"no key with id {key_id}")
    row = conn.execute(f"SELECT {_COLS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    if row is None:
        raise KeyNotFound(f"no key with id {key_id}")
    if row[5] is not None:  # revoked already: its first revocation stands
        return _info(row)
    row = conn.execute(
        f"UPDATE api_keys SET revoked_at = ? WHERE id = ? RETURNING {_COLS}",
        (time.time() if now is None else now, key_id),
    ).fetchone()
    return _info(row)


def rotate_key(conn: Conn, key_id: int) -> tuple[KeyInfo, str]:
    """A new secret for the same key record; the old secret stops working at once."""
    secret = _new_secret()
    row = conn.execute(
        f"UPDATE api_keys SET hash = ? WHERE id = ? AND revoked_at IS NULL RETURNING {_COLS}",
        (hash_secret(secret), key_id),
    ).fetchone()
    if row is None:
        raise KeyNotFound(f"no active key with id {key_id}")
    return _info(row), secret


def lookup(conn: Conn, secret: str) -> KeyInfo | None:
    row = conn.execute(
        f"SELECT {_COLS} FROM api_keys WHERE hash = ? AND revoked_at IS NULL",
        (hash_secret(secret),),
    ).fetchone()
    return None if row is None else _info(row)


def count_keys(conn: Conn) -> int:
    return conn.execute("SELECT count(*) FROM api_keys").fetchone()[0]
