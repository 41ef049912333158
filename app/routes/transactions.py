"""The ledger over HTTP, SPEC §6."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import Parameter

from app.auth import caller
from app.routes.common import json_list, page_bounds, snowflake
from app.services import services
from ledger.commands import PostTransfers, RevertEntry, Transfer
from ledger.errors import TransactionNotFound
from ledger.transfers import Outcome, apply
from schemas.transactions import Member, Transaction, TransferIn
from storage import ledger_reads
from storage.errors import InvalidValue
from storage.ids import treasury_id, vp_id

__all__ = ["ROUTES"]

READ = {"scope": "ledger:read"}
WRITE = {"scope": "ledger:write"}
_encode = msgspec.json.encode


def _vp(side: str | Member, bot_id: str) -> str:
    if isinstance(side, Member):
        return vp_id(side.guild_id, side.user_id)
    return treasury_id(bot_id) if side == "self" else side


def _respond(outcome: Outcome) -> Response[bytes]:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return Response(
        outcome.body, status_code=outcome.status, media_type="application/json", headers=headers
    )


@post(
    "/transaction",
    opt=WRITE,
    status_code=201,
    summary="Transfer voicepoints: one transfer, or an array applied atomically in order",
)
async def transfer(
    request: Request,
    data: TransferIn | list[TransferIn],
    idempotency_key: Annotated[
        str | None, Parameter(header="Idempotency-Key", max_length=64, min_length=1)
    ] = None,
) -> Response[bytes]:
    bot_id = caller(request).bot_id
    single = isinstance(data, TransferIn)
    items = [data] if isinstance(data, TransferIn) else data
    if not items:
        raise InvalidValue("body", "the array of transfers is empty")
    command = PostTransfers(
        bot_id=bot_id,
        items=tuple(
            Transfer(_vp(t.from_, bot_id), _vp(t.to, bot_id), t.amount, t.reason) for t in items
        ),
        single=single,
        idempotency_key=idempotency_key,
        body_hash=hashlib.sha256(_encode(data)).digest() if idempotency_key else None,
    )
    return _respond(await services(request).writer.run(apply, command))


@get("/transaction", opt=READ, summary="Ledger entries, newest first, with filters")
async def list_transactions(
    request: Request,
    limit: int = 50,
    page: int = 0,
    user_id: str | None = None,
    guild_id: str | None = None,
    vp_id_: Annotated[str | None, Parameter(query="vp_id", pattern=r"^[0-9a-f]{64}$")] = None,
    reason: str | None = None,
    from_: Annotated[
        str | None, Parameter(query="from", pattern=r"^([0-9]{1,20}|[0-9a-f]{64})$")
    ] = None,
    to: Annotated[str | None, Parameter(pattern=r"^([0-9]{1,20}|[0-9a-f]{64})$")] = None,
    after: float | None = None,
    before: float | None = None,
) -> Response[list[Transaction]]:
    for name, value in (("after", after), ("before", before)):
        if value is not None and not abs(value) < 1e12:  # NaN, inf, beyond any epoch time
            raise InvalidValue(name, "must be epoch seconds")
    filters = ledger_reads.Filters(
        user_id=None if user_id is None else snowflake("user_id", user_id),
        guild_id=None if guild_id is None else snowflake("guild_id", guild_id),
        vp_id=vp_id_,
        reason=reason,
        src=from_,
        dst=to,
        after=after,
        before=before,
    )
    bounds = page_bounds(limit, page)
    lim, offset = bounds if bounds else (None, 0)
    items, total = await services(request).readers.call(ledger_reads.entries, filters, lim, offset)
    return json_list(items, total)


@get("/transaction/{entry_id:int}", opt=READ, summary="One ledger entry")
async def get_transaction(request: Request, entry_id: int) -> Transaction:
    if not 0 < entry_id < 2**63:  # beyond SQLite's integers: no such entry, not a 500
        raise TransactionNotFound(entry_id)
    found = await services(request).readers.call(ledger_reads.entry, entry_id)
    if found is None:
        raise TransactionNotFound(entry_id)
    return found  # type: ignore[no-any-return]


@post(
    "/transaction/{entry_id:int}/revert",
    opt=WRITE,
    status_code=201,
    summary="Append the reversing entry (at most once per transaction)",
)
async def revert(request: Request, entry_id: int) -> Response[bytes]:
    if not 0 < entry_id < 2**63:
        raise TransactionNotFound(entry_id)
    command = RevertEntry(bot_id=caller(request).bot_id, entry_id=entry_id)
    return _respond(await services(request).writer.run(apply, command))


ROUTES: list[Any] = [transfer, list_transactions, get_transaction, revert]
