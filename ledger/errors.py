"""Why the ledger refused a change."""

from typing import Any

import msgspec

from storage.errors import Conflict, DomainError, InvalidValue, NotFound

__all__ = [
    "AlreadyReverted",
    "BalanceLimit",
    "IdempotencyKeyReused",
    "Impostor",
    "InsufficientFunds",
    "MissingScope",
    "NotRevertible",
    "SameAccount",
    "StoredRefusal",
    "TransactionNotFound",
    "UnknownAccount",
]


class InsufficientFunds(Conflict):
    code = "insufficient_funds"

    def __init__(self, side: str, balance: int, amount: int) -> None:
        super().__init__(
            f"{side}: insufficient funds: balance {balance}, needs {amount}",
            side=side,
            balance=balance,
        )


class BalanceLimit(Conflict):
    code = "balance_limit"

    def __init__(self, side: str) -> None:
        super().__init__(f"{side}: the balance would leave the range ±(2^53-1)", side=side)


class Impostor(DomainError):
    status = 403
    code = "impostor"

    def __init__(self) -> None:
        super().__init__("from: a bot may only spend from its own treasury", side="from")


class SameAccount(InvalidValue):
    def __init__(self) -> None:
        super().__init__("to", "sender and receiver must differ", code="same_account")


class UnknownAccount(NotFound):
    code = "unknown_account"

    def __init__(self, side: str, vp_id: str) -> None:
        super().__init__(f"{side}: no profile or treasury with id {vp_id}", side=side)


class TransactionNotFound(NotFound):
    code = "transaction_not_found"

    def __init__(self, entry_id: int) -> None:
        super().__init__(f"no transaction with id {entry_id}")


class AlreadyReverted(Conflict):
    code = "already_reverted"

    def __init__(self, entry_id: int, by: int) -> None:
        super().__init__(f"transaction {entry_id} was already reverted by {by}", reverted_by=by)


class NotRevertible(Conflict):
    code = "not_revertible"


class IdempotencyKeyReused(InvalidValue):
    def __init__(self) -> None:
        super().__init__(
            "Idempotency-Key",
            "this key was used with a different body",
            code="idempotency_key_reused",
        )


class MissingScope(DomainError):
    """The change would move voicepoints and the key may not (SPEC §4's 403)."""

    status = 403
    code = "forbidden"

    def __init__(self, scope: str) -> None:
        super().__init__(f"missing scope {scope}")


class StoredRefusal(DomainError):
    """The first outcome of an Idempotency-Key was a refusal: it is answered again,
    body for body."""

    replayed = True

    def __init__(self, status: int, body: bytes) -> None:
        self._body: dict[str, Any] = msgspec.json.decode(body)
        super().__init__(str(self._body.get("message", "")))
        self.status = status  # type: ignore[misc]
        self.code = str(self._body.get("code", ""))  # type: ignore[misc]

    def body(self) -> dict[str, Any]:
        return self._body
