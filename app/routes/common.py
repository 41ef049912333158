"""Helpers shared by the route modules: ids from paths, paging, streamed JSON, reads
from an in-memory board."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.response import Stream

from app.services import services
from schemas.base import is_snowflake
from storage.boards.base import Cached, Stale
from storage.errors import InvalidValue

__all__ = ["from_board", "json_list", "page_bounds", "snowflake", "stream_json_array"]

T = TypeVar("T")
_encode = msgspec.json.encode


def snowflake(field: str, raw: str) -> int:
    """A Discord id from a path or query string: 1-20 digits, below 2^64 (SPEC §4)."""
    if not is_snowflake(raw):
        raise InvalidValue(field, f"{raw!r} is not a snowflake (1-20 digits, below 2^64)")
    return int(raw)


async def from_board(
    request: Request, board: Cached | None, fn: Any, *args: Any, bulk: bool = False
) -> Any:
    """`fn(conn, *args)` on a reader, reading `board`; or None when SQL must answer
    instead: no board yet, or one that went stale (dropped here; the registry
    builds it again). `bulk`: a stream's chunk (ReaderPool.call_bulk)."""
    if board is None:
        return None
    svc = services(request)
    try:
        read = svc.readers.call_bulk if bulk else svc.readers.call
        return await read(fn, *args)
    except Stale as exc:
        svc.boards.drop(board, exc)
        return None


# SQLite's LIMIT and OFFSET are signed 64-bit; query integers are not bounded.
_SQL_MAX = 2**63 - 1


def page_bounds(limit: int, page: int) -> tuple[int, int] | None:
    """(limit, offset), or None when `limit <= 0` asks for everything (streamed).

    A limit or offset past anything storable just means "all" or "nothing left"."""
    if page < 0:
        raise InvalidValue("page", "must be 0 or more")
    if limit <= 0:
        return None
    # SQLite integers stop at 2^63: past that no list is that long anyway.
    return min(limit, _SQL_MAX), min(limit * page, _SQL_MAX)


def json_list(items: list[Any], total: int) -> Response:
    return Response(
        content=_encode(items), media_type="application/json", headers={"X-Total-Count": str(total)}
    )


def stream_json_array(
    next_chunk: Callable[[Any], Awaitable[tuple[list[Any], Any]]], total: int
) -> Stream:
    """Stream `[...]` chunk by chunk: memory stays flat however long the list is."""

    async def body() -> AsyncIterator[bytes]:
        yield b"["
        cursor, first = None, True
        while True:
            items, cursor = await next_chunk(cursor)
            if not items:
                break
            encoded = b",".join(_encode(item) for item in items)
            yield encoded if first else b"," + encoded
            first = False
            if cursor is None:
                break
        yield b"]"

    return Stream(body(), media_type="application/json", headers={"X-Total-Count": str(total)})
