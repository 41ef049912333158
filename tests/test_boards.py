"""The in-memory leaderboards (storage/boards.py) catch up with every kind of change
and answer exactly what SQL answers.

One database, two in-process servers: one with boards (`sync`), which makes every
write, and one without (`off`), which only reads. Between random writes — profiles
created, deleted and re-created, guild imports, transfers, activity, the clock moving windows
on — every board-served top and rank is compared between the two. The SQL
answers are themselves checked against plain sorts and ledger replays in
test_tops.py and test_tops_windows.py.
"""

from __future__ import annotations

import dataclasses
import random
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sortedcontainers import SortedList

from app.config import Settings
from app.main import create_app
from storage.boards import registry as board_registry
from storage.boards.ranking import Ranking
from storage.boards.values import PointsBoard
from storage.clock import ManualClock
from storage.ids import vp_id
from storage.queries import feeds
from tests import backend
from tests.conftest import Server
from tests.tops_world import new_database

GUILDS = (5, 6)
USERS = range(1, 7)
T = 480_000 * 3600  # a whole hour, in 2024
BOARD_TOPS = [
    ("points", None),
    ("levels", None),  # ranks only
    ("experience", None),  # tops and ranks: no index orders it
    ("text-level", None),  # ranks only
    ("points", "day"),
    ("points", "week"),
    ("levels", "day"),
    ("experience", "week"),
    ("time", "week"),
    ("text-message", "month"),
    ("points", "last-week"),  # calendar periods: rebuilt when theirs ends
    ("levels", "this-month"),
    ("time", "last-month"),
]


@contextmanager
def two_servers(
    **options: Any,
) -> Iterator[tuple[TestClient, TestClient, dict[str, str], ManualClock]]:
    """(with boards, without boards, key, clock) on one fresh database."""
    clock = ManualClock(float(T))
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        path, headers = new_database(Path(tmp))
        stack.callback(backend.drop, path)  # one per hypothesis example: not kept
        db = backend.target(path)
        clients = [
            stack.enter_context(
                TestClient(
                    create_app(
                        Settings(db=db, key_cache_seconds=0.0, boards=mode, **options),
                        clock=clock,
                    )
                )
            )
            for mode in ("sync", "off")
        ]
        yield clients[0], clients[1], headers, clock


def _pairs(body: list[dict]) -> list[tuple[int, str]]:
    return [(e["score"], e["profile"]["id"]) for e in body]


def compare_tops(boards: TestClient, sql: TestClient, h: dict[str, str], where: str) -> None:
    """Every board's whole global top: cheap enough after each step, and it makes
    the boards catch up step by step, as a busy server's would."""
    for by, timeframe in BOARD_TOPS:
        params = {"by": by, "amount": 0, **({} if timeframe is None else {"timeframe": timeframe})}
        want = sql.get("/profile/top", params=params, headers=h).json()
        got = boards.get("/profile/top", params=params, headers=h).json()
        assert _pairs(got) == _pairs(want), (where, by, timeframe)
    for params in ({}, *({"guild_id": g} for g in GUILDS)):
        stats = sql.get("/stats", params=params, headers=h).json()
        assert boards.get("/stats", params=params, headers=h).json() == stats, (where, params)


def compare(boards: TestClient, sql: TestClient, h: dict[str, str], where: str) -> None:
    profiles = sql.get("/profile", params={"limit": 0}, headers=h).json()
    for bucket in ("minute", "hour", "day"):  # the economy's graph: the flow board
        for window in ({}, {"from": T + 0.5}, {"from": T + 1800.25, "to": T + 86400 + 59.5}):
            params = {"bucket": bucket, **window}
            want = sql.get("/stats/balance_graph", params=params, headers=h).json()
            got = boards.get("/stats/balance_graph", params=params, headers=h).json()
            assert got == want, (where, params)
    for guild in (*GUILDS, 99):
        want = sql.get("/stats", params={"guild_id": guild}, headers=h).json()
        assert boards.get("/stats", params={"guild_id": guild}, headers=h).json() == want, where
    for by, timeframe in BOARD_TOPS:
        params = {"by": by} if timeframe is None else {"by": by, "timeframe": timeframe}
        for guild in (None, *GUILDS):
            path = "/profile/top" if guild is None else f"/profile/{guild}/top"
            for extra in ({"amount": 0}, {"amount": 2, "offset": 1}, {"amount": 3, "offset": 4}):
                want = sql.get(path, params={**params, **extra}, headers=h)
                got = boards.get(path, params={**params, **extra}, headers=h)
                assert got.status_code == want.status_code == 200
                assert _pairs(got.json()) == _pairs(want.json()), (where, by, timeframe, guild)
                assert [e["rank"] for e in got.json()] == [e["rank"] for e in want.json()]
        for p in profiles:
            rank = f"/profile/{p['guild_id']}/{p['user_id']}/rank"
            want = sql.get(rank, params=params, headers=h).json()
            assert boards.get(rank, params=params, headers=h).json() == want, (where, by, p)


steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("create"), st.sampled_from(GUILDS), st.sampled_from(USERS), st.integers(0, 9)
        ),
        st.tuples(
            st.just("transfer"),
            st.sampled_from(GUILDS),
            st.sampled_from(USERS),
            st.sampled_from(USERS),
            st.integers(1, 6),
        ),
        st.tuples(st.just("delete"), st.sampled_from(GUILDS), st.sampled_from(USERS)),
        st.tuples(
            st.just("add"),
            st.sampled_from(GUILDS),
            st.sampled_from(USERS),
            st.integers(0, 5),
            st.integers(0, 90),
        ),
        st.tuples(
            st.just("set"),
            st.sampled_from(GUILDS),
            st.sampled_from(USERS),
            st.integers(0, 3),
            st.integers(0, 5),
            st.integers(0, 2) | st.none(),
        ),
        st.tuples(  # a guild import: profiles created, set, re-opened, balances moved
            st.just("import"),
            st.sampled_from(GUILDS),
            st.lists(
                st.tuples(
                    st.sampled_from(USERS),
                    st.integers(0, 5),
                    st.integers(0, 3),
                    st.integers(0, 9) | st.none(),
                    st.integers(0, 4) | st.none(),
                ),
                max_size=4,
            ),
        ),
        st.tuples(
            st.just("tick"),
            st.sampled_from([1, 1800, 3600, 86400 - 1, 86400, 6 * 86400, 20 * 86400]),
        ),
        st.tuples(st.just("check")),
    ),
    min_size=1,
    max_size=25,
)


def _apply(client: TestClient, h: dict[str, str], clock: ManualClock, step: tuple) -> None:
    kind, *args = step
    if kind == "create":
        guild, user, points = args
        client.post(f"/profile/{guild}/{user}", json={"voicepoints": points}, headers=h)
    elif kind == "transfer":
        guild, a, b, amount = args
        body = {
            "from": {"guild_id": guild, "user_id": a},
            "to": {"guild_id": GUILDS[0], "user_id": b},
            "amount": amount,
        }
        assert client.post("/transaction", json=body, headers=h).status_code in (201, 404, 409, 422)
    elif kind == "delete":
        guild, user = args
        client.delete(f"/profile/{guild}/{user}", headers=h)
    elif kind == "add":
        guild, user, xp, seconds = args
        body = {"experience": xp, "timespent": {"global": seconds}, "text": {"message_count": xp}}
        client.patch(f"/profile/{guild}/{user}/add", json=body, headers=h)
    elif kind == "set":  # may lower values: windows keep what was gained, tops follow
        guild, user, level, xp, text_level = args
        body = {"level": level, "experience": xp}
        if text_level is not None:
            body["text"] = {"level": text_level, "experience": xp}
        client.patch(f"/profile/{guild}/{user}", json=body, headers=h)
    elif kind == "import":
        guild, members = args
        lines = ["user_id,experience,level,voicepoints,message_count"]
        for user, xp, level, points, messages in members:
            lines.append(f"{user},{xp},{level},{'' if points is None else points},{messages or ''}")
        r = client.post(
            f"/profile/{guild}/import?source=csv",
            content="\n".join(lines).encode(),
            headers={**h, "content-type": "text/csv"},
        )
        assert r.status_code in (200, 409), r.text  # 409: the treasury cannot pay
    elif kind == "tick":
        clock.advance(args[0])


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_boards_catch_up_with_every_change_and_answer_like_sql(steps: list[tuple]) -> None:
    with two_servers() as (boards, sql, h, clock):
        compare(boards, sql, h, "empty")  # builds every board before the changes
        for i, step in enumerate(steps):
            _apply(boards, h, clock, step)
            if step[0] == "check":
                compare(boards, sql, h, f"after step {i}")
            else:
                compare_tops(boards, sql, h, f"after step {i}")
        compare(boards, sql, h, "at the end")


def test_stats_count_an_entry_once_in_each_guild_it_touches() -> None:
    with two_servers() as (boards, sql, h, _clock):
        boards.post("/profile/5/1", json={"voicepoints": 5}, headers=h)  # a mint: guild 5
        boards.post("/profile/5/2", headers=h)
        boards.post("/profile/6/1", headers=h)
        compare(boards, sql, h, "before")  # builds the stats board
        for src, dst in (((5, 1), (5, 2)), ((5, 2), (6, 1))):
            body = {
                "from": {"guild_id": src[0], "user_id": src[1]},
                "to": {"guild_id": dst[0], "user_id": dst[1]},
                "amount": 1,
            }
            assert boards.post("/transaction", json=body, headers=h).status_code == 201
        boards.delete("/profile/6/1", headers=h)  # its voicepoint goes back: a 4th entry
        got = {g: boards.get("/stats", params={"guild_id": g}, headers=h).json() for g in (5, 6)}
        assert [got[5]["transactions"], got[6]["transactions"]] == [3, 2]
        assert [got[5]["profiles"], got[6]["profiles"], got[5]["voicepoints"]] == [2, 0, 4]
        compare(boards, sql, h, "after")


def test_the_economy_graph_from_memory_is_exact_at_partial_minutes() -> None:
    """Whole minutes come from the flow board, the minutes cut by `from`/`to` from
    SQL: an entry a fraction of a second outside the range must stay out."""
    with two_servers() as (boards, sql, h, clock):
        compare(boards, sql, h, "empty")  # builds the flow board
        for at, user, points in (
            (0, 1, 5),
            (0.4, 2, 3),  # before `from` below, in the same minute
            (0.6, 3, 7),
            (61, 1, 2),
            (3601, 2, 9),
            (3605, 3, 1),  # after `to` below, in the same minute
            (86400 * 2, 1, 4),
        ):
            clock.set(T + at)
            boards.post(f"/profile/5/{user}", json={"voicepoints": points}, headers=h)
        for bucket in ("minute", "hour", "day"):
            for window in ({}, {"from": T + 0.5}, {"from": T + 0.5, "to": T + 3603}):
                params = {"bucket": bucket, **window}
                want = sql.get("/stats/balance_graph", params=params, headers=h).json()
                got = boards.get("/stats/balance_graph", params=params, headers=h).json()
                assert got == want, params
                assert want["points"], params


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


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 2), st.integers(-5, 5)),
        max_size=60,
    )
)
def test_a_ranking_orders_like_a_sort(ops: list[tuple[int, int, int]]) -> None:
    """Puts and drops in any order leave every scope sorted by (-score, vp)."""
    ranking, want = Ranking(), {}
    for account, guild, score in ops:
        if score == 5:
            ranking.drop(account)
            want.pop(account, None)
        else:
            vp = (account * 2654435761) % 2**256
            guild = want.get(account, (0, guild, 0))[1]  # an account never changes guild
            ranking.put(account, guild, vp, score)
            want[account] = (score, guild, vp)
    for guild in (None, 0, 1, 2):
        rows = [(-s, vp, a) for a, (s, g, vp) in want.items() if guild is None or g == guild]
        order = [a for _, _, a in sorted(rows)]
        keys = ranking.slice(guild, 0, len(order) + 1)
        assert [ranking.score(a) for a in order] == [want[a][0] for a in order]
        assert len(keys) == len(order) == ranking.count(guild)
        assert [ranking.position(a, guild) for a in order] == list(range(len(order)))
        assert ranking.positives(guild) == sum(1 for a in order if want[a][0] > 0)
        assert SortedList(keys) == keys  # already in order


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
