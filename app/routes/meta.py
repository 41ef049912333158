"""Public pages: the API overview at `/` and `/health`.

/health says whether the server can serve, not why it cannot: error texts (paths,
SQLite messages) go to the logs, counts to the admin-only /metrics."""

from __future__ import annotations

import html
import logging
from typing import Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler

from app.services import services

__all__ = ["ROUTES"]

log = logging.getLogger("voiceprofile.health")

_INTRO = """<h1>Voice Profile Server</h1>
<p>Voice profiles per guild and user, voicepoints moved through an append-only
ledger, a shop with inventories and claimable rewards on that ledger, tops, stats,
reputation and settings for Discord bots.</p>
<p>Every endpoint below except this page, <code>/health</code>, the OpenAPI
documents, the weeb.sh service roots (<code>/images</code>, <code>/auto-image</code>,
<code>/reputation</code>, <code>/settings</code>) and the image files
(<code>/media/…</code>) needs a key: <code>Authorization: &lt;KEY&gt;</code>,
<code>Authorization: Bearer &lt;KEY&gt;</code> or
<code>Authorization: Wolke &lt;KEY&gt;</code>. Snowflakes may be sent as strings
or integers and always come back as strings. Errors are JSON:
<code>{"status", "code", "message"}</code>.</p>
<p>Full schemas: <a href="/schema/swagger">OpenAPI UI</a> ·
<a href="/schema/openapi.json">openapi.json</a></p>"""


def _rows(request: Request) -> str:
    rows = []
    for route in request.app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
                continue
            methods = ", ".join(sorted(m for m in handler.http_methods if m != "OPTIONS"))
            scope = handler.opt.get("scope", "")
            rows.append((route.path_format, methods, handler.summary or "", scope))
    rows.sort()
    return "\n".join(
        f"<tr><td><code>{html.escape(m)}</code></td><td><code>{html.escape(p)}</code></td>"
        f"<td>{html.escape(s)}</td><td>{html.escape(sc)}</td></tr>"
        for p, m, s, sc in rows
    )


@get("/", include_in_schema=False, media_type="text/html")
async def index(request: Request) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Voice Profile Server"
        f"</title><style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}"
        f"td{{padding:.2em .6em;border-bottom:1px solid #ddd}}</style></head><body>{_INTRO}"
        f"<table><tr><th>Method</th><th>Path</th><th>What it does</th><th>Scope</th></tr>"
        f"{_rows(request)}</table></body></html>"
    )


@get("/health", summary="Liveness: the database and the writer")
async def health(request: Request) -> Response[dict[str, Any]]:
    svc = services(request)
    writer = svc.writer
    try:
        await svc.readers.ping()
        database = "ok"
    except Exception:  # health must answer, whatever is wrong; the why is for the logs
        log.exception("health: the database cannot be read")
        database = "error"
    writes = "failing" if writer.stats.failing(svc.settings.health_failing_seconds) else "ok"
    ok = database == "ok" and writer.alive and writes == "ok"
    body = {
        "status": "ok" if ok else "degraded",
        "database": database,
        "writer": {
            "alive": writer.alive,
            "writes": writes,
            "queue_depth": writer.queue_depth,
            "batches": writer.stats.batches,
        },
    }
    return Response(body, status_code=200 if ok else 503)


ROUTES: list[Any] = [index, health]
