"""What each parameter really accepts, and what each route really answers, in the
OpenAPI document.

Handlers check their path and query values themselves (so each error names the
field the way the spec words it), which Litestar cannot see: it documents a bare
`string` or `integer`. The rules below are those checks, stated once for the whole
API (a snowflake is a snowflake on every route), and applied to every operation by
`contract_operation` when the document is built. The schemathesis run
(tests/test_fuzz_schemathesis.py) holds the server to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.openapi.spec import OpenAPIHeader, OpenAPIMediaType, OpenAPIType, Operation, Schema

from schemas.base import MAX_COUNTER, SNOWFLAKE_PATTERN
from schemas.economy import KEY_PATTERN
from schemas.images import FILE_TYPES, FLAGS, NSFW, STATUSES
from schemas.transactions import KINDS
from storage.media import EXTENSIONS
from storage.queries.outbox import EVENTS
from storage.queries.tops import METRICS
from storage.queries.windows import TIMEFRAMES

__all__ = ["PARAMETERS", "contract_operation"]

SNOWFLAKE = {
    "type": "string",
    "pattern": SNOWFLAKE_PATTERN,
    "description": "1-20 digits, below 2^64",
}
# storage/windows.py resolve(): finite, 0 <= t < 2^42 (about the year 141 000).
EPOCH = {"type": "number", "minimum": 0, "exclusiveMaximum": 2**42}

# By parameter name, for path and query parameters on every route. A rule replaces
# the generated schema but keeps its `default`.
PARAMETERS: dict[str, dict[str, Any]] = {
    "guild_id": SNOWFLAKE,
    "user_id": SNOWFLAKE,
    "bot_id": SNOWFLAKE,
    "target_user_id": SNOWFLAKE,
    "page": {"type": "integer", "minimum": 0},
    # `limit` <= 0 means all, and one past anything storable means all too: any integer.
    "limit": {"type": "integer"},
    # tops and the reputation leaderboard (<= 0: all)
    "amount": {"type": "integer", "minimum": -MAX_COUNTER, "maximum": MAX_COUNTER},
    "offset": {"type": "integer", "minimum": 0, "maximum": MAX_COUNTER},
    "by": {"type": "string", "enum": list(METRICS)},
    "timeframe": {"type": "string", "enum": list(TIMEFRAMES)},
    "since": EPOCH,
    "until": EPOCH,
    "event": {"type": "string", "enum": list(EVENTS)},
    "item_id": {"type": "string", "pattern": KEY_PATTERN},
    "reward_id": {"type": "string", "pattern": KEY_PATTERN},
    "kind": {"type": "string", "enum": list(KINDS.values())},  # GET /transaction
}
# What a query parameter means, where its name alone does not say it (the
# parameter's `description`).
DESCRIPTIONS: dict[str, str] = {
    "timeframe": (
        "The window of a top or rank. `day`, `week`, `month`: the rolling last 1, 7 or"
        " 30 days, ending now. `this-week`, `this-month`: the current UTC calendar week"
        " (from Monday 00:00) or month (from the 1st 00:00) up to now. `last-week`,"
        " `last-month`: the whole previous UTC calendar week or month, [its start,"
        " the current one's start). `all` (or none): no window. Not with since/until."
    ),
}
# Where one name means different things on different routes.
BY_PATH: dict[tuple[str, str], dict[str, Any]] = {
    ("/stats/balance_graph", "from"): EPOCH,
    ("/stats/balance_graph", "to"): EPOCH,
    # app/routes/transactions.py _finite(): anything below 10^12 in size
    ("/transaction", "after"): {
        "type": "number",
        "exclusiveMinimum": -1e12,
        "exclusiveMaximum": 1e12,
    },
    ("/transaction", "before"): {
        "type": "number",
        "exclusiveMinimum": -1e12,
        "exclusiveMaximum": 1e12,
    },
}
# The image store and generation (app/routes/images.py, autoimage.py): the choices
# each query parameter accepts, exactly as written.
_FLAG = {"type": "string", "enum": list(FLAGS)}
_NSFW = {"type": "string", "enum": list(NSFW)}
for _path in ("/images/types", "/images/tags", "/images/random"):
    BY_PATH[_path, "hidden"] = _FLAG
    BY_PATH[_path, "nsfw"] = _NSFW
BY_PATH["/images/types", "preview"] = _FLAG
BY_PATH["/images/random", "filetype"] = {"type": "string", "enum": list(FILE_TYPES)}
for _path in ("/images/list", "/images/list/{account_id}"):
    BY_PATH[_path, "limit"] = {"type": "integer", "minimum": 1, "maximum": 1000}
BY_PATH["/images/list/{account_id}", "account_id"] = SNOWFLAKE
BY_PATH["/auto-image/generate", "type"] = {"type": "string", "enum": ["awooo", "eyes", "won"]}
BY_PATH["/auto-image/discord-status", "status"] = {"type": "string", "enum": list(STATUSES)}

# Answers Litestar cannot infer from the handler's return type: (method, path) ->
# {status: {media type: schema}}.
EXTRA_CONTENT: dict[tuple[str, str], dict[str, dict[str, dict[str, Any]]]] = {
    ("GET", "/stats/balance_graph"): {
        "200": {"image/svg+xml": {"type": "string", "description": "with format=svg"}}
    },
    ("GET", "/profile/{guild_id}/export"): {
        "200": {
            "text/csv": {"type": "string", "description": "format=csv (the default)"},
            "application/x-ndjson": {"type": "string", "description": "format=jsonl"},
        }
    },
    ("GET", "/media/{name}"): {
        "200": {kind: {"type": "string", "format": "binary"} for kind in EXTENSIONS.values()}
    },
}

# Of those, the answers that are never JSON: their content replaces Litestar's
# `application/json` (a Stream documents as JSON whatever its media type).
NOT_JSON: set[tuple[str, str]] = {("GET", "/profile/{guild_id}/export")}

# Headers an answer carries that Litestar cannot see (an error sets them): (method,
# path) -> {status: {header: description}}. Never required: not every 409 has one.
EXTRA_HEADERS: dict[tuple[str, str], dict[str, dict[str, str]]] = {
    ("POST", "/rewards/{guild_id}/{reward_id}/claim"): {
        "409": {
            "Retry-After": "With code `cooldown`: whole seconds until `next_claim_at`, rounded up"
        }
    },
}
_SECONDS = Schema(type=OpenAPIType.STRING, pattern="^[0-9]+$")


def _schema(value: Any) -> dict[str, Any]:
    return value.to_schema() if isinstance(value, Schema) else dict(value or {})


def _split_null(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(the schema without JSON null, whether it allowed null): Litestar documents
    `T | None` as `oneOf [T, null]` (constraints beside it) or `type: [null, T]`."""
    alternatives = schema.pop("oneOf", None)
    nullable = False
    if alternatives is not None:
        kept = [s for s in alternatives if s.get("type") != "null"]
        nullable = len(kept) < len(alternatives)
        if len(kept) == 1:
            schema = {**kept[0], **schema}
        else:
            schema["oneOf"] = kept
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        nullable = True
        kinds = [k for k in kind if k != "null"]
        schema["type"] = kinds[0] if len(kinds) == 1 else kinds
    if None in schema.get("enum", ()):
        nullable = True
        schema["enum"] = [v for v in schema["enum"] if v is not None]
    return schema, nullable


def _parameter_schema(
    paths: set[str], name: str, generated: Any, *, by_name: bool
) -> dict[str, Any]:
    """What a path, query or header value may be: the rule for its name, or what
    Litestar generated, with JSON null only where the text `null` means "absent"
    (`?until=null`, `?bucket=null`; `?reason=null` is the text "null")."""
    schema, nullable = _split_null(_schema(generated))
    rule = next((BY_PATH[p, name] for p in paths if (p, name) in BY_PATH), None)
    if rule is None and by_name:
        rule = PARAMETERS.get(name)
    default = schema.pop("default", None)
    # Litestar turns the text into a `str` as it is, but into a number or a Literal
    # choice only after reading `null` as None.
    nullable = nullable and (schema.get("type") != "string" or "enum" in schema)
    if rule is not None:
        schema = dict(rule)
    if nullable:
        schema = {"oneOf": [schema, {"type": "null"}]}
    if default is not None:
        schema["default"] = default
    return schema


def contract_operation(
    base: type[Operation], paths: set[str], methods: set[str]
) -> type[Operation]:
    """`base` (Operation, or a `documented` body) with the rules above applied, for a
    handler serving `paths` (as documented: `/profile/{guild_id}`) and `methods`."""
    extra = [EXTRA_CONTENT[m, p] for m in methods for p in paths if (m, p) in EXTRA_CONTENT]
    not_json = any((m, p) in NOT_JSON for m in methods for p in paths)
    headers = [EXTRA_HEADERS[m, p] for m in methods for p in paths if (m, p) in EXTRA_HEADERS]

    @dataclass
    class ContractOperation(base):  # type: ignore[valid-type,misc]
        def __post_init__(self) -> None:
            parent = getattr(super(), "__post_init__", None)
            if parent is not None:
                parent()
            for param in self.parameters or ():
                by_name = param.param_in in ("path", "query")  # not headers
                schema = _parameter_schema(paths, param.name, param.schema, by_name=by_name)
                param.schema = schema  # type: ignore[assignment]
                if by_name and param.name in DESCRIPTIONS and not param.description:
                    param.description = DESCRIPTIONS[param.name]
            for statuses in extra:
                for status, content in statuses.items():
                    response = self.responses[status]  # type: ignore[index]
                    if not_json:
                        response.content.pop("application/json", None)  # type: ignore[union-attr]
                    for media_type, schema in content.items():
                        response.content[media_type] = OpenAPIMediaType(schema=schema)  # type: ignore[union-attr,index,arg-type]
            for by_status in headers:
                for status, named in by_status.items():
                    response = self.responses[status]  # type: ignore[index]
                    response.headers = {  # type: ignore[union-attr]
                        **(response.headers or {}),  # type: ignore[union-attr]
                        **{
                            n: OpenAPIHeader(schema=_SECONDS, description=d)
                            for n, d in named.items()
                        },
                    }

    return ContractOperation
