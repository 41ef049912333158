"""Reputation settings per bot (SPEC §8): stored as one row, absent = defaults.

Updates merge the given fields inside the writer task, so two concurrent POSTs
each keep the other's fields instead of racing on a read-then-write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from ledger.commands import ResetRepSettings, UpdateRepSettings
from schemas.reputation import RepSettings
from storage.ids import pad
from storage.queries.reputation import SETTING_COLUMNS as _COLUMNS
from storage.queries.reputation import load_settings as load

if TYPE_CHECKING:
    from ledger.state import LedgerState

__all__ = ["load", "reset", "update"]


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
