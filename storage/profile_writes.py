"""Profile changes, as whole synchronous write tasks run by the writer.

Voicepoints never change here directly: an opening balance on create/reset and the
balance returned on delete are ledger entries posted through `ledger.postings`.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from msgspec import UNSET

from ledger import postings
from ledger.accounts import Account, by_vp, ensure_treasury
from schemas.base import MAX_COUNTER
from schemas.profiles import Pray, Profile, ProfileAdd, ProfileCreate, ProfileEdit, Text
from storage import feeds, outbox
from storage.errors import InvalidValue, MissingScope, PayloadTooLarge, ProfileNotFound
from storage.ids import pad, vp_id
from storage.profiles import COLUMNS, to_profile
from storage.writer import WriteContext

__all__ = [
    "DATA_DEPTH",
    "DATA_LIMIT",
    "CreateProfile",
    "DeleteProfile",
    "EditProfiles",
    "create_profile",
    "delete_profile",
    "edit_profiles",
]

DATA_LIMIT = 10 * 1024
DATA_DEPTH = 64
_encode = msgspec.json.encode


class CreateProfile(msgspec.Struct, frozen=True):
    bot_id: str
    guild_id: int
    user_id: int
    body: ProfileCreate
    # Whether the caller holds `ledger:write`: needed only when the balance moves,
    # which only the writer knows (the balance may change until the task runs).
    ledger_write: bool


class EditProfiles(msgspec.Struct, frozen=True):
    """PATCH (set) or PATCH …/add of one or many profiles, applied atomically."""

    items: tuple[tuple[int, int, Any], ...]  # (guild_id, user_id, ProfileEdit | ProfileAdd)
    add: bool
    single: bool


class DeleteProfile(msgspec.Struct, frozen=True):
    bot_id: str
    guild_id: int
    user_id: int
    ledger_write: bool  # as in CreateProfile


def _too_deep(value: Any, limit: int) -> bool:
    """Nested more than `limit` objects/arrays deep (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def encoded_data(data: dict | None, field: str = "data") -> str | None:
    if data is None:
        return None
    # Deeply nested JSON decodes only while Python's recursion limit allows, which
    # depends on where it is read; a fixed bound keeps every stored value readable.
    if _too_deep(data, DATA_DEPTH):
        raise InvalidValue(field, f"nested more than {DATA_DEPTH} levels deep")
    raw = _encode(data)
    if len(raw) > DATA_LIMIT:
        raise PayloadTooLarge(
            f"{field}: {len(raw)} bytes encoded, the limit is {DATA_LIMIT}", field=field
        )
    return raw.decode()


def _load(ctx: WriteContext, vp: str) -> Profile | None:
    row = ctx.conn.execute(
        f"SELECT {COLUMNS} FROM accounts WHERE vp_id = ? AND open = 1", (vp,)
    ).fetchone()
    return None if row is None else to_profile(row)


def _store(ctx: WriteContext, p: Profile) -> None:
    others = {k: v for k, v in p.timespent.items() if k != "global"}
    text = p.text
    ctx.conn.execute(
        "UPDATE accounts SET experience = ?, level = ?, pray_date = ?, pray_streak = ?,"
        " text_level = ?, text_experience = ?, text_messages = ?, time_global = ?,"
        " timespent = ?, data = ?, updated_at = ? WHERE vp_id = ?",
        (
            p.experience,
            p.level,
            p.pray.date,
            p.pray.streak,
            text and text.level,
            text and text.experience,
            text and text.message_count,
            p.timespent.get("global", 0),
            _encode(others).decode() if others else None,
            encoded_data(p.data),
            p.updated_at,
            p.id,
        ),
    )


def _open_account(
    ctx: WriteContext, guild_id: int, user_id: int, now: float
) -> tuple[Account, bool]:
    """The user's account, opened (profile with defaults) if it was not; True if opened."""
    vp = vp_id(guild_id, user_id)
    account = by_vp(ctx, vp)
    if account is None:
        ctx.conn.execute(
            "INSERT INTO accounts (vp_id, guild_id, user_id, open, created_at, updated_at)"
            " VALUES (?, ?, ?, 1, ?, ?)",
            (vp, pad(guild_id), pad(user_id), now, now),
        )
        account = by_vp(ctx, vp)
        assert account is not None
        return account, True
    opened = ctx.conn.execute(
        "UPDATE accounts SET open = 1, experience = 0, level = 1, pray_date = 0,"
        " pray_streak = 0, text_level = NULL, text_experience = NULL, text_messages = NULL,"
        " time_global = 0, timespent = NULL, data = NULL, created_at = ?, updated_at = ?"
        " WHERE id = ? AND open = 0",
        (now, now, account.id),
    ).rowcount
    return account, bool(opened)


def _balance(ctx: WriteContext, account: Account | None) -> int:
    if account is None:
        return 0
    return int(
        ctx.conn.execute("SELECT balance FROM accounts WHERE id = ?", (account.id,)).fetchone()[0]
    )


def _set_balance(ctx: WriteContext, account: Account, target: int, bot_id: str) -> None:
    """Move the difference between the balance and `target` from/to the bot's treasury."""
    current = _balance(ctx, account)
    if current == target:
        return
    treasury = ensure_treasury(ctx, bot_id)
    kind = postings.RESET
    if target > current:
        postings.post(ctx, kind, treasury, account, target - current, "reset", treasury)
    else:
        postings.post(ctx, kind, account, treasury, current - target, "reset", treasury)


def create_profile(ctx: WriteContext, cmd: CreateProfile) -> tuple[bool, Profile]:
    """Create the profile, or reset an existing one to the body's values/defaults."""
    body = cmd.body
    vp = vp_id(cmd.guild_id, cmd.user_id)
    if not cmd.ledger_write and _balance(ctx, by_vp(ctx, vp)) != body.voicepoints:
        raise MissingScope("ledger:write")  # before anything is written
    now = time.time()
    feeds.maybe_prune(ctx)
    account, created = _open_account(ctx, cmd.guild_id, cmd.user_id, now)
    profile = _load(ctx, account.vp_id)
    assert profile is not None
    pray = body.pray
    text = body.text
    profile.experience = body.experience
    profile.level = body.level
    profile.pray = Pray(
        0 if pray is UNSET or pray.date is UNSET else pray.date,
        0 if pray is UNSET or pray.streak is UNSET else pray.streak,
    )
    profile.text = None if text is None else _merge_text(Text(), text)
    profile.timespent = {"global": 0, **body.timespent}
    profile.data = body.data
    profile.created_at = now if created else profile.created_at
    profile.updated_at = now
    _store(ctx, profile)
    _set_balance(ctx, account, body.voicepoints, cmd.bot_id)
    final = _load(ctx, account.vp_id)
    assert final is not None
    outbox.emit(ctx, cmd.bot_id, "profile.create" if created else "profile.reset", final)
    return created, final


def delete_profile(ctx: WriteContext, cmd: DeleteProfile) -> None:
    """Close the account: any balance goes back to the bot's treasury (kind `close`)."""
    account = by_vp(ctx, vp_id(cmd.guild_id, cmd.user_id))
    if account is None or _load(ctx, account.vp_id) is None:
        raise ProfileNotFound(f"profile {cmd.guild_id}/{cmd.user_id} not found")
    balance = _balance(ctx, account)
    if balance and not cmd.ledger_write:
        raise MissingScope("ledger:write")
    if balance:
        treasury = ensure_treasury(ctx, cmd.bot_id)
        postings.post(ctx, postings.CLOSE, account, treasury, balance, "profile deleted", treasury)
    ctx.conn.execute(
        "UPDATE accounts SET open = 0, experience = 0, level = 1, pray_date = 0, pray_streak = 0,"
        " text_level = NULL, text_experience = NULL, text_messages = NULL, time_global = 0,"
        " timespent = NULL, data = NULL, updated_at = ? WHERE id = ?",
        (time.time(), account.id),
    )
    gone = {"id": account.vp_id, "guild_id": str(cmd.guild_id), "user_id": str(cmd.user_id)}
    outbox.emit(ctx, cmd.bot_id, "profile.delete", gone)


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
    return result


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


def edit_profiles(ctx: WriteContext, cmd: EditProfiles) -> list[Profile]:
    """Apply every item or none (the writer's savepoint undoes a partial bulk)."""
    now = time.time()
    feeds.maybe_prune(ctx)
    results = []
    for index, (guild_id, user_id, change) in enumerate(cmd.items):
        try:
            vp = vp_id(guild_id, user_id)
            profile = _load(ctx, vp)
            if profile is None:
                if not cmd.add:
                    raise ProfileNotFound(
                        f"profile {guild_id}/{user_id} not found",
                        guild_id=str(guild_id),
                        user_id=str(user_id),
                    )
                _open_account(ctx, guild_id, user_id, now)
                profile = _load(ctx, vp)
                assert profile is not None
            before = msgspec.structs.replace(profile)
            if cmd.add:
                _add(profile, change)
            else:
                _set(profile, change)
            profile.updated_at = now
            _store(ctx, profile)
            record_activity(ctx, before, profile, now)
            results.append(profile)
        except (InvalidValue, ProfileNotFound, PayloadTooLarge) as exc:
            if not cmd.single:
                _name_item(exc, index)
            raise
    return results


def _name_item(exc: Any, index: int) -> None:
    exc.message = f"item {index}: {exc.message}"
    exc.extra["index"] = index
    for error in exc.extra.get("errors", []):
        error["field"] = f"[{index}].{error['field']}"


def record_activity(ctx: WriteContext, before: Profile, after: Profile, now: float) -> None:
    """Hook for the append-only activity log that windowed tops read (issue 4)."""
    from storage import activity  # imported here: this hook is the module's only use

    activity.record(ctx.conn, before, after, now)
