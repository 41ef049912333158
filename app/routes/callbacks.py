"""Callbacks (webhooks) per bot, SPEC §10.

Every route needs the `callbacks` scope: a callback decides where the bot's events
(its transactions included) are sent, so a key narrowed to, say, reading profiles
must not be able to redirect them. The secret is write-only. A URL is refused
(422 naming `url`) unless the network guard (app/netguard.py) lets the server
connect there; delivery checks again at every connection.
"""

from __future__ import annotations

from litestar import Request, delete, get, put
from litestar.params import FromPath

from app import delivery
from app.auth import caller
from app.bodies import documented, read_body
from app.netguard import Refused
from app.services import services
from schemas.callbacks import Callback, CallbackSet
from storage.errors import InvalidValue, NotFound
from storage.queries import outbox

__all__ = ["ROUTES"]

SCOPE = {"scope": "callbacks"}


class CallbackNotFound(NotFound):
    code = "callback_not_found"


def _event(event: FromPath[str]) -> str:
    if event not in outbox.EVENTS:
        raise InvalidValue("event", f"{event!r} is not one of: {', '.join(outbox.EVENTS)}")
    return event


@get("/callbacks", opt=SCOPE, summary="The calling bot's callbacks")
async def list_callbacks(request: Request) -> list[Callback]:
    rows = await services(request).readers.call(outbox.list_callbacks, caller(request).bot_id)
    return [Callback(*r) for r in rows]


@get("/callback/{event:str}", opt=SCOPE, summary="One callback of the calling bot")
async def get_callback(request: Request, event: FromPath[str]) -> Callback:
    bot = caller(request).bot_id
    rows = await services(request).readers.call(outbox.list_callbacks, bot, _event(event))
    if not rows:
        raise CallbackNotFound(f"no callback for {event}")
    return Callback(*rows[0])


@put(
    "/callback/{event:str}",
    opt=SCOPE,
    summary="Set (or replace) the callback for an event",
    operation_class=documented(CallbackSet),
)
async def put_callback(request: Request, event: FromPath[str]) -> Callback:
    data = await read_body(request, CallbackSet)
    row = (caller(request).bot_id, _event(event), data.url, data.secret)
    svc = services(request)
    try:
        await delivery.guard(svc).check_url(data.url)
    except Refused as exc:
        raise InvalidValue("url", str(exc)) from None
    created = await svc.writer.run(outbox.put_callback, row)
    return Callback(event, data.url, created)


@delete(
    "/callback/{event:str}", opt=SCOPE, status_code=204, summary="Remove the callback for an event"
)
async def delete_callback(request: Request, event: FromPath[str]) -> None:
    key = (caller(request).bot_id, _event(event))
    if not await services(request).writer.run(outbox.delete_callback, key):
        raise CallbackNotFound(f"no callback for {event}")


ROUTES = [list_callbacks, get_callback, put_callback, delete_callback]
