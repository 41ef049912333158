"""The Litestar application."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin

from app.auth import PUBLIC_PATHS, KeyAuthMiddleware, require_scope
from app.config import Settings
from app.errors import EXCEPTION_HANDLERS
from app.routes import keys, meta, profiles, transactions
from app.services import lifespan

__all__ = ["create_app"]

ROUTE_MODULES = [meta, keys, profiles, transactions]


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    handlers = [h for module in ROUTE_MODULES for h in module.ROUTES]
    return Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        state=State({"settings": settings}),
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
