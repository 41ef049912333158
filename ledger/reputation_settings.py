"""Reputation settings per bot (SPEC §8): stored as one row, absent = defaults.

Updates merge the given fields inside the writer task, so two concurrent POSTs
each keep the other's fields instead of racing on a read-then-write.
"""

from __future__ import annotations

import sqlite3
import time

import msgspec

from schemas.reputation import DEFAULT_SETTINGS, RepSettings
from storage.ids import pad, unpad
from storage.writer import WriteContext

__all__ = ["ResetSettings", "UpdateSettings", "load", "reset_settings", "update_settings"]

_COLUMNS = (
    "reputation_per_day",
    "maximum_reputation",
    "maximum_reputation_received_day",
    "reputation_cooldown",
)


class UpdateSettings(msgspec.Struct, frozen=True):
    bot_id: str
    changes: dict[str, int]
    """Column name -> new value, only for the fields the request carried."""


class ResetSettings(msgspec.Struct, frozen=True):
    bot_id: str


def load(conn: sqlite3.Connection, bot_id: str) -> RepSettings:
    """The bot's settings (defaults if never set); `accountId` is the bot id."""
    row = conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM reputation_settings WHERE bot_id = ?", (pad(bot_id),)
    ).fetchone()
    values = row if row is not None else [getattr(DEFAULT_SETTINGS, c) for c in _COLUMNS]
    return RepSettings(**dict(zip(_COLUMNS, values, strict=True)), account_id=unpad(pad(bot_id)))


def update_settings(ctx: WriteContext, command: UpdateSettings) -> RepSettings:
    current = msgspec.structs.asdict(load(ctx.conn, command.bot_id))
    merged = [command.changes.get(c, current[c]) for c in _COLUMNS]
    ctx.conn.execute(
        f"INSERT OR REPLACE INTO reputation_settings (bot_id, {', '.join(_COLUMNS)}, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (pad(command.bot_id), *merged, time.time()),
    )
    return load(ctx.conn, command.bot_id)


def reset_settings(ctx: WriteContext, command: ResetSettings) -> RepSettings:
    ctx.conn.execute("DELETE FROM reputation_settings WHERE bot_id = ?", (pad(command.bot_id),))
    return load(ctx.conn, command.bot_id)
