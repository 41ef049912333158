"""The settings store (SPEC §9): one JSON document per bot, type, id and optional
sub-type and sub-id. Writes are whole synchronous writer tasks; reads run on a
reader. A top-level setting has subtype and subid '' (path segments never are)."""

from __future__ import annotations

from typing import Any

import msgspec

from storage.engine.base import Conn
from storage.engine.writer import WriteContext
from storage.errors import NotFound
from storage.ids import pad

__all__ = [
    "SettingKey",
    "SettingNotFound",
    "StoreSetting",
    "SubsettingNotFound",
    "get",
    "list_subsettings",
    "remove",
    "store",
]


class SettingNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Setting not found")


class SubsettingNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Subsetting not found")


class SettingKey(msgspec.Struct, frozen=True):
    bot_id: str
    type: str
    id: str
    subtype: str = ""
    subid: str = ""

    def params(self) -> tuple[str, str, str, str, str]:
        return (pad(self.bot_id), self.type, self.id, self.subtype, self.subid)

    def missing(self) -> NotFound:
        return SubsettingNotFound() if self.subtype else SettingNotFound()


class StoreSetting(msgspec.Struct, frozen=True):
    key: SettingKey
    data: str
    """The JSON document, already validated and encoded."""


_WHERE = "bot_id = ? AND type = ? AND id = ? AND subtype = ? AND subid = ?"


def get(conn: Conn, key: SettingKey) -> Any:
    """The stored document, decoded; raises the reference's 404 when missing."""
    row = conn.execute(f"SELECT data FROM settings_store WHERE {_WHERE}", key.params()).fetchone()
    if row is None:
        raise key.missing()
    return msgspec.json.decode(row[0])


def list_subsettings(
    conn: Conn, bot_id: str, type_: str, id_: str, subtype: str
) -> list[tuple[str, Any]]:
    """(subid, document) of every sub-setting of one sub-type, by sub-id."""
    rows = conn.execute(
        "SELECT subid, data FROM settings_store"
        " WHERE bot_id = ? AND type = ? AND id = ? AND subtype = ? ORDER BY subid",
        (pad(bot_id), type_, id_, subtype),
    )
    return [(subid, msgspec.json.decode(data)) for subid, data in rows]


def store(ctx: WriteContext, command: StoreSetting) -> Any:
    """Create or overwrite (the reference's POST replaces the whole document)."""
    ctx.conn.execute(
        "INSERT INTO settings_store"
        " (bot_id, type, id, subtype, subid, data, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (bot_id, type, id, subtype, subid)"
        " DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
        (*command.key.params(), command.data, ctx.clock.now()),
    )
    return msgspec.json.decode(command.data)


def remove(ctx: WriteContext, key: SettingKey) -> Any:
    """Delete and return what was stored, in the same task (no read-then-delete race)."""
    row = ctx.conn.execute(
        f"DELETE FROM settings_store WHERE {_WHERE} RETURNING data", key.params()
    ).fetchone()
    if row is None:
        raise key.missing()
    return msgspec.json.decode(row[0])
