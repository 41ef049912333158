"""Helpers shared by the route modules: ids from paths, paging, streamed JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter
from litestar.response import Stream

from app.timed_io import timed_chunks
from schemas.base import is_snowflake
from storage.errors import InvalidValue

__all__ = [
    "IDEMPOTENCY_KEY_MAX",
    "IdempotencyKey",
    "json_list",
    "page_bounds",
    "snowflake",
    "stream",
    "stream_json_array",
]

IDEMPOTENCY_KEY_MAX = 64
# The Idempotency-Key header of the routes that take one: 1 to 64 characters (also
# checked by app/transfer_path.py, which reads POST /transaction's headers itself).
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", max_length=IDEMPOTENCY_KEY_MAX, min_length=1),
]

T = TypeVar("T")
_encode = msgspec.json.encode


def snowflake(field: str, raw: str, where: str = "path") -> int:
    """A Discord id from a path or query string: 1-20 digits, below 2^64 (SPEC §4)."""
    if not is_snowflake(raw):
        message = f"{raw!r} is not a snowflake (1-20 digits, below 2^64)"
        raise InvalidValue(field, message, where=where)
    return int(raw)


# SQLite's LIMIT and OFFSET are signed 64-bit; query integers are not bounded.
_SQL_MAX = 2**63 - 1


def page_bounds(limit: int, page: int) -> tuple[int, int] | None:
    """(limit, offset), or None when `limit <= 0` asks for everything (streamed).

    A limit or offset past anything storable just means "all" or "nothing left"."""
    if page < 0:
        raise InvalidValue("page", "must be 0 or more", where="query")
    if limit <= 0:
        return None
    # SQLite integers stop at 2^63: past that no list is that long anyway.
    return min(limit, _SQL_MAX), min(limit * page, _SQL_MAX)


def json_list(items: list[Any], total: int) -> Response:
    return Response(
        content=_encode(items), media_type="application/json", headers={"X-Total-Count": str(total)}
    )


def stream(request: Request, chunks: AsyncIterator[bytes], **options: Any) -> Stream:
    """A streamed answer, each chunk taken by the client within the send limit
    (app/deadlines.py): every streamed route answers through this."""
    return Stream(timed_chunks(request, chunks), **options)


def stream_json_array(
    request: Request, next_chunk: Callable[[Any], Awaitable[tuple[list[Any], Any]]], total: int
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

    return stream(
        request, body(), media_type="application/json", headers={"X-Total-Count": str(total)}
    )
