"""The balance rules, written once: posting, `ledger verify` and `import` use them.

A user balance never goes below 0; a treasury may (it issues currency); no balance
leaves ±(2^53-1), like every counter.
"""

from __future__ import annotations

from ledger.errors import BalanceLimit, InsufficientFunds
from schemas.base import MAX_COUNTER

__all__ = ["credit", "debit", "moved"]


def debit(balance: int, amount: int, is_treasury: bool) -> int:
    """The sender's balance after sending `amount`, or the refusal."""
    after = balance - amount
    if is_treasury:
        if after < -MAX_COUNTER:
            raise BalanceLimit("from")
    elif after < 0:
        raise InsufficientFunds("from", balance, amount)
    return after


def credit(balance: int, amount: int) -> int:
    """The receiver's balance after receiving `amount`, or the refusal."""
    after = balance + amount
    if after > MAX_COUNTER:
        raise BalanceLimit("to")
    return after


def moved(
    src_balance: int, dst_balance: int, amount: int, src_is_treasury: bool
) -> tuple[int, int]:
    """The two balances after moving `amount` from src to dst, or the refusal."""
    return debit(src_balance, amount, src_is_treasury), credit(dst_balance, amount)
