"""The PostgreSQL side of bench_failover.py: a durable primary and a standby streaming
from it (tests/pg_cluster.py), the walsender to stall, and what the ledger on a server
holds of one trial's transfers.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg

from tests import pg_cluster

__all__ = ["STANDBY", "ids_taken", "primary_and_standby", "transfers", "walsender"]

STANDBY = "s1"


def primary_and_standby(root: Path, sync: bool) -> tuple[pg_cluster.Cluster, pg_cluster.Cluster]:
    """A durable primary with database `vp`, and a standby streaming from it."""
    primary = pg_cluster.start(root / "primary", durable=True)
    try:
        primary.create_database("vp")
        pg_cluster.base_backup(primary, root / "standby", slot=STANDBY)
        standby = pg_cluster.run(root / "standby", durable=True, settings={"cluster_name": STANDBY})
    except BaseException:
        primary.stop()
        raise
    want = "sync" if sync else "async"
    with primary.admin() as conn:
        # Only now, and only on the primary: a synchronous standby named before it
        # streams would hold every COMMIT, and one copied into the standby's
        # configuration would hold every COMMIT of the promoted standby, alone.
        if sync:
            conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{STANDBY}'")
            conn.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 60
        while True:
            row = conn.execute(
                "SELECT state, sync_state FROM pg_stat_replication WHERE application_name = %s",
                (STANDBY,),
            ).fetchone()
            if row == ("streaming", want):
                return primary, standby
            if time.monotonic() > deadline:
                standby.stop()
                primary.stop()
                raise RuntimeError(f"the standby is not streaming ({want}): {row}")
            time.sleep(0.1)


def walsender(primary: pg_cluster.Cluster) -> int:
    with primary.admin() as conn:
        row = conn.execute(
            "SELECT pid FROM pg_stat_replication WHERE application_name = %s", (STANDBY,)
        ).fetchone()
    if not row:
        raise RuntimeError("no walsender for the standby")
    return int(row[0])


def transfers(db: str, tag: str) -> dict[str, list[tuple[int, int]]]:
    """reason -> [(id, amount)] of this trial's transfers in the ledger at `db`."""
    found: dict[str, list[tuple[int, int]]] = {}
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT reason, id, amount FROM ledger WHERE reason LIKE %s", (f"failover {tag} %",)
        )
        for reason, id_, amount in rows:
            found.setdefault(reason, []).append((int(id_), int(amount)))
    return found


def ids_taken(db: str, ids: list[int]) -> int:
    """How many of `ids` name a ledger entry at `db`."""
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM ledger WHERE id = ANY(%s)", (ids,)).fetchone()
    return int(row[0]) if row else 0
