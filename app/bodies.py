"""Request bodies: JSON only, decoded strictly by msgspec.

Litestar's own body parameter converts leniently (`"5"` becomes 5, `1.0` becomes 1),
which SPEC §2 rules out, and it reads any Content-Type as JSON. Handlers call
`read_body` instead. Errors go through the one error mapping (app/errors.py):
validation → 422 naming the field, bad JSON or no body → 400, not JSON → 415.
JSON is UTF-8 (RFC 8259): a body that is not is malformed, wherever the bad byte is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, ValidationException
from litestar.openapi.spec import Operation

from storage.errors import DomainError

__all__ = ["UnsupportedMediaType", "decoder", "documented", "is_json", "read_body"]

_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


def is_json(media_type: str) -> bool:
    kind = media_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


async def read_body(request: Request, type_: Any, *, required: bool = True) -> Any:
    """The body decoded as `type_`; None for an absent body when not `required`.

    A body without a Content-Type is taken as JSON, so clients that never set the
    header keep working; an empty body is "no body" whatever its Content-Type
    (`curl -X POST -d ''` sends an empty form)."""
    raw = await request.body()  # 413 past the app's body limit
    if not raw.strip():
        if required:
            raise ClientException("a JSON body is required")
        return None
    header = request.headers.get("content-type")
    if header and not is_json(header):
        raise UnsupportedMediaType(
            f"the body must be JSON: send Content-Type: application/json (got {header})"
        )
    # msgspec decodes strings lazily and raises UnicodeDecodeError, not DecodeError,
    # and only for a string it reaches (a type error earlier would answer 422):
    # check first. isascii() is a word-at-a-time scan, so ASCII bodies cost nothing.
    if not raw.isascii():
        try:
            raw.decode()
        except UnicodeDecodeError as exc:
            raise ClientException(f"JSON is malformed: invalid UTF-8 at byte {exc.start}") from None
    try:
        return decoder(type_).decode(raw)
    except msgspec.ValidationError as exc:
        raise ValidationException(str(exc)) from exc
    except msgspec.DecodeError as exc:
        # msgspec starts most of its messages so, not all ("Input data was truncated")
        detail = str(exc).removeprefix("JSON is malformed: ")
        raise ClientException(f"JSON is malformed: {detail}") from exc
    except RecursionError as exc:  # `[[[[…]]]]` a thousand deep fits easily in 1 MiB
        raise ClientException("JSON is nested too deeply to read") from exc


def decoder(type_: Any) -> msgspec.json.Decoder[Any]:
    """The strict decoder of `type_`, made once."""
    found = _DECODERS.get(type_)
    if found is None:
        found = _DECODERS[type_] = msgspec.json.Decoder(type_)
    return found


def documented(
    type_: Any, *, required: bool = True, refused: tuple[str, ...] = ()
) -> type[Operation]:
    """An OpenAPI operation class that documents `type_` as the JSON request body:
    handlers read their bodies themselves, so Litestar cannot see them. `refused`
    fields are decoded only to be refused with a helpful message (a PATCH's
    `voicepoints`): the document leaves them out, as any unknown field."""
    (schema,), components = msgspec.json.schema_components([type_], ref_template="{name}")

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(components[node["$ref"]])
            if refused and isinstance(node.get("properties"), dict):
                node = {**node, "properties": _without(node["properties"], refused)}
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    body = {"required": required, "content": {"application/json": {"schema": inline(schema)}}}

    @dataclass
    class DocumentedBody(Operation):
        documents_body = True  # app/openapi_errors.py adds the 415 of a non-JSON body

        def __post_init__(self) -> None:
            self.request_body = body  # type: ignore[assignment]  # rendered as it is

    return DocumentedBody


def _without(properties: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in properties.items() if key not in names}
