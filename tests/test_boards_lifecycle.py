"""How the in-memory leaderboards (storage/boards.py) are built, rebuilt and dropped: behind
a pruned feed, the writer's pruning, answering by SQL until built (background mode), an
unknown mode, a failing or disagreeing board, the real server under concurrent transfers,
and an unused board dropped after its idle time."""

from __future__ import annotations

import dataclasses
import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.boards import registry as board_registry
from storage.boards.values import PointsBoard
from storage.clock import ManualClock
from storage.ids import vp_id
from storage.queries import feeds
from tests import backend
from tests.boards_helpers import _pairs, compare, two_servers
from tests.conftest import Server
from tests.tops_world import new_database


def test_boards_behind_a_pruned_feed_are_rebuilt() -> None:
    """Feed rows go after feeds.KEEP_SECONDS; a board that had not read them
    rebuilds from the tables instead of missing what they said."""
    with two_servers() as (boards, sql, h, _clock):
        add = {"experience": 3, "timespent": {"global": 60}}
        boards.patch("/profile/5/1/add", json=add, headers=h)
        compare(boards, sql, h, "built")
        registry = boards.app.state.services.boards
        before = dict(registry._ready)
        boards.patch("/profile/5/2/add", json=add, headers=h)  # unread by the boards
        boards.post("/profile/5/3", json={"voicepoints": 4}, headers=h)
        conn = backend.connect(boards.app.state.settings.db)
        last = {f: conn.execute(f"SELECT max(seq) FROM {f}").fetchone()[0] for f in feeds.FEEDS}
        for feed, seq in last.items():  # all but the newest row, from any connection
            feeds.prune_upto(conn, feed, seq)
        upto = dict(conn.execute("SELECT feed, upto FROM feed_pruned"))
        assert upto == {f: seq - 1 for f, seq in last.items()}
        conn.close()
        compare(boards, sql, h, "after the prune")
        rebuilt = [k for k, b in before.items() if registry._ready[k] is not b]
        assert set(rebuilt) == set(before) - {board_registry.FLOW}  # it reads no feed
        top = boards.get("/profile/5/top", params={"by": "time", "timeframe": "day"}, headers=h)
        assert [e["score"] for e in top.json()] == [60, 60, 0]


def test_the_writer_prunes_feed_rows_older_than_their_retention() -> None:
    with two_servers(feed_keep_seconds=10, prune_every=0) as (boards, _, h, clock):
        for user in (1, 2, 3):  # each write, 20 s apart, prunes the rows > 10 s old
            boards.patch(f"/profile/5/{user}/add", json={"experience": 1}, headers=h)
            clock.advance(20)
        conn = backend.connect(boards.app.state.settings.db)
        assert conn.execute("SELECT count(*) FROM activity_feed").fetchone()[0] == 1
        assert (
            conn.execute("SELECT upto FROM feed_pruned WHERE feed = 'activity_feed'").fetchone()[0]
            == 2
        )
        conn.close()


def test_background_mode_answers_by_sql_until_the_board_is_built(tmp_path: Path) -> None:
    path, h = new_database(tmp_path)
    settings = Settings(db=backend.target(path), key_cache_seconds=0.0)
    with TestClient(create_app(settings)) as client:
        for user, points in ((1, 5), (2, 9), (3, 5)):
            client.post(f"/profile/5/{user}", json={"voicepoints": points}, headers=h)
        registry = client.app.state.services.boards
        first = client.get("/profile/5/top", headers=h).json()  # SQL; starts the build
        for _ in range(200):
            if registry._ready:
                break
            time.sleep(0.01)
        assert registry._ready, "the points board was never built"
        client.post("/profile/5/4", json={"voicepoints": 7}, headers=h)
        second = client.get("/profile/5/top", headers=h).json()  # the board, caught up
        assert [e["score"] for e in first] == [9, 5, 5]
        assert [e["score"] for e in second] == [9, 7, 5, 5]


@pytest.mark.parametrize("mode", ["sometimes", "never"])
def test_unknown_boards_mode_is_refused(mode: str) -> None:
    with pytest.raises(SystemExit):
        Settings.from_env({"VOICEPROFILE_BOARDS": mode})


def test_a_failing_board_is_not_rebuilt_on_every_read(tmp_path: Path) -> None:
    """A sync that fails drops the board and SQL answers; the board is built again
    only after board_retry_seconds, not on each request."""
    path, h = new_database(tmp_path)
    clock = ManualClock()
    settings = Settings(db=backend.target(path), boards="sync", board_retry_seconds=60)
    with TestClient(create_app(settings, clock=clock)) as client:
        client.post("/profile/5/1", json={"voicepoints": 3}, headers=h)
        registry = client.app.state.services.boards
        assert client.get("/profile/5/top", headers=h).json()[0]["score"] == 3
        built = []
        original = registry._build
        registry._build = lambda key: (built.append(key), original(key))[1]
        with mock.patch.object(PointsBoard, "scores_changed", side_effect=sqlite3.OperationalError):
            for _ in range(3):
                assert client.get("/profile/5/top", headers=h).json()[0]["score"] == 3
        assert built == []  # dropped after the fault, not rebuilt at once
        clock.advance(59)
        assert client.get("/profile/5/top", headers=h).json()[0]["score"] == 3
        assert built == []
        clock.advance(2)
        assert client.get("/profile/5/top", headers=h).json()[0]["score"] == 3
        assert built == [("points", None)]


def test_a_board_that_disagrees_with_the_database_never_answers(tmp_path: Path) -> None:
    """A member whose profile row is missing (a board bug, or a file changed behind
    the server's back) sends the read to SQL instead of a 500 or a wrong answer."""
    path, h = new_database(tmp_path)
    with TestClient(create_app(Settings(db=backend.target(path), boards="sync"))) as client:
        for user in (1, 2):
            client.post(f"/profile/5/{user}", json={"voicepoints": user}, headers=h)
        assert [e["score"] for e in client.get("/profile/5/top", headers=h).json()] == [2, 1]
        board = client.app.state.services.boards._ready[("points", None)]
        board.ranking.put(999, 0, 12345, 7)  # a member the database does not have
        assert [e["score"] for e in client.get("/profile/5/top", headers=h).json()] == [2, 1]
        assert board.broken
        assert client.get("/profile/5/1/rank", headers=h).json() == {
            "rank": 2,
            "score": 1,
            "total": 2,
        }


@pytest.mark.server
def test_the_real_server_boards_follow_concurrent_transfers(server: Server) -> None:
    """The served process, boards in their default (background) mode: tops and ranks
    read while 4 clients transfer agree, once the writes stop, with the balances.
    Bounded: 4 x 50 transfers and about as many reads."""
    with server.client() as admin:
        key = admin.post("/keys", json={"name": "b", "bot_id": "4242"}).json()["key"]
    users = range(1, 6)
    with server.client(key) as c:
        for user in users:
            assert c.post(f"/profile/9/{user}", json={"voicepoints": 100}).status_code == 201
        for params in ({}, {"timeframe": "day"}):  # starts the builds
            assert c.get("/profile/9/top", params={"by": "points", **params}).status_code == 200

    def transfers(n: int) -> None:
        rng = random.Random(n)
        with server.client(key) as c:
            for _ in range(50):
                a, b = rng.sample(list(users), 2)
                body = {"from": vp_id(9, a), "to": vp_id(9, b), "amount": rng.randint(1, 40)}
                assert c.post("/transaction", json=body).status_code in (201, 409)

    threads = [threading.Thread(target=transfers, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    with server.client(key) as c:
        while any(t.is_alive() for t in threads):
            top = c.get("/profile/9/top", params={"amount": 0, "timeframe": "day"})
            assert top.status_code == 200
            assert [e["rank"] for e in top.json()] == list(range(1, 6))
            assert sum(e["score"] for e in top.json()) == 500  # transfers move, never mint
        for t in threads:
            t.join(60)
        time.sleep(1)  # the background builds are done by now (5 profiles)
        balances = {p["id"]: p["voicepoints"] for p in c.get("/profile/9").json()}
        want = sorted(((b, vp) for vp, b in balances.items()), key=lambda t: (-t[0], t[1]))
        for params in ({}, {"timeframe": "day"}):
            got = c.get("/profile/9/top", params={"amount": 0, **params}).json()
            assert _pairs(got) == want, params
            for rank, (score, vp) in enumerate(want, 1):
                user = next(u for u in users if vp_id(9, u) == vp)
                found = c.get(f"/profile/9/{user}/rank", params=params).json()
                assert found == {"rank": rank, "score": score, "total": 5}
        assert len(c.get("/profile/9", params={"limit": 0}).json()) == 5


def test_an_unused_board_is_dropped_after_idle_seconds_of_the_servers_clock(
    settings: Settings, make_key: Any
) -> None:
    """Memory goes to the tops in use: a board nobody read for BOARD_IDLE_SECONDS
    (on the server's one clock) is dropped; one read meanwhile stays."""
    clock = ManualClock()
    idle = dataclasses.replace(settings, board_idle_seconds=600.0)
    with TestClient(create_app(idle, clock=clock)) as client:
        auth = make_key()
        boards = client.app.state.services.boards
        assert client.post("/profile/1/2", json={"voicepoints": 5}, headers=auth).status_code == 201
        assert (
            client.get("/profile/1/top", params={"by": "points"}, headers=auth).status_code == 200
        )
        clock.advance(599)
        assert client.get("/stats", headers=auth).status_code == 200
        assert {"points", "stats"} <= set(boards.sizes())
        clock.advance(2)  # points: 601 s unused; stats: 2 s
        assert client.get("/stats", headers=auth).status_code == 200
        assert set(boards.sizes()) == {"stats"}
