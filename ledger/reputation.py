"""Reputation as append-only entries (SPEC §8); the only code that changes it.

Every change (give, increase, decrease, reset) appends one row to
`reputation_entries`; `reputation_users` is the current value, updated in the same
transaction and rebuilt by `verify`. A user's cooldown (the gives they made that
still count against `reputationPerDay`), the gives they received in the last 24 h
and their total are all derived from the entries inside the writer task, so the
writer's serial order makes every limit hold under any concurrency.

Time is the writer's clock in Unix epoch milliseconds (`millis`); tests set it to
stand exactly on a boundary. A cooldown slot used at `t` frees at
`t + reputationCooldown` exactly; a received give counts for the daily cap while
`now < t + 24 h`.
"""

from __future__ import annotations

from typing import ClassVar

from ledger.commands import AdjustReputation, GiveReputation, ResetReputation
from ledger.outcomes import Gave
from ledger.state import LedgerState
from schemas.base import MAX_COUNTER
from schemas.reputation import RepUser
from storage.clock import millis
from storage.engine.base import Conn
from storage.errors import DomainError, InvalidValue
from storage.ids import pad, unpad
from storage.queries import outbox
from storage.queries.reputation import (
    load_settings,
    received_times,
    reputation_of,
    user_view,
)

__all__ = [
    "MaximumReached",
    "OutOfReputations",
    "ReceivedDailyMaximum",
    "ReputationRefused",
    "SelfReputation",
    "adjust",
    "give",
    "reset",
    "verify",
]

GIVE, INCREASE, DECREASE, RESET = 1, 2, 3, 4


# -- why a give was refused: the reference's numeric codes ----------------------------


class ReputationRefused(DomainError):
    """A refused give: the reference's numeric code, the user object of whoever hit
    the limit, when, and the setting that limited it under the original's name
    (`limits`, codes 2 and 3); app/ renders the reference body."""

    status = 403
    number: ClassVar[int] = 0
    text: ClassVar[str] = ""

    def __init__(self, user: RepUser, now: int, limits: dict[str, int] | None = None) -> None:
        super().__init__(self.text)
        self.user = user
        self.at = now
        self.limits = limits or {}


class OutOfReputations(ReputationRefused):
    number = 1
    text = "The user used all of his reputations."


class ReceivedDailyMaximum(ReputationRefused):
    number = 2
    text = "The user received the maximum amount of reputation for today"


class MaximumReached(ReputationRefused):
    number = 3
    text = "The user reached the maximum possible amount of reputation"


class SelfReputation(ReputationRefused):
    status = 400
    number = 4
    text = "A user cannot give reputation to themselves."


# -- writing ------------------------------------------------------------------------


def _append(
    conn: Conn,
    bot: str,
    user: str,
    kind: int,
    amount: int,
    now: int,
    source: str | None = None,
    reset_cooldown: bool = False,
) -> None:
    after = reputation_of(conn, bot, user) + amount
    if abs(after) > MAX_COUNTER:
        raise InvalidValue(
            "increase" if amount > 0 else "decrease",
            "the reputation would leave the range ±(2^53-1)",
        )
    conn.execute(
        "INSERT INTO reputation_entries"
        " (bot_id, user_id, source_user, kind, amount, reputation, ts, reset_cooldown)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (bot, user, source, kind, amount, after, now, int(reset_cooldown)),
    )
    conn.execute(
        "INSERT INTO reputation_users (bot_id, user_id, reputation) VALUES (?, ?, ?)"
        " ON CONFLICT (bot_id, user_id) DO UPDATE SET reputation = excluded.reputation",
        (bot, user, after),
    )


def give(state: LedgerState, command: GiveReputation) -> Gave:
    conn, now = state.conn, millis(state.ctx.clock)
    settings = load_settings(conn, command.bot_id)
    bot, target, source = pad(command.bot_id), pad(command.target), pad(command.source)
    source_view = user_view(conn, command.bot_id, command.source, now, settings)
    if source == target:
        raise SelfReputation(source_view, now)
    if len(source_view.cooldown) >= settings.reputation_per_day:
        raise OutOfReputations(source_view, now)
    daily = settings.maximum_reputation_received_day
    if daily > 0 and len(received_times(conn, bot, target, now)) >= daily:
        target_view = user_view(conn, command.bot_id, command.target, now, settings)
        raise ReceivedDailyMaximum(target_view, now, {"maximumReputationReceivedDay": daily})
    maximum = settings.maximum_reputation
    if maximum > 0 and reputation_of(conn, bot, target) >= maximum:
        target_view = user_view(conn, command.bot_id, command.target, now, settings)
        raise MaximumReached(target_view, now, {"maximumReputation": maximum})
    _append(conn, bot, target, GIVE, 1, now, source=source)
    target_view = user_view(conn, command.bot_id, command.target, now, settings)
    _emit(state, command.bot_id, "give", command.target, target_view, command.source)
    return Gave(user_view(conn, command.bot_id, command.source, now, settings), target_view, now)


def adjust(state: LedgerState, command: AdjustReputation) -> RepUser:
    """Increase (amount > 0) or decrease (amount < 0) by an operator: no limits apply."""
    conn, now = state.conn, millis(state.ctx.clock)
    kind = INCREASE if command.amount > 0 else DECREASE
    _append(conn, pad(command.bot_id), pad(command.user), kind, command.amount, now)
    user = user_view(conn, command.bot_id, command.user, now)
    _emit(
        state, command.bot_id, "increase" if command.amount > 0 else "decrease", command.user, user
    )
    return user


def _seen(conn: Conn, bot: str, user: str) -> bool:
    """Whether any entry touches `user`: received (their row) or given (cooldown)."""
    return (
        conn.execute(
            "SELECT 1 FROM reputation_users WHERE bot_id = ? AND user_id = ?", (bot, user)
        ).fetchone()
        is not None
        or conn.execute(
            "SELECT 1 FROM reputation_entries WHERE bot_id = ? AND source_user = ? AND kind = 1"
            " LIMIT 1",
            (bot, user),
        ).fetchone()
        is not None
    )


def reset(state: LedgerState, command: ResetReputation) -> RepUser:
    conn, now = state.conn, millis(state.ctx.clock)
    bot, user = pad(command.bot_id), pad(command.user)
    if not _seen(conn, bot, user):  # as the original: the zero user, nothing written
        return user_view(conn, command.bot_id, command.user, now)
    current = reputation_of(conn, bot, user)
    _append(conn, bot, user, RESET, -current, now, reset_cooldown=command.cooldown)
    view = user_view(conn, command.bot_id, command.user, now)
    _emit(state, command.bot_id, "reset", command.user, view)
    return view


def _emit(
    state: LedgerState,
    bot_id: str,
    action: str,
    user_id: str,
    user: RepUser,
    source: str | None = None,
) -> None:
    """The `reputation` callback event, recorded in the same transaction (outbox)."""
    data = {"action": action, "botId": bot_id, "userId": user_id, "reputation": user.reputation}
    if source is not None:
        data["sourceUser"] = source
    outbox.emit(state.ctx, bot_id, "reputation", data)


def verify(conn: Conn) -> list[str]:
    """Replay the entries; every recorded and cached reputation must match."""
    problems: list[str] = []
    running: dict[tuple[str, str], int] = {}
    for eid, bot, user, amount, after in conn.execute(
        "SELECT id, bot_id, user_id, amount, reputation FROM reputation_entries ORDER BY id"
    ):
        value = running.get((bot, user), 0) + amount
        running[(bot, user)] = value
        if value != after:
            problems.append(f"reputation entry {eid}: records {after}, replay gives {value}")
    cached = {
        (bot, user): rep
        for bot, user, rep in conn.execute(
            "SELECT bot_id, user_id, reputation FROM reputation_users"
        )
    }
    for key in sorted(set(cached) | set(running)):
        if cached.get(key) != running.get(key):
            problems.append(
                f"reputation of user {unpad(key[1])} (bot {unpad(key[0])}):"
                f" cached {cached.get(key)}, replay gives {running.get(key)}"
            )
    return problems
