"""Profile rows: the columns read, and their conversion to the API's Profile."""

from __future__ import annotations

import msgspec

from schemas.profiles import Pray, Profile, Text
from storage.ids import unpad

__all__ = ["COLUMNS", "decode_map", "to_profile"]

COLUMNS = (
    "vp_id, guild_id, user_id, balance, experience, level, pray_date, pray_streak,"
    " text_level, text_experience, text_messages, time_global, timespent, data,"
    " created_at, updated_at"
)

_decode = msgspec.json.decode


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
