"""Every SQL statement the ledger runs against its own tables.

This is the only module that writes `accounts.balance`, the `ledger` table, the
idempotency table and reputation entries; the ledger's rules call it, nothing else
does. The statements are plain SQL both engines take (no SQLite dialect here).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ledger.accounts import Account
from storage.engine.base import Conn
from storage.ids import pad, unpad

__all__ = [
    "ENTRY_COLUMNS",
    "account_by_id",
    "account_by_vp",
    "balance_and_open",
    "entries",
    "entry",
    "head",
    "insert_entries",
    "insert_treasury",
    "reverted_by",
    "set_balances",
]

ENTRY_COLUMNS = (
    "id, kind, ts, src, dst, amount, src_balance, dst_balance, bot, reason, reverts, hash"
)
_ENTRY_COLUMNS = tuple(ENTRY_COLUMNS.split(", "))
_ACCOUNT = "SELECT id, vp_id, bot_id, guild_id, user_id FROM accounts"
_OUTCOME_COLUMNS = ("bot", "key", "body_hash", "status", "response", "created_at")


def _account(row: tuple) -> Account:
    aid, vp, bot, guild, user = row
    return Account(aid, vp, bot and unpad(bot), guild and unpad(guild), user and unpad(user))


def account_by_vp(conn: Conn, vp_id: str) -> Account | None:
    row = conn.execute(f"{_ACCOUNT} WHERE vp_id = ?", (vp_id,)).fetchone()
    return None if row is None else _account(row)


def account_by_id(conn: Conn, account_id: int) -> Account:
    return _account(conn.execute(f"{_ACCOUNT} WHERE id = ?", (account_id,)).fetchone())


def insert_treasury(conn: Conn, vp_id: str, bot_id: str) -> None:
    conn.execute("INSERT INTO accounts (vp_id, bot_id) VALUES (?, ?)", (vp_id, pad(bot_id)))


def balance_and_open(conn: Conn, account_id: int) -> tuple[int, bool]:
    balance, is_open = conn.execute(
        "SELECT balance, open FROM accounts WHERE id = ?", (account_id,)
    ).fetchone()
    return int(balance), bool(is_open)


def set_balances(conn: Conn, pairs: list[tuple[int, int]]) -> None:
    """(balance, account id) pairs: the projection of what was just appended."""
    conn.update_many("accounts", "balance", "id", pairs)


def insert_entries(conn: Conn, rows: list[tuple[Any, ...]]) -> None:
    conn.insert_many("ledger", _ENTRY_COLUMNS, rows)


def head(conn: Conn) -> tuple[int, int, bytes] | None:
    row = conn.execute("SELECT id, ts, hash FROM ledger ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else (int(row[0]), int(row[1]), bytes(row[2]))


def entry(conn: Conn, entry_id: int) -> tuple[Any, ...] | None:
    row = conn.execute(f"SELECT {ENTRY_COLUMNS} FROM ledger WHERE id = ?", (entry_id,)).fetchone()
    return None if row is None else tuple(row)


def entry_hash(conn: Conn, entry_id: int) -> bytes | None:
    row = conn.execute("SELECT hash FROM ledger WHERE id = ?", (entry_id,)).fetchone()
    return None if row is None else bytes(row[0])


def reverted_by(conn: Conn, entry_id: int) -> int | None:
    row = conn.execute("SELECT id FROM ledger WHERE reverts = ?", (entry_id,)).fetchone()
    return None if row is None else int(row[0])


def entries(conn: Conn) -> Iterator[tuple[Any, ...]]:
    """Every entry in id order (the replay of `ledger verify`)."""
    return iter(conn.execute(f"SELECT {ENTRY_COLUMNS} FROM ledger ORDER BY id"))


def accounts(conn: Conn) -> Iterable[tuple[int, str, str | None, int]]:
    """(row id, vp_id, bot_id or None, cached balance) of every account."""
    return conn.execute("SELECT id, vp_id, bot_id, balance FROM accounts ORDER BY id")


# -- idempotency keys ------------------------------------------------------------------------


def keyed_outcomes(conn: Conn, bot: int, keys: list[str]) -> dict[str, tuple[bytes, int, bytes]]:
    """(body hash, status, stored response) of the first outcome of each key of one bot
    that has one kept, 512 keys to a query (primary-key lookups).
    A query's list is padded to a power of two (repeating its last key), so at most
    ten texts take places in the connection's cache of prepared statements."""
    found = {}
    for start in range(0, len(keys), 512):
        chunk = keys[start : start + 512]
        chunk += [chunk[-1]] * ((1 << (len(chunk) - 1).bit_length()) - len(chunk))
        rows = conn.execute(
            "SELECT key, body_hash, status, response FROM idempotency"
            f" WHERE bot = ? AND key IN ({', '.join('?' * len(chunk))})",
            (bot, *chunk),
        )
        for key, digest, status, response in rows:
            found[key] = (bytes(digest), int(status), bytes(response))
    return found


def keep_outcomes(conn: Conn, rows: list[tuple[int, str, bytes, int, bytes, float]]) -> None:
    """(bot, key, body hash, status, response, created_at) of first outcomes."""
    conn.insert_many("idempotency", _OUTCOME_COLUMNS, rows)


def forget_outcomes(conn: Conn, older_than: float, limit: int) -> int:
    """Delete about `limit` of the oldest outcomes kept before `older_than`: a range of
    the created_at index (a row-value IN over the primary key would scan it per bot);
    keys stored in the same microsecond as the last of them go too."""
    return int(
        conn.execute(
            "DELETE FROM idempotency WHERE created_at <= (SELECT max(created_at) FROM"
            " (SELECT created_at FROM idempotency WHERE created_at < ? ORDER BY created_at"
            " LIMIT ?) AS oldest)",
            (older_than, limit),
        ).rowcount
    )


def entries_between(conn: Conn, first: int, last: int) -> list[tuple[Any, ...]]:
    return [
        tuple(r)
        for r in conn.execute(
            f"SELECT {ENTRY_COLUMNS} FROM ledger WHERE id BETWEEN ? AND ? ORDER BY id",
            (first, last),
        )
    ]


def insert_row(conn: Conn, table: str, columns: str, values: tuple) -> None:
    """An account or entry exactly as an import states it (ledger/restore.py has
    checked it against the replay first)."""
    marks = ", ".join("?" * len(values))
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
