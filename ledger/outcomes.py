"""What ledger commands return: domain results, rendered into HTTP by app/."""

from __future__ import annotations

from typing import NamedTuple

import msgspec

from schemas.economy import Purchase
from schemas.profiles import Profile
from schemas.reputation import RepUser
from schemas.transactions import Transaction
from storage.errors import DomainError

__all__ = ["Gave", "Posted", "ProfileWritten"]

_encode = msgspec.json.encode


class Posted(NamedTuple):
    """What a transfer or purchase command did. `body` is the JSON of the answer when
    it was rendered here (kept for an Idempotency-Key, or replayed); `refusal` is a first
    outcome that was a refusal, kept for the key and answered as such."""

    value: Transaction | list[Transaction] | Purchase | None
    body: bytes | None = None
    refusal: DomainError | None = None
    replayed: bool = False

    def json(self) -> bytes:
        return self.body if self.body is not None else _encode(self.value)


class ProfileWritten(NamedTuple):
    created: bool
    profile: Profile


class Gave(NamedTuple):
    """A give of reputation: both users after it, at `at` (epoch ms)."""

    source: RepUser
    target: RepUser
    at: int
