"""An in-memory order of profiles by score, in every scope at once.

A leaderboard orders by score descending, then by profile id ascending (SPEC §7).
A profile id is a SHA-256 in hex, so its integer has the same order as its text.
Each member's sort key is one integer, `(BIAS - score, int(vp_id, 16), guild)`
packed in bits: ascending keys are the board's order, a page is a slice and a
rank is a bisect, both O(log n) in sortedcontainers' SortedList. One key object
is shared by the global list, the member's guild list and the by-account list
(about 100 bytes per member).

Not thread-safe: its owner (storage/boards.py) holds a lock around every use.
"""

from __future__ import annotations

from sortedcontainers import SortedList

__all__ = ["BIAS", "Ranking", "key_of", "score_of", "vp_of"]

BIAS = 1 << 127  # above any score, even two counters packed in one (storage/boards.py)
_VP_BITS = 256
_GUILD_BITS = 32  # below the profile id: never decides the order, names the guild list
_LOW = _VP_BITS + _GUILD_BITS
_VP_MASK = (1 << _VP_BITS) - 1
_GUILD_MASK = (1 << _GUILD_BITS) - 1


def key_of(score: int, vp: int, guild: int) -> int:
    return (((BIAS - score) << _VP_BITS | vp) << _GUILD_BITS) | guild


def score_of(key: int) -> int:
    return BIAS - (key >> _LOW)


def vp_of(key: int) -> int:
    return (key >> _GUILD_BITS) & _VP_MASK


def _first_key_of(score: int) -> int:
    """The smallest key a member with `score` can have."""
    return (BIAS - score) << _LOW


class Ranking:
    """Members (account ids) with a score, ordered globally and per guild number."""

    def __init__(self) -> None:
        self.keys: list[int | None] = []  # by account id: accounts are dense rowids
        self.everyone: SortedList = SortedList()
        self.guilds: dict[int, SortedList] = {}

    @classmethod
    def build(cls, members: list[tuple[int, int, int, int]]) -> Ranking:
        """From `(account, guild number, vp int, score)` rows, sorting once."""
        r = cls()
        if members:
            r.keys = [None] * (max(m[0] for m in members) + 1)
        keys = r.keys
        by_guild: dict[int, list[int]] = {}
        for account, guild, vp, score in members:
            key = keys[account] = key_of(score, vp, guild)
            by_guild.setdefault(guild, []).append(key)
        r.everyone = SortedList(k for k in keys if k is not None)
        r.guilds = {g: SortedList(ks) for g, ks in by_guild.items()}
        return r

    def __contains__(self, account: int) -> bool:
        return account < len(self.keys) and self.keys[account] is not None

    def score(self, account: int) -> int | None:
        key = self.keys[account] if account < len(self.keys) else None
        return None if key is None else score_of(key)

    def put(self, account: int, guild: int, vp: int, score: int) -> None:
        self.drop(account)
        keys = self.keys
        if account >= len(keys):
            keys.extend([None] * (account + 1 - len(keys) + len(keys) // 4))
        key = keys[account] = key_of(score, vp, guild)
        self.everyone.add(key)
        found = self.guilds.get(guild)
        if found is None:
            found = self.guilds[guild] = SortedList()
        found.add(key)

    def drop(self, account: int) -> None:
        if account >= len(self.keys):
            return
        key = self.keys[account]
        if key is None:
            return
        self.keys[account] = None
        self.everyone.remove(key)
        guild = key & _GUILD_MASK
        members = self.guilds[guild]
        members.remove(key)
        if not members:
            del self.guilds[guild]

    def _list(self, guild: int | None) -> SortedList:
        if guild is None:
            return self.everyone
        return self.guilds.get(guild) or SortedList()

    def count(self, guild: int | None) -> int:
        return len(self._list(guild))

    def positives(self, guild: int | None) -> int:
        """How many members of the scope score more than 0."""
        return int(self._list(guild).bisect_left(_first_key_of(0)))

    def slice(self, guild: int | None, start: int, stop: int) -> list[int]:
        """Keys of the scope's members at positions [start, stop)."""
        return list(self._list(guild).islice(start, stop))

    def position(self, account: int, guild: int | None) -> int:
        """0-based position of a member in the scope."""
        return int(self._list(guild).index(self.keys[account]))

    def members_before(self, guild: int | None, vp: int) -> int:
        """How many members of the scope have a profile id below `vp` (a linear
        count: only a rank at score 0 in a window needs it)."""
        return sum(1 for key in self._list(guild) if vp_of(key) < vp)
