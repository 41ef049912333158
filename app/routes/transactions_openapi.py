"""OpenAPI for POST /transaction, whose body the handler decodes itself (strictly),
so Litestar cannot describe it from the signature."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

__all__ = ["TransferOperation"]


def _transfer_schema() -> Schema:
    side = Schema(
        one_of=[
            Schema(type=OpenAPIType.STRING, description='a vp_id, or "self" (your treasury)'),
            Schema(
                type=OpenAPIType.OBJECT,
                properties={
                    "user_id": Schema(type=OpenAPIType.STRING),
                    "guild_id": Schema(type=OpenAPIType.STRING),
                },
                required=["user_id", "guild_id"],
            ),
        ]
    )
    return Schema(
        type=OpenAPIType.OBJECT,
        properties={
            "from": side,
            "to": side,
            "amount": Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=2**53 - 1),
            "reason": Schema(type=OpenAPIType.STRING, max_length=200),
        },
        required=["from", "to", "amount"],
    )


@dataclass
class TransferOperation(Operation):
    """The body is decoded by hand (strictly), so Litestar cannot document it."""

    def __post_init__(self) -> None:
        one = _transfer_schema()
        body = Schema(one_of=[one, Schema(type=OpenAPIType.ARRAY, items=one)])
        self.request_body = RequestBody(
            content={"application/json": OpenAPIMediaType(schema=body)}, required=True
        )
