"""API keys on every request (SPEC §4): `Authorization: KEY`, `Bearer KEY` or
`Wolke KEY` (weeb.sh's token type, so its clients work unchanged), and per-route
scopes declared as `opt={"scope": ...}`."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from storage.queries import keys
from storage.queries.keys import KeyInfo

__all__ = ["PUBLIC_PATHS", "KeyAuthMiddleware", "caller", "key_digest", "require_scope"]

# Public without a key: the docs page, the OpenAPI schema and its UIs, health, the
# weeb.sh service roots (their status objects were public) and the image files.
PUBLIC_PATHS = {
    "^/$",
    "^/schema",
    "^/health$",
    "^/(images|auto-image|reputation|settings)$",
    "^/media/",
}
_SCHEMES = ("bearer", "wolke")


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


class KeyAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if not header:
            raise NotAuthorizedException("missing API key: send Authorization: <KEY>")
        secret = _secret(header)
        services = connection.app.state.services
        digest = keys.hash_secret(secret)  # as key_digest(header)
        info = services.keys.get(digest)
        if info is None:
            ticket = services.keys.ticket()
            row = await services.readers.call(keys.lookup, secret)
            if row is None:
                raise NotAuthorizedException("unknown or revoked API key")
            services.keys.put(digest, row, ticket)
            info = row
        return AuthenticationResult(user=info, auth=digest)


def require_scope(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    scope = handler.opt.get("scope")
    if scope and scope not in connection.user.scopes:
        raise PermissionDeniedException(f"missing scope {scope}")


def caller(connection: ASGIConnection) -> KeyInfo:
    return connection.user  # type: ignore[no-any-return]
