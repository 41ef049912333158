"""The real server under load: durable transfers/s over HTTP at concurrency 64.

    python benchmarks/bench_http.py [--prefill N] [--seconds 5] [--connections 64] [--pg]

Starts `python -m app.cli serve` on 127.0.0.1 (granian, `--workers N`, 1 by default) on a fresh
database with VOICEPROFILE_BENCH=1, which adds `POST /bench/noop` (same auth and
body read as POST /transaction, no ledger), and benchmarks/bare_noop.py, a bare
Litestar+msgspec POST on granian with the same settings (the server: benchmarks/http_server.py).
Load comes from wrk (`apt-get install wrk`) with a Lua script, in its own process, bounded
by --seconds per phase; without wrk, from a bounded asyncio httpx client in a separate
process (slower: it caps the figures, and says so; both: benchmarks/http_load.py):

0. the bare framework no-op: what Litestar and granian cost on this machine now.
1. `POST /bench/noop` with a single-transfer body: the server's ceiling.
2. `POST /transaction`, single user -> user transfers between 1000 funded users.
3. `POST /transaction`, arrays of 1000 transfers.
4. `typical`: the same single-transfer bodies against benchmarks/typical_fastapi.py
   (FastAPI + SQLAlchemy ORM on SQLite, WAL, synchronous=FULL, one COMMIT per
   request, uvicorn with one worker) seeded with the same 1000 funded users.
5. `pg`, with `--pg` (a throwaway durable PostgreSQL this run starts and stops) or
   `--db-url postgresql://…` (benchmarks/pg_server.py): phase 2 against the same
   server on PostgreSQL, seeded alike, right after SQLite's turn in each round
   (target: >= 0.8 x single transfers on SQLite).

Prints requests/s, transfers/s, p50/p99 latency, the load average, and the ratios
(targets: server no-op >= 0.8 x bare no-op; single transfers >= 0.7 x bare no-op with
p99 <= 50 ms; arrays >= 30k transfers/s; single transfers >= 15 x typical). Phases
0-2, 4 and 5 take turns `--rounds` times and each prints its median round. `--phases bare,noop` runs only those. Every
acknowledged transfer is durable (synchronous=FULL, group commit). `--prefill N`
appends N ledger entries first (benchmarks/prefill.py), e.g. 10000000;
`--from-db PATH` starts from a copy of a database prefill.py made earlier.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import pg_server  # noqa: E402
from benchmarks.http_load import Load, python_load, wrk  # noqa: E402
from benchmarks.http_server import Server, free_port, seed, start, stop  # noqa: E402
from benchmarks.prefill import prefill  # noqa: E402
from benchmarks.typical_fastapi import seed as seed_typical  # noqa: E402
from storage.ids import vp_id  # noqa: E402

GUILD, USERS = 1, 1000


def _bodies(path: Path, count: int, size: int, rng: random.Random) -> None:
    users = [vp_id(GUILD, u) for u in range(1, USERS + 1)]

    def one() -> dict:
        src, dst = rng.sample(users, 2)
        return {"from": src, "to": dst, "amount": 1, "reason": "bench"}

    with path.open("w") as f:
        for _ in range(count):
            body = one() if size == 1 else [one() for _ in range(size)]
            f.write(json.dumps(body, separators=(",", ":")) + "\n")


def _wait_up(url: str) -> None:
    """Until `url` answers at all (bounded: 30 s)."""
    for _ in range(300):
        try:
            httpx.post(url, content=b"{}", timeout=5)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefill", type=int, default=0, help="ledger entries to append first")
    parser.add_argument("--from-db", help="start from a copy of this database (made by prefill.py)")
    parser.add_argument("--seconds", type=int, default=5, help="length of each phase")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--array-connections",
        type=int,
        default=8,
        help="connections for the array phase (at 64, 64k transfers in flight make one"
        " round outlast a quick phase)",
    )
    parser.add_argument("--array", type=int, default=1000, help="transfers per array request")
    parser.add_argument("--workers", type=int, default=1, help="server processes (serve --workers)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="turns taken by the bare no-op, the server no-op and single transfers",
    )
    parser.add_argument(
        "--phases",
        default="bare,noop,single,array,typical",
        help="comma-separated subset of bare,noop,single,array,typical (ratios need both sides)",
    )
    pg_server.add_arguments(parser)
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    load: Load = wrk
    if not shutil.which("wrk"):
        print(
            "wrk not found (apt-get install -y wrk): using the slower Python load generator;"
            " its own cost caps the figures",
            file=sys.stderr,
        )
        load = python_load
    tmp = Path(tempfile.mkdtemp(prefix="vp-bench-http-"))
    server = pg = None
    with pg_server.from_args(args) as postgres:
        try:
            db = tmp / "bench.db"
            if args.from_db:
                shutil.copyfile(args.from_db, db)
            if args.prefill:
                print(f"prefilling {args.prefill} entries ...", flush=True)
                prefill(db, args.prefill, max(USERS, 10_000))
            server = start(db, args.workers, tmp / "server.log")
            seed(server, USERS)
            if postgres is not None:
                # The same server, users and funding on PostgreSQL (an empty ledger).
                pg = start(postgres.database("http"), args.workers, tmp / "server-pg.log")
                seed(pg, USERS)
                print(postgres.settings())
            return _measure(args, phases, load, tmp, server, pg)
        finally:
            for started in (server, pg):
                if started is not None:
                    stop(started.process)
            shutil.rmtree(tmp, ignore_errors=True)


def _measure(
    args: argparse.Namespace,
    phases: set[str],
    load: Load,
    tmp: Path,
    server: Server,
    pg: Server | None,
) -> int:
    py, url, key = sys.executable, server.url, server.key
    bare = typical = None
    try:
        rng = random.Random(3)
        singles, arrays = tmp / "singles.txt", tmp / "arrays.txt"
        _bodies(singles, 2000, 1, rng)
        _bodies(arrays, 16, args.array, rng)
        conns = args.connections
        start = args.from_db or f"{args.prefill} prefilled entries"
        print(f"starting from: {start}; workers={args.workers}; c={conns}; {args.seconds}s per phase;"
              " machine shared with other processes")  # fmt: skip
        results: dict[str, dict] = {}
        runs: dict[str, list[dict]] = {p: [] for p in ("bare", "noop", "single", "pg", "typical")}
        if "bare" in phases:
            bare_port = free_port()
            bare = subprocess.Popen(
                [py, str(ROOT / "benchmarks" / "bare_noop.py"), str(bare_port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True,
            )  # fmt: skip
            _wait_up(f"http://127.0.0.1:{bare_port}/bench/noop")
        if "typical" in phases:
            # The same users with the same funding, the same key in the same header.
            typical_db, typical_port = tmp / "typical.db", free_port()
            seed_typical(str(typical_db), ((vp_id(GUILD, u), 10**12) for u in range(1, USERS + 1)))
            typical = subprocess.Popen(
                [py, "-m", "uvicorn", "--factory", "benchmarks.typical_fastapi:app_from_env",
                 "--host", "127.0.0.1", "--port", str(typical_port), "--workers", "1",
                 "--no-access-log", "--log-level", "warning"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT), "TYPICAL_DB": str(typical_db),
                     "TYPICAL_KEY": key},
                start_new_session=True,
            )  # fmt: skip
            _wait_up(f"http://127.0.0.1:{typical_port}/transaction")
        # The machine is shared: the phases compared take turns, `--rounds` times, and
        # each figure is the median round (a burst of other work hits one round).
        for _ in range(args.rounds):
            if bare is not None:
                runs["bare"].append(load(f"http://127.0.0.1:{bare_port}/bench/noop", key,
                                         singles, args.seconds, conns))  # fmt: skip
            if "noop" in phases:
                runs["noop"].append(load(f"{url}/bench/noop", key, singles, args.seconds, conns))
            if "single" in phases:
                runs["single"].append(load(f"{url}/transaction", key, singles, args.seconds, conns))
            if pg is not None:  # right after SQLite's turn, with the same bodies
                runs["pg"].append(
                    load(f"{pg.url}/transaction", pg.key, singles, args.seconds, conns)
                )
            if typical is not None:
                runs["typical"].append(load(f"http://127.0.0.1:{typical_port}/transaction", key,
                                            singles, args.seconds, conns))  # fmt: skip
        for phase, found in runs.items():
            if found:
                results[phase] = sorted(found, key=lambda r: r["rps"])[len(found) // 2]
                results[phase]["non2xx"] = sum(r["non2xx"] for r in found)
        for process in (bare, typical):
            if process is not None:
                stop(process)
        bare = typical = None
        if "array" in phases:
            results["array"] = load(
                f"{url}/transaction", key, arrays, args.seconds * 2, args.array_connections
            )
        print(
            f"{'phase':<26} {'req/s':>9} {'transfers/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}"
        )
        names = {"bare": ("bare framework no-op", 0), "noop": ("server no-op POST", 0),
                 "single": ("single transfers", 1), "array": (f"arrays of {args.array}", args.array),
                 "pg": ("single transfers (PG)", 1), "typical": ("typical FastAPI+SQLAlchemy", 1)}  # fmt: skip
        for phase, r in results.items():
            name, per = names[phase]
            transfers = f"{r['rps'] * per:,.0f}" if per else "-"
            print(f"{name:<26} {r['rps']:>9,.0f} {transfers:>12} {r['p50']:>8.1f} {r['p99']:>8.1f}"
                  f" {r['non2xx']:>8}")  # fmt: skip
            if r["socket_errors"]:
                print(f"  {r['socket_errors']}")
        print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        rps = {phase: r["rps"] for phase, r in results.items()}
        for top, bottom, target in (("noop", "bare", 0.8), ("single", "noop", None),
                                    ("single", "bare", 0.7), ("single", "typical", 15),
                                    ("pg", "single", 0.8)):  # fmt: skip
            if rps.get(top) and rps.get(bottom):
                goal = f" (target >= {target})" if target else ""
                # Each round's own ratio (its phases ran seconds apart), then the median.
                paired = sorted(
                    t["rps"] / b["rps"] for t, b in zip(runs[top], runs[bottom], strict=True)
                )
                # A multiple (the typical baseline) reads as N.N×, a fraction as 0.NN.
                shown = (lambda r: f"{r:.1f}×") if bottom == "typical" else (lambda r: f"{r:.2f}")
                each = ", ".join(shown(r) for r in paired)
                ratio = paired[len(paired) // 2] if paired else rps[top] / rps[bottom]
                print(f"{names[top][0]} / {names[bottom][0]}: {shown(ratio)}{goal}"
                      + (f"  (rounds: {each})" if len(paired) > 1 else ""))  # fmt: skip
        if "array" in rps:
            print(f"array transfers/s: {rps['array'] * args.array:,.0f} (target >= 30,000)")
        failed = sum(r["non2xx"] for r in results.values())
        if failed:  # the rates above would count refusals as work done
            print(f"INVALID RUN: {failed} responses were not 2xx (see {tmp}/server*.log)")
            return 1
        return 0
    finally:
        for process in (bare, typical):
            if process is not None:
                stop(process)


if __name__ == "__main__":
    sys.exit(main())
