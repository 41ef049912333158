"""Every error leaves the server in one JSON shape (SPEC §4), decided here once."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from ledger.reputation import ReputationRefused
from storage.errors import DomainError, InvalidValue, in_bulk
from storage.queries import reputation as reputation_reads

__all__ = [
    "EXCEPTION_HANDLERS",
    "INTERNAL_ERROR",
    "body_for",
    "domain_answer",
    "error_response",
    "send_json",
]

log = logging.getLogger("voiceprofile.errors")

INTERNAL_ERROR = {"status": 500, "code": "internal_error", "message": "internal server error"}

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "storage_unavailable",
}
# Litestar's words when the server reports a disconnect before the whole body came:
# the client left, or (granian) its chunked framing was malformed and it still
# waits for an answer. Either way the client's doing, not a fault of ours.
_BODY_CUT = "client disconnected prematurely"
_AT = re.compile(r"^(?P<msg>.*?)(?: - at (?P<key>`key` in )?`\$(?P<path>[^`]*)`)?$", re.S)
# msgspec names a missing or unknown field only in its message; a Struct's
# __post_init__ names it as "field: message". Either way the client gets the field.
_NAMED = re.compile(r"^Object (?:contains unknown|missing required) field `(?P<name>[^`]+)`$")
_POST_INIT = re.compile(r"^(?P<name>[a-z_]+): (?P<msg>.+)$", re.S)

# The weeb.sh areas (SPEC §8, §9, §14) answer in their reference's terms: `code` is
# the HTTP status, and a request that does not validate is 400 (the reference has no
# 422), with the original's `in` and a `dataPath` per error beside our fields.
REFERENCE_AREAS = re.compile(r"^/(reputation|settings|images|auto-image)(/|$)")


def body_for(path: str, body: dict) -> dict:
    """The spec's error body as the area at `path` shows it (see REFERENCE_AREAS).
    Every error body the server sends passes here, the ones built outside Litestar
    (429, 408, 503) too."""
    if REFERENCE_AREAS.match(path) is None:
        return body
    if body["status"] == 422:
        body = {**body, "status": 400}
    if isinstance(body.get("code"), str):
        body = {**body, "code": body["status"]}
    return body


def error_response(request: Request | None, body: dict, headers: dict | None = None) -> Response:
    if request is not None:
        body = body_for(request.url.path, body)
    return Response(
        content=body, status_code=body["status"], headers=headers, media_type="application/json"
    )


async def send_json(send: Any, status: int, body: bytes, headers: list | tuple = ()) -> None:
    """A JSON answer sent by a plain ASGI layer, outside Litestar (the 429, the
    drain's 503, POST /transaction's own path)."""
    length = str(len(body)).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", length), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


def _field(path: str, litestar: bool) -> str:
    """`$.data[1].amount` as Litestar reports it, as the client named it: `[1].amount`.

    Bodies decoded by the handlers themselves (app/bodies.py) have no `data` root,
    and there `$.data` is a real field (a profile's `data`)."""
    if litestar and (path == ".data" or path.startswith((".data.", ".data["))):
        path = path.removeprefix(".data")
    return path.lstrip(".") or "body"


def _body_error(text: str, litestar: bool) -> dict[str, str] | None:
    """msgspec's message as {"field", "message"}; None when the body itself is missing."""
    match = _AT.match(text)
    assert match is not None
    field, message = _field(match["path"] or "", litestar), match["msg"]
    if litestar and not match["path"] and message == "Object missing required field `data`":
        return None  # Litestar's `data` parameter: no body was sent
    if match["key"]:
        message = f"{message} (in a key)"
    elif named := _NAMED.match(message) or _POST_INIT.match(message):
        field = named["name"] if field == "body" else f"{field}.{named['name']}"
        message = named.groupdict().get("msg") or message
    return {"field": field, "message": message}


def _validation(request: Request, exc: ValidationException) -> Response:
    cause = exc.__cause__
    if isinstance(cause, msgspec.ValidationError):
        error = _body_error(str(cause), litestar=isinstance(exc.extra, list))
        if error is None:
            return _malformed(request, "a JSON body is required")
        errors = [error]
    elif isinstance(exc.extra, list) and exc.extra:
        errors = [
            {"field": str(e.get("key", "")), "message": str(e.get("message", ""))}
            for e in exc.extra
            if isinstance(e, dict)
        ]
        if any("JSON is malformed" in e["message"] for e in errors):
            return _malformed(request, errors[0]["message"])
        if any(not e["field"] and "field `data`" in e["message"] for e in errors):
            return _malformed(request, "a JSON body is required")
    else:
        return _malformed(request, str(exc.detail))
    first = errors[0]
    if REFERENCE_AREAS.match(request.url.path):
        where = _source(exc)
        for found in errors:
            # The body itself (`body`: not an object) is the original's `.body`.
            whole = found["field"] in ("", "body")
            found["dataPath"] = f".{where}" if whole else f".{where}.{found['field']}"
    refusal = InvalidValue(first["field"], first["message"])
    refusal.extra["errors"] = errors
    if REFERENCE_AREAS.match(request.url.path):
        refusal.extra["in"] = where
    index = re.match(r"^\[(\d+)\]", first["field"])
    named = in_bulk(refusal, int(index[1])) if index else refusal
    return error_response(request, named.body())


def _source(exc: ValidationException) -> str:
    """Where the invalid value was: `body` (app/bodies.py), or what Litestar says."""
    if not isinstance(exc.extra, list):
        return "body"
    found = [e.get("source") for e in exc.extra if isinstance(e, dict) and e.get("source")]
    return str(getattr(found[0], "value", found[0])) if found else "body"


def _malformed(request: Request, detail: str) -> Response:
    return error_response(request, {"status": 400, "code": "malformed_json", "message": detail})


def _http(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, ValidationException):
        return _validation(request, exc)
    status = exc.status_code
    message = exc.detail or _CODES.get(status, "error")
    if status == 500 and message == _BODY_CUT:
        status, message = 400, "the request body was cut off, or its chunked framing is malformed"
    if status == 400 and "JSON" in message:
        return _malformed(request, message)
    if status == 500:
        log.error("internal error on %s %s: %s", request.method, request.url.path, exc)
        message = "internal server error"
    return error_response(
        request,
        {"status": status, "code": _CODES.get(status, "error"), "message": message},
        headers=exc.headers,
    )


def _domain(request: Request, exc: DomainError) -> Response:
    body, headers = domain_answer(request.url.path, exc)
    return error_response(None, body, headers)  # already as the area shows it


def domain_answer(path: str, exc: DomainError) -> tuple[dict, dict[str, str] | None]:
    """The body and extra headers of a refusal, as the area at `path` shows it (also
    answered by app/transfer_path.py, outside Litestar)."""
    body = exc.body()
    if isinstance(exc, InvalidValue) and REFERENCE_AREAS.match(path):
        # The original's `in` and `dataPath`, as for the bodies Litestar validates.
        where = exc.where
        errors = [
            {**e, "dataPath": f".{where}.{e['field']}" if e["field"] else f".{where}"}
            for e in body["errors"]
        ]
        body = {**body, "errors": errors, "in": where}
    if isinstance(exc, ReputationRefused):  # the reference's body (SPEC §8)
        body = {
            "status": exc.status,
            "date": reputation_reads.iso(exc.at),
            "code": exc.number,
            "message": exc.message,
            **exc.limits,
            "user": msgspec.to_builtins(exc.user),
        }
    headers = dict(getattr(exc, "headers", None) or {})  # e.g. a cooldown's Retry-After
    if getattr(exc, "replayed", False):  # a kept Idempotency-Key outcome
        headers["Idempotent-Replayed"] = "true"
    return body_for(path, body), headers or None


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, dict(INTERNAL_ERROR))


EXCEPTION_HANDLERS = {DomainError: _domain, HTTPException: _http, Exception: _unexpected}
