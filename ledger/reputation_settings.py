"""Reputation settings per bot (SPEC §8): stored as one row, absent = defaults.

Updates merge the given fields inside the writer task, so two concurrent POSTs
each keep the other's fields instead of racing on a read-then-write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from ledger.commands import ResetRepSettings, UpdateRepSettings
from schemas.reputation import DEFAULT_SETTINGS, RepSettings
from storage.engine.base import Conn
from storage.ids import pad, unpad

if TYPE_CHECKING:
    from ledger.state import LedgerState

__all__ = ["load", "reset", "update"]

_COLUMNS = (
    "reputation_per_day",
    "maximum_reputation",
    "maximum_reputation_received_day",
    "reputation_cooldown",
)


def load(conn: Conn, bot_id: str) -> RepSettings:
    """The bot's settings (defaults if never set); `accountId` is the bot id."""
    row = conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM reputation_settings WHERE bot_id = ?", (pad(bot_id),)
    ).fetchone()
    values = row if row is not None else [getattr(DEFAULT_SETTINGS, c) for c in _COLUMNS]
    return RepSettings(**dict(zip(_COLUMNS, values, strict=True)), account_id=unpad(pad(bot_id)))


def update(state: LedgerState, command: UpdateRepSettings) -> RepSettings:
    conn = state.conn
    current = msgspec.structs.asdict(load(conn, command.bot_id))
    merged = [command.changes.get(c, current[c]) for c in _COLUMNS]
    assignments = ", ".join(f"{c} = excluded.{c}" for c in (*_COLUMNS, "updated_at"))
    conn.execute(
        f"INSERT INTO reputation_settings (bot_id, {', '.join(_COLUMNS)}, updated_at)"
        f" VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (bot_id) DO UPDATE SET {assignments}",
        (pad(command.bot_id), *merged, state.ctx.clock.now()),
    )
    return load(conn, command.bot_id)


def reset(state: LedgerState, command: ResetRepSettings) -> RepSettings:
    state.conn.execute("DELETE FROM reputation_settings WHERE bot_id = ?", (pad(command.bot_id),))
    return load(state.conn, command.bot_id)
