"""The hash chain over ledger entries.

Each entry's hash is SHA-256(previous hash || its fields), fields written with the
public ids (vp_id, not the row numbers) so the chain means the same in an export.
"""

import hashlib

__all__ = ["GENESIS", "entry_hash"]

GENESIS = bytes(32)


def entry_hash(
    prev: bytes,
    entry_id: int,
    kind: int,
    ts: int,
    src_vp: str,
    dst_vp: str,
    amount: int,
    src_balance: int,
    dst_balance: int,
    bot_vp: str,
    reverts: int | None,
    reason: str,
) -> bytes:
    fields = (
        f"{entry_id}|{kind}|{ts}|{src_vp}|{dst_vp}|{amount}|{src_balance}|{dst_balance}"
        f"|{bot_vp}|{'' if reverts is None else reverts}|{reason}"
    )
    return hashlib.sha256(prev + fields.encode()).digest()
