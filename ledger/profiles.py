"""Profile commands: create or reset, edit, add, delete (SPEC §5).

A profile lives on its member account. Voicepoints never change here directly: an
opening balance on create/reset and the balance returned on delete are ledger
entries (kinds `reset` and `close`) posted like any other. Each command checks
everything first, then writes, so a refusal writes nothing.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET

from ledger import postings
from ledger.accounts import Account
from ledger.commands import CreateProfile, DeleteProfile, EditProfiles
from ledger.errors import MissingScope
from ledger.outcomes import ProfileWritten
from ledger.rules import moved
from ledger.state import LedgerState
from schemas.base import MAX_COUNTER
from schemas.profiles import Pray, Profile, ProfileAdd, ProfileEdit, Text
from storage.errors import DomainError, InvalidValue, ProfileNotFound, in_bulk
from storage.ids import vp_id
from storage.queries import activity, outbox
from storage.queries import profiles as rows

__all__ = ["create", "delete", "edit"]


def _current(state: LedgerState, vp: str) -> tuple[Account | None, Profile | None]:
    """The member's account (if any) and open profile (if any), balance as staged."""
    account = state.account(vp)
    if account is None:
        return None, None
    profile = rows.load(state.conn, vp)
    if profile is not None:
        profile.voicepoints = state.load(account.id)
    return account, profile


def _open(state: LedgerState, guild_id: int, user_id: int, vp: str, now: float) -> Account:
    """Open the member's account with a default profile (insert, or re-open)."""
    account = state.account(vp)
    if account is None:
        rows.insert_member(state.conn, vp, guild_id, user_id, now)
        account = state.account(vp)
        assert account is not None
    else:
        rows.reopen(state.conn, account.id, now)
        state.opened(account.id, True)
    return account


def create(state: LedgerState, cmd: CreateProfile) -> ProfileWritten:
    """Create the profile, or reset an existing one to the body's values/defaults."""
    now = state.ctx.clock.now()
    body = cmd.body
    vp = vp_id(cmd.guild_id, cmd.user_id)
    account, current = _current(state, vp)
    created = current is None
    balance = 0 if current is None else current.voicepoints
    pray, text = body.pray, body.text
    profile = Profile(
        id=vp,
        guild_id=str(cmd.guild_id),
        user_id=str(cmd.user_id),
        experience=body.experience,
        voicepoints=body.voicepoints,
        level=body.level,
        pray=Pray(
            0 if pray is UNSET or pray.date is UNSET else pray.date,
            0 if pray is UNSET or pray.streak is UNSET else pray.streak,
        ),
        text=None if text is None else _merge_text(Text(), text),
        timespent={"global": 0, **body.timespent},
        data=body.data,
        created_at=now if current is None else current.created_at,
        updated_at=now,
    )
    data = rows.encoded_data(profile.data)
    difference = body.voicepoints - balance
    treasury = None
    if difference:
        if not cmd.may_move_money:
            raise MissingScope("ledger:write")
        treasury = state.treasury(cmd.bot_id)
        # The rule the posting applies, on the account as it will be: open.
        reserve = state.load(treasury.id)
        if difference > 0:
            moved(reserve, balance, difference, src_is_treasury=True)
        else:
            moved(balance, reserve, -difference, src_is_treasury=False)
    # -- everything checked: write ----------------------------------------------------
    if created:
        account = _open(state, cmd.guild_id, cmd.user_id, vp, now)
    assert account is not None
    rows.store(state.conn, account.id, profile, data)
    if treasury is not None:
        if difference > 0:
            postings.post(state, postings.RESET, treasury, account, difference, "reset", treasury)
        else:
            postings.post(state, postings.RESET, account, treasury, -difference, "reset", treasury)
    outbox.emit(state.ctx, cmd.bot_id, "profile.create" if created else "profile.reset", profile)
    return ProfileWritten(created, profile)


def delete(state: LedgerState, cmd: DeleteProfile) -> None:
    """Close the account: any balance goes back to the bot's treasury (kind `close`)."""
    account, current = _current(state, vp_id(cmd.guild_id, cmd.user_id))
    if account is None or current is None:
        raise ProfileNotFound(f"profile {cmd.guild_id}/{cmd.user_id} not found")
    balance = current.voicepoints
    treasury = None
    if balance:
        if not cmd.may_move_money:
            raise MissingScope("ledger:write")
        treasury = state.treasury(cmd.bot_id)
        postings.check(state, account, treasury, balance)
    if treasury is not None:
        postings.post(
            state, postings.CLOSE, account, treasury, balance, "profile deleted", treasury
        )
    rows.close(state.conn, account.id, state.ctx.clock.now())
    state.opened(account.id, False)
    gone = {"id": account.vp_id, "guild_id": str(cmd.guild_id), "user_id": str(cmd.user_id)}
    outbox.emit(state.ctx, cmd.bot_id, "profile.delete", gone)


def edit(state: LedgerState, cmd: EditProfiles) -> list[Profile]:
    """PATCH or PATCH …/add of one profile or many, every item or none: each item is
    worked out in memory first (a later item sees the earlier ones), then written."""
    now = state.ctx.clock.now()
    planned: dict[str, tuple[Profile, Profile, str | None]] = {}  # vp -> (before, after, data)
    results = []
    for index, (guild_id, user_id, change) in enumerate(cmd.items):
        try:
            vp = vp_id(guild_id, user_id)
            if vp in planned:
                before, profile = planned[vp][0], msgspec.structs.replace(planned[vp][1])
            else:
                profile = _current(state, vp)[1] or _missing(cmd, guild_id, user_id, vp, now)
                before = msgspec.structs.replace(profile)
            if cmd.add:
                _add(profile, change)
            else:
                _set(profile, change)
            profile.updated_at = now
            planned[vp] = (before, profile, rows.encoded_data(profile.data))
            results.append(profile)
        except DomainError as exc:
            raise exc if cmd.single else in_bulk(exc, index) from None
    # -- everything checked: write ----------------------------------------------------
    for vp, (before, after, data) in planned.items():
        account = state.account(vp)
        if account is None or not state.is_open(account):
            account = _open(state, int(after.guild_id), int(after.user_id), vp, now)
        rows.store(state.conn, account.id, after, data)
        activity.record(state.conn, account.id, before, after, now)
    return results


def _missing(cmd: EditProfiles, guild_id: int, user_id: int, vp: str, now: float) -> Profile:
    """An add starts from a new default profile; an edit of a missing one is refused."""
    if not cmd.add:
        raise ProfileNotFound(
            f"profile {guild_id}/{user_id} not found", guild_id=str(guild_id), user_id=str(user_id)
        )
    return rows.default(vp, guild_id, user_id, now)


def _merge_text(base: Text, change: Any) -> Text:
    return Text(
        *(
            getattr(base, f) if getattr(change, f) is UNSET else getattr(change, f)
            for f in ("level", "experience", "message_count")
        )
    )


def _set(profile: Profile, edit: ProfileEdit) -> None:
    if edit.experience is not UNSET:
        profile.experience = edit.experience
    if edit.level is not UNSET:
        profile.level = edit.level
    if edit.pray is not UNSET:
        profile.pray = Pray(
            profile.pray.date if edit.pray.date is UNSET else edit.pray.date,
            profile.pray.streak if edit.pray.streak is UNSET else edit.pray.streak,
        )
    if edit.text is None:
        profile.text = None
    elif edit.text is not UNSET:
        profile.text = _merge_text(profile.text or Text(), edit.text)
    if edit.timespent is not UNSET:
        profile.timespent = {**profile.timespent, **edit.timespent}
    if edit.data is not UNSET:
        profile.data = edit.data


def _sum(field: str, current: int, delta: Any) -> int:
    if delta is UNSET:
        return current
    result = current + delta
    if not 0 <= result <= MAX_COUNTER:
        raise InvalidValue(field, f"{current} + {delta} = {result} leaves [0, 2^53-1]")
    return int(result)


def _add(profile: Profile, add: ProfileAdd) -> None:
    profile.experience = _sum("experience", profile.experience, add.experience)
    profile.level = _sum("level", profile.level, add.level)
    if add.pray is not UNSET:
        profile.pray = Pray(
            _sum("pray.date", profile.pray.date, add.pray.date),
            _sum("pray.streak", profile.pray.streak, add.pray.streak),
        )
    if add.text is not UNSET:
        base = profile.text or Text()
        profile.text = Text(
            *(
                _sum(f"text.{f}", getattr(base, f), getattr(add.text, f))
                for f in ("level", "experience", "message_count")
            )
        )
    if add.timespent is not UNSET:
        merged = dict(profile.timespent)
        for key, delta in add.timespent.items():
            merged[key] = _sum(f"timespent.{key}", merged.get(key, 0), delta)
        profile.timespent = merged
    if add.data is not UNSET:
        profile.data = {**(profile.data or {}), **add.data}
