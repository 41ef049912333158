"""Operations wired around the application, as plain ASGI layers around the whole
app, outermost first:

- deadlines on bodies, slow readers and the drain, and the request metrics: every
  answer is counted, 401, 404 and 429 included;
- rate limits: every answer carries the rate-limit headers, 401 and 404 included,
  and the drain's 503 of a request cut at the deadline (the deadlines' layer adds
  them from the scope). A request that arrives after that deadline is answered
  503 at once, neither charged nor told a budget: the process is about to exit;
- POST /transaction's ordinary requests answered outside Litestar (app/transfer_path.py);
- HEAD answered as GET without its body."""

from __future__ import annotations

from litestar import Litestar

from app import delivery, metrics
from app.config import Settings
from app.deadlines import Deadlines
from app.head import HeadAsGet
from app.openapi_errors import document_errors
from app.ratelimit import RateLimiter
from app.transfer_path import TransferPath
from storage.clock import Clock

__all__ = ["install"]


def install(app: Litestar, settings: Settings, clock: Clock) -> Litestar:
    # POST /transaction's ordinary requests answered outside Litestar; HEAD as GET.
    routed = TransferPath(HeadAsGet(app.asgi_handler), app, settings.max_body_bytes)
    limited = RateLimiter.wrap(routed, settings, clock)
    if isinstance(limited, RateLimiter):  # its counts are shared from the lifespan
        app.state["limiter"] = limited
    # Outermost, one layer for two jobs (each layer costs a no-op request ~5 %): the
    # deadlines, and the metrics of every answer, 401, 404 and 429 included.
    outer = Deadlines.wrap(app, limited, settings, observe=metrics.record)
    app.asgi_handler = outer  # type: ignore[assignment]
    document_errors(app)
    delivery.DeliveryOptions.from_settings(settings)  # a bad option stops the start here
    return app
