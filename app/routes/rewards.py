"""Claimable rewards over HTTP, SPEC §13: a bot's daily/weekly or cooldown rewards
in a guild, and claims (each a ledger command)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from app.auth import caller
from app.bodies import documented, read_body
from app.routes.common import snowflake
from app.routes.shop import SCOPE, economy_key
from app.services import services
from ledger import apply, reward_rules
from ledger.commands import ClaimReward
from ledger.economy_errors import RewardNotFound
from schemas.economy import Claimed, ClaimIn, ClaimState, Reward, RewardIn
from storage.clock import millis
from storage.queries import economy as queries
from storage.queries.economy import Key, PutReward

__all__ = ["ROUTES"]


def _key(request: Request, guild_id: str, reward_id: str) -> Key:
    guild = snowflake("guild_id", guild_id)
    return Key(guild, caller(request).bot_id, economy_key("reward_id", reward_id))


@put(
    "/rewards/{guild_id:str}/{reward_id:str}",
    opt=SCOPE,
    status_code=200,
    summary="Create (201) or replace (200) one of the calling bot's rewards",
    description=(
        "Body: `amount`, and `cooldown` (seconds, ≥ 60) or `period` (`day` | `week`, UTC"
        " calendar, weeks from Monday); optional `streak_bonus` (added per claim of a"
        " streak after the first) and `streak_max` (where the bonus stops growing)."
    ),
    operation_class=documented(RewardIn),
    responses={201: ResponseSpec(Reward, description="Created")},
)
async def put_reward(
    request: Request, guild_id: FromPath[str], reward_id: FromPath[str]
) -> Response[Reward]:
    key = _key(request, guild_id, reward_id)
    body = await read_body(request, RewardIn)
    created, reward = await services(request).writer.run(queries.put_reward, PutReward(key, body))
    return Response(reward, status_code=201 if created else 200)


@get("/rewards/{guild_id:str}", opt=SCOPE, summary="The calling bot's rewards in a guild")
async def list_rewards(request: Request, guild_id: FromPath[str]) -> list[Reward]:
    guild = snowflake("guild_id", guild_id)
    bot = caller(request).bot_id
    return await services(request).readers.call(queries.list_rewards, guild, bot)  # type: ignore[no-any-return]


@get(
    "/rewards/{guild_id:str}/{reward_id:str}", opt=SCOPE, summary="One of the calling bot's rewards"
)
async def get_reward(request: Request, guild_id: FromPath[str], reward_id: FromPath[str]) -> Reward:
    key = _key(request, guild_id, reward_id)
    found = await services(request).readers.call(queries.get_reward, key)
    if found is None:
        raise RewardNotFound(key.guild_id, key.id)
    return found  # type: ignore[no-any-return]


@delete(
    "/rewards/{guild_id:str}/{reward_id:str}",
    opt=SCOPE,
    status_code=204,
    summary="Delete a reward (its claims, and so members' cooldowns, are kept)",
)
async def delete_reward(
    request: Request, guild_id: FromPath[str], reward_id: FromPath[str]
) -> None:
    key = _key(request, guild_id, reward_id)
    if not await services(request).writer.run(queries.delete_reward, key):
        raise RewardNotFound(key.guild_id, key.id)


@post(
    "/rewards/{guild_id:str}/{reward_id:str}/claim",
    opt=SCOPE,
    status_code=201,
    summary="Claim for a member: paid from the bot's treasury (a reward entry)",
    description=(
        "Body: `user_id`. Creates the member's profile if missing. 409 `cooldown` with"
        " `next_claim_at` and a Retry-After header until the next claim is allowed."
    ),
    operation_class=documented(ClaimIn),
)
async def claim(request: Request, guild_id: FromPath[str], reward_id: FromPath[str]) -> Claimed:
    key = _key(request, guild_id, reward_id)
    body = await read_body(request, ClaimIn)
    command = ClaimReward(key.bot_id, key.guild_id, key.id, int(body.user_id))
    return await services(request).writer.run(apply, command)  # type: ignore[no-any-return]


@get(
    "/rewards/{guild_id:str}/{reward_id:str}/{user_id:str}",
    opt=SCOPE,
    summary="A member's standing: next claim time, streak, what the next claim pays",
)
async def claim_state(
    request: Request, guild_id: FromPath[str], reward_id: FromPath[str], user_id: FromPath[str]
) -> ClaimState:
    key = _key(request, guild_id, reward_id)
    uid = snowflake("user_id", user_id)
    svc = services(request)
    found = await svc.readers.call(queries.claim_view, key, uid)
    if found is None:
        raise RewardNotFound(key.guild_id, key.id)
    reward, last = found
    rule = reward_rules.Rule(
        reward.amount, reward.cooldown, reward.period, reward.streak_bonus, reward.streak_max
    )
    state = reward_rules.claim_state(rule, last, millis(svc.clock))

    def seconds(ms: int | None) -> float | None:
        return None if ms is None else ms / 1000

    return ClaimState(
        guild_id=str(key.guild_id),
        user_id=str(uid),
        reward_id=key.id,
        claimable=state.claimable,
        next_claim_at=seconds(state.next_claim_at),
        streak=state.streak,
        streak_until=seconds(state.streak_until),
        next_amount=reward_rules.payout(rule, state.next_streak),
        last_claim_at=seconds(None if last is None else last[0]),
    )


ROUTES: list[Any] = [put_reward, list_rewards, get_reward, delete_reward, claim, claim_state]
