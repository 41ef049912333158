"""When a reward may be claimed again, whether a claim continues the streak, and
what it pays: written once, used by the claim (ledger/rewards.py) and by the read
of a member's state (app/routes/rewards.py). Times are epoch milliseconds.

- `cooldown` rewards: the next claim is allowed `cooldown` seconds after the last;
  it continues the streak when it comes within one more cooldown (before
  last + 2 × cooldown).
- `period` rewards (UTC calendar days, weeks from Monday 00:00): one claim per
  period; a claim in the period right after the last claim's continues the streak.
- A claim pays `amount + streak_bonus × (streak − 1)`, the streak counted up to
  `streak_max` (the bonus stops growing there; the streak itself keeps counting).
"""

from __future__ import annotations

from typing import NamedTuple

from schemas.base import MAX_COUNTER

__all__ = ["DAY_MS", "Rule", "State", "claim_state", "next_claim", "payout", "streak_until"]

DAY_MS = 86_400_000
_WEEK_MS = 7 * DAY_MS
_FIRST_MONDAY_MS = 4 * DAY_MS  # 1970-01-05, the first Monday of the epoch


class Rule(NamedTuple):
    amount: int
    cooldown: int | None  # seconds
    period: str | None  # "day" | "week"
    streak_bonus: int
    streak_max: int | None


def _period(ms: int, period: str | None) -> tuple[int, int]:
    """(start, length) of the calendar period holding `ms`."""
    if period == "day":
        return ms - ms % DAY_MS, DAY_MS
    return ms - (ms - _FIRST_MONDAY_MS) % _WEEK_MS, _WEEK_MS


def next_claim(rule: Rule, last_ms: int) -> int:
    if rule.cooldown is not None:
        return last_ms + rule.cooldown * 1000
    start, length = _period(last_ms, rule.period)
    return start + length


def streak_until(rule: Rule, last_ms: int) -> int:
    """A claim before this time continues the streak of the claim at `last_ms`."""
    if rule.cooldown is not None:
        return last_ms + 2 * rule.cooldown * 1000
    start, length = _period(last_ms, rule.period)
    return start + 2 * length


def payout(rule: Rule, streak: int) -> int:
    steps = streak - 1 if rule.streak_max is None else min(streak, rule.streak_max) - 1
    return min(MAX_COUNTER, rule.amount + rule.streak_bonus * steps)


class State(NamedTuple):
    claimable: bool
    next_claim_at: int | None
    streak: int  # the running streak, 0 when there is none
    streak_until: int | None
    next_streak: int  # the streak the next claim will have


def claim_state(rule: Rule, last: tuple[int, int] | None, now_ms: int) -> State:
    """Where a member stands, from their last claim (time, streak) if any."""
    if last is None:
        return State(True, None, 0, None, 1)
    last_ms, streak = last
    allowed, until = next_claim(rule, last_ms), streak_until(rule, last_ms)
    if now_ms < allowed:  # the next claim, at `allowed`, is before `until`
        return State(False, allowed, streak, until, streak + 1)
    if now_ms < until:
        return State(True, allowed, streak, until, streak + 1)
    return State(True, allowed, 0, None, 1)
