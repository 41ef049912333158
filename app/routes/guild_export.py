"""Per-guild export, issue 14: `GET /profile/{guild_id}/export?format=csv|jsonl`.

The CSV has exactly the CSV importer's columns, so a guild exported here imports
into another server as it was; JSON Lines carries the same fields, one object a
line. Both are streamed a chunk at a time (storage/queries/guild_export.py), each
chunk a short read of its own: memory stays flat however big the guild, and no
reader is held while the client reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Literal

import msgspec
from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from app.routes.common import snowflake, stream
from app.services import services
from schemas.guild_export import ExportedProfile
from storage.queries import guild_export
from storage.queries.guild_export import FIELDS, ExportRow

__all__ = ["ROUTES"]

READ = {"scope": "profiles:read"}
Format = Literal["csv", "jsonl"]
_encode = msgspec.json.encode
# RFC 4180: CRLF line ends. Every value is a number or a snowflake's digits, so
# nothing needs quoting; a missing text value is an empty cell.
_CSV_HEADER = (",".join(FIELDS) + "\r\n").encode()


def _csv(rows: list[ExportRow]) -> bytes:
    return "".join(
        ",".join("" if v is None else str(v) for v in row) + "\r\n" for row in rows
    ).encode()


def _jsonl(rows: list[ExportRow]) -> bytes:
    return b"".join(_encode(ExportedProfile(*row)) + b"\n" for row in rows)


_FORMATS: dict[str, tuple[str, bytes, Callable[[list[ExportRow]], bytes]]] = {
    "csv": ("text/csv", _CSV_HEADER, _csv),  # Litestar adds "; charset=utf-8"
    "jsonl": ("application/x-ndjson", b"", _jsonl),
}


@get(
    "/profile/{guild_id:str}/export",
    opt=READ,
    summary="One guild's profiles as CSV or JSON Lines, streamed",
    description=(
        "Columns (CSV) or fields (JSON Lines): " + ", ".join(FIELDS) + ". One row per"
        " profile, in user id order; `timespent` is timespent.global; the text values"
        " are empty (CSV) or null (JSON Lines) for a profile without text stats. The"
        " CSV imports as it is with `POST /profile/{guild_id}/import?source=csv`."
    ),
)
async def export_guild(
    request: Request, guild_id: FromPath[str], format: FromQuery[Format] = "csv"
) -> Stream:
    gid = snowflake("guild_id", guild_id)
    svc = services(request)
    readers, size = svc.readers, svc.settings.stream_chunk
    media_type, header, encode = _FORMATS[format]
    total = await readers.call(guild_export.count, gid)

    async def body() -> AsyncIterator[bytes]:
        if header:
            yield header
        after: str | None = None
        while True:
            rows, after = await readers.call_bulk(guild_export.chunk_after, gid, after, size)
            if rows:
                yield encode(rows)
            if after is None:
                return

    disposition = f'attachment; filename="guild-{gid}.{format}"'
    return stream(
        request,
        body(),
        media_type=media_type,
        headers={"X-Total-Count": str(total), "Content-Disposition": disposition},
    )


ROUTES = [export_guild]
