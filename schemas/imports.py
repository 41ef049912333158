"""Bodies of `POST /profile/{guild_id}/import` (SPEC §12): the pages other bots' APIs
answer, read as they come (unknown fields ignored, unlike our own request bodies),
and the answer.

Numbers are typed loosely here (`int | float | str`) on purpose: the services send
ids as strings or numbers and UnbelievaBoat sends `"Infinity"`; app/import_sources.py
checks each value and names the page and item of a bad one. Nothing here is an
array or object of unbounded content but the member lists, so a hostile body cannot
make the decoder build more than the objects it counts (see MAX_MEMBERS there).
"""

from __future__ import annotations

import msgspec

__all__ = [
    "CSV_COLUMNS",
    "AmariMember",
    "AmariPage",
    "ImportResult",
    "Mee6Page",
    "Mee6Player",
    "TatsuPage",
    "TatsuRanking",
    "UnbItem",
    "Value",
]

CSV_COLUMNS = (
    "user_id",
    "experience",
    "level",
    "voicepoints",
    "message_count",
    "text_level",
    "text_experience",
    "timespent",
    "pray_streak",
)
"""The CSV importer's columns, in the order the per-guild export writes them (an
export imports as it is)."""

Value = int | float | str | None
"""A number as a service sends it: checked by the importer, never trusted."""


class _Source(msgspec.Struct):
    """A service's object: every field we do not map is ignored."""


class Mee6Player(_Source):
    id: int | str
    xp: Value = None
    level: Value = None
    message_count: Value = None


class Mee6Page(_Source):
    """mee6.xyz/api/plugins/levels/leaderboard/{guild}?limit=1000&page=N"""

    players: list[Mee6Player] = []


class AmariMember(_Source):
    id: int | str
    exp: Value = None
    level: Value = None


class AmariPage(_Source):
    """amaribot.com/api/v1/guild/leaderboard/{guild}?page=N&limit=1000"""

    data: list[AmariMember] = []


class TatsuRanking(_Source):
    user_id: int | str
    score: Value = None


class TatsuPage(_Source):
    """api.tatsu.gg/v1/guilds/{guild}/rankings/all?offset=N"""

    rankings: list[TatsuRanking] = []


class UnbItem(_Source):
    """unbelievaboat.com/api/v1/guilds/{guild}/users answers an array of members; with
    `?page=N` an object `{"users": [...], "page", "total_pages"}`. One Struct reads
    both a member and such a page, since they meet in one array of pages."""

    user_id: int | str | None = None
    cash: Value = None
    bank: Value = None
    total: Value = None
    users: list[UnbItem] | None = None


class ImportResult(msgspec.Struct):
    source: str
    dry_run: bool
    members: int
    """Distinct members in the data."""
    created: int
    updated: int
    unchanged: int
    voicepoints_moved: int
    """Sum of the import entries' amounts (what they would be, on a dry run)."""
    voicepoints_net: int
    """What the members' balances gained in all (negative: went back to the treasury)."""
    entries: int
    """Ledger entries of kind `import` appended (would be, on a dry run)."""
