"""Ending a season (SPEC §12): archive a guild's standings, then reset counters.

One command, so the archive, the resets and the voicepoints sent back are one step
of the writer: a season is never half made. The name is unique per guild, so a
second request with the same name (a retry, or a race) finds the first season
and makes none. Voicepoints go back to the calling bot's treasury as ledger entries
of kind `season`; nothing else here touches a balance.
"""

from __future__ import annotations

from ledger import postings
from ledger.accounts import Account
from ledger.commands import EndSeason
from ledger.errors import MissingScope
from ledger.rules import credit
from ledger.state import LedgerState
from schemas.seasons import COUNTERS, Season
from storage.errors import Conflict
from storage.ids import pad, unpad
from storage.queries import outbox
from storage.queries import seasons as rows

__all__ = ["SeasonExists", "end"]

# What each counter's reset writes: the values a new profile has.
_RESETS = {
    "experience": "experience = 0",
    "level": "level = 1",
    "text": "text_level = NULL, text_experience = NULL, text_messages = NULL",
    "timespent": "time_global = 0, timespent = NULL",
    "pray": "pray_date = 0, pray_streak = 0",
}


class SeasonExists(Conflict):
    code = "season_exists"


def end(state: LedgerState, cmd: EndSeason) -> tuple[bool, Season]:
    """`(created, season)`: the new season, or the one already of that name."""
    conn = state.conn
    reset = [c for c in COUNTERS if c in cmd.reset]  # one order, no repeats
    found = rows.by_name(conn, cmd.guild_id, cmd.name)
    if found is not None:
        if found.reset != reset:
            raise SeasonExists(
                f"season {found.number} of guild {cmd.guild_id} is already named"
                f" {cmd.name!r}, with reset {found.reset}"
            )
        return False, found
    money = "voicepoints" in reset
    if money and not cmd.may_move_money:
        raise MissingScope("ledger:write")
    guild = str(cmd.guild_id)
    standings = []
    returned: list[tuple[Account, int]] = []
    for row in rows.members(conn, cmd.guild_id):
        account_id, vp, user = row[0], row[1], row[2]
        balance = state.balance.get(account_id)
        if balance is None:  # as state.load would read it, without a query per member
            balance = state.balance[account_id] = row[3]
            state.open[account_id] = True
        standings.append((*row[:3], balance, *row[4:]))
        if money and balance:
            account = state.accounts.setdefault(
                vp, Account(account_id, vp, None, guild, unpad(user))
            )
            returned.append((account, balance))
    moved = sum(amount for _, amount in returned)
    treasury = None
    if returned:
        treasury = state.treasury(cmd.bot_id)
        credit(state.load(treasury.id), moved)  # the one check a return can fail
    now = state.ctx.clock.now()
    season = Season(
        number=rows.next_number(conn, cmd.guild_id),
        name=cmd.name,
        guild_id=guild,
        ended_at=now,
        reset=reset,
        members=len(standings),
        voicepoints=moved,
        bot_id=cmd.bot_id,
    )
    # -- everything checked: write ----------------------------------------------------
    rows.insert(conn, season, standings)
    reason = f"season {season.number}: {cmd.name}"[:200]
    for account, amount in returned:
        assert treasury is not None
        postings.post(state, postings.SEASON, account, treasury, amount, reason, treasury)
    columns = [_RESETS[c] for c in reset if c in _RESETS]
    if columns:
        conn.execute(
            f"UPDATE accounts SET {', '.join(columns)}, updated_at = ?"
            " WHERE guild_id = ? AND open = 1",
            (now, pad(cmd.guild_id)),
        )
    outbox.emit(state.ctx, cmd.bot_id, "season.end", season)
    return True, season
