"""The Litestar application."""

from __future__ import annotations

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin

from app import metrics, ops
from app.allow import with_options
from app.auth import authorize
from app.config import Settings
from app.errors import EXCEPTION_HANDLERS
from app.lifespan import lifespan
from app.routes import (
    autoimage,
    bench,
    callbacks,
    guild_export,
    image_upload,
    images,
    imports,
    inventory,
    keys,
    lookup,
    media,
    meta,
    profiles,
    reputation,
    rewards,
    seasons,
    shop,
    transactions,
    weeb,
)
from app.routes import settings as settings_store
from app.routes import stats as stats_routes
from app.routes import tops as tops_routes
from app.timed_io import TimedRequest
from storage.clock import Clock, OffsetClock, SystemClock

__all__ = ["create_app"]

ROUTE_MODULES = [
    meta,
    keys,
    lookup,  # before profiles: POST /profile/{guild_id}/lookup
    guild_export,  # GET /profile/{guild_id}/export
    tops_routes,
    seasons,  # before profiles: /profile/{guild_id}/seasons
    profiles,
    transactions,
    stats_routes,
    weeb,  # the public roots of /images, /auto-image, /reputation, /settings
    reputation,
    settings_store,
    images,
    media,
    autoimage,
    callbacks,
    shop,
    inventory,
    rewards,
    metrics,
]

# What a browser page may send and read across origins (VOICEPROFILE_CORS_ORIGINS).
_CORS_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"]
_CORS_EXPOSE = [
    "X-Total-Count",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "Idempotent-Replayed",
    "ETag",
]


def _cors(settings: Settings) -> CORSConfig | None:
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=_CORS_HEADERS,
        expose_headers=_CORS_EXPOSE,
        max_age=600,
    )


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Litestar:
    """The application; `clock` is the one clock every part asks the time (tests set it)."""
    settings = settings or Settings.from_env()
    if clock is None:
        clock = OffsetClock(settings.clock_offset) if settings.clock_offset else SystemClock()
    modules = [*ROUTE_MODULES, bench] if settings.bench else ROUTE_MODULES
    handlers = [h for module in modules for h in module.ROUTES]
    handlers += image_upload.routes(settings)  # its body limit is the image limit
    handlers += imports.routes(settings)  # and this one the import limit
    handlers = with_options(handlers)
    app = Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        state=State({"settings": settings, "clock": clock}),
        before_request=authorize,  # the key and the route's scope
        request_class=TimedRequest,  # bodies are read within the body limit
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        cors_config=_cors(settings),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Voice Profile Server",
            version="0.1.0",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(), ScalarRenderPlugin()],
        ),
        debug=False,
    )
    return ops.install(app, settings, app.state.clock)  # metrics, rate limits, callback delivery
