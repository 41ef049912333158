"""Put the real contract in the OpenAPI document: the error bodies here, the
parameters and extra media types through app/openapi_contract.py.

Litestar documents its own validation error (`{"status_code", "detail", "extra"}`)
for 400, but app/errors.py answers every error as `{"status", "code", "message"}`
(SPEC §4). The schemathesis run (tests/test_fuzz_schemathesis.py) checks responses
against the document, so each route's error statuses are declared here with the
body actually sent.
"""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec

from app.openapi_contract import contract_operation
from schemas.errors import ErrorBody

__all__ = ["document_errors"]

ERRORS = {
    400: "Malformed JSON or a bad request",
    401: "Missing or unknown API key",
    403: "The key lacks the scope this route needs",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Body too large",
    422: "Invalid values; `errors` names the fields",
    429: "Rate limited; see Retry-After",
    503: "Storage unavailable; nothing was applied",
}
# Only where a body is read (app/bodies.py `documented`).
BODY_ERRORS = {415: "The body is not JSON (Content-Type)"}
_TYPED = re.compile(r"\{(\w+):\w+\}")


def document_errors(app: Litestar) -> None:
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
                continue
            responses = dict(handler.responses or {})
            errors = ERRORS
            if getattr(handler.operation_class, "documents_body", False):
                errors = {**ERRORS, **BODY_ERRORS}
            for status, description in errors.items():
                spec = ResponseSpec(ErrorBody, description=description, generate_examples=False)
                responses.setdefault(status, spec)
            handler.responses = responses
            paths = {_TYPED.sub(r"{\1}", p) for p in handler.paths}
            handler.operation_class = contract_operation(
                handler.operation_class, paths, set(handler.http_methods)
            )
