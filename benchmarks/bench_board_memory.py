"""Server memory for the in-memory boards against `serve --workers N`: each server
process's resident memory before and after every worker has answered a fixed set of
board-served reads, on the real server and a generated database.

    python benchmarks/bench_board_memory.py                       # 100k profiles, N = 1 then 2
    python benchmarks/bench_board_memory.py --workers 1,2,4
    python benchmarks/bench_board_memory.py --profiles 1000000 --db /tmp/bm-1m.db   # kept a day

How to read it: per N, each process of the server (granian's main process and what
runs below it) with its RSS before the reads and once they have settled (every
worker answered each read 3 times, the workers that keep boards report the same
ones and the others none, and the tree's RSS
moved less than 2 MB over 5 s), the total growth and that total over N. Then the
ratio of the total growth with the largest N over N=1. One process per host keeps
the boards and the others ask it (README "Several workers"), so the ratio should be
near 1; were each worker to build its own (as before), it would be near N. Growth in any process
counts, one started after the baseline included, so boards moved out of the
workers are still measured. Every read must answer 200 and the same bytes from
every worker; `boards` are the `voiceprofile_board_size` each worker's /metrics
reported last (members per board; absent: not built there).

The reads go one per new connection, so the kernel spreads them over the workers;
the worker that answered is found from the server side of the connection (its
socket inode in /proc/net/tcp, among the processes' fds). The server runs in its
default `background` board mode: a worker answers by SQL while its boards build.
The database is bench_reads.py's (benchmarks/reads_db.py): 10% of the profiles in
one big guild, the rest over `--guilds`, ledger entries over 60 days.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.http_server import descendants, rss_kb, serve, stop  # noqa: E402
from benchmarks.reads_db import BIG_GUILD, BOTS, USER_BASE, build_or_reuse  # noqa: E402
from schemas.base import DEFAULT_SCOPES  # noqa: E402
from storage.engine.sqlite import connect  # noqa: E402
from storage.queries import keys  # noqa: E402

SETTLE_S = 5.0  # the tree's RSS must move less than SETTLE_KB over this long
SETTLE_KB = 2048
MIN_HITS = 3  # answers of each read per worker before the RSS may count as settled


def reads() -> list[str]:
    """One read per board: all-time `points` (global and guild tops, a rank),
    `experience`, `levels` ranks, and the rolling `week` of `points`."""
    member = USER_BASE + 10  # every 10th profile is in the big guild
    return [
        "/profile/top?by=points&amount=100",
        f"/profile/{BIG_GUILD}/top?by=points&amount=100",
        "/profile/top?by=experience&amount=100",
        f"/profile/{BIG_GUILD}/top?by=points&timeframe=week&amount=100",
        f"/profile/{BIG_GUILD}/{member}/rank?by=points",
        f"/profile/{BIG_GUILD}/{member}/rank?by=levels",
    ]


def owner(port: int, client_port: int, pids: list[int]) -> int | None:
    """The process holding the server side of the connection from `client_port`."""
    inode = next(
        (
            f[9]
            for f in (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
            if f[1].endswith(f":{port:04X}") and f[2].endswith(f":{client_port:04X}")
        ),
        "0",
    )
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
            except OSError:
                continue
    return None


def ask(port: int, key: str, path: str, pids: list[int]) -> tuple[int | None, bytes]:
    """GET `path` on a new connection; the worker that answered and the body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers={"Authorization": key})
        client_port = conn.sock.getsockname()[1]
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        # Still open (keep-alive), so its server side is in /proc/net/tcp.
        return owner(port, client_port, pids), body
    finally:
        conn.close()


def boards(metrics: bytes) -> dict[str, int]:
    found = re.findall(rb'^voiceprofile_board_size\{board="([^"]+)"\} (\S+)$', metrics, re.M)
    return {name.decode(): int(float(size)) for name, size in found}


def keeps(metrics: bytes) -> bool:
    """Whether the process keeps boards (a server without the gauge: every one does)."""
    found = re.search(rb"^voiceprofile_boards_kept (\S+)$", metrics, re.M)
    return found is None or float(found[1]) == 1


def tree_rss(main: int) -> dict[int, int]:
    return {p: rss_kb(p) for p in (main, *descendants(main))}


def steady(history: list[tuple[float, int]], span: float, band: int) -> bool:
    """Whether the samples (time, kB) over the last `span` s, from the last one taken
    at or before its start, stay within `band` kB."""
    now = history[-1][0] if history else 0.0
    first = [i for i, (t, _) in enumerate(history) if now - t >= span]
    if not first:
        return False
    values = [v for _, v in history[first[-1] :]]
    return max(values) - min(values) < band


def wait_idle(main: int, workers: int, deadline: float) -> dict[int, int]:
    """The tree's RSS once its workers are up and it has not moved for 2 s."""
    history: list[tuple[float, int]] = []
    while True:
        rss = tree_rss(main)
        history.append((time.monotonic(), sum(rss.values())))
        if len(rss) <= workers:
            history.clear()
        elif steady(history, 2.0, 512) or time.monotonic() > deadline:
            return rss
        time.sleep(0.25)


def measure(db: Path, key: str, admin: str, workers: int, timeout: float, log: Path) -> int:
    """Starts the server with `workers`, prints its processes' growth; returns the
    total growth in kB."""
    process, url = serve(db, log, {"VOICEPROFILE_RATE_LIMIT": "off"}, workers)
    try:
        main, port = process.pid, int(url.rsplit(":", 1)[1])
        before = wait_idle(main, workers, time.monotonic() + 60)
        paths = reads()
        hits: dict[int, dict[str, int]] = {}
        sizes: dict[int, dict[str, int]] = {}
        kept: dict[int, bool] = {}
        history: list[tuple[float, int]] = []
        last: set[frozenset[str]] = set()
        started = time.monotonic()
        settled = False
        while time.monotonic() - started < timeout:
            pids = [main, *descendants(main)]
            for path in paths:
                pid, _ = ask(port, key, path, pids)
                if pid is not None:
                    hits.setdefault(pid, dict.fromkeys(paths, 0))[path] += 1
            pid, body = ask(port, admin, "/metrics", pids)
            if pid is not None:
                sizes[pid], kept[pid] = boards(body), keeps(body)
            # A worker not asked yet builds nothing yet; a keeper reporting fewer boards
            # than another, boards changing, or one that keeps none reporting some, is
            # still building (a build's SQL can hold the RSS still for seconds).
            asked = len(hits) >= workers and min(min(h.values()) for h in hits.values()) >= MIN_HITS
            reported = {frozenset(sizes.get(p, {"?": 0})) for p in hits if kept.get(p, True)}
            strays = any(sizes[p] for p in hits if not kept.get(p, True))
            if not asked or len(reported) != 1 or reported != last or strays:
                history.clear()
            last = reported
            history.append((time.monotonic(), sum(tree_rss(main).values())))
            if steady(history, SETTLE_S, SETTLE_KB):
                settled = True
                break
        after = tree_rss(main)
        took = time.monotonic() - started
        same = identical(port, key, paths, list(hits), main)
    finally:
        stop(process)
    return report(workers, main, before, after, hits, sizes, settled, took, same)


def identical(port: int, key: str, paths: list[str], workers: list[int], main: int) -> str:
    """Whether every worker answers each read with the same bytes: one answer each,
    asked close together (the rolling week moves; a differing round is asked again)."""
    differing: list[str] = []
    for _ in range(3):
        answers: dict[str, dict[int, bytes]] = {p: {} for p in paths}
        deadline = time.monotonic() + 60
        pids = [main, *descendants(main)]
        for path in paths:
            while len(answers[path]) < len(workers) and time.monotonic() < deadline:
                pid, body = ask(port, key, path, pids)
                if pid is not None:
                    answers[path][pid] = body
        missing = [p for p in paths if len(answers[p]) < len(workers)]
        differing = [p for p in paths if len(set(answers[p].values())) > 1]
        if missing:
            return f"UNCHECKED: not every worker answered {missing}"
        if not differing:
            return f"yes, all {len(paths)} reads from each of the {len(workers)} workers"
    return f"NO: {differing}"


def report(
    workers: int,
    main: int,
    before: dict[int, int],
    after: dict[int, int],
    hits: dict[int, dict[str, int]],
    sizes: dict[int, dict[str, int]],
    settled: bool,
    took: float,
    same: str,
) -> int:
    print(f"== --workers {workers}: {len(after)} processes", flush=True)
    for pid in sorted(before.keys() | after.keys()):
        role = "main" if pid == main else "worker" if pid in hits else "other"
        b, a = before.get(pid, 0), after.get(pid, 0)
        note = f"   {sum(hits[pid].values())} reads" if pid in hits else ""
        if pid in sizes:
            held = " ".join(f"{k}={v}" for k, v in sorted(sizes[pid].items()))
            note += f"; boards: {held or 'none'}"
        if pid not in before:
            note += " (started after the baseline)"
        print(
            f"  pid {pid:<7} {role:<6} RSS {b / 1024:7.1f} MB -> {a / 1024:7.1f} MB"
            f" ({(a - b) / 1024:+7.1f} MB){note}"
        )
    growth = sum(after.values()) - sum(before.values())
    state = "settled" if settled else "NOT settled (timeout)"
    print(
        f"  total growth {growth / 1024:.1f} MB, {growth / 1024 / workers:.1f} MB per worker"
        f" ({state} after {took:.0f} s; {len(hits)} of {workers} workers answered)"
    )
    print(f"  answers identical across workers: {same}", flush=True)
    return growth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2", help="comma-separated N (default 1,2)")
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--entries", type=int, help="ledger entries (default: --profiles)")
    parser.add_argument("--guilds", type=int, help="default: profiles / 1000")
    parser.add_argument(
        "--db",
        type=Path,
        help="keep the database here and reuse it while under a day old (bench_reads.py's"
        " too: `--profiles 1000000 --entries 10000000 --hot-share 0.0131` for --big's)",
    )
    parser.add_argument("--hot-share", type=float, default=0.0, help="see bench_reads.py")
    parser.add_argument("--timeout", type=float, default=300, help="per N, seconds")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    guilds = args.guilds or max(2, args.profiles // 1000)
    entries = args.profiles if args.entries is None else args.entries
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.db"
        key = build_or_reuse(
            db, args.db is not None, args.profiles, entries, guilds, args.hot_share
        )
        conn = connect(db)  # /metrics needs the admin scope, which that key lacks
        _, admin = keys.create_key(conn, "bench-admin", BOTS[0], (*DEFAULT_SCOPES, "admin"))
        conn.close()
        print(f"{args.profiles} profiles in {guilds} guilds, {entries} ledger entries", flush=True)
        growth = {n: measure(db, key, admin, n, args.timeout, Path(tmp) / "log") for n in counts}
    if 1 in growth and len(growth) > 1:
        top = max(growth)
        ratio = growth[top] / growth[1] if growth[1] > 0 else float("nan")
        print(
            f"total growth with {top} workers over 1: {ratio:.2f}"
            f" ({top} = every worker holds its own boards; ~1 = one copy per host)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
