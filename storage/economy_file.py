"""The economy as JSON Lines: what `voiceprofile export` writes and `import` reads.

One object a line, each with a "type": a `header`, every `account` (treasuries and
members with their profile columns), every ledger `entry` (sides named by their
public ids, as the hash chain is), then a `row` for every row of every other table
that is state (keys, callbacks, and other areas' tables), verbatim.

`lines(conn)` yields the encoded lines in a stable order, so an export imported into
an empty database and exported again is the same file. `Importer` checks each line
as it inserts it and raises `BadLine` naming the first bad one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from ledger.chain import GENESIS, entry_hash
from storage.ids import pad, treasury_id, unpad, vp_id

__all__ = [
    "EXPORT_FORMAT",
    "BadLine",
    "Importer",
    "count_lines",
    "is_empty",
    "lines",
    "read",
]

EXPORT_FORMAT = "voiceprofile-export"
VERSION = 1

# Tables that are not state to carry over: bookkeeping, and what is only kept for
# a while (idempotency replays for 24 h, delivered or pending callback events, the
# change feeds of the in-memory boards, which an import fills again by trigger).
_SKIP = {
    "migrations",
    "idempotency",
    "outbox",
    "accounts",
    "ledger",
    "account_feed",
    "activity_feed",
    "feed_pruned",
}

_NULL = msgspec.Raw(b"null")
Hex64 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
SnowflakeText = Annotated[str, Meta(pattern=r"^[0-9]{1,20}$")]
# SQLite's INTEGER is signed 64-bit: anything wider must fail on its line.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
Int = Annotated[int, Meta(ge=INT_MIN, le=INT_MAX)]
RowId = Annotated[int, Meta(ge=1, le=INT_MAX)]


class Header(msgspec.Struct, tag="header", forbid_unknown_fields=True):
    format: str
    version: int
    tables: list[str]


class AccountLine(msgspec.Struct, tag="account", forbid_unknown_fields=True, omit_defaults=True):
    """An account: a bot's treasury (bot_id) or a member (guild_id, user_id), with its
    profile columns as stored. `row` keeps the internal id other tables refer to."""

    row: RowId
    id: Hex64
    balance: Int
    bot_id: SnowflakeText | None = None
    guild_id: SnowflakeText | None = None
    user_id: SnowflakeText | None = None
    open: bool = False
    experience: Int = 0
    level: Int = 1
    pray_date: Int = 0
    pray_streak: Int = 0
    text_level: Int | None = None
    text_experience: Int | None = None
    text_messages: Int | None = None
    time_global: Int = 0
    # JSON columns as stored, byte for byte (msgspec.Raw; `null` for none).
    timespent: msgspec.Raw = msgspec.field(default_factory=lambda: _NULL)
    data: msgspec.Raw = msgspec.field(default_factory=lambda: _NULL)
    created_at: float | None = None
    updated_at: float | None = None
    extra: dict[str, Any] = {}
    """Columns other areas' migrations added to `accounts`, verbatim."""


class EntryLine(msgspec.Struct, tag="entry", forbid_unknown_fields=True, omit_defaults=True):
    """A ledger entry, sides named by their public ids (as the hash chain is)."""

    id: RowId
    kind: Annotated[int, Meta(ge=1, le=4)]
    ts: Int
    src: Hex64
    dst: Hex64
    amount: Annotated[int, Meta(ge=1, le=2**53 - 1)]
    src_balance: Int
    dst_balance: Int
    bot: Hex64
    hash: Hex64
    reason: str = ""
    reverts: RowId | None = None
    extra: dict[str, Any] = {}
    """Columns other areas' migrations added to `ledger`, verbatim."""


class RowLine(msgspec.Struct, tag="row", forbid_unknown_fields=True):
    """A row of any other table (settings, reputation, keys, callbacks...), verbatim;
    a BLOB value is written as {"hex": "..."}."""

    table: str
    values: dict[str, Any]


Line = Header | AccountLine | EntryLine | RowLine
_decode_line = msgspec.json.Decoder(Line).decode
_encode = msgspec.json.encode

_ENTRY_COLS = "id, kind, ts, src, dst, amount, src_balance, dst_balance, bot, reason, reverts, hash"
_ACCOUNT_COLS = (
    "id, vp_id, balance, bot_id, guild_id, user_id, open, experience, level, pray_date,"
    " pray_streak, text_level, text_experience, text_messages, time_global, timespent, data,"
    " created_at, updated_at"
)


def _extra_columns(conn: sqlite3.Connection, table: str, known: str) -> list[str]:
    named = {c.strip() for c in known.split(",")}
    return [c for c in _columns(conn, table) if c not in named]


def _select(columns: str, extra: list[str]) -> str:
    return ", ".join([columns, *(f'"{c}"' for c in extra)])


def other_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name"
    )
    return [r[0] for r in rows if r[0] not in _SKIP]


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


def _order(conn: sqlite3.Connection, table: str) -> str:
    """A stable order for a table's rows: its primary key (WITHOUT ROWID tables have
    no rowid), else the rowid."""
    keys = sorted((r[5], r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")') if r[5])
    return ", ".join(f'"{name}"' for _, name in keys) or "rowid"


def _raw(text: str | None) -> msgspec.Raw:
    return _NULL if text is None else msgspec.Raw(text.encode())


def _text(raw: msgspec.Raw) -> str | None:
    value = bytes(raw).decode()
    return None if value == "null" else value


def _account_line(row: tuple) -> AccountLine:
    (
        rid,
        vp,
        balance,
        bot,
        guild,
        user,
        is_open,
        exp,
        level,
        pdate,
        pstreak,
        tlevel,
        texp,
        tmsg,
        tglobal,
        timespent,
        data,
        created,
        updated,
    ) = row
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


def count_lines(conn: sqlite3.Connection) -> int:
    """How many lines `lines(conn)` yields (for a progress bar)."""
    tables = ["accounts", "ledger", *other_tables(conn)]
    return 1 + sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)


def lines(conn: sqlite3.Connection) -> Iterator[bytes]:
    others = other_tables(conn)
    yield _encode(Header(EXPORT_FORMAT, VERSION, ["accounts", "ledger", *others]))
    extra = _extra_columns(conn, "accounts", _ACCOUNT_COLS)
    for row in conn.execute(f"SELECT {_select(_ACCOUNT_COLS, extra)} FROM accounts ORDER BY id"):
        line = _account_line(row[:19])
        line.extra = {c: _value_out(v) for c, v in zip(extra, row[19:], strict=True)}
        yield _encode(line)
    vps = dict(conn.execute("SELECT id, vp_id FROM accounts"))
    extra = _extra_columns(conn, "ledger", _ENTRY_COLS)
    for row in conn.execute(f"SELECT {_select(_ENTRY_COLS, extra)} FROM ledger ORDER BY id"):
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
                digest.hex(),
                reason,
                reverts,
                {c: _value_out(v) for c, v in zip(extra, row[12:], strict=True)},
            )
        )
    for table in others:
        cols = _columns(conn, table)
        names = ", ".join(f'"{c}"' for c in cols)
        for row in conn.execute(f'SELECT {names} FROM "{table}" ORDER BY {_order(conn, table)}'):
            values = {c: _value_out(v) for c, v in zip(cols, row, strict=True)}
            yield _encode(RowLine(table, values))


class BadLine(Exception):
    def __init__(self, number: int, message: str) -> None:
        super().__init__(f"line {number}: {message}")
        self.number = number


class Importer:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.rows: dict[str, int] = {}  # vp_id -> account row
        self.treasury: set[str] = set()
        self.balances: dict[str, int] = {}
        self.account_line: dict[str, tuple[int, int]] = {}  # vp -> (line, stated balance)
        self.prev = (0, 0, GENESIS)  # id, ts, hash
        self.columns: dict[str, list[str]] = {}
        self.tables: set[str] = set(other_tables(conn))
        self.counts = {"account": 0, "entry": 0, "row": 0}
        self.counts_total = 0

    def account(self, n: int, a: AccountLine) -> None:
        if a.bot_id is not None:
            if a.guild_id is not None or a.user_id is not None or a.open:
                raise BadLine(n, "a treasury has a bot_id and no guild_id, user_id or profile")
            expected = treasury_id(a.bot_id)
        elif a.guild_id is not None and a.user_id is not None:
            expected = vp_id(a.guild_id, a.user_id)
        else:
            raise BadLine(n, "an account needs bot_id, or guild_id and user_id")
        if a.id != expected:
            raise BadLine(n, f"id {a.id} is not the SHA-256 of its owner ({expected})")
        if a.id in self.rows:
            raise BadLine(n, f"account {a.id} appears twice")
        for name, value in (("timespent", a.timespent), ("data", a.data)):
            if _text(value) is not None and not isinstance(msgspec.json.decode(value), dict):
                raise BadLine(n, f"{name} must be a JSON object or null")
        extra = self._extra(n, "accounts", _ACCOUNT_COLS, a.extra)
        self.conn.execute(
            f"INSERT INTO accounts ({_select(_ACCOUNT_COLS, list(extra))})"
            f" VALUES ({', '.join('?' * (19 + len(extra)))})",
            (
                a.row,
                a.id,
                a.balance,
                a.bot_id and pad(a.bot_id),
                a.guild_id and pad(a.guild_id),
                a.user_id and pad(a.user_id),
                int(a.open),
                a.experience,
                a.level,
                a.pray_date,
                a.pray_streak,
                a.text_level,
                a.text_experience,
                a.text_messages,
                a.time_global,
                _text(a.timespent),
                _text(a.data),
                a.created_at,
                a.updated_at,
                *extra.values(),
            ),
        )
        self.rows[a.id] = a.row
        if a.bot_id is not None:
            self.treasury.add(a.id)
        self.balances[a.id] = 0
        self.account_line[a.id] = (n, a.balance)
        self.counts["account"] += 1

    def entry(self, n: int, e: EntryLine) -> None:
        last_id, last_ts, last_hash = self.prev
        if e.id != last_id + 1:
            raise BadLine(n, f"entry id {e.id} should be {last_id + 1}")
        if e.ts < last_ts:
            raise BadLine(n, f"entry {e.id}: time goes backwards")
        for side in (e.src, e.dst, e.bot):
            if side not in self.rows:
                raise BadLine(n, f"entry {e.id}: unknown account {side} (accounts come first)")
        if e.src == e.dst:
            raise BadLine(n, f"entry {e.id}: from and to are the same account")
        if e.reverts is not None and not 1 <= e.reverts < e.id:
            raise BadLine(n, f"entry {e.id}: reverts {e.reverts}, not an earlier entry")
        src_after = self.balances[e.src] - e.amount
        dst_after = self.balances[e.dst] + e.amount
        if (src_after, dst_after) != (e.src_balance, e.dst_balance):
            raise BadLine(
                n,
                f"entry {e.id}: balances after should be {src_after} and {dst_after},"
                f" the line says {e.src_balance} and {e.dst_balance}",
            )
        if src_after < 0 and e.src not in self.treasury:
            raise BadLine(n, f"entry {e.id}: a user balance would go below 0")
        digest = entry_hash(
            last_hash,
            e.id,
            e.kind,
            e.ts,
            e.src,
            e.dst,
            e.amount,
            e.src_balance,
            e.dst_balance,
            e.bot,
            e.reverts,
            e.reason,
        )
        if digest.hex() != e.hash:
            raise BadLine(n, f"entry {e.id}: the hash does not chain to the previous entry")
        extra = self._extra(n, "ledger", _ENTRY_COLS, e.extra)
        self.conn.execute(
            f"INSERT INTO ledger ({_select(_ENTRY_COLS, list(extra))})"
            f" VALUES ({', '.join('?' * (12 + len(extra)))})",
            (
                e.id,
                e.kind,
                e.ts,
                self.rows[e.src],
                self.rows[e.dst],
                e.amount,
                e.src_balance,
                e.dst_balance,
                self.rows[e.bot],
                e.reason,
                e.reverts,
                digest,
                *extra.values(),
            ),
        )
        self.balances[e.src], self.balances[e.dst] = src_after, dst_after
        self.prev = (e.id, e.ts, digest)
        self.counts["entry"] += 1

    def _extra(self, n: int, table: str, fixed: str, values: dict[str, Any]) -> dict[str, Any]:
        if not values:
            return {}
        known = self.columns.get(table)
        if known is None:
            known = self.columns[table] = _extra_columns(self.conn, table, fixed)
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise BadLine(n, f"table {table} has no column {unknown[0]!r}")
        return {c: _value_in(n, v) for c, v in values.items()}

    def row(self, n: int, r: RowLine) -> None:
        if r.table not in self.tables:
            raise BadLine(n, f"no table {r.table!r} to import into")
        cols = self.columns.get(r.table)
        if cols is None:
            cols = self.columns[r.table] = _columns(self.conn, r.table)
        unknown = sorted(set(r.values) - set(cols))
        if unknown:
            raise BadLine(n, f"table {r.table} has no column {unknown[0]!r}")
        names = list(r.values)
        values = [_value_in(n, r.values[c]) for c in names]
        quoted = ", ".join(f'"{c}"' for c in names)
        self.conn.execute(
            f'INSERT INTO "{r.table}" ({quoted}) VALUES ({", ".join("?" * len(names))})', values
        )
        self.counts["row"] += 1

    def finish(self) -> None:
        for vp, (n, stated) in self.account_line.items():
            if self.balances[vp] != stated:
                raise BadLine(
                    n, f"account {vp}: balance {stated}, the ledger gives {self.balances[vp]}"
                )


def _value_in(n: int, value: Any) -> Any:
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


def is_empty(conn: sqlite3.Connection) -> bool:
    return not any(
        conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone()
        for t in ["accounts", "ledger", *other_tables(conn)]
    )


def read(source: Path, importer: Importer, advance: Callable[[int], None]) -> None:
    handlers: dict[type, Callable[[int, Any], None]] = {
        AccountLine: importer.account,
        EntryLine: importer.entry,
        RowLine: importer.row,
    }
    number = 0
    with source.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            advance(len(raw))
            if not raw.isascii():  # msgspec would raise UnicodeDecodeError, not DecodeError
                try:
                    raw.decode()
                except UnicodeDecodeError as exc:
                    raise BadLine(number, f"not UTF-8 (byte {exc.start + 1} of the line)") from None
            try:
                line = _decode_line(raw)
            except msgspec.DecodeError as exc:
                raise BadLine(number, str(exc)) from None
            if number == 1:
                if not isinstance(line, Header) or line.format != EXPORT_FORMAT:
                    raise BadLine(1, f"the first line must be the {EXPORT_FORMAT} header")
                if line.version != VERSION:
                    raise BadLine(1, f"export version {line.version}; this server reads {VERSION}")
                continue
            if isinstance(line, Header):
                raise BadLine(number, "a second header")
            try:
                handlers[type(line)](number, line)
            except sqlite3.Error as exc:  # a constraint of the target's schema
                raise BadLine(number, str(exc)) from None
            except OverflowError as exc:  # a value wider than SQLite's INTEGER
                raise BadLine(number, str(exc)) from None
    if number == 0:
        raise BadLine(1, "the file is empty")
    importer.counts_total = number
