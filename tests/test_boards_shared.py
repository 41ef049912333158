"""The host's boards kept by one process (storage/boards/shared.py), seen from inside:
an asker gets the keeper's answers, typed as its own would be; when the keeper goes,
the asker keeps the boards itself. Two SharedBoards on one database in one event
loop stand for two processes (a flock taken through one descriptor is refused to
another, even in the same process). tests/test_workers_boards.py does the same with
real server processes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from schemas.profiles import Pray, Profile, Text
from storage.boards.shared import SharedBoards
from storage.queries.top_segments import Position


def _profile(n: int) -> Profile:
    return Profile(
        f"{n:064x}",
        "9",
        str(n),
        10 * n,
        n,
        1,
        Pray(),
        Text(1, 2, 3),
        {"week": 60},
        {"k": [n]},
        1.5,
        2.5,
    )


class Answers:
    """Stands for one process's BoardReads: every read answered with who answered."""

    def __init__(self, who: int) -> None:
        self.who = who
        self.asked: list[tuple[str, tuple[Any, ...]]] = []

    async def page(self, *args: Any) -> Any:
        self.asked.append(("page", args))
        return [(self.who, _profile(1)), (-3, _profile(2))]

    async def chunk(self, *args: Any) -> Any:
        self.asked.append(("chunk", args))
        return [(self.who, _profile(3))], Position(1, 4, "ab", 2)

    async def rank(self, *args: Any) -> Any:
        self.asked.append(("rank", args))
        return self.who, 5, 6

    async def stats(self, *args: Any) -> Any:
        self.asked.append(("stats", args))
        return {"profiles": self.who, "guilds": None}

    async def flow(self, *args: Any) -> Any:
        self.asked.append(("flow", args))
        return [(1.5, self.who)] if self.who == 1 else None


def _pair(tmp_path: Path) -> tuple[Answers, SharedBoards, Answers, SharedBoards]:
    db = tmp_path / "boards.db"
    first, second = Answers(1), Answers(2)
    return first, SharedBoards(first, db), second, SharedBoards(second, db)  # type: ignore[arg-type]


async def test_an_asker_gets_the_keepers_answers_typed_as_its_own(tmp_path: Path) -> None:
    first, keeper, second, asker = _pair(tmp_path)
    await keeper.start()
    await asker.start()
    try:
        assert keeper.keeping and not asker.keeping
        at = Position(0, 7)
        assert await asker.page("points", "week", 9, 10, 20) == await first.page()
        assert await asker.chunk("points", None, None, at, 2) == await first.chunk()
        assert await asker.chunk("points", None, 9, 40, 2) == await first.chunk()
        assert await asker.rank("levels", None, 9, "ab") == (1, 5, 6)
        assert await asker.stats(None) == {"profiles": 1, "guilds": None}
        assert await asker.flow(1.0, None, "hour") == [(1.5, 1)]
        # The keeper was asked exactly what the asker was, with its types.
        asked = [a for a in first.asked if a[1]]
        assert asked == [
            ("page", ("points", "week", 9, 10, 20)),
            ("chunk", ("points", None, None, at, 2)),
            ("chunk", ("points", None, 9, 40, 2)),
            ("rank", ("levels", None, 9, "ab")),
            ("stats", (None,)),
            ("flow", (1.0, None, "hour")),
        ]
        assert isinstance(asked[1][1][3], Position)
        assert second.asked == []
    finally:
        await asker.close()
        await keeper.close()


async def test_none_from_the_keeper_is_none_for_the_asker(tmp_path: Path) -> None:
    _, keeper, second, asker = _pair(tmp_path)
    keeper.local = Answers(2)  # type: ignore[assignment]  # answers no flow
    await keeper.start()
    await asker.start()
    try:
        assert await asker.flow(1.0, 2.0, "day") is None
        assert second.asked == []  # None means the asker's SQL answers, not its boards
    finally:
        await asker.close()
        await keeper.close()


@pytest.mark.parametrize("how", ["stops", "hangs up"])
async def test_when_the_keeper_goes_the_asker_keeps_the_boards(tmp_path: Path, how: str) -> None:
    _, keeper, second, asker = _pair(tmp_path)
    await keeper.start()
    await asker.start()
    try:
        assert (await asker.rank("points", None, 9, "ab"))[0] == 1  # type: ignore[index]
        if how == "stops":
            await keeper.close()
        else:  # its process died: the lock and listener go, the socket file stays
            assert keeper._server is not None and keeper._lease.held
            keeper._server.close()
            for writer in keeper._askers:
                writer.close()
            await asyncio.sleep(0)
            keeper._lease.release()  # closes the lock file: the flock goes with it
            keeper._server = None
        assert (await asker.rank("points", None, 9, "ab"))[0] == 2
        assert asker.keeping
        assert second.asked == [("rank", ("points", None, 9, "ab"))]
    finally:
        await asker.close()
        await keeper.close()


async def test_a_keeper_that_does_not_answer_in_time_costs_one_sql_answer(
    tmp_path: Path,
) -> None:
    first, keeper, second, asker = _pair(tmp_path)
    stuck = asyncio.Event()

    async def slow(*args: Any) -> Any:
        await stuck.wait()

    first.page = slow  # type: ignore[method-assign]
    asker.timeout = 0.2
    await keeper.start()
    await asker.start()
    try:
        assert await asker.page("points", None, None, 5, 0) is None
        assert not asker.keeping and second.asked == []
        assert await asker.stats(7) == {"profiles": 1, "guilds": None}  # and it asks again
    finally:
        stuck.set()
        await asker.close()
        await keeper.close()


async def test_a_process_that_is_closing_does_not_keep_the_boards(tmp_path: Path) -> None:
    """A read still running in the drain, after the keeper went, answers by SQL: the
    closing process must not take the lock a live one should get."""
    _, keeper, second, asker = _pair(tmp_path)
    await keeper.start()
    await asker.start()
    await asker.close()
    await keeper.close()
    assert await asker.stats(None) is None
    assert not asker.keeping and second.asked == []
    later, answers = SharedBoards(Answers(3), tmp_path / "boards.db"), None  # type: ignore[arg-type]
    try:
        await later.start()
        answers = await later.stats(None)
    finally:
        await later.close()
    assert answers == {"profiles": 3, "guilds": None}  # the lock was left free
