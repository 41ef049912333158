"""The clients of bench_failover.py: the bot's key and members, then `--clients`
concurrent clients posting single transfers (treasury -> member, each with its own
Idempotency-Key and a unique reason) while the primary is killed, and the retries of
every request that got no 201.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
from dataclasses import dataclass

import httpx

from benchmarks.failover_cluster import walsender
from tests import pg_cluster

__all__ = ["Request", "load", "retry", "setup"]

GUILD, BOT, USERS = "700000000000000001", "700000000000000002", 64


@dataclass
class Request:
    key: str
    reason: str
    body: dict
    status: int = 0  # 0: no answer (connection lost, timeout)
    id: int = 0  # the transaction id of a 201


async def setup(url: str, admin_key: str) -> str:
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


async def load(
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
        stalled = walsender(primary) if args.stall else None
        if stalled is not None:
            os.kill(stalled, signal.SIGSTOP)
            await asyncio.sleep(args.stall)
        before = sum(1 for r in done if r.status == 201)
        await asyncio.to_thread(primary.kill)
        if stalled is not None:
            # PostgreSQL's backends lead process groups of their own, so the primary's
            # kill misses them; they exit once they see the postmaster gone, which a
            # stopped one never does: it would outlive the run.
            with contextlib.suppress(ProcessLookupError):
                os.kill(stalled, signal.SIGKILL)
        await asyncio.sleep(args.after)
        stop.set()
        await asyncio.gather(*workers)
        health = (await client.get("/health")).status_code
    return done, before, health


async def retry(url: str, key: str, requests: list[Request], clients: int) -> None:
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
