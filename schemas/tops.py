"""Bodies of tops, ranks, stats and balance graphs, SPEC §7."""

import msgspec

from schemas.profiles import Profile

__all__ = ["GraphPoint", "Rank", "Series", "Stats", "TopEntry"]


class TopEntry(msgspec.Struct):
    rank: int
    score: int
    profile: Profile


class Rank(msgspec.Struct):
    rank: int
    score: int
    total: int


class Stats(msgspec.Struct, omit_defaults=True):
    profiles: int
    users: int
    transactions: int
    voicepoints: int
    experience: int
    timespent: int
    messages: int
    guilds: int | None = None  # global stats only


class GraphPoint(msgspec.Struct):
    timestamp: float
    balance: int


class Series(msgspec.Struct):
    points: list[GraphPoint]
