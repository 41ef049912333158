"""Delivering callback events from the outbox (SPEC §10): at least once, signed,
with bounded exponential backoff, surviving restarts (the outbox is in SQLite).

One dispatcher task per database: of several server processes on one database
(`serve --workers N`), the one holding the `callbacks` lease (storage/engine/lease.py)
delivers, and another takes over within CALLBACK_POLL if it stops or dies. It reads
due events through the reader pool and starts one task per attempt, within limits:
a few attempts in flight per callback and per bot, more in all. Nothing waits for a
batch: a receiver that never answers holds only its own callback's slots, each for
at most CALLBACK_TIMEOUT, while other callbacks' events keep going; past the limit
for all, a bot with nothing in flight still gets one attempt (at most TOTAL + one
per bot in flight). Finished attempts are recorded in small writer tasks, so the
ledger writer never waits on the network.

A receiver cannot cost the server more than a slot and a few KB: each attempt
has one deadline for everything (resolving, connecting, sending, the answer), and
at most READ_LIMIT bytes of the answer are read before the connection is closed.
Connections go only where app/netguard.py allows, checked at each connection.

Options: the `callback_*` fields of Settings (app/config.py), and `allow_hosts`
(VOICEPROFILE_ALLOW_HOSTS) for the network guard.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.config import Settings
from app.netguard import Guard, Policy, Refused
from storage.engine.lease import Lease
from storage.queries import outbox

__all__ = ["Deliverer", "DeliveryOptions", "guard", "sign", "start"]

log = logging.getLogger("voiceprofile.callbacks")
PER_CALLBACK = 8  # attempts in flight for one (bot, event) callback
PER_BOT = 16  # ... for one bot, all its callbacks together
TOTAL = 64  # ... for the whole server
READ_LIMIT = 4096  # bytes of a receiver's answer read at most
_KEEP_DONE = 24 * 3600.0  # finished events are kept a day, then pruned
PRUNE_CHUNK = 1000  # ... at most this many per write transaction
_STOP_WAIT = 5.0  # seconds stop() waits for cancelled attempts
Result = tuple[int, bool, int, float | None, str | None]


def sign(secret: str, body: bytes) -> str:
    """The X-Signature header value: `sha256=` + hex HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class DeliveryOptions:
    retry_base: float = 1.0
    retry_max: float = 3600.0
    max_attempts: int = 20
    timeout: float = 10.0
    poll: float = 2.0
    allow: Policy = field(default_factory=Policy)

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryOptions:
        try:
            allow = Policy.parse(settings.allow_hosts)
        except ValueError as exc:
            raise SystemExit(f"VOICEPROFILE_ALLOW_HOSTS: {exc}") from None
        return cls(
            settings.callback_retry_base,
            settings.callback_retry_max,
            settings.callback_max_attempts,
            settings.callback_timeout,
            settings.callback_poll,
            allow,
        )

    def delay(self, attempts: int) -> float:
        return float(min(self.retry_max, self.retry_base * 2 ** max(attempts - 1, 0)))


class Deliverer:
    def __init__(self, services: Any, options: DeliveryOptions) -> None:
        self.svc = services
        self.options = options
        self.guard = Guard(options.allow)
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._client = self.guard.client(timeout=options.timeout, follow_redirects=False)
        self._task: asyncio.Task[None] | None = None
        self._last_prune = 0.0
        self._flying: dict[int, tuple[str, str]] = {}  # outbox id -> (bot, event), until marked
        self._attempts: set[asyncio.Task[None]] = set()
        self._finished: list[Result] = []
        # One process sends (see storage/engine/lease.py); the others wait their turn.
        self._lease = Lease(services.settings.db, "callbacks")

    def wake(self) -> None:
        """Called from the writer thread after a commit that wrote outbox rows."""
        with contextlib.suppress(RuntimeError):  # loop closed: nobody to wake
            self._loop.call_soon_threadsafe(self._wake.set)

    def start(self) -> None:
        outbox.wakers.append(self.wake)
        self._task = asyncio.create_task(self._run(), name="callback-delivery")

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            outbox.wakers.remove(self.wake)
        tasks = [t for t in (self._task, *self._attempts) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            # Bounded: shutdown must not hang on a task that does not finish its
            # cancellation (seen once in ~15 test runs: the dispatcher stayed
            # "cancelling" on a finished read). What it held stays due in the outbox.
            _, stuck = await asyncio.wait(tasks, timeout=_STOP_WAIT)
            if stuck:
                log.warning("%d delivery task(s) did not stop within %g s", len(stuck), _STOP_WAIT)
        # Keep what finished (fewer duplicates after the restart); the cancelled
        # attempts stay due and are sent again.
        with contextlib.suppress(Exception):
            await self._record()
        await self._client.aclose()
        self._lease.release()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            wait = self.options.poll
            try:
                await self._record()
                if not self._lease.try_take():
                    # Another server process on this database delivers; try again
                    # at the next poll (it may have stopped or died).
                    await asyncio.sleep(wait)
                    continue
                now = self.svc.clock.now()
                await self._dispatch(now)
                due = await self.svc.readers.call(outbox.next_due, now)
                if due is not None:
                    wait = max(0.0, min(wait, due - self.svc.clock.now()))
            except asyncio.CancelledError:
                raise
            except Exception:  # a storage hiccup: try again at the next poll
                log.exception("callback delivery failed")
            # Woken by a commit with events or by a finished attempt (a free slot).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _record(self) -> None:
        """Write the finished attempts' outcomes, then free their slots."""
        if not self._finished:
            return
        done, self._finished = self._finished, []
        try:
            await self.svc.writer.run(outbox.mark, done)
        except BaseException:
            self._finished[:0] = done  # still flying: not sent again before recorded
            raise
        for result in done:
            self._flying.pop(result[0], None)

    async def _dispatch(self, now: float) -> int:
        """Start an attempt for each due event that has a free slot. Past TOTAL, a
        bot with nothing in flight still gets one: bots whose receivers hang could
        otherwise fill TOTAL together and hold up every other bot."""
        rows = await self.svc.readers.call(outbox.due, now, 2 * PER_CALLBACK)
        if not rows and now - self._last_prune > 3600:
            self._last_prune = now
            older = (now - _KEEP_DONE, PRUNE_CHUNK)
            while await self.svc.writer.run(outbox.prune, older) == PRUNE_CHUNK:
                pass  # a chunk per write transaction: other writes go between two
        per_callback = Counter(self._flying.values())
        per_bot = Counter(bot for bot, _ in self._flying.values())
        started = 0
        for outbox_id, attempts, body, bot, event, url, secret in rows:
            if len(self._flying) >= TOTAL and per_bot[bot] > 0:
                continue
            if outbox_id in self._flying:
                continue
            if per_callback[bot, event] >= PER_CALLBACK or per_bot[bot] >= PER_BOT:
                continue
            self._flying[outbox_id] = (bot, event)
            per_callback[bot, event] += 1
            per_bot[bot] += 1
            task = asyncio.create_task(self._attempt(outbox_id, attempts, body, url, secret))
            self._attempts.add(task)
            task.add_done_callback(self._attempts.discard)
            started += 1
        return started

    async def _attempt(
        self, outbox_id: int, attempts: int, body: bytes, url: str, secret: str
    ) -> None:
        try:
            result = await self._send(outbox_id, attempts, body, url, secret)
        except Exception as exc:  # a bug must not keep the slot forever
            log.exception("callback %d: attempt failed", outbox_id)
            result = self._failed(outbox_id, attempts + 1, f"{type(exc).__name__}: {exc}"[:500])
        self._finished.append(result)
        self._wake.set()

    async def _send(
        self, outbox_id: int, attempts: int, body: bytes, url: str, secret: str
    ) -> Result:
        attempts += 1
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "voiceprofile-callbacks",
            "X-Signature": sign(secret, body),
            "X-Delivery-Id": str(outbox_id),
        }
        timeout = self.options.timeout
        try:
            # One deadline for the whole attempt: httpx's timeouts are per read,
            # and a receiver dripping a byte at a time never trips them.
            async with asyncio.timeout(timeout):
                request = self._client.build_request("POST", url, content=body, headers=headers)
                response = await self._client.send(request, stream=True)
                try:
                    await _read_some(response)
                finally:
                    await response.aclose()
            if 200 <= response.status_code < 300:
                return (outbox_id, True, attempts, None, None)
            error = f"HTTP {response.status_code}"
        except TimeoutError:
            error = f"no complete answer within {timeout:g} s"
        except Refused as exc:
            error = f"refused: {exc}"[:500]
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        return self._failed(outbox_id, attempts, error)

    def _failed(self, outbox_id: int, attempts: int, error: str) -> Result:
        if attempts >= self.options.max_attempts:
            log.warning("callback %d given up after %d attempts: %s", outbox_id, attempts, error)
            return (outbox_id, False, attempts, None, error)
        return (
            outbox_id,
            False,
            attempts,
            self.svc.clock.now() + self.options.delay(attempts),
            error,
        )


async def _read_some(response: httpx.Response) -> None:
    """Read at most READ_LIMIT bytes of the answer: a short one then leaves the
    connection reusable; a longer one is dropped with the connection."""
    seen = 0
    async for chunk in response.aiter_raw():
        seen += len(chunk)
        if seen > READ_LIMIT:
            break


def guard(services: Any) -> Guard:
    """The server's network guard (the policy of VOICEPROFILE_ALLOW_HOSTS)."""
    return services.deliverer.guard  # type: ignore[no-any-return]


def start(services: Any) -> Deliverer:
    deliverer = Deliverer(services, DeliveryOptions.from_settings(services.settings))
    deliverer.start()
    return deliverer
