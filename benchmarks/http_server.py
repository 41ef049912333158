"""The real server for the HTTP benchmarks, on a SQLite file or a PostgreSQL URL.

`start` runs `python -m app.cli serve` (granian) with VOICEPROFILE_BENCH=1 and the
rate limit off, on a database with a fresh API key; `seed` gives it the users the
benchmark's bodies name, each funded from the bot's treasury. Both engines get
exactly the same, so their figures compare.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from storage.ids import vp_id

__all__ = ["Server", "free_port", "seed", "start", "stop"]

ROOT = Path(__file__).resolve().parent.parent
GUILD, BOT = 1, 1


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    key: str
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(db: str | Path, workers: int, log: Path) -> Server:
    """The server on `db` (a path or a postgresql:// URL), answering /health."""
    py = sys.executable
    key = subprocess.run(
        [py, "-m", "app.cli", "keys", "create", "--name", "bench", "--bot-id", str(BOT),
         "--db", str(db)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    # The per-key rate limit would answer most of the load with 429s: a benchmark
    # of the ledger, not of the limiter, runs without it.
    env = {**os.environ, "VOICEPROFILE_BENCH": "1", "VOICEPROFILE_RATE_LIMIT": "off"}
    with log.open("w") as out:
        process = subprocess.Popen(
            [py, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--db", str(db), "--workers", str(workers)],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
    server = Server(process, f"http://127.0.0.1:{port}", key, log)
    for _ in range(300):  # bounded: 30 s
        try:
            if httpx.get(f"{server.url}/health", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"the server on {db} did not come up: {log.read_text()[-2000:]}")


def seed(server: Server, users: int) -> None:
    """Profiles 1..users in guild GUILD, each funded with 10**12 from the bot."""
    with httpx.Client(base_url=server.url, headers={"Authorization": server.key}, timeout=60) as c:
        profiles = [{"guild_id": GUILD, "user_id": u, "experience": 0} for u in range(1, users + 1)]
        assert c.patch("/profile/add", json=profiles).status_code == 200
        funding = [
            {"from": "self", "to": vp_id(GUILD, u), "amount": 10**12} for u in range(1, users + 1)
        ]
        assert c.post("/transaction", json=funding).status_code == 201


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
