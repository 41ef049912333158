"""GET /metrics in Prometheus text format (SPEC §10), and the counts of requests
(`record`, called by the outermost ASGI layer: app/deadlines.py).

Needs the admin scope (README "Health and metrics"). Metrics live in this module's
own registry, one per process, so several apps in one test process share them
harmlessly.

- voiceprofile_requests_total{method,route,status}: responses sent; `route` is
  the path template (`/profile/{guild_id}/{user_id}`), `<unmatched>` for 404s
  that matched no route.
- voiceprofile_request_seconds{method,route}: time to the end of the response.
- voiceprofile_writer_batch_size: write tasks per committed transaction.
- voiceprofile_writer_commit_seconds: BEGIN to COMMIT of each batch.
- voiceprofile_writer_queue_depth: write tasks waiting (read at scrape time).
- voiceprofile_writer_failed_batches_total: batches rolled back as undurable.
- voiceprofile_writer_failing: 1 while the last batch failed and none committed
  since (the error itself is in the log: "write batch of N failed").
- voiceprofile_callbacks_pending: callback events not yet delivered.
- voiceprofile_board_size{board}: what each in-memory board holds (members of a
  leaderboard, accounts for `stats`, minutes for `flow`); a board absent is not
  built (README "How it stays fast": about 100 bytes a member).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate

from litestar import Request, Response, get
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from app.services import services
from storage.engine.writer import Writer
from storage.queries import outbox

__all__ = ["ROUTES", "observe_batches", "record"]

disable_created_metrics()  # the *_created series only add noise here
REGISTRY = CollectorRegistry(auto_describe=True)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
BATCH_SIZE = Histogram(
    "voiceprofile_writer_batch_size",
    "Write tasks committed per transaction (group commit)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
    registry=REGISTRY,
)
COMMIT_SECONDS = Histogram(
    "voiceprofile_writer_commit_seconds",
    "Seconds from BEGIN to COMMIT of a write batch",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "voiceprofile_writer_queue_depth", "Write tasks waiting for the writer", registry=REGISTRY
)
FAILED_BATCHES = Gauge(
    "voiceprofile_writer_failed_batches_total",
    "Write batches rolled back because the database could not store them",
    registry=REGISTRY,
)
WRITER_FAILING = Gauge(
    "voiceprofile_writer_failing",
    "1 while the last write batch failed and none committed since (the why is logged)",
    registry=REGISTRY,
)
CALLBACKS_PENDING = Gauge(
    "voiceprofile_callbacks_pending", "Callback events not yet delivered", registry=REGISTRY
)
BOARD_SIZE = Gauge(
    "voiceprofile_board_size",
    "What each in-memory board holds: members, accounts (stats) or minutes (flow)",
    ("board",),
    registry=REGISTRY,
)
BOARDS_KEPT = Gauge(
    "voiceprofile_boards_kept",
    "1 if this process keeps the in-memory boards; 0 if it asks the one process on"
    " its host that does (several workers), or boards are off",
    registry=REGISTRY,
)


class _Route:
    """One (method, route)'s counts: responses by status, latency buckets (not
    cumulative; the last is +Inf) and their sum. Plain ints, as the event loop is
    the only writer: prometheus_client's Counter and Histogram take a lock per
    increment, a third of the recorder's cost per request."""

    __slots__ = ("buckets", "statuses", "sum")

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}
        self.buckets = [0] * (len(_LATENCY_BUCKETS) + 1)
        self.sum = 0.0


# route template -> method -> counts, shared by every app of the process.
_ROUTES: dict[str, dict[str, _Route]] = {}
_LE = [*(floatToGoString(b) for b in _LATENCY_BUCKETS), "+Inf"]


class _RequestCollector:
    """voiceprofile_requests_total and voiceprofile_request_seconds, read from
    _ROUTES at scrape time."""

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "voiceprofile_requests", "HTTP responses", labels=("method", "route", "status")
        )
        name = "voiceprofile_request_seconds"
        latency = Metric(name, "Time to answer a request, in seconds", "histogram")
        for route, methods in list(_ROUTES.items()):
            for method, counts in list(methods.items()):
                for status, n in list(counts.statuses.items()):
                    requests.add_metric((method, route, str(status)), n)
                # Samples as prometheus_client's Histogram writes them (`le` last).
                total = 0
                for le, total in zip(_LE, accumulate(counts.buckets), strict=True):
                    labels = {"method": method, "route": route, "le": le}
                    latency.add_sample(f"{name}_bucket", labels, total)
                latency.add_sample(f"{name}_count", {"method": method, "route": route}, total)
                latency.add_sample(f"{name}_sum", {"method": method, "route": route}, counts.sum)
        yield requests
        yield latency


REGISTRY.register(_RequestCollector())  # type: ignore[arg-type]


def record(scope: dict, status: int, seconds: float) -> None:
    """Count one answered request: called by the outermost ASGI layer
    (app/deadlines.py), which sees every response, 401, 404 and 429 included."""
    route = scope.get("path_template") or "<unmatched>"
    method = scope["method"]
    methods = _ROUTES.get(route)
    if methods is None:
        methods = _ROUTES[route] = {}
    counts = methods.get(method)
    if counts is None:
        if method not in _METHODS:  # any string can be sent: keep the labels bounded
            method = "OTHER"
        counts = methods.get(method) or methods.setdefault(method, _Route())
    counts.statuses[status] = counts.statuses.get(status, 0) + 1
    counts.buckets[bisect_left(_LATENCY_BUCKETS, seconds)] += 1
    counts.sum += seconds


def _observe_batch(size: int, seconds: float) -> None:
    BATCH_SIZE.observe(size)
    COMMIT_SECONDS.observe(seconds)


def observe_batches(writer: Writer) -> None:
    """Listen to the writer's batches."""
    if _observe_batch not in writer.stats.observers:
        writer.stats.observers.append(_observe_batch)


@get(
    "/metrics",
    opt={"scope": "admin"},
    include_in_schema=False,
    summary="Prometheus metrics (admin scope)",
)
async def metrics(request: Request) -> Response[bytes]:
    svc = services(request)
    QUEUE_DEPTH.set(svc.writer.queue_depth)
    FAILED_BATCHES.set(svc.writer.stats.failed_batches)
    WRITER_FAILING.set(svc.writer.stats.last_error is not None)
    CALLBACKS_PENDING.set(await svc.readers.call(outbox.pending_count))
    BOARD_SIZE.clear()  # dropped boards disappear from the scrape
    for name, size in svc.boards.sizes().items():
        BOARD_SIZE.labels(name).set(size)
    shared = svc.shared_boards
    BOARDS_KEPT.set(svc.boards.mode != "off" and (shared is None or shared.keeping))
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


ROUTES = [metrics]
