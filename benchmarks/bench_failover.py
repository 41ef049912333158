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
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import pg_cluster  # noqa: E402

GUILD, BOT, USERS, STANDBY = "700000000000000001", "700000000000000002", 64, "s1"


@dataclass
class Request:
    key: str
    reason: str
    body: dict
    status: int = 0  # 0: no answer (connection lost, timeout)
    id: int = 0  # the transaction id of a 201


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    out: IO[str]
    log: Path

    def stop(self) -> float:
        """SIGTERM (the drain ends within DRAIN_TIMEOUT + 5 s), SIGKILL to the group
        it leads after 20 s. Returns the seconds it took."""
        began = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.out.close()
        return time.monotonic() - began


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db: str, log: Path) -> Server:
    """`python -m app.cli serve` on 127.0.0.1; returns once /health answers 200."""
    port = _free_port()
    out = log.open("a")
    command = ["serve", "--host", "127.0.0.1", "--port", str(port), "--db", db]
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *command],
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "VOICEPROFILE_RATE_LIMIT": "off"},
        cwd=ROOT,
        text=True,
        start_new_session=True,
    )
    server = Server(process, f"http://127.0.0.1:{port}", out, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out.close()
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not answer /health: {log.read_text()}")


def _clusters(root: Path, sync: bool) -> tuple[pg_cluster.Cluster, pg_cluster.Cluster]:
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


async def _setup(url: str, admin_key: str) -> str:
    """A key for the bot, and its members' profiles. Returns the key."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        r = await client.post(
            "/keys", headers={"Authorization": admin_key}, json={"name": "bench", "bot_id": BOT}
        )
        r.raise_for_status()
        key: str = r.json()["key"]
        for user in range(1, USERS + 1):
            r = await client.post(f"/profile/{GUILD}/{user}", headers={"Authorization": key})
            r.raise_for_status()
    return key


async def _post(client: httpx.AsyncClient, req: Request) -> None:
    try:
        r = await client.post("/transaction", json=req.body, headers={"Idempotency-Key": req.key})
    except httpx.HTTPError:
        req.status = 0
        return
    req.status = r.status_code
    if r.status_code == 201:
        req.id = int(r.json()["id"])


async def _load(
    url: str, key: str, tag: str, args: argparse.Namespace, primary: pg_cluster.Cluster
) -> tuple[list[Request], int, int]:
    """`args.clients` clients posting transfers; the primary is killed after
    `args.seconds`, the clients stop `args.after` later. Returns every request, how
    many were acknowledged before the kill, and the server's /health status then."""
    done: list[Request] = []
    numbers = itertools.count(1)
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=args.clients)
    headers = {"Authorization": key}
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=10
    ) as client:

        async def worker() -> None:
            while not stop.is_set():
                n = next(numbers)
                reason = f"failover {tag} r{n}"
                body = {
                    "from": "self",
                    "to": {"guild_id": GUILD, "user_id": str(1 + n % USERS)},
                    "amount": 1 + n % 97,
                    "reason": reason,
                }
                req = Request(f"fo-{tag}-{n}", reason, body)
                await _post(client, req)
                done.append(req)

        workers = [asyncio.create_task(worker()) for _ in range(args.clients)]
        await asyncio.sleep(args.seconds - args.stall)
        if args.stall:
            os.kill(_walsender(primary), signal.SIGSTOP)  # SIGKILLed with the primary
            await asyncio.sleep(args.stall)
        before = sum(1 for r in done if r.status == 201)
        await asyncio.to_thread(primary.kill)
        await asyncio.sleep(args.after)
        stop.set()
        await asyncio.gather(*workers)
        health = (await client.get("/health")).status_code
    return done, before, health


def _walsender(primary: pg_cluster.Cluster) -> int:
    with primary.admin() as conn:
        row = conn.execute(
            "SELECT pid FROM pg_stat_replication WHERE application_name = %s", (STANDBY,)
        ).fetchone()
    if not row:
        raise RuntimeError("no walsender for the standby")
    return int(row[0])


async def _retry(url: str, key: str, requests: list[Request], clients: int) -> None:
    """What a client does with a request it got no 201 for: send it again, same body,
    same Idempotency-Key."""
    queue = list(requests)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": key}, timeout=30
    ) as client:

        async def worker() -> None:
            while queue:
                await _post(client, queue.pop())

        await asyncio.gather(*(worker() for _ in range(clients)))


def _ledger(db: str, tag: str) -> dict[str, list[tuple[int, int]]]:
    """reason -> [(id, amount)] of this trial's transfers in the ledger at `db`."""
    found: dict[str, list[tuple[int, int]]] = {}
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT reason, id, amount FROM ledger WHERE reason LIKE %s", (f"failover {tag} %",)
        )
        for reason, id_, amount in rows:
            found.setdefault(reason, []).append((int(id_), int(amount)))
    return found


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
    primary, standby = _clusters(root, sync=not args.async_)
    servers: list[Server] = []
    # Both servers get one URL naming both hosts; libpq connects to the one that
    # takes writes: the primary, then the promoted standby. A restart is all the
    # server needs, not a new setting.
    db = (
        f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/vp"
        "?target_session_attrs=read-write"
    )
    try:
        servers.append(_serve(db, root / "server-primary.log"))
        found = re.search(r"(vps_[A-Za-z0-9_-]+)", servers[0].log.read_text())
        if not found:
            raise RuntimeError("the first start printed no admin key")
        key = asyncio.run(_setup(servers[0].url, found[1]))
        tag = f"t{n}-{secrets.token_hex(4)}"  # names this trial's transfers (their reason)
        requests, before, health = asyncio.run(_load(servers[0].url, key, tag, args, primary))
        result = Trial(before_kill=before, health=health)
        result.server_stop = servers[0].stop()
        began = time.monotonic()
        standby.promote()
        result.promotion = time.monotonic() - began
        servers.append(_serve(db, root / "server-standby.log"))
        result.server_back = time.monotonic() - began

        ledger = _ledger(standby.url("vp"), tag)
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
        asyncio.run(_retry(servers[1].url, key, retry, args.clients))
        result.retried = len(retry)
        ledger = _ledger(standby.url("vp"), tag)
        result.absent = sum(req.reason not in ledger for req in retry)
        result.duplicated = sum(len(ledger.get(req.reason, [])) > 1 for req in requests)
        with psycopg.connect(standby.url("vp")) as conn:
            row = conn.execute("SELECT count(*) FROM ledger WHERE id = ANY(%s)", (lost,)).fetchone()
            result.reused = int(row[0]) if row else 0
        result.verify = _verify(standby.url("vp"))
        return result
    finally:
        for server in servers:
            server.stop()
            if args.logs:
                shutil.copy(server.log, Path(args.logs) / f"trial-{n}-{server.log.name}")
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
