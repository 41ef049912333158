"""Rate limits per API key (SPEC §10), as a plain ASGI wrapper around the whole app.

Fixed windows aligned on the clock: each key may make LIMIT requests per PERIOD.
Requests without a key count against their client address. Every response carries
X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (seconds until the
window ends); a refused request gets 429 in the usual error shape with Retry-After.

Litestar's RateLimitMiddleware was not used: it runs after routing (so 404s and
auth failures would carry no headers), goes through an async store per request,
and names its headers RateLimit-*; this costs one dict update per request.

Option: VOICEPROFILE_RATE_LIMIT = "6000/min" (default), "100/s", "50000/hour",
or "0" / "off" to turn limits off.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

import msgspec

from app.config import Settings

__all__ = ["DEFAULT", "MAX_TRACKED", "RateLimiter", "parse_rate"]

DEFAULT = "6000/min"
MAX_TRACKED = 100_000  # distinct callers counted per window
_PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/\s*([a-z]+))?\s*$")


def parse_rate(text: str) -> tuple[int, int] | None:
    """(limit, period seconds), or None for no limit."""
    if text.strip().lower() in ("0", "off", "none", ""):
        return None
    match = _RATE.match(text.lower())
    if not match or (match[2] or "min") not in _PERIODS or int(match[1]) <= 0:
        raise SystemExit(
            f"VOICEPROFILE_RATE_LIMIT={text!r}: expected COUNT/PERIOD such as 6000/min,"
            " 100/s, 50000/hour, or 0 for no limit"
        )
    return int(match[1]), _PERIODS[match[2] or "min"]


class RateLimiter:
    def __init__(self, app: Any, limit: int, period: int) -> None:
        self.app = app
        self.limit = limit
        self.period = period
        self._window = 0
        self._counts: dict[bytes | str, int] = {}
        self._limit_header = str(limit).encode()

    @classmethod
    def wrap(cls, app: Any, settings: Settings) -> Any:
        rate = parse_rate(settings.extra.get("rate_limit", DEFAULT))
        return app if rate is None else cls(app, *rate)

    @staticmethod
    def _who(scope: dict) -> bytes | str:
        for name, value in scope["headers"]:
            if name == b"authorization":
                # "Bearer X" and "X" are the same key. Real keys are ~50 bytes: a longer
                # made-up value is cut so the table stays small.
                key = value[7:] if value[:7].lower() == b"bearer " else value
                return key.strip()[:128]
        client = scope.get("client")
        return client[0] if client else "-"

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        now = time.time()
        window = int(now // self.period)
        if window != self._window:  # a new window: every count starts again
            self._window = window
            self._counts.clear()
        who = self._who(scope)
        counts = self._counts
        if who not in counts and len(counts) >= MAX_TRACKED:
            who = "*"  # a flood of made-up keys shares one budget instead of the memory
        used = counts.get(who, 0) + 1
        counts[who] = used
        reset = max(1, math.ceil((window + 1) * self.period - now))
        headers = [
            (b"x-ratelimit-limit", self._limit_header),
            (b"x-ratelimit-remaining", str(max(0, self.limit - used)).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
        ]
        if used > self.limit:
            await _refuse(send, headers, reset, self.limit, self.period)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _refuse(send: Any, headers: list, reset: int, limit: int, period: int) -> None:
    body = msgspec.json.encode(
        {
            "status": 429,
            "code": "rate_limited",
            "message": f"rate limit of {limit} requests per {period} s reached; retry in {reset} s",
            "retry_after": reset,
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(reset).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
