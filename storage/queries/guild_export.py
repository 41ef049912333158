"""One guild's profiles as rows of the per-guild export (GET /profile/{guild_id}/export).

Only the columns the export carries are read (no `data` or `timespent` JSON to
decode), in user id order, a chunk at a time by keyset on the `open_by_member`
index: each chunk is a seek, so a whole guild costs what it sends and no chunk
holds more than `size` rows.
"""

from __future__ import annotations

from schemas.imports import CSV_COLUMNS
from storage.engine.base import Conn
from storage.ids import pad, unpad

__all__ = ["FIELDS", "ExportRow", "chunk_after", "count"]

# The CSV importer's columns, in its order: an export imports as it is.
FIELDS = CSV_COLUMNS
_COLUMNS = (
    "user_id, experience, level, balance, text_messages, text_level, text_experience,"
    " time_global, pray_streak"
)

# FIELDS' values: the user id (unpadded text), then integers; the three text values
# are None when the profile has no text stats.
ExportRow = tuple[str, int, int, int, int | None, int | None, int | None, int, int]


def count(conn: Conn, guild_id: int) -> int:
    return int(
        conn.execute(
            "SELECT count(*) FROM accounts WHERE open = 1 AND guild_id = ?", (pad(guild_id),)
        ).fetchone()[0]
    )


def chunk_after(
    conn: Conn, guild_id: int, after: str | None, size: int
) -> tuple[list[ExportRow], str | None]:
    """The next `size` open profiles of the guild after the padded user id `after`,
    and the padded user id to go on after (None once the guild is done)."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM accounts WHERE open = 1 AND guild_id = ? AND user_id > ?"
        " ORDER BY user_id LIMIT ?",
        (pad(guild_id), after or "", size),
    ).fetchall()
    out: list[ExportRow] = [(unpad(r[0]), *r[1:]) for r in rows]
    return out, (rows[-1][0] if len(rows) == size else None)
