"""Claiming a reward (SPEC §13): one ledger command, so no two claims can both pass.

The member's last claim is read from `reward_claims` inside the writer's serial
transaction, and the claim row is written with its `reward` entry: a cooldown is
exactly as durable as the payment it follows, across crashes and restarts, and
never cached in a process (ledger/reward_rules.py has the time rules).
"""

from __future__ import annotations

from ledger import item_store, postings, reward_rules
from ledger.accounts import Account
from ledger.commands import ClaimReward
from ledger.economy_errors import Cooldown, RewardNotFound
from ledger.rules import moved
from ledger.state import LedgerState
from schemas.economy import Claimed
from storage.clock import millis
from storage.ids import vp_id
from storage.queries import outbox
from storage.queries import profiles as rows

__all__ = ["claim"]


def claim(state: LedgerState, cmd: ClaimReward) -> Claimed:
    conn = state.conn
    found = item_store.reward(conn, cmd.guild_id, cmd.bot_id, cmd.reward_id)
    if found is None:
        raise RewardNotFound(cmd.guild_id, cmd.reward_id)
    rule = reward_rules.Rule(*found)
    now = millis(state.ctx.clock)
    vp = vp_id(cmd.guild_id, cmd.user_id)
    account = state.account(vp)
    last = None
    if account is not None:  # a deleted profile's claims still count
        last = item_store.last_claim(conn, account.id, cmd.bot_id, cmd.reward_id)
    standing = reward_rules.claim_state(rule, last, now)
    if not standing.claimable:
        assert standing.next_claim_at is not None
        raise Cooldown(cmd.reward_id, standing.next_claim_at / 1000, now / 1000)
    amount = reward_rules.payout(rule, standing.next_streak)
    treasury = state.treasury(cmd.bot_id)
    is_open = account is not None and state.is_open(account)
    balance = state.load(account.id) if account is not None and is_open else 0
    moved(state.load(treasury.id), balance, amount, src_is_treasury=True)
    # -- everything checked: write ----------------------------------------------------
    if not is_open:
        account = _open(state, cmd, vp, account)
    assert account is not None
    tx = postings.post(
        state, postings.REWARD, treasury, account, amount, f"reward {cmd.reward_id}", treasury
    )
    streak = standing.next_streak
    item_store.add_claim(conn, now, account.id, cmd.bot_id, cmd.reward_id, streak, amount, tx.id)
    done = Claimed(
        tx,
        str(cmd.guild_id),
        str(cmd.user_id),
        cmd.reward_id,
        amount,
        streak,
        reward_rules.next_claim(rule, now) / 1000,
    )
    outbox.emit(state.ctx, cmd.bot_id, "reward", done)
    return done


def _open(state: LedgerState, cmd: ClaimReward, vp: str, account: Account | None) -> Account:
    """A claim by a member without a profile creates it (or opens a deleted one)."""
    now = state.ctx.clock.now()
    if account is None:
        rows.insert_member(state.conn, vp, cmd.guild_id, cmd.user_id, now)
        account = state.account(vp)
        assert account is not None
        return account
    rows.reopen(state.conn, account.id, now)
    state.opened(account.id, True)
    return account
