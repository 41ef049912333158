"""The real server for the benchmarks, on a SQLite file or a PostgreSQL URL.

`serve` runs `python -m app.cli serve` (granian) on 127.0.0.1 and returns once
`/health` answers; `stop` ends it; `tree_rss_kb` is its resident memory
(`descendants` and `rss_kb`: per process). For the throughput benchmarks, `start`
does the same with VOICEPROFILE_BENCH=1 and the rate limit off, on a database with a
fresh API key, and `seed` gives it the users the benchmark's bodies name, each
funded from the bot's treasury. Both engines get exactly the same, so their figures
compare.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from storage.ids import vp_id

__all__ = [
    "Server",
    "descendants",
    "free_port",
    "rss_kb",
    "seed",
    "serve",
    "start",
    "stop",
    "tree_rss_kb",
]

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


def serve(
    db: str | Path, log: Path, env: dict[str, str] | None = None, workers: int = 1
) -> tuple[subprocess.Popen[bytes], str]:
    """The server on `db` (a path or a postgresql:// URL) with `env` added to the
    environment, its output appended to `log`; returns it and its URL once /health
    answers 200 (bounded: 60 s)."""
    port = free_port()
    with log.open("a") as out:
        # Its own session, so `stop` can reach granian's worker processes too.
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--db", str(db), "--workers", str(workers)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
            cwd=ROOT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"the server on {db} did not come up: {log.read_text()[-2000:]}")


def start(db: str | Path, workers: int, log: Path) -> Server:
    """The server on `db` with a new key of bot BOT, as the throughput benchmarks run it."""
    key = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "create", "--name", "bench",
         "--bot-id", str(BOT), "--db", str(db)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.strip()  # fmt: skip
    # The per-key rate limit would answer most of the load with 429s: a benchmark
    # of the ledger, not of the limiter, runs without it.
    env = {"VOICEPROFILE_BENCH": "1", "VOICEPROFILE_RATE_LIMIT": "off"}
    process, url = serve(db, log, env, workers)
    return Server(process, url, key, log)


def seed(server: Server, users: int) -> None:
    """Profiles 1..users in guild GUILD, each funded with 10**12 from the bot."""
    with httpx.Client(base_url=server.url, headers={"Authorization": server.key}, timeout=60) as c:
        profiles = [{"guild_id": GUILD, "user_id": u, "experience": 0} for u in range(1, users + 1)]
        assert c.patch("/profile/add", json=profiles).status_code == 200
        funding = [
            {"from": "self", "to": vp_id(GUILD, u), "amount": 10**12} for u in range(1, users + 1)
        ]
        assert c.post("/transaction", json=funding).status_code == 201


def stop(process: subprocess.Popen[bytes], grace: float = 30) -> None:
    """SIGTERM (the server drains), then SIGKILL to its whole session after `grace` s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def descendants(pid: int) -> list[int]:
    """The processes below `pid` (granian's workers, and whatever they start), by
    the parent ids in /proc/*/stat (/proc/<pid>/task/*/children may be missing)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return sorted(found)


def rss_kb(pid: int) -> int:
    """Resident memory of one process (0 once it is gone)."""
    try:
        found = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return 0
    return int(found[1]) if found else 0


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its descendants (granian runs a worker child)."""
    return sum(rss_kb(p) for p in (pid, *descendants(pid)))
