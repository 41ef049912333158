"""POST /transaction outside Litestar: the request every bot sends most, kept lean.

Why: the ledger's writer is a thread, and each of its SQLite calls gives the GIL up;
getting it back means waiting for the event loop to let go. Measured at c64 (README
"What bounds single transfers at c64"), a batch spent about half its time in those
waits, and the loop's share was mostly the framework's per-request work: routing, the
Request, parameter parsing, the Response. This plain ASGI layer, inside the rate
limiter and the request metrics, answers an ordinary transfer itself, and single
transfers went from 0.48x to 0.75-0.77x a bare framework no-op.

Ordinary means: a key the key cache knows to be valid, with `ledger:write`; no Origin
header (CORS answers are Litestar's); at most one Content-Type, and JSON; at most one
Idempotency-Key, of 1 to 64 characters; a body within the body limit, read within the
body timeout, that decodes as a transfer or a non-empty array of them. Such a request
becomes the same command as the route's (`transfer_command`), and the ledger's outcome,
a refusal included, is answered in the same bytes (`domain_answer`).

Anything else goes on to Litestar with the body messages read so far handed again, so
the route answers it: 401, 403, 413, 415, 400 and 422 come from one place.
tests/test_transfer_path.py sends the same requests both ways and compares the answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

import msgspec
from litestar import Litestar

from app.auth import known_key
from app.bodies import decoder, is_json
from app.deadlines import Deadlines
from app.errors import INTERNAL_ERROR, domain_answer, send_json
from app.routes.common import IDEMPOTENCY_KEY_MAX
from app.routes.transactions import TRANSFER_BODY, WRITE, transfer_command
from ledger import apply
from storage.errors import DomainError

__all__ = ["TransferPath"]

log = logging.getLogger("voiceprofile.errors")

PATH = "/transaction"
_SCOPE = WRITE["scope"]
_REPLAYED = [(b"idempotent-replayed", b"true")]
_current_task = asyncio.current_task
_encode = msgspec.json.encode


class TransferPath:
    def __init__(self, app: Any, litestar: Litestar, body_limit: int) -> None:
        self.app = app
        self._state = litestar.state
        self._limit = body_limit
        self._decoder = decoder(TRANSFER_BODY)

    def __call__(self, scope: dict, receive: Any, send: Any) -> Awaitable[None]:
        # A plain def: every other request pays one call, not one more coroutine.
        if scope.get("path") != PATH or scope.get("method") != "POST":
            return self.app(scope, receive, send)  # type: ignore[no-any-return]
        return self._transfer(scope, receive, send)

    async def _transfer(self, scope: dict, receive: Any, send: Any) -> None:
        services = self._state.get("services")
        info = None if services is None else known_key(scope, services)
        if services is None or info is None or _SCOPE not in info.scopes:
            return await self.app(scope, receive, send)
        content_type = key = None
        unusual = False  # a header twice, or an Origin
        for name, value in scope["headers"]:
            if name == b"content-type":
                unusual |= content_type is not None
                content_type = value
            elif name == b"idempotency-key":
                unusual |= key is not None
                key = value
            elif name == b"origin":
                unusual = True
        if unusual or (key is not None and not 0 < len(key) <= IDEMPOTENCY_KEY_MAX):
            return await self.app(scope, receive, send)
        if content_type is not None and not is_json(content_type.decode("latin-1")):
            return await self.app(scope, receive, send)
        scope["path_template"] = PATH  # the route's name in the request metrics, a 408 too
        try:
            read, whole = await self._read(scope, receive)
        except DomainError as exc:  # the body timeout's 408
            return await _refuse(send, exc)
        data = self._decoded(read) if whole else None
        if data is None:
            return await self.app(scope, _again(read, receive), send)
        try:
            command = transfer_command(
                info.bot_id, data, key.decode("latin-1") if key is not None else None
            )
            posted = await services.writer.run(apply, command)
            if posted.refusal is not None:  # the first outcome of the key: kept
                raise posted.refusal
        except DomainError as exc:
            return await _refuse(send, exc)
        except Exception:
            log.exception("unhandled error on POST %s", PATH)
            return await send_json(send, 500, _encode(INTERNAL_ERROR))
        await send_json(send, 201, posted.json(), _REPLAYED if posted.replayed else [])

    async def _read(self, scope: dict, receive: Any) -> tuple[list[dict], bool]:
        """The body's messages, and whether they are the whole body within the limit,
        read within the body timeout as the app's request class reads (timed_io.py)."""
        deadlines: Deadlines | None = self._state.get("deadlines")
        task = _current_task()
        if deadlines is None or task is None or not deadlines.begin_read(task, scope):
            return await self._messages(receive)
        try:
            return await self._messages(receive)
        except asyncio.CancelledError:
            deadlines.timed_out(task)  # RequestTimeout, if the body timeout cut it
            raise
        finally:
            deadlines.end_read(task)

    async def _messages(self, receive: Any) -> tuple[list[dict], bool]:
        read: list[dict] = []
        size = 0
        while True:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":  # the client left
                return read, False
            size += len(message.get("body", b""))
            if size > self._limit:
                return read, False
            if not message.get("more_body", False):
                return read, True

    def _decoded(self, read: list[dict]) -> Any:
        """The transfers, or None when the route should say what is wrong."""
        raw = b"".join([m.get("body", b"") for m in read])  # one message: not copied
        if not raw.isascii() or not raw.strip():  # UTF-8 and empty bodies: the route's
            return None
        try:
            data = self._decoder.decode(raw)
        except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
            return None
        return None if data == [] else data


def _again(read: list[dict], receive: Any) -> Any:
    """`receive` with the messages already read handed out first."""
    pending = list(read)

    async def receive_again() -> Any:
        if pending:
            return pending.pop(0)
        return await receive()

    return receive_again


async def _refuse(send: Any, exc: DomainError) -> None:
    body, extra = domain_answer(PATH, exc)
    headers = [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()]
    await send_json(send, body["status"], _encode(body), headers)
