"""The export stream (`voiceprofile export`) and what `import` needs of the tables.

`lines(engine, conn)` yields the encoded lines (schemas/export.py) in a stable
order, the same on SQLite and PostgreSQL, so an export imported into an empty
database of either engine and exported again is the same file. What tables and
columns there are comes from the engine's catalogue (`tables`, `columns`,
`row_order`). The ledger's own tables are imported by ledger/restore.py, which
checks every entry; the other tables' rows go in verbatim through `insert_row`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from schemas.export import (
    EXPORT_FORMAT,
    INT_MAX,
    INT_MIN,
    NULL,
    VERSION,
    AccountLine,
    EntryLine,
    Header,
    RowLine,
)
from storage.engine import Engine
from storage.engine.base import Conn
from storage.ids import unpad

__all__ = [
    "ACCOUNT_COLUMNS",
    "ENTRY_COLUMNS",
    "BadLine",
    "count_lines",
    "extra_columns",
    "insert_row",
    "is_empty",
    "lines",
    "other_tables",
    "select",
    "value_in",
]

# Tables that are not state to carry over: bookkeeping, and what is only kept for
# a while (idempotency replays for 24 h, delivered or pending callback events, the
# change feeds of the in-memory boards, which an import fills again by trigger),
# and what replication tools add to a SQLite file (Litestream: `_litestream_seq`,
# `_litestream_lock`; any `_litestream_*` table, below).
_SKIP = {
    "migrations",
    "idempotency",
    "outbox",
    "accounts",
    "ledger",
    "account_feed",
    "activity_feed",
    "feed_pruned",
    "rate_usage",  # transient counts of the rate limiter's current window
}
_SKIP_PREFIXES = ("_litestream_",)

_encode = msgspec.json.encode

ENTRY_COLUMNS = (
    "id, kind, ts, src, dst, amount, src_balance, dst_balance, bot, reason, reverts, hash"
)
ACCOUNT_COLUMNS = (
    "id, vp_id, balance, bot_id, guild_id, user_id, open, experience, level, pray_date,"
    " pray_streak, text_level, text_experience, text_messages, time_global, timespent, data,"
    " created_at, updated_at"
)


class BadLine(Exception):
    def __init__(self, number: int, message: str) -> None:
        super().__init__(f"line {number}: {message}")
        self.number = number


def extra_columns(engine: Engine, conn: Conn, table: str, known: str) -> list[str]:
    """Columns other areas' migrations added to a table the export names itself."""
    named = {c.strip() for c in known.split(",")}
    return [c for c in engine.columns(conn, table) if c not in named]


def select(fixed: str, extra: list[str]) -> str:
    return ", ".join([fixed, *(f'"{c}"' for c in extra)])


def other_tables(engine: Engine, conn: Conn) -> list[str]:
    """The tables exported as rows, sorted in Python: by code point, as SQLite sorts
    them, whatever the PostgreSQL database's collation."""
    return sorted(
        t for t in engine.tables(conn) if t not in _SKIP and not t.startswith(_SKIP_PREFIXES)
    )


def _raw(text: str | None) -> msgspec.Raw:
    return NULL if text is None else msgspec.Raw(text.encode())


def _account_line(row: tuple) -> AccountLine:
    (rid, vp, balance, bot, guild, user, is_open, exp, level, pdate, pstreak) = row[:11]
    (tlevel, texp, tmsg, tglobal, timespent, data, created, updated) = row[11:19]
    return AccountLine(
        row=rid,
        id=vp,
        balance=balance,
        bot_id=bot and unpad(bot),
        guild_id=guild and unpad(guild),
        user_id=user and unpad(user),
        open=bool(is_open),
        experience=exp,
        level=level,
        pray_date=pdate,
        pray_streak=pstreak,
        text_level=tlevel,
        text_experience=texp,
        text_messages=tmsg,
        time_global=tglobal,
        timespent=_raw(timespent),
        data=_raw(data),
        created_at=created,
        updated_at=updated,
    )


def _value_out(value: Any) -> Any:
    return {"hex": value.hex()} if isinstance(value, bytes) else value


def value_in(n: int, value: Any) -> Any:
    """A verbatim value of line `n` as the database stores it ({"hex"} is a BLOB)."""
    if isinstance(value, dict):
        if set(value) == {"hex"} and isinstance(value["hex"], str):
            try:
                return bytes.fromhex(value["hex"])
            except ValueError:
                raise BadLine(n, "a hex value is not hex") from None
        raise BadLine(n, 'a value must be a number, a string, null or {"hex": "..."}')
    if isinstance(value, list):
        raise BadLine(n, 'a value must be a number, a string, null or {"hex": "..."}')
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        raise BadLine(n, f"{value} is outside SQLite's integers (-2^63 to 2^63-1)")
    return value


def count_lines(engine: Engine, conn: Conn) -> int:
    """How many lines `lines(engine, conn)` yields (for a progress bar)."""
    tables = ["accounts", "ledger", *other_tables(engine, conn)]
    return 1 + sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)


def lines(engine: Engine, conn: Conn) -> Iterator[bytes]:
    others = other_tables(engine, conn)
    yield _encode(Header(EXPORT_FORMAT, VERSION, ["accounts", "ledger", *others]))
    extra = extra_columns(engine, conn, "accounts", ACCOUNT_COLUMNS)
    for row in conn.execute(f"SELECT {select(ACCOUNT_COLUMNS, extra)} FROM accounts ORDER BY id"):
        line = _account_line(row[:19])
        line.extra = {c: _value_out(v) for c, v in zip(extra, row[19:], strict=True)}
        yield _encode(line)
    vps = dict(conn.execute("SELECT id, vp_id FROM accounts"))
    extra = extra_columns(engine, conn, "ledger", ENTRY_COLUMNS)
    for row in conn.execute(f"SELECT {select(ENTRY_COLUMNS, extra)} FROM ledger ORDER BY id"):
        eid, kind, ts, src, dst, amount, sb, db, bot, reason, reverts, digest = row[:12]
        yield _encode(
            EntryLine(
                eid,
                kind,
                ts,
                vps[src],
                vps[dst],
                amount,
                sb,
                db,
                vps[bot],
                bytes(digest).hex(),
                reason,
                reverts,
                {c: _value_out(v) for c, v in zip(extra, row[12:], strict=True)},
            )
        )
    for table in others:
        cols = engine.columns(conn, table)
        names = ", ".join(f'"{c}"' for c in cols)
        order = engine.row_order(conn, table)
        for row in conn.execute(f'SELECT {names} FROM "{table}" ORDER BY {order}'):
            values = {c: _value_out(v) for c, v in zip(cols, row, strict=True)}
            yield _encode(RowLine(table, values))


def insert_row(conn: Conn, table: str, values: dict[str, Any]) -> None:
    names = list(values)
    quoted = ", ".join(f'"{c}"' for c in names)
    conn.execute(
        f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(names))})',
        [values[c] for c in names],
    )


def is_empty(engine: Engine, conn: Conn) -> bool:
    return not any(
        conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone()
        for t in ["accounts", "ledger", *other_tables(engine, conn)]
    )
