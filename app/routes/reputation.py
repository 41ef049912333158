"""Reputation over HTTP, SPEC §8: the reference ("shimakaze") API for the caller's bot."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, delete, get, post
from litestar.params import FromPath, FromQuery
from msgspec import UNSET

from app.auth import caller
from app.bodies import documented, read_body
from app.routes.common import snowflake
from app.services import services
from ledger import apply
from ledger.commands import (
    AdjustReputation,
    GiveReputation,
    ResetRepSettings,
    ResetReputation,
    UpdateRepSettings,
)
from ledger.reputation_settings import load
from schemas.base import MAX_COUNTER, snowflake_value
from schemas.reputation import (
    DEFAULT_SETTINGS,
    Adjusted,
    Decrease,
    Give,
    Given,
    Increase,
    Leaderboard,
    RepSettingsIn,
    SettingsOut,
    UserOut,
)
from storage.clock import millis
from storage.errors import DomainError, InvalidValue
from storage.queries import reputation as reputation_reads
from storage.queries.reputation import leaderboard

__all__ = ["ROUTES"]

SCOPE = {"scope": "reputation"}
SETTING_FIELDS = (
    "reputation_per_day",
    "maximum_reputation",
    "maximum_reputation_received_day",
    "reputation_cooldown",
)


class ForeignBot(DomainError):
    status = 403
    code = "forbidden"


def _own_bot(request: Request, bot_id: FromPath[str]) -> str:
    """The path's bot id, which must be the caller's own bot."""
    wanted = str(snowflake("bot_id", bot_id))
    if wanted != caller(request).bot_id:
        raise ForeignBot(f"bot_id {wanted} is not the bot of this key")
    return wanted


def _user(field: str, raw: str) -> str:
    return str(snowflake(field, raw))


# -- settings -----------------------------------------------------------------------


@get("/reputation/settings", opt=SCOPE, summary="The reputation settings of the caller's bot")
async def get_settings(request: Request) -> SettingsOut:
    bot_id = caller(request).bot_id
    return SettingsOut(await services(request).readers.call(load, bot_id))


@post(
    "/reputation/settings",
    opt=SCOPE,
    status_code=200,
    summary="Set the reputation settings; fields not sent get their default",
    operation_class=documented(RepSettingsIn, required=False),
)
async def set_settings(request: Request) -> SettingsOut:
    data = await read_body(request, RepSettingsIn, required=False) or RepSettingsIn()
    sent = msgspec.structs.asdict(data)
    defaults = msgspec.structs.asdict(DEFAULT_SETTINGS)
    # Every field is set, the ones not sent to their default (the original's POST).
    changes = {k: sent[k] if sent[k] is not UNSET else defaults[k] for k in SETTING_FIELDS}
    command = UpdateRepSettings(caller(request).bot_id, changes)
    return SettingsOut(await services(request).writer.run(apply, command))


@delete(
    "/reputation/settings",
    opt=SCOPE,
    status_code=200,
    summary="Restore the default reputation settings",
)
async def delete_settings(request: Request) -> SettingsOut:
    command = ResetRepSettings(caller(request).bot_id)
    return SettingsOut(await services(request).writer.run(apply, command))


# -- users --------------------------------------------------------------------------


@get(
    "/reputation/{bot_id:str}/leaderboard",
    opt=SCOPE,
    summary="Users ranked by reputation (amount <= 0: all)",
)
async def get_leaderboard(
    request: Request, bot_id: FromPath[str], amount: FromQuery[int] = 10, offset: FromQuery[int] = 0
) -> Leaderboard:
    bot = _own_bot(request, bot_id)
    # The same bounds as the profile tops (SQLite's LIMIT/OFFSET stop at 2^63).
    if not 0 <= offset <= MAX_COUNTER:
        raise InvalidValue("offset", "must be between 0 and 2^53-1", where="query")
    if abs(amount) > MAX_COUNTER:
        raise InvalidValue("amount", "must be at most 2^53-1 (0 or less for all)", where="query")
    svc = services(request)
    now = millis(svc.clock)
    board, users, total = await svc.readers.call(leaderboard, bot, amount, offset, now)
    return Leaderboard(board, users, total, reputation_reads.iso(now))


@get("/reputation/{bot_id:str}/{user_id:str}", opt=SCOPE, summary="A user's reputation")
async def get_user(request: Request, bot_id: FromPath[str], user_id: FromPath[str]) -> UserOut:
    bot, user = _own_bot(request, bot_id), _user("user_id", user_id)
    svc = services(request)
    now = millis(svc.clock)
    found = await svc.readers.call(reputation_reads.user_view, bot, user, now)
    wait = 0 if found.available_reputations else min(found.next_available_reputations, default=0)
    return UserOut(found, reputation_reads.iso(now), max(0, wait))


# The same path as GET /reputation/{bot_id}/{user_id}, so the same parameter name:
# two names would make two paths of the document that a client cannot tell apart.
@post(
    "/reputation/{bot_id:str}/{user_id:str}",
    opt=SCOPE,
    status_code=200,
    summary="source_user gives one reputation to user_id",
    operation_class=documented(Give),
)
async def give(request: Request, bot_id: FromPath[str], user_id: FromPath[str]) -> Given:
    bot, target = _own_bot(request, bot_id), _user("user_id", user_id)
    data = await read_body(request, Give)
    command = GiveReputation(bot, target, str(snowflake_value(data.source_user)))
    gave = await services(request).writer.run(apply, command)
    return Given(
        status=200,
        date=reputation_reads.iso(gave.at),
        code=0,
        message="Successfully gave one reputation to the targetUser",
        source_user=gave.source,
        target_user=gave.target,
    )


async def _adjust(request: Request, command: AdjustReputation | ResetReputation) -> Adjusted:
    return Adjusted(await services(request).writer.run(apply, command))


@post(
    "/reputation/{bot_id:str}/{target_user_id:str}/reset",
    opt=SCOPE,
    status_code=200,
    summary="Reset a user's reputation to 0 (and their cooldown with ?cooldown=true)",
)
async def reset(
    request: Request,
    bot_id: FromPath[str],
    target_user_id: FromPath[str],
    cooldown: FromQuery[bool] = False,
) -> Adjusted:
    bot, user = _own_bot(request, bot_id), _user("target_user_id", target_user_id)
    return await _adjust(request, ResetReputation(bot, user, cooldown))


@post(
    "/reputation/{bot_id:str}/{target_user_id:str}/increase",
    opt=SCOPE,
    status_code=200,
    summary="Add to a user's reputation",
    operation_class=documented(Increase),
)
async def increase(
    request: Request, bot_id: FromPath[str], target_user_id: FromPath[str]
) -> Adjusted:
    bot, user = _own_bot(request, bot_id), _user("target_user_id", target_user_id)
    data = await read_body(request, Increase)
    return await _adjust(request, AdjustReputation(bot, user, data.increase))


@post(
    "/reputation/{bot_id:str}/{target_user_id:str}/decrease",
    opt=SCOPE,
    status_code=200,
    summary="Take from a user's reputation",
    operation_class=documented(Decrease),
)
async def decrease(
    request: Request, bot_id: FromPath[str], target_user_id: FromPath[str]
) -> Adjusted:
    bot, user = _own_bot(request, bot_id), _user("target_user_id", target_user_id)
    data = await read_body(request, Decrease)
    return await _adjust(request, AdjustReputation(bot, user, -data.decrease))


ROUTES: list[Any] = [
    get_settings,
    set_settings,
    delete_settings,
    get_leaderboard,
    get_user,
    give,
    reset,
    increase,
    decrease,
]
