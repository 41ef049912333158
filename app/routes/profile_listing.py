"""Profile lists (SPEC §5 and §4 paging): pages, whole lists and the tree view.

Whole lists and pages larger than a read chunk are streamed chunk by chunk in
(guild, user) order, each chunk a short read of its own: memory stays flat however
many profiles there are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

import msgspec
from litestar import Request, Response
from litestar.response import Stream

from app.routes.common import json_list, page_bounds, stream, stream_json_array
from app.services import services
from schemas.profiles import Profile
from storage.queries import profile_lists

__all__ = ["View", "listing"]

View = Literal["list", "tree"]
_encode = msgspec.json.encode


async def listing(
    request: Request, guild_id: int | None, limit: int, page: int, view: View
) -> Response | Stream:
    svc = services(request)
    readers, size = svc.readers, svc.settings.stream_chunk
    bounds = page_bounds(limit, page)  # first: a negative page is 422 in every view
    if view == "tree":
        return stream(request, _tree(request, guild_id), media_type="application/json")
    if bounds is not None and bounds[0] <= size:
        items, total = await readers.call(profile_lists.page, guild_id, *bounds)
        return json_list(items, total)
    # Everything, or a page larger than a chunk: streamed, so a client asking for
    # `limit=1000000000` costs no more memory than `limit=0`.
    wanted, offset = bounds if bounds is not None else (None, 0)
    total = await readers.call(profile_lists.count, guild_id)
    start = None
    if offset:
        start = await readers.call(profile_lists.key_at, guild_id, offset - 1)
        if start is None:
            return json_list([], total)
    remaining = wanted

    async def next_chunk(after: Any) -> tuple[list[Profile], Any]:
        nonlocal remaining
        cursor = after if after is not None else start
        items, cursor = await readers.call(profile_lists.chunk_after, guild_id, cursor, size)
        if remaining is not None:
            items = items[:remaining]
            remaining -= len(items)
            if not remaining:
                cursor = None
        return items, cursor

    return stream_json_array(request, next_chunk, total)


async def _tree(request: Request, guild_id: int | None) -> AsyncIterator[bytes]:
    """`{guild_id: {user_id: profile}}`, streamed in guild order."""
    svc = services(request)
    readers, size = svc.readers, svc.settings.stream_chunk
    after, current, sep = None, None, b""
    yield b"{"
    while True:
        items, after = await readers.call(profile_lists.chunk_after, guild_id, after, size)
        for p in items:
            if p.guild_id != current:
                yield (b"" if current is None else b"},") + _encode(p.guild_id) + b":{"
                current = p.guild_id
                sep = b""
            yield sep + _encode(p.user_id) + b":" + _encode(p)
            sep = b","
        if after is None:
            break
    yield b"}}" if current is not None else b"}"
