"""Delivering callback events from the outbox (SPEC §10): at least once, signed,
with bounded exponential backoff, surviving restarts (the outbox is in SQLite).

One asyncio task per server. It reads due rows through the reader pool, POSTs
them concurrently, and records the outcomes in one small writer task per round,
so the ledger writer never waits on the network.

Options (VOICEPROFILE_* variables, read through Settings.extra):
  CALLBACK_RETRY_BASE   first retry delay in seconds (1); doubles per attempt
  CALLBACK_RETRY_MAX    longest delay between attempts in seconds (3600)
  CALLBACK_MAX_ATTEMPTS attempts before an event is given up (20: about 8 h)
  CALLBACK_TIMEOUT      seconds to wait for a receiver's answer (10)
  CALLBACK_POLL         seconds between looks when nothing woke the worker (2)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from app.config import Settings
from storage import outbox

__all__ = ["Deliverer", "DeliveryOptions", "sign", "start", "stop"]

log = logging.getLogger("voiceprofile.callbacks")
BATCH = 100
CONCURRENCY = 16
_KEEP_DONE = 24 * 3600.0


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

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryOptions:
        extra, values = settings.extra, dict[str, Any]()
        for name, cast in (
            ("retry_base", float),
            ("retry_max", float),
            ("max_attempts", int),
            ("timeout", float),
            ("poll", float),
        ):
            raw = extra.get(f"callback_{name}")
            if raw:
                try:
                    values[name] = cast(raw)
                except ValueError:
                    raise SystemExit(
                        f"VOICEPROFILE_CALLBACK_{name.upper()}={raw!r} is not a valid number"
                    ) from None
        return cls(**values)

    def delay(self, attempts: int) -> float:
        return float(min(self.retry_max, self.retry_base * 2 ** max(attempts - 1, 0)))


class Deliverer:
    def __init__(self, services: Any, options: DeliveryOptions) -> None:
        self.svc = services
        self.options = options
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._client = httpx.AsyncClient(timeout=options.timeout, follow_redirects=False)
        self._task: asyncio.Task[None] | None = None
        self._last_prune = 0.0

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
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()

    async def _run(self) -> None:
        while True:
            try:
                delivered = await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:  # a storage hiccup: try again at the next poll
                log.exception("callback delivery round failed")
                delivered = 0
            if delivered:
                continue  # maybe more due: look again at once
            self._wake.clear()
            wait = self.options.poll
            due = await self.svc.readers.call(outbox.next_due)
            if due is not None:
                wait = max(0.0, min(wait, due - time.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def round(self) -> int:
        """Send every due event (up to BATCH); returns how many were attempted."""
        now = time.time()
        rows = await self.svc.readers.call(outbox.pending, now, BATCH)
        if not rows:
            if now - self._last_prune > 3600:
                self._last_prune = now
                await self.svc.writer.run(outbox.prune, now - _KEEP_DONE)
            return 0
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(row: tuple) -> tuple[int, bool, int, float | None, str | None]:
            async with gate:
                return await self._send(*row)

        results = await asyncio.gather(*(one(r) for r in rows))
        await self.svc.writer.run(outbox.mark, list(results))
        return len(rows)

    async def _send(
        self, outbox_id: int, attempts: int, body: bytes, url: str, secret: str
    ) -> tuple[int, bool, int, float | None, str | None]:
        attempts += 1
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "voiceprofile-callbacks",
            "X-Signature": sign(secret, body),
            "X-Delivery-Id": str(outbox_id),
        }
        try:
            response = await self._client.post(url, content=body, headers=headers)
            if 200 <= response.status_code < 300:
                return (outbox_id, True, attempts, None, None)
            error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        if attempts >= self.options.max_attempts:
            log.warning("callback %d given up after %d attempts: %s", outbox_id, attempts, error)
            return (outbox_id, False, attempts, None, error)
        return (outbox_id, False, attempts, time.time() + self.options.delay(attempts), error)


async def start(services: Any) -> None:
    deliverer = Deliverer(services, DeliveryOptions.from_settings(services.settings))
    services.extras["deliverer"] = deliverer
    deliverer.start()


async def stop(services: Any) -> None:
    deliverer = services.extras.pop("deliverer", None)
    if deliverer is not None:
        await deliverer.stop()
