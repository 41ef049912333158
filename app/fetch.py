"""Fetching a URL a client handed us (image uploads by `url`, avatars, badges).

The guard (app/netguard.py) decides where the server may connect: http(s) only, no
`user@`, only public addresses unless the operator allows more, every connection
checked against the DNS answer of that moment. On top of it, each fetch is bounded:
- at most `max_bytes` read (a larger Content-Length is refused before reading),
- `timeout` seconds in all, redirects included,
- at most MAX_REDIRECTS redirects, each followed here and its URL checked again,
- a 200 answer only.
What came back is never trusted to be an image: callers decode it (app/imaging).

`FetchFailed` says why in words fit for the client; routes choose the answer.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

import httpx

from app.netguard import Guard, Refused

__all__ = ["MAX_REDIRECTS", "FetchFailed", "Fetcher", "LruCache"]

MAX_REDIRECTS = 3
_REDIRECTS = {301, 302, 303, 307, 308}
_HEADERS = {"User-Agent": "voiceprofile-image-fetch", "Accept": "image/*"}


class FetchFailed(Exception):
    """The URL could not be fetched (refused, unreachable, too big, too slow, ...)."""


class Fetcher:
    def __init__(self, guard: Guard, max_bytes: int, timeout: float) -> None:
        self.guard = guard
        self.max_bytes = max_bytes
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = httpx.Limits(max_connections=32, max_keepalive_connections=8)
            self._client = self.guard.client(limits, timeout=self.timeout, headers=_HEADERS)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch(self, url: str) -> bytes:
        """The body of `url` (following redirects), or FetchFailed."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(url)
        except TimeoutError:
            raise FetchFailed(f"fetching the URL took more than {self.timeout:g} s") from None
        except Refused as exc:
            raise FetchFailed(str(exc)) from None
        except httpx.HTTPError as exc:
            raise FetchFailed(f"the URL could not be fetched: {_reason(exc)}") from None

    async def _follow(self, url: str) -> bytes:
        target = self.guard.parse(url)
        for _ in range(MAX_REDIRECTS + 1):
            async with self._http().stream("GET", target, follow_redirects=False) as response:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    target = self.guard.parse(str(target.join(response.headers["location"])))
                    continue
                if response.status_code != 200:
                    raise FetchFailed(f"the URL answered HTTP {response.status_code}")
                return await self._body(response)
        raise FetchFailed(f"the URL redirected more than {MAX_REDIRECTS} times")

    async def _body(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchFailed(f"the file is larger than {self.max_bytes} bytes")
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchFailed(f"the file is larger than {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"


class LruCache:
    """A small least-recently-used map with entries that expire (avatars asked for
    again and again: the same bot draws the same user's avatar many times)."""

    def __init__(self, size: int, ttl: float, clock: Any) -> None:
        self.size = size
        self.ttl = ttl
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def get(self, key: str) -> Any:
        hit = self._items.get(key)
        if hit is None or hit[0] < self._clock.monotonic():
            self._items.pop(key, None)
            return None
        self._items.move_to_end(key)
        return hit[1]

    def put(self, key: str, value: Any) -> None:
        self._items[key] = (self._clock.monotonic() + self.ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
