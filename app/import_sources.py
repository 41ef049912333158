"""Reading other bots' leaderboard data into import rows (SPEC §12; README "Moving in").

`parse(source, body)` takes the bytes of one page or a JSON array of pages exactly as
the service answered (or a CSV file), checks every value, and returns one
`ImportRow` per member, the last listing of a member winning (a leaderboard read
page by page while members gain points can list one twice). A bad value is refused
with its page and item named; nothing here touches the database.

Memory: the body is at most the route's limit (32 MiB), and before decoding, its
objects and arrays are counted (a byte count, no parse): more than
`MAX_STRUCTURES` is refused, so a hostile body cannot make the decoder build
millions of tiny objects.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from typing import Any

import msgspec

from ledger.commands import ImportRow
from schemas.base import MAX_COUNTER, MAX_SNOWFLAKE, is_snowflake
from schemas.imports import CSV_COLUMNS, AmariPage, Mee6Page, TatsuPage, UnbItem
from storage.errors import DomainError, InvalidValue, PayloadTooLarge

__all__ = [
    "CSV_COLUMNS",
    "MAX_MEMBERS",
    "MAX_STRUCTURES",
    "SOURCES",
    "BadImportItem",
    "collect",
    "parse",
]

SOURCES = ("mee6", "amari", "tatsu", "unbelievaboat", "csv")
MAX_MEMBERS = 250_000
"""Members in one request (a larger guild imports in several, or with the CLI)."""
MAX_STRUCTURES = 4 * MAX_MEMBERS
"""JSON objects and arrays in one body: MEE6 sends two per member."""


class BadImportItem(InvalidValue):
    """A value of the source data refused, with where it is: `page`, `item` (0-based,
    as the body lists them) or the CSV `line` (1-based, the header is line 1)."""

    def __init__(self, where: dict[str, int], path: str, message: str) -> None:
        place = ", ".join(f"{k} {v}" for k, v in where.items())
        super().__init__(path, message)
        self.message = f"{place}: {path.rsplit('.', 1)[-1]}: {message}"
        self.args = (self.message,)
        self.extra.update(where)


def _shown(value: Any) -> str:
    """A value as a message quotes it: a hostile one is cut short."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}…({len(text)} chars)"


def _count(value: Any, where: dict[str, int], path: str) -> int | None:
    """A counter or balance: a whole number in [0, 2^53-1], sent as a number or string."""
    if value is None:
        return None
    number: Any = value
    if isinstance(value, str):
        text = value.strip()
        digits = text.lstrip("+-")
        if digits.isdigit() and text.isascii():
            # int() of thousands of digits is refused by Python (and slow before that)
            number = int(text) if len(digits) <= 20 else (-1 if text[0] == "-" else MAX_COUNTER + 1)
        else:
            try:
                number = float(text)
            except ValueError:
                raise BadImportItem(where, path, f"{_shown(value)} is not a number") from None
    if isinstance(number, float):
        if not math.isfinite(number):
            raise BadImportItem(where, path, f"{_shown(value)} is not a finite number")
        if not number.is_integer():
            raise BadImportItem(where, path, f"{_shown(value)} is not a whole number")
        number = int(number)
    if isinstance(number, bool) or not isinstance(number, int):
        raise BadImportItem(where, path, f"{_shown(value)} is not a number")
    if number < 0:
        raise BadImportItem(where, path, f"{_shown(value)} is negative")
    if number > MAX_COUNTER:
        raise BadImportItem(where, path, f"{_shown(value)} is above 2^53-1")
    return number


def _user(value: Any, where: dict[str, int], path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= MAX_SNOWFLAKE:
            return value
    elif isinstance(value, str) and is_snowflake(value):
        return int(value)
    raise BadImportItem(
        where, path, f"{_shown(value)} is not a snowflake (1-20 digits, below 2^64)"
    )


# -- JSON pages ---------------------------------------------------------------------------


def _pages(body: bytes, page_type: type) -> Iterator[tuple[int | None, Any]]:
    """(index in the array of pages, or None for a lone page; the page decoded).
    Decoded as typed pages in one pass: an element that is no page stops the decoder
    there, before it built the rest (`[1,1,1,…]` costs nothing)."""
    decoded = _decode(body, list[page_type] | page_type, "")  # type: ignore[valid-type]
    if isinstance(decoded, list):
        yield from enumerate(decoded)
    else:
        yield None, decoded


def _decode(raw: Any, type_: Any, prefix: str) -> Any:
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        text = str(exc)
        message, _, at = text.partition(" - at `$")
        path = (prefix + at.rstrip("`")).lstrip(".")
        raise InvalidValue(path or "body", message) from None
    except msgspec.DecodeError as exc:
        raise _Malformed(f"JSON is malformed: {exc}") from None
    except RecursionError:
        raise _Malformed("JSON is nested too deeply to read") from None


class _Malformed(DomainError):
    status = 400
    code = "malformed_json"


def _members(source: str, body: bytes) -> Iterator[ImportRow]:
    if source == "unbelievaboat":
        yield from _unbelievaboat(body)
        return
    page_type, key = {"mee6": (Mee6Page, "players"), "amari": (AmariPage, "data")}.get(
        source, (TatsuPage, "rankings")
    )
    for page, decoded in _pages(body, page_type):
        prefix = "" if page is None else f"[{page}]"
        for item, member in enumerate(getattr(decoded, key)):
            where = {"page": page or 0, "item": item}
            at = f"{prefix}.{key}[{item}]".lstrip(".")
            if source == "mee6":
                yield ImportRow(
                    _user(member.id, where, f"{at}.id"),
                    experience=_count(member.xp, where, f"{at}.xp"),
                    level=_count(member.level, where, f"{at}.level"),
                    message_count=_count(member.message_count, where, f"{at}.message_count"),
                )
            elif source == "amari":
                yield ImportRow(
                    _user(member.id, where, f"{at}.id"),
                    experience=_count(member.exp, where, f"{at}.exp"),
                    level=_count(member.level, where, f"{at}.level"),
                )
            else:
                yield ImportRow(
                    _user(member.user_id, where, f"{at}.user_id"),
                    experience=_count(member.score, where, f"{at}.score"),
                )


def _unbelievaboat(body: bytes) -> Iterator[ImportRow]:
    """An array of members (one page), `{"users": [...]}` (one page), or an array of
    either kind of page."""
    decoded = _decode(body, list[list[UnbItem] | UnbItem] | UnbItem, "")
    pages: list[tuple[int | None, list[UnbItem], str]]  # (page, members, their path)
    if isinstance(decoded, UnbItem):
        pages = [(None, _page_users(decoded, None), "users")]
    elif all(isinstance(e, UnbItem) and e.users is None for e in decoded):
        pages = [(None, decoded, "")]  # type: ignore[arg-type]  # one page: members
    else:
        pages = [
            (i, e, f"[{i}]") if isinstance(e, list) else (i, _page_users(e, i), f"[{i}].users")
            for i, e in enumerate(decoded)
        ]
    for page, users, path in pages:
        for item, member in enumerate(users):
            where = {"page": page or 0, "item": item}
            at = f"{path}[{item}]"
            cash = _count(member.cash, where, f"{at}.cash")
            bank = _count(member.bank, where, f"{at}.bank")
            total = _count(member.total, where, f"{at}.total")
            if total is None and (cash is not None or bank is not None):
                total = _count((cash or 0) + (bank or 0), where, f"{at}.total")
            yield ImportRow(_user(member.user_id, where, f"{at}.user_id"), voicepoints=total)


def _page_users(item: UnbItem, page: int | None) -> list[UnbItem]:
    if item.users is None:
        where = "body" if page is None else f"[{page}]"
        raise InvalidValue(where, "neither a page `{users: [...]}` nor an array of members")
    return item.users


# -- CSV ----------------------------------------------------------------------------------


def _csv(body: bytes) -> Iterator[ImportRow]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidValue("body", f"CSV is not UTF-8 (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from _csv_rows(reader)
    except csv.Error as exc:  # a NUL byte, a cell past the csv module's size limit
        raise BadImportItem({"line": reader.line_num}, "body", f"CSV is malformed: {exc}") from None


def _csv_rows(reader: Any) -> Iterator[ImportRow]:
    header = next(reader, None)
    if header is None:
        raise InvalidValue("body", "the CSV has no header row")
    names = [name.strip().lower() for name in header]
    if "user_id" not in names:
        raise InvalidValue("user_id", "the CSV header must name a user_id column")
    columns = [(i, name) for i, name in enumerate(names) if name in CSV_COLUMNS]
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # a blank line, often the last
        where = {"line": line}
        values: dict[str, Any] = {}
        for index, name in columns:
            cell = row[index].strip() if index < len(row) else ""
            if name == "user_id":
                values[name] = _user(cell, where, "user_id")
            elif cell:
                values[name] = _count(cell, where, name)
        if "user_id" not in values:
            raise BadImportItem(where, "user_id", "missing")
        yield ImportRow(**values)


# -- the entry point ----------------------------------------------------------------------


def parse(source: str, body: bytes, *, bounded: bool = True) -> tuple[ImportRow, ...]:
    """The members of `body`, each once (the last listing wins), in first-seen order.
    `bounded`: refuse more than MAX_MEMBERS (a request; the CLI reads the operator's
    own files and is not bounded)."""
    return tuple(collect(source, body, {}, bounded=bounded).values())


def collect(
    source: str, body: bytes, members: dict[int, ImportRow], *, bounded: bool = True
) -> dict[int, ImportRow]:
    """Add the members of `body` to `members` (a later listing replaces an earlier)."""
    if source not in SOURCES:
        raise InvalidValue("source", f"must be one of {', '.join(SOURCES)}")
    if source == "csv":
        if bounded and body.count(b"\n") > MAX_MEMBERS + 1:
            raise _too_many()
        rows = _csv(body)
    else:
        if bounded and body.count(b"{") + body.count(b"[") > MAX_STRUCTURES:
            raise _too_many()
        rows = _members(source, body)
    for row in rows:
        members[row.user_id] = row
        if bounded and len(members) > MAX_MEMBERS:
            raise _too_many()
    return members


def _too_many() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"at most {MAX_MEMBERS} members in one import: send the pages in several requests"
    )
