"""Reads cannot starve the server (issue 10, finding 4): the answers and the work.

A whole top that no index orders (a window answered by SQL, `points` without a
board) is ranked once per request, not once per chunk, so a stream costs about
linear work in what it sends. The streamed answers stay exactly those of a
page read in one go and of the in-memory boards. That heavy reads leave readers
for cheap ones, and that the pool is fair, is in test_heavy_reads_readers.py."""

from __future__ import annotations

import random
from unittest import mock

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from storage.queries import top_segments
from tests.boards_helpers import two_servers
from tests.heavy_reads_helpers import GUILD, WINDOWED, T, _on_readers, _populate

# -- 1. the same answers ---------------------------------------------------------------


def _windows(rnd: random.Random) -> list[dict]:
    since = rnd.choice([T + 50, T + 0.5, T + 3600])
    return [
        {"since": since},
        {"since": T - 10, "until": rnd.choice([T + 50, T + 2 * 3600 + 1])},
        {"until": T + 150},
        {"timeframe": "day"},
        {"timeframe": "week"},
        {"timeframe": "month"},
        {"timeframe": rnd.choice(["this-week", "this-month"])},  # calendar boards stream too
    ]


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(8, 40))
def test_sql_streams_answer_like_a_page_and_like_the_boards(seed: int, n: int) -> None:
    """Every windowed top (and `points` of all time) streamed by SQL, chunk of 3 by
    chunk of 3 from any offset, equals the page read in one request and the board's
    stream (a timeframe), entry for entry: ranks, scores, ties by profile id, the
    zeros, the negatives."""
    note(f"seed={seed}")
    rnd = random.Random(seed)
    with (
        two_servers(stream_chunk=3) as (boards, sql, h, clock),
        mock.patch.object(top_segments, "CHUNK", 2),  # the zero walks' batches, too
    ):
        _populate(boards, h, clock, n, seed)
        clock.set(T + 3 * 3600)
        cases = [("points", {})] + [(by, w) for by in WINDOWED for w in _windows(rnd)]
        for by, window in cases:
            for path in ("/profile/top", f"/profile/{GUILD}/top"):
                params = {"by": by, **window}
                whole = sql.get(path, params={**params, "amount": 10**6}, headers=h).json()
                assert whole, (path, params)
                offsets = {0, 1, len(whole) - 1, len(whole), len(whole) + 2}
                offsets |= {rnd.randrange(len(whole)) for _ in range(3)}
                for offset in sorted(offsets):
                    query = {**params, "amount": 0, "offset": offset}
                    streamed = sql.get(path, params=query, headers=h).json()
                    assert streamed == whole[offset:], (path, query)
                    from_boards = boards.get(path, params=query, headers=h).json()
                    assert from_boards == streamed, (path, query)


# -- 2. linear work ----------------------------------------------------------------------


class Steps:
    """SQLite VM steps on the server's reader connections (a progress handler)."""

    def __init__(self) -> None:
        self.count = 0

    def tick(self) -> int:
        self.count += 1
        return 0


def _stream_steps(mode: str, n: int, by: str, window: dict) -> tuple[int, int]:
    """(VM steps of one whole streamed top of `n` profiles, entries sent)."""
    with two_servers(stream_chunk=25) as (boards, sql, h, clock):
        client = boards if mode == "sync" else sql
        _populate(boards, h, clock, n)
        clock.set(T + 3 * 3600)
        params = {"by": by, **window}
        client.get(f"/profile/{GUILD}/top", params=params, headers=h)  # builds a board
        steps = Steps()
        _on_readers(client, lambda raw: raw.set_progress_handler(steps.tick, 100))
        got = client.get(f"/profile/{GUILD}/top", params={**params, "amount": 0}, headers=h)
        _on_readers(client, lambda raw: raw.set_progress_handler(None, 0))
        assert got.status_code == 200
        return steps.count, len(got.json())


# sqlite_only: the work is counted in SQLite's VM steps (its progress handler).
@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("mode", "by", "window"),
    [
        ("off", "points", {"since": T + 50}),  # the ledger, since/until: SQL always
        ("off", "levels", {"timeframe": "week"}),  # activity, boards off (or building)
        ("off", "points", {}),  # all time without a board
        ("sync", "time", {"timeframe": "week"}),  # a board: the zeros walk
    ],
)
def test_a_whole_stream_costs_linear_work(mode: str, by: str, window: dict) -> None:
    """Four times the profiles cost about four times the work (a chunk per 25
    profiles), not sixteen times as when each chunk recomputed the window."""
    small_steps, small = _stream_steps(mode, 300, by, window)
    big_steps, big = _stream_steps(mode, 1200, by, window)
    assert big > 3.5 * small
    ratio = big_steps / small_steps
    print(f"{small_steps} -> {big_steps} VM steps/100: x{ratio:.1f}")
    assert ratio < 7, (small_steps, big_steps, ratio)
