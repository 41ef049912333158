"""Random sequences of reputation commands, with time moving by random steps, keep
every limit in every window and the projection equal to a replay (SPEC §8).

Limits are checked on the resulting log, independently of how `ledger.reputation`
computes them: for every give, the gives its source made within the cooldown before
it (since that source's last cooldown reset), and the gives its target received in
the 24 h before it, stay within the settings.
"""

from __future__ import annotations

import contextlib
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import apply, reputation
from ledger.commands import (
    AdjustReputation,
    GiveReputation,
    ResetReputation,
    UpdateRepSettings,
)
from ledger.reputation import ReputationRefused
from storage.clock import ManualClock
from storage.engine.migrations import apply_migrations
from storage.engine.sqlite import connect
from storage.engine.writer import WriteContext
from storage.queries import reputation as reputation_reads
from tests.conftest import BOT

USERS = ["1", "2", "3", "4"]
DAY = reputation_reads.DAY_MS

commands = st.one_of(
    st.builds(GiveReputation, st.just(BOT), st.sampled_from(USERS), st.sampled_from(USERS)),
    st.builds(
        AdjustReputation, st.just(BOT), st.sampled_from(USERS), st.integers(-3, 3).filter(bool)
    ),
    st.builds(ResetReputation, st.just(BOT), st.sampled_from(USERS), st.booleans()),
)
steps = st.lists(st.tuples(st.sampled_from([0, 1, 299_999, 300_000, 3_600_000]), commands))


def _check_log(conn: sqlite3.Connection, per_day: int, cooldown_ms: int, daily: int, most: int):
    entries = conn.execute(
        "SELECT id, user_id, source_user, kind, reputation, ts, reset_cooldown"
        " FROM reputation_entries ORDER BY id"
    ).fetchall()
    for eid, user, source, kind, after, ts, _ in entries:
        if kind != 1:
            continue
        reset = max((e[0] for e in entries if e[1] == source and e[6] and e[0] < eid), default=0)
        gave = [e for e in entries if e[2] == source and reset < e[0] <= eid]
        assert sum(1 for e in gave if e[5] > ts - cooldown_ms) <= per_day
        got = [e for e in entries if e[1] == user and e[3] == 1 and e[0] <= eid]
        if daily:
            assert sum(1 for e in got if e[5] > ts - DAY) <= daily
        if most:
            assert after <= most
        assert source != user
    assert reputation.verify(conn) == []


@pytest.mark.parametrize(
    ("per_day", "cooldown", "daily", "most"), [(2, 300, 0, 0), (1, 3600, 2, 3), (3, 86400, 1, 0)]
)
@settings(max_examples=40, deadline=None)
@given(script=steps)
def test_random_scripts_keep_every_limit(
    per_day: int,
    cooldown: int,
    daily: int,
    most: int,
    script: list,
) -> None:
    conn = connect(":memory:")
    try:
        apply_migrations(conn)
        clock = ManualClock(1_700_000_000.0)
        ctx = WriteContext(conn, clock)
        changes = {
            "reputation_per_day": per_day,
            "reputation_cooldown": cooldown,
            "maximum_reputation_received_day": daily,
            "maximum_reputation": most,
        }
        apply(ctx, UpdateRepSettings(BOT, changes))
        for step, command in script:
            clock.advance(step / 1000)
            # A refused give leaves no entry; the log check covers the rest.
            with contextlib.suppress(ReputationRefused):
                apply(ctx, command)
        _check_log(conn, per_day, cooldown * 1000, daily, most)
    finally:
        conn.close()
