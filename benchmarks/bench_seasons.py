"""A season end on a large guild, and reading its archive.

    python benchmarks/bench_seasons.py [MEMBERS]      (default 100000)

Fills guild 1 with MEMBERS funded profiles (benchmarks/prefill.py, one entry each),
then through the in-process app: POST /profile/1/seasons resetting every counter
and voicepoints (the archive, the resets and one `season` ledger entry per funded
member, in one transaction), a page of the archived top by levels and by points,
and the whole archived top streamed. Read the figures as seconds for the season end
(it grows linearly with the guild) and milliseconds for a page (a bounded sort of
the season's rows).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from benchmarks.prefill import prefill
from storage.engine.sqlite import connect
from storage.queries import keys


def main() -> int:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "seasons.db"
        prefill(db, entries=members, users=members)
        conn = connect(db)
        _, secret = keys.create_key(conn, "bench", "1", keys.DEFAULT_SCOPES)
        conn.close()
        auth = {"Authorization": secret}
        with TestClient(create_app(Settings(db=db, boards="off"))) as client:
            reset = ["experience", "level", "text", "timespent", "pray", "voicepoints"]
            started = time.perf_counter()
            r = client.post("/profile/1/seasons", json={"name": "s", "reset": reset}, headers=auth)
            ended = time.perf_counter() - started
            assert r.status_code == 201, r.text
            season = r.json()
            print(
                f"season end: {season['members']} members, {season['voicepoints']} voicepoints"
                f" returned, {ended:.2f} s"
            )
            for by in ("levels", "points"):
                started = time.perf_counter()
                r = client.get(
                    f"/profile/1/top?by={by}&season=1&amount=50&offset=1000", headers=auth
                )
                assert r.status_code == 200
                print(
                    f"season top by {by}, a page: {(time.perf_counter() - started) * 1000:.1f} ms"
                )
            started = time.perf_counter()
            r = client.get("/profile/1/top?by=levels&season=1&amount=0", headers=auth)
            assert r.status_code == 200
            print(f"whole season top streamed: {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
