"""Operations wired around the application: request metrics and rate limits wrap
the whole ASGI app (so every response is counted and carries the rate-limit
headers, 401 and 404 included); HEAD answered as GET without its body; deadlines on
bodies, slow readers and the drain."""

from __future__ import annotations

from litestar import Litestar

from app import delivery, metrics
from app.config import Settings
from app.deadlines import Deadlines
from app.head import HeadAsGet
from app.openapi_errors import document_errors
from app.ratelimit import RateLimiter
from storage.clock import Clock

__all__ = ["install"]


def install(app: Litestar, settings: Settings, clock: Clock) -> Litestar:
    timed = Deadlines.wrap(app, settings)  # body, stalled-reader and drain deadlines
    limited = RateLimiter.wrap(HeadAsGet(timed), settings, clock)  # HEAD: a GET's headers
    wrapped = metrics.MetricsRecorder(limited)
    app.asgi_handler = wrapped  # type: ignore[assignment]
    document_errors(app)
    delivery.DeliveryOptions.from_settings(settings)  # a bad option stops the start here
    return app
