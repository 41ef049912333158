"""Time limits granian does not give: on reading a request's body, on a response the
client stopped reading, and on the drain at shutdown (README "Timeouts and shutdown").

granian itself closes connections that sit idle or take too long to send headers
(`serve` sets its HTTP/1 header read timeout from `idle_timeout`). What it lacks is
done here, around the whole app:

- A request's body must arrive within `body_timeout` seconds of its headers: past
  that, reading it fails with 408 `request_timeout` (a client sending half a body
  would otherwise hold a task and a connection forever).
- A streamed response (`limit=0` lists) whose next chunk waits `send_timeout`
  seconds for the client to read is cut.
- On SIGTERM/SIGINT (app/signals.py starts `drain`) every request
  still running gets `drain_timeout` more seconds. Then it is cut (one that has not
  answered yet gets 503 `shutting_down`) and the services close at once: what is
  queued for the writer is committed, the database closed. The lifespan would do
  that too, but only once granian has ended every connection, and granian never
  ends one whose client reads nothing (it has no write timeout): `serve` has it
  kill the worker a few seconds after the drain deadline.

A limit is enforced by cancelling the request's task, from one timer that looks at
what is waiting every quarter second, and only while something waits: a request
pays a few set and dict operations, not a timer of its own (an asyncio.timeout
each cost more than the rate limiter). granian cannot abort a response
body: a cut stream just stops, its JSON array left unclosed, which no client can
take for a complete list.

Where each limit sits, so that a plain request pays for none of them: the body
limit in the request's own body read (`TimedRequest`, the app's request class: every
body read goes through it), the send limit in the chunks of a streamed answer
(`timed_chunks`, which every `Stream` of the routes wraps); both in app/timed_io.py.
Only the drain needs every request, as one set entry. Wrapping every request's
`receive` and `send` in closures instead cost an eighth of a no-op request
(benchmarks/bench_http.py).

This is the outermost layer, and it also tells `observe` (the request metrics,
app/metrics.py) each answer's status and time: one coroutine and one `send`
wrapper for both jobs. As a layer of its own, the metrics cost the no-op POST
about 5 % of its throughput under wrk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import msgspec
from litestar import Litestar

from app.config import Settings
from app.errors import body_for, send_json
from app.ratelimit import BUDGET
from app.services import close_services
from storage.errors import DomainError

__all__ = ["Deadlines", "RequestTimeout"]

log = logging.getLogger("voiceprofile.deadlines")

_TICK = 0.25  # seconds between two looks at what waits
PIECE = 65536  # bytes of a streamed answer given to granian at a time (send_each)
_current_task = asyncio.current_task


class RequestTimeout(DomainError):
    status = 408
    code = "request_timeout"


def _unobserved(scope: dict, status: int, seconds: float) -> None:
    pass


# Why a task was cancelled by this module.
_BODY, _SEND, _DRAIN = "body", "send", "drain"
_STARTED = "voiceprofile.started"  # scope key: the loop's time when the request came


class Deadlines:
    def __init__(
        self,
        app: Any,
        *,
        body_timeout: float,
        send_timeout: float,
        drain_timeout: float,
        on_cut: Any = None,
        observe: Callable[[dict, int, float], None] = _unobserved,
    ) -> None:
        self.app = app
        self._observe = observe  # told each request's status and seconds (the metrics)
        self.body_timeout = body_timeout
        self.send_timeout = send_timeout
        self.drain_timeout = drain_timeout
        self._on_cut = on_cut  # coroutine function run at the drain deadline
        self._running: set[asyncio.Task[Any]] = set()
        self._waiting: dict[asyncio.Task[Any], tuple[float, str]] = {}  # deadline, what
        self._cancelled: dict[asyncio.Task[Any], str] = {}  # by this module, and why
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None
        self._draining = self._cut = False
        self._cut_task: asyncio.Task[None] | None = None

    @classmethod
    def wrap(
        cls,
        app: Litestar,
        inner: Any,
        settings: Settings,
        observe: Callable[[dict, int, float], None] = _unobserved,
    ) -> Deadlines:
        """Wrap `inner` (the ASGI app `app` runs as, with the layers within this one);
        kept in `app.state.deadlines` for the signal hook and the body reads."""

        async def close() -> None:
            await close_services(app)

        wrapper = cls(
            inner,
            body_timeout=settings.body_timeout,
            send_timeout=settings.send_timeout,
            drain_timeout=settings.drain_timeout,
            on_cut=close,
            observe=observe,
        )
        app.state["deadlines"] = wrapper
        return wrapper

    # -- deadlines ----------------------------------------------------------------

    def _wait(self, task: asyncio.Task[Any], deadline: float, what: str) -> None:
        self._waiting[task] = (deadline, what)
        loop = task.get_loop()
        if self._timer is None or self._timer_loop is not loop:
            self._timer, self._timer_loop = loop.call_later(_TICK, self._look), loop

    def _look(self) -> None:
        self._timer = None
        loop = self._timer_loop
        if not self._waiting or loop is None:
            return
        now = loop.time()
        for task, (deadline, what) in list(self._waiting.items()):
            if deadline <= now:
                del self._waiting[task]
                self._cancel(task, what)
        if self._waiting:
            self._timer = loop.call_later(_TICK, self._look)

    def _cancel(self, task: asyncio.Task[Any], why: str) -> None:
        if task not in self._cancelled:
            self._cancelled[task] = why
            task.cancel()

    def _ours(self, task: asyncio.Task[Any], why: str) -> bool:
        """Whether this module cancelled `task` for `why`; if so, it is not cancelled
        any more (the CancelledError is turned into an answer)."""
        if self._cancelled.get(task) != why:
            return False
        del self._cancelled[task]
        task.uncancel()
        return True

    # -- shutdown -----------------------------------------------------------------

    def drain(self) -> None:
        """Shutdown began: what runs now, or arrives later, ends by `drain_timeout`."""
        if self._draining:
            return
        self._draining = True
        log.info("draining: %d request(s) running get %g s", len(self._running), self.drain_timeout)
        self._cut_task = asyncio.get_running_loop().create_task(self._cut_all())

    async def _cut_all(self) -> None:
        await asyncio.sleep(self.drain_timeout)
        self._cut = True
        log.info("drain deadline: %d request(s) cut, closing the services", len(self._running))
        for task in list(self._running):
            self._cancel(task, _DRAIN)
        for _ in range(100):  # let them unwind (and answer 503) first
            if not self._running:
                break
            await asyncio.sleep(0.01)
        if self._on_cut is not None:
            await self._on_cut()

    # -- requests -----------------------------------------------------------------

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        task = _current_task()
        assert task is not None
        started = scope[_STARTED] = task.get_loop().time()
        status = 500  # an answer that never began

        async def send_and_see(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if self._cut:
                await _shutting_down(scope, send_and_see)
                return
            self._running.add(task)
            try:
                await self.app(scope, receive, send_and_see)
            except asyncio.CancelledError:
                if self._ours(task, _SEND):
                    log.warning(
                        "%s %s cut: the client read nothing for %g s",
                        *_what(scope),
                        self.send_timeout,
                    )
                elif not self._ours(task, _DRAIN):
                    raise
                else:
                    try:
                        await _shutting_down(scope, send_and_see)
                    except Exception:  # its answer had begun: it just ends
                        log.warning("%s %s cut by the shutdown's drain deadline", *_what(scope))
            finally:
                self._running.discard(task)
                self._cancelled.pop(task, None)  # if the app swallowed a cancellation
        finally:
            self._observe(scope, status, task.get_loop().time() - started)

    # -- the limits where they apply -------------------------------------------------

    def begin_read(self, task: asyncio.Task[Any], scope: Mapping[str, Any]) -> bool:
        """`task` reads its body now, within what is left of `body_timeout` since
        the request's headers; False if there is no limit to apply (not served
        through this wrapper, or already reading)."""
        started = scope.get(_STARTED)
        if started is None or task in self._waiting:
            return False
        self._wait(task, started + self.body_timeout, _BODY)
        return True

    def end_read(self, task: asyncio.Task[Any]) -> None:
        self._waiting.pop(task, None)

    def timed_out(self, task: asyncio.Task[Any]) -> None:
        """`task`'s read was cancelled: RequestTimeout (408) if by the body limit."""
        if self._ours(task, _BODY):
            raise RequestTimeout(
                f"the request body did not arrive within {self.body_timeout:g} s"
            ) from None

    def reading(self, task: asyncio.Task[Any] | None) -> bool:
        return task is not None and self._waiting.get(task, (0, ""))[1] == _BODY

    async def read(
        self, scope: Mapping[str, Any], chunks: AsyncIterator[bytes]
    ) -> AsyncIterator[bytes]:
        """`chunks` of a request body, each awaited within what is left of
        `body_timeout` since the request's headers (else RequestTimeout, 408)."""
        task = _current_task()
        started = scope.get(_STARTED)
        if task is None or started is None:  # not served through this wrapper
            async for chunk in chunks:
                yield chunk
            return
        body_by = started + self.body_timeout
        waiting = self._waiting
        while True:
            self._wait(task, body_by, _BODY)
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                self.timed_out(task)
                raise
            finally:
                waiting.pop(task, None)
            yield chunk

    async def send_each(
        self, task: asyncio.Task[Any], chunks: AsyncIterator[bytes]
    ) -> AsyncIterator[bytes]:
        """`chunks` of a streamed answer: each must be taken by the client within
        `send_timeout`, or `task` (the request's) is cancelled and the stream cut.
        From a chunk given to the next one asked for, the server is sending it."""
        waiting = self._waiting
        async for chunk in chunks:
            # granian takes each message whole into its buffers, read or not: pieces
            # bound what a client that stops reading holds (a chunk may be megabytes).
            for at in range(0, len(chunk), PIECE):
                self._wait(task, task.get_loop().time() + self.send_timeout, _SEND)
                try:
                    yield chunk[at : at + PIECE]
                finally:
                    waiting.pop(task, None)


def _what(scope: dict) -> tuple[str, str]:
    return scope.get("method", ""), scope.get("path", "")


async def _shutting_down(scope: dict, send: Any) -> None:
    body = msgspec.json.encode(
        body_for(
            scope.get("path", ""),
            {"status": 503, "code": "shutting_down", "message": "the server is shutting down"},
        )
    )
    budget = scope.get(BUDGET, ())  # the rate-limit headers, if it was charged
    await send_json(send, 503, body, [(b"connection", b"close"), *budget])
