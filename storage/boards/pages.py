"""Pages and ranks of an in-memory board (storage/boards.py), with the same
answers as the SQL paths of storage/tops.py and storage/window_tops.py.

Each function runs on a reader connection inside one read transaction: it holds
the board's lock, brings the board to that snapshot, reads the order from memory
and the profiles from SQL by id, so scores and profiles agree.

A window board holds only profiles with a nonzero score. Its order has three
segments: positive scores, then every other open profile of the scope at 0 by
profile id (read from the `open_by_vp*` indexes, skipping members), then the
negative scores.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from schemas.profiles import Profile
from storage.boards.base import Board, Stale, rows_in
from storage.boards.ranking import score_of, vp_of
from storage.engine.base import Conn
from storage.ids import pad
from storage.queries import tops, windows
from storage.queries.profiles import COLUMNS, to_profile
from storage.queries.top_segments import Position, chunk, start, walk_zeros
from storage.queries.tops import Scope

__all__ = ["board_chunk", "board_page", "board_rank"]


def _profiles(conn: Conn, board: Board, keys: list[int]) -> list[tuple[int, Profile]]:
    vps = [f"{vp_of(k):064x}" for k in keys]
    found = {
        row[0]: to_profile(row)
        for row in rows_in(conn, f"SELECT {COLUMNS} FROM accounts", "vp_id", vps)
    }
    report = board.report
    return [(report(score_of(k)), found[vp]) for k, vp in zip(keys, vps, strict=True)]


@contextmanager
def _trusted(board: Board) -> Iterator[None]:
    """A board that disagrees with the database (a member without its profile row,
    an open profile that is no member) must never answer: it is dropped, Stale
    sends the read to SQL, and the registry rebuilds it later."""
    try:
        yield
    except (KeyError, ValueError, IndexError, AssertionError) as exc:
        board.broken = True
        raise Stale(f"board disagrees with the database: {exc!r}", fault=True) from exc


def _zeros(
    conn: Conn, board: Board, guild_id: int | None, skip: int, take: int
) -> list[tuple[int, Profile]]:
    """Open profiles of the scope that are not members, by profile id, from the
    `skip`-th on: a walk of the profile-id index that steps over the members."""
    ranking = board.ranking
    found, _, _ = walk_zeros(conn, Scope.of(guild_id), ranking.__contains__, "", skip, take)
    return found


class _Members:
    """A board's members in one scope, at the board's current snapshot: the ranked
    list of a streamed top (storage/top_segments.py)."""

    def __init__(self, board: Board, guild_id: int | None) -> None:
        self.board = board
        self.scope = Scope.of(guild_id)
        self.every_profile = board.every_profile
        ranking = board.ranking
        self.guild = None if guild_id is None else board.guild_if_known(pad(guild_id))
        unknown = guild_id is not None and self.guild is None
        self.size = 0 if unknown else ranking.count(self.guild)
        if self.every_profile or not self.size:
            self.positives = self.size
        else:
            self.positives = ranking.positives(self.guild)

    def __len__(self) -> int:
        return self.size

    def __contains__(self, account: int) -> bool:
        return account in self.board.ranking

    def entries(self, conn: Conn, first: int, stop: int) -> list[tuple[int, Profile]]:
        return _profiles(conn, self.board, self.board.ranking.slice(self.guild, first, stop))


def board_chunk(
    conn: Conn, board: Board, guild_id: int | None, at: Position | int, size: int
) -> tuple[list[tuple[int, Profile]], Position | None]:
    """The next `size` entries of a streamed top from `at` (a Position, or the
    offset the stream starts at), each chunk at the board's snapshot then: it goes
    on from where the last one stopped (a slice, or the zeros' walk from the last
    one sent), so no chunk counts the scope or walks past what was sent."""
    with board.lock, _trusted(board):
        board.synced(conn, windows.now())
        members = _Members(board, guild_id)
        if isinstance(at, int):
            zeros = 0 if board.every_profile else tops.count(conn, members.scope) - len(members)
            at = start(members, zeros, at)
        return chunk(conn, members, at, size)


def board_page(
    conn: Conn, board: Board, guild_id: int | None, limit: int, offset: int
) -> list[tuple[int, Profile]]:
    """Ranks offset+1 … offset+limit of the board in the scope."""
    with board.lock, _trusted(board):
        board.synced(conn, windows.now())
        ranking = board.ranking
        guild = None if guild_id is None else board.guild_if_known(pad(guild_id))
        members = 0 if guild_id is not None and guild is None else ranking.count(guild)
        if board.every_profile:
            if not members:
                return []
            return _profiles(conn, board, ranking.slice(guild, offset, offset + limit))
        pos = ranking.positives(guild) if members else 0
        end = offset + limit
        out = (
            _profiles(conn, board, ranking.slice(guild, offset, min(end, pos)))
            if offset < pos
            else []
        )
        at = max(offset, pos)
        if at >= end:
            return out
        total = tops.count(conn, Scope.of(guild_id))
        zeros = total - members
        if at < pos + zeros:
            take = min(end, pos + zeros) - at
            out += _zeros(conn, board, guild_id, at - pos, take)
            at += take
        if at < end and at < total:
            first = at - zeros  # position among members
            out += _profiles(conn, board, ranking.slice(guild, first, first + min(end, total) - at))
        return out


def board_rank(conn: Conn, board: Board, guild_id: int, vp: str) -> tuple[int, int, int] | None:
    """(rank, score, total) of an open profile in its guild; None if it is not one."""
    with board.lock, _trusted(board):
        board.synced(conn, windows.now())
        row = conn.execute("SELECT id FROM accounts WHERE vp_id = ? AND open = 1", (vp,)).fetchone()
        if row is None:
            return None
        account = row[0]
        ranking = board.ranking
        guild = board.guild_if_known(pad(guild_id))
        if board.every_profile:
            assert guild is not None  # every open profile is a member
            return (
                ranking.position(account, guild) + 1,
                board.report(ranking.score(account) or 0),
                ranking.count(guild),
            )
        total = tops.count(conn, Scope.of(guild_id))
        members = 0 if guild is None else ranking.count(guild)
        score = ranking.score(account)
        if score is not None:
            ahead = ranking.position(account, guild)
            if score < 0:
                ahead += total - members  # the zeros come first
            return ahead + 1, score, total
        scope = Scope.of(guild_id)
        before = conn.execute(
            f"SELECT count(*) FROM accounts WHERE {scope.where} AND vp_id < ?",
            (*scope.params, vp),
        ).fetchone()[0]
        positives = 0 if guild is None else ranking.positives(guild)
        members_before = 0 if guild is None else ranking.members_before(guild, int(vp, 16))
        return positives + before - members_before + 1, 0, total
