"""Importing a 100k-member guild (SPEC §12; target: under 10 s here).

Three requests to POST /profile/{guild_id}/import through the in-process app on a
fresh database, each timed from sending the body to the answer (decoding, checks,
the one write transaction and its COMMIT):

1. MEE6 leaderboard pages of 1000 players, shaped as MEE6 answers (every member new);
2. UnbelievaBoat pages for the same members (a balance each: one `import` entry each);
3. the MEE6 pages again (nothing changes, nothing is written);
4. a CSV of the same members with levels and balances into another, empty guild
   (every member created and given a balance in the one request, as an exported
   guild moves in).

Read the figures as seconds per import and members per second.
Usage: `python benchmarks/bench_import.py [MEMBERS]` (default 100000).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.engine.migrations import apply_migrations
from storage.engine.sqlite import connect
from storage.queries import keys

GUILD = "390000000000000001"
GUILD2 = "390000000000000002"
PAGE = 1000


def _mee6(n: int) -> bytes:
    pages: list[dict[str, Any]] = []
    for start in range(0, n, PAGE):
        players = [
            {
                "avatar": "a_0f3c9b",
                "detailed_xp": [i % 1000, 1255, 10_000_000 - i],
                "discriminator": "0",
                "guild_id": GUILD,
                "id": str(200000000000000000 + i),
                "is_monetize_subscriber": False,
                "level": 100 - i * 100 // n,
                "message_count": 50_000 - i // 3,
                "monetize_xp_boost": 0,
                "username": f"member{i}",
                "xp": 10_000_000 - i,
            }
            for i in range(start, min(start + PAGE, n))
        ]
        pages.append({"page": start // PAGE, "players": players, "xp_rate": 1.0})
    return json.dumps(pages, separators=(",", ":")).encode()


def _unb(n: int) -> bytes:
    pages = [
        {
            "users": [
                {
                    "rank": str(i + 1),
                    "user_id": str(200000000000000000 + i),
                    "cash": i,
                    "bank": 500,
                    "total": i + 500,
                }
                for i in range(start, min(start + PAGE, n))
            ],
            "page": start // PAGE + 1,
            "total_pages": (n + PAGE - 1) // PAGE,
        }
        for start in range(0, n, PAGE)
    ]
    return json.dumps(pages, separators=(",", ":")).encode()


def _csv(n: int) -> bytes:
    lines = ["user_id,experience,level,voicepoints,message_count"]
    lines += [
        f"{200000000000000000 + i},{10_000_000 - i},{100 - i * 100 // n},{i + 500},{50_000 - i // 3}"
        for i in range(n)
    ]
    return "\n".join(lines).encode()


def _timed(
    client: TestClient, key: str, source: str, body: bytes, n: int, guild: str = GUILD
) -> dict[str, Any]:
    kind = "text/csv" if source == "csv" else "application/json"
    started = time.perf_counter()
    r = client.post(
        f"/profile/{guild}/import?source={source}",
        content=body,
        headers={"Authorization": key, "content-type": kind},
    )
    elapsed = time.perf_counter() - started
    assert r.status_code == 200, r.text[:300]
    answer: dict[str, Any] = r.json()
    print(
        f"{source:>13} {len(body) / 2**20:5.1f} MiB: {elapsed:6.2f} s, {n / elapsed:9,.0f} members/s"
        f"  (created {answer['created']}, updated {answer['updated']},"
        f" unchanged {answer['unchanged']}, entries {answer['entries']})"
    )
    return answer


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    mee6, unb = _mee6(n), _unb(n)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        conn = connect(db)
        apply_migrations(conn)
        _, key = keys.create_key(conn, "bench", "1", keys.DEFAULT_SCOPES)
        conn.close()
        settings = Settings(db=db, boards="off")
        with TestClient(create_app(settings)) as client:
            print(f"import of a {n}-member guild (target: under 10 s each)")
            assert _timed(client, key, "mee6", mee6, n)["created"] == n
            assert _timed(client, key, "unbelievaboat", unb, n)["entries"] == n
            assert _timed(client, key, "mee6", mee6, n)["unchanged"] == n
            both = _timed(client, key, "csv", _csv(n), n, GUILD2)
            assert both["created"] == both["entries"] == n


if __name__ == "__main__":
    main()
