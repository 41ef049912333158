"""Rate limits (SPEC §10), as a plain ASGI wrapper around the whole app.

Fixed windows aligned on the clock: each budget allows LIMIT requests per PERIOD.

- A valid key has a budget of its own, by key id (Bearer or bare, and the secrets
  it had before a rotation, all count as the key). A key's budget is only made
  once the key has been seen to be valid: made-up values never get one.
- Everything else (no key, an unknown or revoked key, a key on a path that
  matched no route) counts against the client's address: the peer of the
  connection, or, when that peer is a listed proxy (`trusted_proxies`), the
  address its X-Forwarded-For names. IPv6 addresses count by /64.
- A key not seen valid yet is checked (by the app's auth) even when its address is
  over budget, so a new bot behind a proxy flooded with bad keys still gets in; if
  the key is not valid the answer is 429 instead of 401.
- The budgets live in memory, least recently used dropped beyond `max_tracked`
  (dropping one only forgets that caller's count in this window).

Every response carries X-RateLimit-Limit, X-RateLimit-Remaining and
X-RateLimit-Reset (seconds until the window ends); a refused request gets 429 in the
usual error shape with Retry-After.

Litestar's RateLimitMiddleware was not used: it runs after routing (so 404s and
auth failures would carry no headers), goes through an async store per request,
and names its headers RateLimit-*.

Option: VOICEPROFILE_RATE_LIMIT = "6000/min" (default), "100/s", "50000/hour",
or "0" / "off" to turn limits off.
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from typing import Any

import msgspec

from app.auth import presented_key
from app.config import Settings, parse_rate
from app.errors import body_for, send_json
from storage.clock import Clock, SystemClock
from storage.engine.host import HostBudgets
from storage.queries.keys import KeyInfo

__all__ = ["BUDGET", "SHARE_FRACTION", "RateLimiter"]

# Scope key: the rate-limit headers of the request, for the layer outside this one
# that may answer in the app's stead (app/deadlines.py: the drain's 503).
BUDGET = "voiceprofile.budget"
# A budget is told to the other processes once it has used this fraction of the
# limit in one process: fewer rows to exchange, at the cost of a bound (README).
SHARE_FRACTION = 20


class RateLimiter:
    def __init__(
        self,
        app: Any,
        limit: int,
        period: int,
        *,
        trusted_proxies: tuple[str, ...] = (),
        max_tracked: int = 100_000,
        clock: Clock | None = None,
    ) -> None:
        self._clock = clock or SystemClock()
        self.app = app
        self.limit = limit
        self.period = period
        self.max_tracked = max_tracked
        self._window = 0
        # Requests made in this window, by key id (int) or address (str).
        self._used: OrderedDict[int | str, int] = OrderedDict()
        self._valid: OrderedDict[bytes, int] = OrderedDict()  # key digest -> key id
        # Shared with other server processes (app/rate_share.py): what they reported
        # for this window, and which budgets here are worth reporting (`usage`).
        self._others: dict[int | str, int] = {}
        self._shared: set[int | str] = set()
        self._told: dict[int | str, int] = {}
        self._floor = max(1, limit // SHARE_FRACTION)
        # Several workers of one host count together, exactly (set by the lifespan).
        self.host: HostBudgets | None = None
        self._proxies = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        self._limit_header = str(limit).encode()

    @classmethod
    def wrap(cls, app: Any, settings: Settings, clock: Clock | None = None) -> Any:
        rate = parse_rate(settings.rate_limit)
        if rate is None:
            return app
        return cls(
            app,
            *rate,
            trusted_proxies=settings.trusted_proxies,
            max_tracked=settings.rate_limit_tracked,
            clock=clock,
        )

    @property
    def tracked(self) -> int:
        """Budgets and remembered keys held in memory."""
        return len(self._used) + len(self._valid)

    def _charge(self, who: int | str, now: float) -> tuple[int, int]:
        """Count one request against `who`: (requests used in the window, reset)."""
        window = int(now // self.period)
        if window != self._window:
            self._start_window(window)
        used = self._used.pop(who, 0) + 1  # re-inserted last: the most recently used
        self._used[who] = used
        if len(self._used) > self.max_tracked:
            self._used.popitem(last=False)
        if self.host is not None:  # the host's count, if its table has room
            used = self.host.charge(_label(who), window) or used
        if used >= self._floor:
            self._shared.add(who)
        if self._others:
            used += self._others.get(who, 0)
        return used, max(1, math.ceil((window + 1) * self.period - now))

    # -- sharing budgets with other processes (app/rate_share.py) ----------------------

    def usage(self) -> tuple[int, list[tuple[str, int]]]:
        """The current window, and the count of each budget this process charged that
        has used at least 1/SHARE_FRACTION of the limit here (in this process, or on
        this host with `host`) and changed since the last call."""
        window = int(self._clock.now() // self.period)
        if window != self._window:
            return window, []  # nothing counted in this window yet
        told, changed, host = self._told, [], self.host
        for who in self._shared:
            label = _label(who)
            used = (host.count(label, window) if host else None) or self._used.get(who)
            if used is not None and told.get(who) != used:
                told[who] = used
                changed.append((label, used))
        return window, changed

    def resend(self) -> None:
        """The last `usage` did not reach the others: the next one tells it all again."""
        self._told.clear()

    def learn(self, window: int, others: dict[str, int]) -> None:
        """What the other processes reported for `window`, added to each budget's
        count here from now on."""
        if window == int(self._clock.now() // self.period):
            if window != self._window:  # the first news of a window with no request yet
                self._start_window(window)
            self._others = {int(w[1:]) if w[0] == "k" else w[1:]: n for w, n in others.items()}

    def _start_window(self, window: int) -> None:
        """A new window: every count starts again."""
        self._window = window
        self._used.clear()
        self._others, self._told = {}, {}
        self._shared.clear()

    def _headers(self, used: int, reset: int) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", self._limit_header),
            (b"x-ratelimit-remaining", str(max(0, self.limit - used)).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
        ]

    def _remember(self, digest: bytes, key_id: int) -> None:
        self._valid[digest] = key_id
        self._valid.move_to_end(digest)
        if len(self._valid) > self.max_tracked:
            self._valid.popitem(last=False)

    def _address(self, scope: dict) -> str:
        client = scope.get("client")
        host = client[0] if client else "-"
        if self._proxies and _within(host, self._proxies):
            host = _forwarded_for(scope, self._proxies) or host
        if ":" in host:  # one IPv6 host has a whole /64 to pick addresses from
            try:
                return str(ipaddress.IPv6Network(f"{host}/64", strict=False))
            except ValueError:
                pass
        return host

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        now = self._clock.now()
        presented = presented_key(scope)
        digest = key_id = None
        if presented is not None:
            digest = presented[1]
            key_id = self._valid.get(digest)
            if key_id is None and self.host is not None:  # seen valid by another worker?
                key_id = self.host.known(digest)
                if key_id is not None:
                    self._remember(digest, key_id)
        if presented is None or key_id is not None:
            # Who pays is known before the app runs: refuse at once when over.
            if key_id is not None:
                self._valid.move_to_end(digest)  # type: ignore[arg-type]
            used, reset = self._charge(key_id if key_id is not None else self._address(scope), now)
            headers = scope[BUDGET] = self._headers(used, reset)
            if used > self.limit:
                await _refuse(scope, send, headers, reset, self.limit, self.period)
                return

            async def send_with_headers(message: dict) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), *headers]
                await send(message)

            await self.app(scope, receive, send_with_headers)
            return
        await self._first_seen(scope, receive, send, digest, now)  # type: ignore[arg-type]

    async def _first_seen(
        self, scope: dict, receive: Any, send: Any, digest: bytes, now: float
    ) -> None:
        """A key not known to be valid: the app's auth decides who pays, and this
        learns the answer from the scope when the response starts."""
        refused = False

        async def send_charged(message: dict) -> None:
            nonlocal refused
            if refused:
                return  # the app's own answer, replaced by the 429
            if message["type"] == "http.response.start":
                user = scope.get("user")
                if isinstance(user, KeyInfo):  # valid: its own budget from now on
                    self._remember(digest, user.id)
                    if self.host is not None:  # and in every worker of the host
                        self.host.remember(digest, user.id)
                    used, reset = self._charge(user.id, now)
                else:
                    used, reset = self._charge(self._address(scope), now)
                    if used > self.limit:  # nothing was done for an invalid key
                        refused = True
                        await _refuse(
                            scope, send, self._headers(used, reset), reset, self.limit, self.period
                        )
                        return
                headers = scope[BUDGET] = self._headers(used, reset)
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_charged)


def _label(who: int | str) -> str:
    """A budget's name outside this process: `k42` for key 42, `a<address>`."""
    return f"k{who}" if isinstance(who, int) else f"a{who}"


def _within(host: str, networks: list[Any]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _forwarded_for(scope: dict, proxies: list[Any]) -> str | None:
    """The nearest address in X-Forwarded-For that is not one of our proxies (the
    ones before it could be written by the client itself)."""
    hops: list[str] = []
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            hops.extend(part.strip() for part in value.decode("latin-1").split(","))
    for hop in reversed(hops):
        if hop and not _within(hop, proxies):
            return hop
    return None


async def _refuse(
    scope: dict, send: Any, headers: list, reset: int, limit: int, period: int
) -> None:
    body = msgspec.json.encode(
        body_for(
            scope.get("path", ""),
            {
                "status": 429,
                "code": "rate_limited",
                "message": f"rate limit of {limit} requests per {period} s reached;"
                f" retry in {reset} s",
                "retry_after": reset,
            },
        )
    )
    await send_json(send, 429, body, [(b"retry-after", str(reset).encode()), *headers])
