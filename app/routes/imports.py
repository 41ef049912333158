"""`POST /profile/{guild_id}/import?source=…` (SPEC §12): a guild moved in from another
bot's leaderboard pages, or a CSV, in one atomic and repeatable request.

The route is made per application (`routes(settings)`): its body limit is the import
limit (32 MiB by default), larger than the API's 1 MiB; app/import_sources.py bounds
what the decoder builds from it. Registered before the profiles module: `import` is
never a snowflake, so it is never taken for a user id.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from litestar import Request, post
from litestar.openapi.spec import Operation
from litestar.params import FromPath, FromQuery

from app import import_sources
from app.auth import caller, may_move_money
from app.bodies import UnsupportedMediaType
from app.config import Settings
from app.routes.common import snowflake
from app.services import services
from ledger import apply
from ledger.commands import ImportProfiles
from schemas.imports import ImportResult
from storage.errors import InvalidValue

__all__ = ["routes"]

Source = Literal["mee6", "amari", "tatsu", "unbelievaboat", "csv"]

_DOC = (
    "Body: one page, or a JSON array of pages, exactly as the service's API answers it"
    " (`mee6`: the levels leaderboard `{players: [...]}`; `amari`: the guild leaderboard"
    " `{data: [...]}`; `tatsu`: the guild rankings `{rankings: [...]}`; `unbelievaboat`:"
    " the guild users `[{user_id, cash, bank, total}]` or `{users: [...]}`), or for `csv`"
    " a text/csv file whose header names `user_id` and any of `experience`, `level`,"
    " `voicepoints`, `message_count`, `text_level`, `text_experience`, `timespent`,"
    " `pray_streak`. Members are created or set to the imported values (fields the"
    " source lacks are kept); balances move as ledger entries of kind `import` against"
    " the calling bot's treasury, which also needs scope `ledger:write`. Atomic: a bad"
    " value is refused (422, naming its page and item, or CSV line) and nothing is"
    " applied. Importing the same data again changes nothing. `dry_run=true` answers"
    " what would change and changes nothing. The README maps each source's fields."
)


def _check_type(request: Request, source: str) -> None:
    header = request.headers.get("content-type")
    if not header:
        return
    kind = header.split(";", 1)[0].strip().lower()
    if source == "csv":
        if kind not in ("text/csv", "text/plain", "application/csv"):
            raise UnsupportedMediaType(f"a CSV import is sent as text/csv (got {header})")
    elif kind != "application/json" and not kind.endswith("+json"):
        raise UnsupportedMediaType(
            f"the body must be JSON: send Content-Type: application/json (got {header})"
        )


async def _import(request: Request, guild_id: str, source: str, dry_run: bool) -> ImportResult:
    gid = snowflake("guild_id", guild_id)
    if source not in import_sources.SOURCES:
        raise InvalidValue("source", f"must be one of {', '.join(import_sources.SOURCES)}")
    _check_type(request, source)
    raw = await request.body()  # 413 past the route's limit
    if not raw.strip():
        raise InvalidValue("body", "send the pages to import (or the CSV file)")
    # Decoding and checking some 100k members takes a moment: off the event loop.
    rows = await asyncio.to_thread(import_sources.parse, source, raw)
    key = caller(request)
    command = ImportProfiles(
        key.bot_id,
        gid,
        source,
        rows,
        dry_run=dry_run,
        may_move_money=may_move_money(key),
    )
    return await services(request).writer.run(apply, command)  # type: ignore[no-any-return]


@dataclass
class _Body(Operation):
    """The body as OpenAPI can say it: a service's page(s), or a CSV file."""

    documents_body = True  # app/openapi_errors.py adds the 415 of another media type

    def __post_init__(self) -> None:
        pages = {"oneOf": [{"type": "object"}, {"type": "array"}]}
        self.request_body = {  # type: ignore[assignment]  # rendered as it is
            "required": True,
            "content": {
                "application/json": {"schema": pages},
                "text/csv": {"schema": {"type": "string"}},
            },
        }


def routes(settings: Settings) -> list[Any]:
    @post(
        "/profile/{guild_id:str}/import",
        opt={"scope": "profiles:write"},
        status_code=200,
        summary="Import a guild from MEE6, Amari, Tatsu or UnbelievaBoat pages, or a CSV",
        description=_DOC,
        request_max_body_size=settings.import_max_bytes,
        operation_class=_Body,
    )
    async def import_guild(
        request: Request,
        guild_id: FromPath[str],
        source: FromQuery[Source],
        dry_run: FromQuery[bool] = False,
    ) -> ImportResult:
        return await _import(request, guild_id, source, dry_run)

    return [import_guild]
