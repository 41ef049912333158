"""Heavy reads against cheap ones: a whole windowed top streamed by SQL, and what
four of them do to `GET /profile/{guild}/{user}`, on the real server.

    python benchmarks/bench_heavy_reads.py                  # 200k profiles, 2M entries
    python benchmarks/bench_heavy_reads.py --db /tmp/h.db   # keep the database for a day

The server runs with `VOICEPROFILE_BOARDS=off`, so every windowed top is answered
by SQL, as `since`/`until` windows always are and rolling ones are while their
board builds. The database is bench_reads.py's generator, benchmarks/reads_db.py
(profiles spread over guilds, a ledger over 60 days, activity hours over 30 days).

How to read it:
- "full stream": the time of one `amount=0` top of every profile over a 7-day
  window (`points` by since/until, `levels` by timeframe). It should grow about
  linearly with the profiles (before issue 10 each 500-row chunk recomputed the
  window: more than 40 s at 200k).
- "GET /profile": p50 / p99 of sequential cheap reads, alone, then while 4 such
  streams run in a loop, then while 4 clients sit mid-stream without reading
  (measured once the server is idle again: their socket buffers are full).
  With the streams the p50 should stay within a small factor of the p50 alone
  (heavy reads take at most half the reader pool; a stream holds no reader between
  chunks): before, it was 29 s against 2.5 ms. The machine may be shared and the
  streams' clients run on the same cores: compare the ratios, measured in one run.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.http_server import serve, stop  # noqa: E402
from benchmarks.reads_db import USER_BASE, build_or_reuse, guild_of  # noqa: E402

STREAMS = 4
N_GETS = 300


def full_stream(url: str, key: str, path: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    size = 0
    with (
        httpx.Client(base_url=url, headers={"Authorization": key}, timeout=600) as c,
        c.stream("GET", path) as r,
    ):
        r.raise_for_status()
        for part in r.iter_bytes():
            size += len(part)
    return time.perf_counter() - t0, size


def gets(url: str, key: str, paths: list[str]) -> list[float]:
    times = []
    with httpx.Client(base_url=url, headers={"Authorization": key}, timeout=600) as c:
        for path in paths:
            t0 = time.perf_counter()
            c.get(path).raise_for_status()
            times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)


def report(label: str, times: list[float], base: float | None = None) -> float:
    p50 = statistics.median(times)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    ratio = f"   x{p50 / base:.1f} the p50 alone" if base else ""
    print(f"{label:<46} p50 {p50:8.2f} ms   p99 {p99:8.2f} ms{ratio}", flush=True)
    return p50


def slow_clients(url: str, key: str, path: str, n: int) -> list[socket.socket]:
    """Clients that ask for a whole stream, read its first bytes and stop reading."""
    host, port = url.removeprefix("http://").split(":")
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, int(port)))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {key}\r\n\r\n".encode())
        s.recv(4096)
        socks.append(s)
    return socks


def _cpu_ticks(pid: int) -> int:
    """CPU time (user + system, in ticks) of a process and its children."""
    total = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry) == pid or int(fields[1]) == pid:
                total += int(fields[11]) + int(fields[12])
    return total


def until_idle(pid: int, bound: float = 120) -> None:
    """Wait until the server stops working (a second with almost no CPU)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        before = _cpu_ticks(pid)
        time.sleep(1)
        if _cpu_ticks(pid) - before < 5:
            return


def run(url: str, key: str, pid: int, profiles: int, guilds: int) -> None:
    since = time.time() - 7 * 86400
    streams = {
        "points since/until": f"/profile/top?by=points&since={since:.0f}&amount=0",
        "levels timeframe=week": "/profile/top?by=levels&timeframe=week&amount=0",
        "for scale: GET /profile?limit=0 (no ranking)": "/profile?limit=0",
    }
    print(f"-- full stream of every profile ({profiles}), SQL window", flush=True)
    for label, path in streams.items():
        seconds, size = full_stream(url, key, path)
        print(f"{label:<46} {seconds:6.1f} s   ({size / 1e6:.0f} MB)", flush=True)
    step = max(1, profiles // N_GETS)
    cheap = [f"/profile/{guild_of(i, guilds)}/{USER_BASE + i}" for i in range(1, profiles, step)]
    cheap = cheap[:N_GETS]
    print("-- GET /profile/{guild}/{user}", flush=True)
    gets(url, key, cheap[:20])  # warm-up
    alone = report("alone", gets(url, key, cheap))

    stop = threading.Event()
    done = [0]

    def loop() -> None:
        while not stop.is_set():
            full_stream(url, key, streams["points since/until"])
            done[0] += 1

    threads = [threading.Thread(target=loop) for _ in range(STREAMS)]
    for t in threads:
        t.start()
    time.sleep(1)  # the streams are under way
    report(f"while {STREAMS} full streams run", gets(url, key, cheap), alone)
    stop.set()
    for t in threads:
        t.join()
    print(f"   ({done[0]} full streams finished meanwhile)", flush=True)

    socks = slow_clients(url, key, streams["points since/until"], STREAMS)
    until_idle(pid)  # their orders are built and their socket buffers full
    report(f"while {STREAMS} clients stop reading mid-stream", gets(url, key, cheap), alone)
    for s in socks:
        s.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=200_000)
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--db", type=Path, help="keep the database here; reused for a day")
    args = parser.parse_args()
    guilds = max(2, args.profiles // 1000)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.db"
        key = build_or_reuse(db, args.db is not None, args.profiles, args.entries, guilds, 0.0)
        # Boards off: every windowed top by SQL (see above). The rate limit off: the
        # figures are the reads', not the limiter's refusals.
        env = {"VOICEPROFILE_BOARDS": "off", "VOICEPROFILE_RATE_LIMIT": "off"}
        process, url = serve(db, Path(tmp) / "server.log", env)
        try:
            run(url, key, process.pid, args.profiles, guilds)
        finally:
            stop(process)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
