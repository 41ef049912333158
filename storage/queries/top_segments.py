"""Streaming a whole top in three segments, each chunk a seek.

A top that ranks only some profiles (a window ranks those with a nonzero score)
reads in three segments: the ranked ones before the zeros (positive scores), every
other open profile of the scope at 0 by profile id, then the ranked ones after the
zeros (negative scores). A stream keeps a `Position` in them, so each chunk goes on
from where the last one stopped: a slice of the ranked list, or a walk of the
profile-id index from the last zero sent. Nothing is counted or skipped per chunk,
so a whole stream costs about what it sends (a chunk found by offset would walk
past everything before it, N²/chunk in all).

The ranked list is a `Ranked`: a board's ranking (storage/board_reads.py) or an
order computed once for the request (storage/ordered_tops.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol

from schemas.profiles import Profile
from storage.boards.base import CHUNK, rows_in
from storage.engine.base import Conn
from storage.queries.profiles import COLUMNS, to_profile
from storage.queries.tops import Scope

__all__ = ["Position", "Ranked", "chunk", "start", "walk_zeros"]


class Ranked(Protocol):
    scope: Scope
    positives: int  # the first `positives` ranked come before the zeros
    every_profile: bool  # every open profile of the scope is ranked: no zeros

    def __len__(self) -> int: ...

    def __contains__(self, account: int) -> bool: ...

    def entries(self, conn: Conn, first: int, stop: int) -> list[tuple[int, Profile]]:
        """(score, profile) of ranked positions first … stop-1 (fewer if some were
        deleted since the ranking was read)."""
        ...


class Position(NamedTuple):
    segment: int  # 0: ranked, before the zeros; 1: the zeros; 2: ranked, after them
    nth: int  # next position in the ranked list (segments 0 and 2)
    after: str = ""  # segment 1: the last profile id walked past ("" before the first)
    skip: int = 0  # segment 1: zeros still to pass before the first one sent (an offset)


def start(ranked: Ranked, zeros: int, offset: int) -> Position:
    """Where rank `offset + 1` is, given the number of `zeros` in the scope."""
    if offset < ranked.positives:
        return Position(0, offset)
    if offset - ranked.positives < zeros:
        return Position(1, ranked.positives, "", offset - ranked.positives)
    return Position(2, offset - zeros)


def walk_zeros(
    conn: Conn,
    scope: Scope,
    ranked: Callable[[int], bool],
    after: str,
    skip: int,
    take: int,
) -> tuple[list[tuple[int, Profile]], str, bool]:
    """Up to `take` open profiles of the scope whose account is not `ranked`, by
    profile id after `after`, the first `skip` of them passed over. Returns them,
    the last id walked past and whether the scope ended.

    The walk reads the profile-id index alone (it holds the account id), then the
    rows of the zeros by id: a ranked profile costs an index entry, not its row.
    Batches start at what is asked and double while ranked profiles crowd the walk,
    so it reads about what it sends."""
    zeros: list[int] = []
    limit, ended = take + skip, False
    while len(zeros) < take and not ended:
        limit = min(CHUNK, max(16, limit))
        rows = conn.execute(
            f"SELECT id, vp_id FROM accounts WHERE {scope.where} AND vp_id > ?"
            " ORDER BY vp_id LIMIT ?",
            (*scope.params, after, limit),
        ).fetchall()
        ended = len(rows) < limit
        for account, vp in rows:
            after = vp
            if ranked(account):
                continue
            if skip:
                skip -= 1
                continue
            zeros.append(account)
            if len(zeros) == take:
                ended = False  # stopped inside the batch: the scope may go on
                break
        limit *= 2
    found = {
        row[0]: to_profile(row[1:])
        for row in rows_in(conn, f"SELECT id, {COLUMNS} FROM accounts", "id", zeros)
    }
    return [(0, found[a]) for a in zeros], after, ended


def chunk(
    conn: Conn, ranked: Ranked, at: Position, size: int
) -> tuple[list[tuple[int, Profile]], Position | None]:
    """The next `size` entries of the top from `at` and the position after them
    (None at the end)."""
    out: list[tuple[int, Profile]] = []
    pos: Position | None = at
    while pos is not None and len(out) < size:
        need = size - len(out)
        if pos.segment == 1:
            found, after, ended = walk_zeros(
                conn, ranked.scope, ranked.__contains__, pos.after, pos.skip, need
            )
            out += found
            pos = Position(2, ranked.positives) if ended else Position(1, pos.nth, after)
            continue
        if pos.segment == 0:
            first, end = pos.nth, ranked.positives
        else:  # a board's positives may have grown since: never send them again
            first, end = max(pos.nth, ranked.positives), len(ranked)
        stop = min(end, first + need)
        out += ranked.entries(conn, first, stop)
        if stop < end:
            pos = Position(pos.segment, stop)
        elif pos.segment == 0:
            pos = Position(2, stop) if ranked.every_profile else Position(1, stop)
        else:
            pos = None
    return out, pos
