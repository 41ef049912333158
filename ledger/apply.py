"""`apply(ctx, command)`: the one function the writer runs for a ledger command.

Every command runs inside the ledger state's `attempt()`: a refused command (a
DomainError) leaves nothing staged, and it writes nothing either, because every
handler checks before it writes (storage/writer.py holds it to that).
"""

from __future__ import annotations

from typing import Any

from ledger import (
    imports,
    inventory,
    profiles,
    reputation,
    reputation_settings,
    rewards,
    seasons,
    shop,
    transfers,
)
from ledger.commands import (
    AdjustReputation,
    BuyItem,
    ChangeItems,
    ClaimReward,
    Command,
    CreateProfile,
    DeleteProfile,
    EditProfiles,
    EndSeason,
    GiveItems,
    GiveReputation,
    ImportProfiles,
    PostTransfers,
    ResetRepSettings,
    ResetReputation,
    RevertEntry,
    SellItems,
    UpdateRepSettings,
)
from ledger.state import LedgerState
from storage.engine.writer import WriteContext

__all__ = ["apply"]


def apply(ctx: WriteContext, command: Command) -> Any:
    state = ctx.state(LedgerState)
    # `state.attempt()` spelled out: this runs for every command, and the context
    # manager's two extra calls showed in the writer's profile.
    mark = state.mark()
    try:
        return _run(state, command)
    except BaseException:
        state.undo(mark)
        raise
    finally:
        state.release()


def _run(state: LedgerState, command: Command) -> Any:
    match command:
        case PostTransfers():
            return transfers.post_transfers(state, command)
        case RevertEntry():
            return transfers.revert(state, command)
        case CreateProfile():
            return profiles.create(state, command)
        case EditProfiles():
            return profiles.edit(state, command)
        case DeleteProfile():
            return profiles.delete(state, command)
        case EndSeason():
            return seasons.end(state, command)
        case ImportProfiles():
            return imports.import_profiles(state, command)
        case GiveReputation():
            return reputation.give(state, command)
        case AdjustReputation():
            return reputation.adjust(state, command)
        case ResetReputation():
            return reputation.reset(state, command)
        case UpdateRepSettings():
            return reputation_settings.update(state, command)
        case ResetRepSettings():
            return reputation_settings.reset(state, command)
        case BuyItem():
            return shop.buy(state, command)
        case SellItems():
            return inventory.sell(state, command)
        case GiveItems():
            return inventory.give(state, command)
        case ChangeItems():
            return inventory.change(state, command)
        case ClaimReward():
            return rewards.claim(state, command)
    raise TypeError(f"not a ledger command: {command!r}")
