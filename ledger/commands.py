"""Ledger commands: plain data handed to the writer, applied by `ledger.apply`."""

import msgspec

__all__ = ["Command", "PostTransfers", "RevertEntry", "Transfer"]


class Transfer(msgspec.Struct, frozen=True, array_like=True):
    src: str  # vp_id
    dst: str  # vp_id
    amount: int
    reason: str = ""


class PostTransfers(msgspec.Struct, tag=True, frozen=True):
    """One transfer (`single`) or an array applied atomically, in order."""

    bot_id: str
    items: tuple[Transfer, ...]
    single: bool = True
    idempotency_key: str | None = None
    body_hash: bytes | None = None


class RevertEntry(msgspec.Struct, tag=True, frozen=True):
    bot_id: str
    entry_id: int


Command = PostTransfers | RevertEntry
