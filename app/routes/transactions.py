"""The ledger over HTTP, SPEC §6."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, Parameter, QueryParameter
from msgspec import Meta

from app.auth import caller
from app.bodies import documented, read_body
from app.routes.common import IdempotencyKey, json_list, page_bounds, snowflake, stream_json_array
from app.services import services
from ledger import apply
from ledger.accounts import treasury_vp
from ledger.commands import PostTransfers, RevertEntry, Transfer
from ledger.errors import TransactionNotFound
from ledger.outcomes import Posted
from schemas.transactions import KINDS, Member, Transaction, TransferIn
from storage.errors import InvalidValue
from storage.ids import vp_id
from storage.queries import ledger as ledger_reads

__all__ = ["ROUTES", "TRANSFER_BODY", "transfer_command"]

READ = {"scope": "ledger:read"}
WRITE = {"scope": "ledger:write"}
_encode = msgspec.json.encode
TRANSFER_BODY = TransferIn | list[TransferIn]
# The handlers answer the ledger's encoded bytes, which Litestar documents as a string.
_CREATED = "The transaction, or the array of them (a keyed retry replays the first answer)"


def _vp(side: str | Member, bot_id: str) -> str:
    if isinstance(side, Member):
        return vp_id(side.guild_id, side.user_id)
    return treasury_vp(bot_id) if side == "self" else side


def _respond(posted: Posted) -> Response[bytes]:
    if posted.refusal is not None:  # the first outcome of an Idempotency-Key: kept
        raise posted.refusal
    headers = {"Idempotent-Replayed": "true"} if posted.replayed else None
    return Response(posted.json(), status_code=201, media_type="application/json", headers=headers)


@post(
    "/transaction",
    opt=WRITE,
    status_code=201,
    summary="Transfer voicepoints: one transfer, or an array applied atomically in order",
    description="Body: a transfer `{from, to, amount, reason}` or an array of them.",
    # the handler refuses an empty array itself, with its own message
    operation_class=documented(TransferIn | Annotated[list[TransferIn], Meta(min_length=1)]),
    responses={
        201: ResponseSpec(
            Transaction | list[Transaction], description=_CREATED, generate_examples=False
        )
    },
)
async def transfer(
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response[bytes]:
    data = await read_body(request, TRANSFER_BODY)
    if data == []:
        raise InvalidValue("body", "the array of transfers is empty")
    command = transfer_command(caller(request).bot_id, data, idempotency_key)
    return _respond(await services(request).writer.run(apply, command))


def transfer_command(
    bot_id: str, data: TransferIn | list[TransferIn], idempotency_key: str | None
) -> PostTransfers:
    """The ledger's command for a decoded, non-empty body (also built by
    app/transfer_path.py, the same endpoint outside Litestar)."""
    items = [data] if isinstance(data, TransferIn) else data
    return PostTransfers(
        bot_id=bot_id,
        items=tuple(
            Transfer(_vp(t.from_, bot_id), _vp(t.to, bot_id), t.amount, t.reason) for t in items
        ),
        single=isinstance(data, TransferIn),
        idempotency_key=idempotency_key,
        # the decoded body, re-encoded: key order and spacing do not make a new body
        body_hash=hashlib.sha256(_encode(data)).digest() if idempotency_key else None,
    )


_SIDE = r"^([0-9]{1,20}|[0-9a-f]{64})$"


@get(
    "/transaction",
    opt=READ,
    summary="Ledger entries, newest first, with filters",
    description="`kind` keeps one kind of entry: transfer, reset, close, revert, import,"
    " purchase, refund, reward, season.",
)
async def list_transactions(
    request: Request,
    limit: FromQuery[int] = 50,
    page: FromQuery[int] = 0,
    user_id: FromQuery[str | None] = None,
    guild_id: FromQuery[str | None] = None,
    vp_id_: Annotated[str | None, QueryParameter(name="vp_id", pattern=r"^[0-9a-f]{64}$")] = None,
    reason: FromQuery[str | None] = None,
    from_: Annotated[str | None, QueryParameter(name="from", pattern=_SIDE)] = None,
    to: Annotated[str | None, Parameter(pattern=_SIDE)] = None,
    after: FromQuery[float | None] = None,
    before: FromQuery[float | None] = None,
    kind: FromQuery[str | None] = None,
) -> Response[list[Transaction]]:  # documents the body; a Stream when limit <= 0
    filters = ledger_reads.Filters(
        user_id=None if user_id is None else snowflake("user_id", user_id),
        guild_id=None if guild_id is None else snowflake("guild_id", guild_id),
        vp_id=vp_id_,
        reason=reason,
        src=from_,
        dst=to,
        after=_finite("after", after),
        before=_finite("before", before),
        kind=None if kind is None else _kind(kind),
    )
    svc = services(request)
    readers, size = svc.readers, svc.settings.stream_chunk
    bounds = page_bounds(limit, page)
    if bounds is None:
        total = await readers.call(ledger_reads.count, filters)

        async def next_chunk(below: int | None) -> tuple[list[Transaction], int | None]:
            return await readers.call(ledger_reads.chunk_before, filters, below, size)  # type: ignore[no-any-return]

        return stream_json_array(request, next_chunk, total)  # type: ignore[return-value]
    items, total = await readers.call(ledger_reads.entries, filters, *bounds)
    return json_list(items, total)


_KIND_NUMBERS = {name: number for number, name in KINDS.items()}


def _kind(name: str) -> int:
    if name not in _KIND_NUMBERS:
        raise InvalidValue("kind", f"{name!r} is not one of: {', '.join(_KIND_NUMBERS)}")
    return _KIND_NUMBERS[name]


def _finite(field: str, value: float | None) -> float | None:
    if value is not None and not abs(value) < 1e12:  # NaN, inf, beyond any epoch time
        raise InvalidValue(field, "must be a finite number of epoch seconds")
    return value


@get("/transaction/{entry_id:int}", opt=READ, summary="One ledger entry")
async def get_transaction(request: Request, entry_id: FromPath[int]) -> Transaction:
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
    responses={
        201: ResponseSpec(Transaction, description="The reversing entry", generate_examples=False)
    },
)
async def revert(request: Request, entry_id: FromPath[int]) -> Response[bytes]:
    if not 0 < entry_id < 2**63:
        raise TransactionNotFound(entry_id)
    command = RevertEntry(bot_id=caller(request).bot_id, entry_id=entry_id)
    return _respond(Posted(await services(request).writer.run(apply, command)))


ROUTES: list[Any] = [transfer, list_transactions, get_transaction, revert]
