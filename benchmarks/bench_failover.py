"""High availability on PostgreSQL, measured: acknowledged transfers lost when the primary dies.

    python benchmarks/bench_failover.py [--trials 3] [--async] [--stall 0.5] [--clients 32]

Each trial builds, on 127.0.0.1, a PostgreSQL primary and a standby streaming from it
(tests/pg_cluster.py: pg_basebackup -R from a replication slot, fsync on on both). By
default the standby is synchronous (`synchronous_standby_names = 's1'`,
`synchronous_commit = on`): a COMMIT returns only once the standby has flushed it.
`--async` leaves synchronous_standby_names empty, PostgreSQL's default. On loopback an
asynchronous standby receives a commit's WAL long before the HTTP answer reaches the
client, so a plain kill rarely loses anything; `--stall S` stops the primary's
walsender (SIGSTOP) for the last S seconds before the kill, so the standby is S seconds
behind when the primary dies, as over a slow or broken link.

Then `voiceprofile serve` (on the primary, through the URL of step 2) takes single transfers
(treasury -> member, each with its own Idempotency-Key and a unique reason) from
`--clients` concurrent clients. After `--seconds` the primary is SIGKILLed (postmaster
and backends at once, as a crash would), the load goes on for `--after` seconds, and:

1. the server is stopped: it does not reconnect; a lost database connection is a
   storage failure to it (503, nothing acknowledged);
2. the standby is promoted (`SELECT pg_promote()`); "promotion" is that call's time;
   a new server is started with the same `--db`, a libpq multi-host URL naming both
   (`postgresql://...@primary,standby/vp?target_session_attrs=read-write`), so it
   connects to whichever takes writes, as a process manager's restart would;
3. every transfer answered 201 is looked up in the promoted standby's ledger (same id,
   reason and amount): `missing` counts those that are not there (and, after step 4,
   how many of their ids name another transfer: ids continue from the promoted
   ledger's head). `in doubt` counts requests that got no 201 but whose transfer did
   commit (a client retries them);
4. the requests without a 201 are retried against the new server with their
   Idempotency-Key: each transfer must then be in the ledger exactly once;
5. `voiceprofile ledger verify --db <standby url>` replays the promoted ledger.

Figures: per trial and in total, acknowledged, missing, in doubt, promotion time and the
time until the new server answered, with the load average. The target: missing = 0
with a synchronous standby; `--async` shows what the default risks (acknowledged
commits the standby had not received when the primary died). Exit status 1 when,
with a synchronous standby, an acknowledged transfer is missing, or in any mode when
a retry left a transfer absent or twice in the ledger, `verify` failed, or an answer
was neither 201 nor 503 (`--logs DIR` keeps the server logs to see why).

The primary and standby: benchmarks/failover_cluster.py; the clients and their
retries: benchmarks/failover_clients.py; the server: benchmarks/http_server.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import failover_clients as clients  # noqa: E402
from benchmarks.failover_cluster import (  # noqa: E402
    ids_taken,
    primary_and_standby,
    transfers,
)
from benchmarks.http_server import serve, stop  # noqa: E402

# `--clients` clients on one key: the rate limit would refuse most of the load, and
# the run counts answers, not refusals.
ENV = {"VOICEPROFILE_RATE_LIMIT": "off"}
# SIGTERM, then SIGKILL after this many seconds: the drain ends within
# DRAIN_TIMEOUT + 5 s, so a server still up then is stuck.
GRACE = 20


def _verify(db: str) -> tuple[int, str]:
    run = subprocess.run(
        [sys.executable, "-m", "app.cli", "ledger", "verify", "--db", db],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    lines = (run.stdout + run.stderr).strip().splitlines() or [""]
    summary = next((line for line in lines if re.match(r"OK|FAILED", line)), lines[-1])
    return run.returncode, summary


@dataclass
class Trial:
    acknowledged: int = 0
    before_kill: int = 0
    health: int = 0  # the old server's GET /health after the kill
    unanswered: dict[int, int] = field(default_factory=dict)  # status -> count
    missing: int = 0
    reused: int = 0  # ids of missing transfers that name another transfer afterwards
    in_doubt: int = 0
    promotion: float = 0.0
    server_stop: float = 0.0
    server_back: float = 0.0
    retried: int = 0
    absent: int = 0  # retried, and still not in the ledger
    duplicated: int = 0  # in the ledger more than once
    verify: tuple[int, str] = (0, "")


def trial(n: int, args: argparse.Namespace, root: Path) -> Trial:
    root.mkdir()
    primary, standby = primary_and_standby(root, sync=not args.async_)
    servers: list[tuple[subprocess.Popen[bytes], Path]] = []  # each with its log
    # Both servers get one URL naming both hosts; libpq connects to the one that
    # takes writes: the primary, then the promoted standby. A restart is all the
    # server needs, not a new setting.
    db = (
        f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/vp"
        "?target_session_attrs=read-write"
    )
    try:
        log = root / "server-primary.log"
        process, url = serve(db, log, ENV)
        servers.append((process, log))
        found = re.search(r"(vps_[A-Za-z0-9_-]+)", log.read_text())
        if not found:
            raise RuntimeError("the first start printed no admin key")
        key = asyncio.run(clients.setup(url, found[1]))
        tag = f"t{n}-{secrets.token_hex(4)}"  # names this trial's transfers (their reason)
        requests, before, health = asyncio.run(clients.load(url, key, tag, args, primary))
        result = Trial(before_kill=before, health=health)
        began = time.monotonic()
        stop(process, GRACE)
        result.server_stop = time.monotonic() - began
        began = time.monotonic()
        standby.promote()
        result.promotion = time.monotonic() - began
        log = root / "server-standby.log"
        process, url = serve(db, log, ENV)
        servers.append((process, log))
        result.server_back = time.monotonic() - began

        ledger = transfers(standby.url("vp"), tag)
        lost: list[int] = []
        for req in requests:
            if req.status == 201:
                result.acknowledged += 1
                if ledger.get(req.reason) != [(req.id, req.body["amount"])]:
                    result.missing += 1
                    lost.append(req.id)
            else:
                result.unanswered[req.status] = result.unanswered.get(req.status, 0) + 1
                result.in_doubt += req.reason in ledger
        retry = [req for req in requests if req.status != 201]
        asyncio.run(clients.retry(url, key, retry, args.clients))
        result.retried = len(retry)
        ledger = transfers(standby.url("vp"), tag)
        result.absent = sum(req.reason not in ledger for req in retry)
        result.duplicated = sum(len(ledger.get(req.reason, [])) > 1 for req in requests)
        result.reused = ids_taken(standby.url("vp"), lost)
        result.verify = _verify(standby.url("vp"))
        return result
    finally:
        for process, log in servers:
            stop(process, GRACE)
            if args.logs:
                shutil.copy(log, Path(args.logs) / f"trial-{n}-{log.name}")
        standby.stop()
        primary.stop()


def _report(n: int, t: Trial) -> None:
    other = ", ".join(
        f"{count} {'no answer' if status == 0 else status}"
        for status, count in t.unanswered.items()
    )
    print(
        f"trial {n}: acknowledged {t.acknowledged} ({t.before_kill} before the kill),"
        f" not acknowledged {sum(t.unanswered.values())} ({other or 'none'})\n"
        f"  missing on the promoted standby: {t.missing} (their ids given to other"
        f" transfers since: {t.reused}); in doubt (committed, not acknowledged): {t.in_doubt}\n"
        f"  old server: /health {t.health} after the kill, stopped in {t.server_stop:.2f} s; promotion {t.promotion:.2f} s;"
        f" new server on the standby answering {t.server_back:.2f} s after the promote began\n"
        f"  retried the {t.retried} unacknowledged with their Idempotency-Key: still absent"
        f" {t.absent}, in the ledger twice {t.duplicated}\n"
        f"  ledger verify (exit {t.verify[0]}): {t.verify[1]}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument(
        "--async",
        dest="async_",
        action="store_true",
        help="no synchronous standby (PostgreSQL's default): shows the loss that risks",
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    parser.add_argument("--seconds", type=float, default=3.0, help="load before the kill")
    parser.add_argument("--after", type=float, default=1.0, help="load after the kill")
    parser.add_argument(
        "--stall",
        type=float,
        default=0.0,
        help="stop the primary's walsender (SIGSTOP) this many seconds before the kill:"
        " the standby falls that far behind, as over a slow or broken link",
    )
    parser.add_argument("--logs", help="copy each trial's server logs into this folder")
    args = parser.parse_args()
    if args.logs:
        Path(args.logs).mkdir(parents=True, exist_ok=True)
    if not 0 <= args.stall < args.seconds:
        parser.error("--stall must be at least 0 and below --seconds")
    mode = "asynchronous standby (--async)" if args.async_ else "synchronous standby"
    stall = f", its walsender stopped for the last {args.stall:g} s" if args.stall else ""
    print(
        f"{mode}; {args.clients} clients; primary SIGKILLed after {args.seconds:g} s of load"
        f"{stall}.\nThe server does not reconnect after its database connection is lost"
        " (503s: storage failure): each trial stops it and starts a new one after the"
        " promotion, with the same --db naming both hosts (target_session_attrs=read-write).",
        flush=True,
    )
    root = Path(tempfile.mkdtemp(prefix="vp-bench-failover-"))
    results: list[Trial] = []
    began = time.monotonic()
    try:
        for n in range(1, args.trials + 1):
            results.append(trial(n, args, root / f"trial-{n}"))
            _report(n, results[-1])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    promotions = [t.promotion for t in results]
    print(
        f"== {len(results)} trials, {mode}: acknowledged {sum(t.acknowledged for t in results)},"
        f" missing {sum(t.missing for t in results)},"
        f" in doubt {sum(t.in_doubt for t in results)},"
        f" absent after retries {sum(t.absent for t in results)},"
        f" duplicated {sum(t.duplicated for t in results)},"
        f" ledger verify failures {sum(t.verify[0] != 0 for t in results)};"
        f" promotion median {statistics.median(promotions):.2f} s (max {max(promotions):.2f} s);"
        f" {time.monotonic() - began:.0f} s in all; load average"
        f" {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    if args.async_ and not args.stall and not any(t.missing for t in results):
        print(
            "(nothing lost here: on loopback the standby had every commit before its answer"
            " reached the client; what an asynchronous standby loses is what it lags by when"
            " the primary dies: see --stall)"
        )
    # Without the database the server answers 503 (nothing acknowledged); anything
    # else (a 500) is a bug to look at (--logs).
    odd = [t for t in results if set(t.unanswered) - {0, 503}]
    failed = [t for t in results if t.absent or t.duplicated or t.verify[0]] + odd
    return 1 if failed or (not args.async_ and any(t.missing for t in results)) else 0


if __name__ == "__main__":
    sys.exit(main())
