"""`voiceprofile import`: load an export into an empty database, checking every line.

Accounts are checked against their owners' ids; entries go through the one replay
of the log (ledger/replay.py), so an import accepts exactly what `ledger verify`
would; every account's stated balance must equal the replay's. Other tables' rows
go in verbatim, and then the economy's (item log, inventories, claims) must pass
the checks of `ledger verify` too. The first bad line raises `BadLine` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from ledger import economy_verify, store
from ledger.replay import Entry, Replay
from schemas.export import EXPORT_FORMAT, VERSION, AccountLine, EntryLine, Header, Line, RowLine
from storage import export
from storage.engine import Engine
from storage.engine.base import Conn, error_text
from storage.export import ACCOUNT_COLUMNS, ENTRY_COLUMNS, BadLine
from storage.ids import pad, treasury_id, vp_id

__all__ = ["Importer", "read"]

_decode_line = msgspec.json.Decoder(Line).decode


def _text(raw: msgspec.Raw) -> str | None:
    value = bytes(raw).decode()
    return None if value == "null" else value


class Importer:
    def __init__(self, engine: Engine, conn: Conn) -> None:
        self.engine = engine
        self.conn = conn
        self.rows: dict[str, int] = {}  # vp_id -> account row
        self.replay = Replay()
        self.account_line: dict[str, tuple[int, int]] = {}  # vp -> (line, stated balance)
        self.columns: dict[str, list[str]] = {}
        self.tables: set[str] = set(export.other_tables(engine, conn))
        self.counts = {"account": 0, "entry": 0, "row": 0}
        self.counts_total = 0
        self.economy = economy_verify.Entries()
        # The line of each row the economy's checks may name (ledger/economy_verify.py).
        self.lines: dict[tuple[str, object], int] = {}

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
        extra = self._extra(n, "accounts", ACCOUNT_COLUMNS, a.extra)
        values = (
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
        )
        store.insert_row(self.conn, "accounts", export.select(ACCOUNT_COLUMNS, list(extra)), values)
        self.rows[a.id] = a.row
        self.replay.account(a.id, a.bot_id is not None)
        self.account_line[a.id] = (n, a.balance)
        self.counts["account"] += 1

    def entry(self, n: int, e: EntryLine) -> None:
        for side in (e.src, e.dst, e.bot):
            if side not in self.rows:
                raise BadLine(n, f"entry {e.id}: unknown account {side} (accounts come first)")
        entry = Entry(
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
            bytes.fromhex(e.hash),
        )
        problems = self.replay.entry(entry)
        if problems:
            raise BadLine(n, problems[0])
        extra = self._extra(n, "ledger", ENTRY_COLUMNS, e.extra)
        values = (
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
            entry.hash,
            *extra.values(),
        )
        store.insert_row(self.conn, "ledger", export.select(ENTRY_COLUMNS, list(extra)), values)
        self.economy.see(e.id, e.kind, self.rows[e.src], self.rows[e.dst], e.amount, e.reverts)
        self.lines[("ledger", e.id)] = n
        self.counts["entry"] += 1

    def _extra(self, n: int, table: str, fixed: str, values: dict[str, Any]) -> dict[str, Any]:
        if not values:
            return {}
        known = self.columns.get(table)
        if known is None:
            known = self.columns[table] = export.extra_columns(self.engine, self.conn, table, fixed)
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise BadLine(n, f"table {table} has no column {unknown[0]!r}")
        return {c: export.value_in(n, v) for c, v in values.items()}

    def row(self, n: int, r: RowLine) -> None:
        if r.table not in self.tables:
            raise BadLine(n, f"no table {r.table!r} to import into")
        cols = self.columns.get(r.table)
        if cols is None:
            cols = self.columns[r.table] = self.engine.columns(self.conn, r.table)
        unknown = sorted(set(r.values) - set(cols))
        if unknown:
            raise BadLine(n, f"table {r.table} has no column {unknown[0]!r}")
        values = {c: export.value_in(n, v) for c, v in r.values.items()}
        export.insert_row(self.conn, r.table, values)
        self._locate(n, r.table, values)
        self.counts["row"] += 1

    def _locate(self, n: int, table: str, values: dict[str, Any]) -> None:
        if table in ("item_log", "reward_claims"):
            self.lines[(table, values.get("id"))] = n
        if table in ("item_log", "inventory"):
            holding = (values.get("account"), values.get("bot_id"), values.get("item_id"))
            # An inventory is named by its own line, else by its last item-log row.
            self.lines[(table, holding)] = n

    def finish(self) -> None:
        balances = self.replay.balances
        for vp, (n, stated) in self.account_line.items():
            if balances[vp] != stated:
                raise BadLine(n, f"account {vp}: balance {stated}, the ledger gives {balances[vp]}")
        vps = {row: vp for vp, row in self.rows.items()}
        found = economy_verify.problems(self.conn, self.economy, lambda a: vps.get(a, f"#{a}"))
        if found:
            first = found[0]
            n = (
                self.lines.get((first.table, first.key))
                or self.lines.get(("item_log", first.key))  # an inventory the file left out
                or self.counts_total
            )
            raise BadLine(n, f"{first.text} (`ledger verify` checks this too)")


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
            except importer.engine.errors as exc:  # a constraint or a type of the target's schema
                raise BadLine(number, error_text(exc)) from None
            except OverflowError as exc:  # a value wider than SQLite's INTEGER
                raise BadLine(number, str(exc)) from None
    if number == 0:
        raise BadLine(1, "the file is empty")
    importer.counts_total = number
