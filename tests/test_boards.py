"""The in-memory leaderboards (storage/boards.py) catch up with every kind of change
and answer exactly what SQL answers.

One database, two in-process servers: one with boards (`sync`), which makes every
write, and one without (`off`), which only reads. Between random writes — profiles
created, deleted and re-created, guild imports, transfers, activity, the clock moving windows
on — every board-served top and rank is compared between the two. The SQL
answers are themselves checked against plain sorts and ledger replays in
test_tops.py and test_tops_windows.py. How boards are built, rebuilt and dropped is in
test_boards_lifecycle.py."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sortedcontainers import SortedList

from storage.boards.ranking import Ranking
from storage.clock import ManualClock
from tests.boards_helpers import GUILDS, USERS, T, compare, compare_tops, two_servers

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
