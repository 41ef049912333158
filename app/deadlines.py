"""Time limits granian does not give: on reading a request's body, on a response the
client stopped reading, and on the drain at shutdown (README "Timeouts").

granian itself closes connections that sit idle or take too long to send headers
(`serve` sets its HTTP/1 header read timeout from `idle_timeout`). What it lacks is
done here, around the whole app:

- A request's body must arrive within `body_timeout` seconds of its headers: past
  that, reading it fails with 408 `request_timeout` (a client sending half a body
  would otherwise hold a task and a connection forever).
- A streamed response (`limit=0` lists) whose next chunk waits `send_timeout`
  seconds for the client to read is cut.
- On SIGTERM/SIGINT (`listen_for_signals`, installed by `app.asgi`) every request
  still running gets `drain_timeout` more seconds. Then it is cut (one that has not
  answered yet gets 503 `shutting_down`) and the services close at once: what is
  queued for the writer is committed, the database closed. The lifespan would do
  that too, but only once granian has ended every connection, and granian never
  ends one whose client reads nothing (it has no write timeout): `serve` has it
  kill the worker a few seconds after the drain deadline.

granian cannot abort a response body: a cut stream just stops, its JSON array left
unclosed, which no client can take for a complete list.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from typing import Any

import msgspec
from litestar import Litestar

from app.config import Settings
from app.services import close_services
from storage.errors import DomainError

__all__ = ["Deadlines", "RequestTimeout", "listen_for_signals"]

log = logging.getLogger("voiceprofile.deadlines")


class RequestTimeout(DomainError):
    status = 408
    code = "request_timeout"


class _Cut(Exception):
    """Stops an app whose client stopped reading."""


class Deadlines:
    def __init__(
        self,
        app: Any,
        *,
        body_timeout: float,
        send_timeout: float,
        drain_timeout: float,
        on_cut: Any = None,
    ) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.send_timeout = send_timeout
        self.drain_timeout = drain_timeout
        self._on_cut = on_cut  # coroutine function run at the drain deadline
        self._drain_at: float | None = None  # loop time every running request ends by
        self._running: set[asyncio.Timeout] = set()
        self._cut_task: asyncio.Task[None] | None = None

    @classmethod
    def wrap(cls, app: Litestar, settings: Settings) -> Deadlines:
        """Wrap `app`'s handler; kept in `app.state.deadlines` for the signal hook."""

        async def close() -> None:
            await close_services(app)

        wrapper = cls(
            app.asgi_handler,
            body_timeout=settings.body_timeout,
            send_timeout=settings.send_timeout,
            drain_timeout=settings.drain_timeout,
            on_cut=close,
        )
        app.state["deadlines"] = wrapper
        return wrapper

    def drain(self) -> None:
        """Shutdown began: what runs now, or arrives later, ends by `drain_timeout`."""
        if self._drain_at is not None:
            return
        loop = asyncio.get_running_loop()
        self._drain_at = loop.time() + self.drain_timeout
        log.info("draining: %d request(s) running get %g s", len(self._running), self.drain_timeout)
        for limit in self._running:
            limit.reschedule(self._drain_at)
        if self._on_cut is not None:
            self._cut_task = loop.create_task(self._cut(self._drain_at))

    async def _cut(self, when: float) -> None:
        await asyncio.sleep(when - asyncio.get_running_loop().time())
        log.info("drain deadline: %d request(s) cut, closing the services", len(self._running))
        # The requests' own timeouts fired with this one: let them unwind first.
        for _ in range(100):
            if not self._running:
                break
            await asyncio.sleep(0.01)
        await self._on_cut()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_by = asyncio.get_running_loop().time() + self.body_timeout
        reading = True  # until the last message of the body
        started = streaming = stalled = False

        async def receive_in_time() -> Any:
            nonlocal reading
            if not reading:  # the body is in: what follows is a disconnect, whenever
                return await receive()
            try:
                async with asyncio.timeout_at(body_by):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout(
                    f"the request body did not arrive within {self.body_timeout:g} s"
                ) from None
            if message["type"] != "http.request" or not message.get("more_body"):
                reading = False
            return message

        async def send_in_time(message: dict) -> None:
            nonlocal started, streaming, stalled
            if message["type"] == "http.response.start":
                started = True
            elif streaming or message.get("more_body"):
                streaming = True
                try:
                    async with asyncio.timeout(self.send_timeout):
                        await send(message)
                except TimeoutError:
                    stalled = True
                    raise _Cut from None
                return
            await send(message)

        limit = asyncio.timeout_at(self._drain_at)
        self._running.add(limit)
        try:
            async with limit:
                await self.app(scope, receive_in_time, send_in_time)
        except Exception as exc:
            if isinstance(exc, TimeoutError) and limit.expired():
                if started:
                    log.warning("%s %s cut by the shutdown's drain deadline", *_what(scope))
                else:
                    await _shutting_down(send)
            elif stalled:  # whatever Litestar made of the _Cut (its own error, once started)
                log.warning(
                    "%s %s cut: the client read nothing for %g s", *_what(scope), self.send_timeout
                )
            else:
                raise
        finally:
            self._running.discard(limit)


def _what(scope: dict) -> tuple[str, str]:
    return scope.get("method", ""), scope.get("path", "")


async def _shutting_down(send: Any) -> None:
    body = msgspec.json.encode(
        {"status": 503, "code": "shutting_down", "message": "the server is shutting down"}
    )
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def listen_for_signals(app: Litestar) -> None:
    """Start the drain on SIGTERM/SIGINT, in a server process (granian's worker).

    granian's worker stops on these signals through handlers its event loop set
    before the app's lifespan starts, and tells the app only once every connection
    ended. A Python-level handler is chained in front of the loop's at lifespan
    start: the loop still hears the signal (through the signal wake-up fd, and the
    previous handler is called too), and the drain starts at once."""

    async def install(_services: Any) -> None:
        deadlines: Deadlines | None = app.state.get("deadlines")
        if deadlines is None or threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)

            def chained(signum: int, frame: Any, previous: Any = previous) -> None:
                with contextlib.suppress(RuntimeError):  # the loop is closed: too late
                    loop.call_soon_threadsafe(deadlines.drain)
                if callable(previous):
                    previous(signum, frame)

            signal.signal(sig, chained)

    app.state.setdefault("on_services", []).append(install)
