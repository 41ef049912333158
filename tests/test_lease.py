"""The role lease (storage/engine/lease.py) on the run's backend: one holder at a
time per database and role, and the next one takes it when the holder lets go.
On PostgreSQL this is what lets any server process deliver callbacks at all."""

from __future__ import annotations

from pathlib import Path

from storage.engine.lease import Lease
from tests import backend


def test_one_holder_at_a_time_and_the_next_takes_over(tmp_path: Path) -> None:
    db = backend.target(tmp_path / "vp.db")
    first, second, other = Lease(db, "callbacks"), Lease(db, "callbacks"), Lease(db, "other")
    try:
        assert first.try_take()
        assert first.try_take()  # still held: asking again does not lose it
        assert not second.try_take()
        assert other.try_take()  # another role is another lock
        first.release()
        assert second.try_take()
        assert not first.try_take()
    finally:
        for lease in (first, second, other):
            lease.release()
