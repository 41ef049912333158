"""The Litestar application."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin

from app import metrics, ops
from app.allow import with_options
from app.auth import PUBLIC_PATHS, KeyAuthMiddleware, require_scope
from app.config import Settings
from app.errors import EXCEPTION_HANDLERS
from app.lifespan import lifespan
from app.routes import (
    bench,
    callbacks,
    inventory,
    keys,
    lookup,
    meta,
    profiles,
    reputation,
    rewards,
    shop,
    transactions,
)
from app.routes import settings as settings_store
from app.routes import stats as stats_routes
from app.routes import tops as tops_routes
from storage.clock import Clock, SystemClock

__all__ = ["create_app"]

ROUTE_MODULES = [
    meta,
    keys,
    lookup,  # before profiles: POST /profile/{guild_id}/lookup
    tops_routes,
    profiles,
    transactions,
    stats_routes,
    reputation,
    settings_store,
    callbacks,
    shop,
    inventory,
    rewards,
    metrics,
]


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Litestar:
    """The application; `clock` is the one clock every part asks the time (tests set it)."""
    settings = settings or Settings.from_env()
    modules = [*ROUTE_MODULES, bench] if settings.bench else ROUTE_MODULES
    handlers = with_options([h for module in modules for h in module.ROUTES])
    app = Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        state=State({"settings": settings, "clock": clock or SystemClock()}),
        middleware=[DefineMiddleware(KeyAuthMiddleware, exclude=sorted(PUBLIC_PATHS))],
        guards=[require_scope],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Voice Profile Server",
            version="0.1.0",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(), ScalarRenderPlugin()],
        ),
        debug=False,
    )
    return ops.install(app, settings)  # metrics, rate limits, callback delivery
