"""Profile rows: the columns read, and their conversion to the API's Profile."""

from __future__ import annotations

from typing import Any

import msgspec

from schemas.base import DATA_LIMIT
from schemas.profiles import Pray, Profile, Text
from storage.engine.base import Conn
from storage.errors import InvalidValue, PayloadTooLarge
from storage.ids import pad, unpad

__all__ = [
    "COLUMNS",
    "DATA_DEPTH",
    "DATA_LIMIT",
    "close",
    "decode_map",
    "default",
    "encoded_data",
    "insert_member",
    "load",
    "reopen",
    "store",
    "to_profile",
]

COLUMNS = (
    "vp_id, guild_id, user_id, balance, experience, level, pray_date, pray_streak,"
    " text_level, text_experience, text_messages, time_global, timespent, data,"
    " created_at, updated_at"
)

_decode = msgspec.json.decode
_encode = msgspec.json.encode


def decode_map(raw: str | None) -> dict:
    return _decode(raw) if raw else {}


def to_profile(row: tuple | object) -> Profile:
    (
        vp,
        guild,
        user,
        balance,
        experience,
        level,
        pray_date,
        pray_streak,
        text_level,
        text_experience,
        text_messages,
        time_global,
        timespent,
        data,
        created,
        updated,
    ) = row  # type: ignore[misc]
    return Profile(
        id=vp,
        guild_id=unpad(guild),
        user_id=unpad(user),
        experience=experience,
        voicepoints=balance,
        level=level,
        pray=Pray(pray_date, pray_streak),
        text=None if text_level is None else Text(text_level, text_experience, text_messages),
        timespent={"global": time_global, **decode_map(timespent)},
        data=_decode(data) if data is not None else None,
        created_at=created,
        updated_at=updated,
    )


# -- the profile columns of a member account, as the ledger's profile commands write them --

DATA_DEPTH = 64


def _too_deep(value: Any, limit: int) -> bool:
    """Nested more than `limit` objects/arrays deep (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def encoded_data(data: dict | None, field: str = "data") -> str | None:
    """`data` as stored, or the refusal: at most DATA_DEPTH deep and DATA_LIMIT bytes."""
    if data is None:
        return None
    # Deeply nested JSON decodes only while Python's recursion limit allows, which
    # depends on where it is read; a fixed bound keeps every stored value readable.
    if _too_deep(data, DATA_DEPTH):
        raise InvalidValue(field, f"nested more than {DATA_DEPTH} levels deep")
    raw = _encode(data)
    if len(raw) > DATA_LIMIT:
        raise PayloadTooLarge(
            f"{field}: {len(raw)} bytes encoded, the limit is {DATA_LIMIT}", field=field
        )
    return raw.decode()


def load(conn: Conn, vp: str) -> Profile | None:
    row = conn.execute(
        f"SELECT {COLUMNS} FROM accounts WHERE vp_id = ? AND open = 1", (vp,)
    ).fetchone()
    return None if row is None else to_profile(row)


def default(vp: str, guild_id: int, user_id: int, now: float) -> Profile:
    return Profile(
        id=vp,
        guild_id=str(guild_id),
        user_id=str(user_id),
        experience=0,
        voicepoints=0,
        level=1,
        pray=Pray(),
        text=None,
        timespent={"global": 0},
        data=None,
        created_at=now,
        updated_at=now,
    )


def insert_member(conn: Conn, vp: str, guild_id: int, user_id: int, now: float) -> None:
    conn.execute(
        "INSERT INTO accounts (vp_id, guild_id, user_id, open, created_at, updated_at)"
        " VALUES (?, ?, ?, 1, ?, ?)",
        (vp, pad(guild_id), pad(user_id), now, now),
    )


_DEFAULTS = (
    "experience = 0, level = 1, pray_date = 0, pray_streak = 0, text_level = NULL,"
    " text_experience = NULL, text_messages = NULL, time_global = 0, timespent = NULL,"
    " data = NULL"
)


def reopen(conn: Conn, account_id: int, now: float) -> None:
    """A deleted profile's account, opened again with a default profile."""
    conn.execute(
        f"UPDATE accounts SET open = 1, {_DEFAULTS}, created_at = ?, updated_at = ?"
        " WHERE id = ? AND open = 0",
        (now, now, account_id),
    )


def close(conn: Conn, account_id: int, now: float) -> None:
    conn.execute(
        f"UPDATE accounts SET open = 0, {_DEFAULTS}, updated_at = ? WHERE id = ?",
        (now, account_id),
    )


def store(conn: Conn, account_id: int, p: Profile, data: str | None) -> None:
    """Write every profile column but the balance (`data` already encoded)."""
    others = {k: v for k, v in p.timespent.items() if k != "global"}
    text = p.text
    conn.execute(
        "UPDATE accounts SET experience = ?, level = ?, pray_date = ?, pray_streak = ?,"
        " text_level = ?, text_experience = ?, text_messages = ?, time_global = ?,"
        " timespent = ?, data = ?, created_at = ?, updated_at = ? WHERE id = ?",
        (
            p.experience,
            p.level,
            p.pray.date,
            p.pray.streak,
            text and text.level,
            text and text.experience,
            text and text.message_count,
            p.timespent.get("global", 0),
            _encode(others).decode() if others else None,
            data,
            p.created_at,
            p.updated_at,
            account_id,
        ),
    )
