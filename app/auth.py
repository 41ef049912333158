"""API keys on every request (SPEC §4): `Authorization: KEY`, `Bearer KEY` or
`Wolke KEY` (weeb.sh's token type, so its clients work unchanged), and per-route
scopes declared as `opt={"scope": ...}`.

The key and the route's scope are checked by one async `before_request` hook on the
app (after routing, so the handler and its `opt` are known; before the handler's
parameters are parsed, so a request without a key is 401 whatever else is wrong).
Not a guard: a guard that is a plain `def` runs in a worker thread per request, and
Litestar copies the handler for every guard call (together a third of a no-op
request's time). Not a middleware: any route middleware makes Litestar add a second
exception-handling layer to every route. A handler must not set a `before_request`
of its own: it would replace this one (tests/test_auth.py tries every route).
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from storage.queries import keys
from storage.queries.keys import KeyInfo

__all__ = [
    "PUBLIC_PATHS",
    "authorize",
    "caller",
    "key_digest",
    "known_key",
    "may_move_money",
    "presented_key",
]

# Public without a key: the docs page, the OpenAPI schema and its UIs, health, the
# weeb.sh service roots (their status objects were public) and the image files.
PUBLIC_PATHS = {
    "^/$",
    "^/schema",
    "^/health$",
    "^/(images|auto-image|reputation|settings)$",
    "^/media/",
}
_PUBLIC = re.compile("|".join(sorted(PUBLIC_PATHS)))
_SCHEMES = ("bearer", "wolke")
_PRESENTED = "voiceprofile.key"  # the scope's cache of presented_key()
# Header value -> (header, digest): a client sends the same header on every request,
# and parsing and hashing it cost more than the rest of the key check. Bounded, as
# anyone can send made-up values: emptied when full.
_DIGESTS: dict[bytes, tuple[str, bytes]] = {}
_DIGESTS_MAX = 4096


def _secret(header: str) -> str:
    value = header.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() in _SCHEMES and rest:
        return rest.strip()
    return value


def key_digest(header: str) -> bytes:
    """The stored hash of the key an Authorization header carries: what a valid key
    is known by (the rate limiter counts by it before the key is checked)."""
    return keys.hash_secret(_secret(header))


def presented_key(scope: dict) -> tuple[str, bytes] | None:
    """The request's Authorization header and the digest of the key it carries, or
    None without the header; found and hashed once per request (the rate limiter
    asks first, the key check after routing)."""
    found = scope.get(_PRESENTED, False)
    if found is False:
        found = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                found = _DIGESTS.get(value)
                if found is None:
                    if len(_DIGESTS) >= _DIGESTS_MAX:
                        _DIGESTS.clear()
                    header = value.decode("latin-1")
                    found = _DIGESTS[value] = (header, key_digest(header))
                break
        scope[_PRESENTED] = found
    return found  # type: ignore[no-any-return]


async def authorize(request: Request) -> None:
    """The key, then the route's scope; public paths and OPTIONS pass without a key
    (as Litestar's authentication middleware, used before, let them)."""
    scope = request.scope
    if scope["method"] != "OPTIONS" and _PUBLIC.match(scope["path"]) is None:
        info = await _authenticate(scope)
        needed = scope["route_handler"].opt.get("scope")
        if needed and needed not in info.scopes:
            raise PermissionDeniedException(f"missing scope {needed}")


async def _authenticate(scope: Any) -> KeyInfo:
    """The key's record, kept in the scope as Litestar's `request.user`."""
    services = scope["litestar_app"].state["services"]
    info = known_key(scope, services)
    if info is not None:
        return info
    presented = presented_key(scope)
    if presented is None or not presented[0]:
        raise NotAuthorizedException("missing API key: send Authorization: <KEY>")
    header, digest = presented
    ticket = services.keys.ticket()
    row = await services.readers.call(keys.lookup, _secret(header))
    if row is None:
        raise NotAuthorizedException("unknown or revoked API key")
    services.keys.put(digest, row, ticket)
    scope["user"], scope["auth"] = row, digest
    return row  # type: ignore[no-any-return]


def known_key(scope: Any, services: Any) -> KeyInfo | None:
    """The request's key when the key cache knows it valid, kept in the scope as the
    key check keeps it; None without a key, or when the database must say (also asked
    by app/transfer_path.py, which answers transfers outside Litestar)."""
    presented = presented_key(scope)
    if presented is None or not presented[0]:
        return None
    info: KeyInfo | None = services.keys.get(presented[1])
    if info is not None:
        scope["user"], scope["auth"] = info, presented[1]
    return info


def caller(connection: ASGIConnection) -> KeyInfo:
    return connection.user  # type: ignore[no-any-return]


def may_move_money(key: KeyInfo) -> bool:
    """Whether a profile write by this key may move voicepoints (an opening balance,
    a reset's or a delete's return to the treasury, an import, a season's reset):
    only with `ledger:write`; without it the ledger refuses such a change."""
    return "ledger:write" in key.scopes
