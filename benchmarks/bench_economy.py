"""The economy under load over HTTP: buys/s and claims/s at concurrency 64, next to
single transfers/s of the same server in the same run.

    python benchmarks/bench_economy.py [--seconds 5] [--connections 64]

Starts `python -m app.cli serve` on 127.0.0.1 (granian, 1 worker, rate limits off;
benchmarks/http_server.py) on a fresh database, then drives it with wrk (`apt-get
install wrk`; without it a slower Python load generator, which caps the figures and
repeats bodies, so claims then see 409s; both: benchmarks/http_load.py) in these
phases, each --seconds long:

1. `POST /transaction`: single user -> user transfers among 1000 funded members
   (the baseline; run before and after the others, the mean is used, so a change
   in the machine's load during the run shows as a gap between the two).
2. `POST /shop/1/items/gem/buy`: one item at a time by the same 1000 members, from
   a limited stock (so every buy also takes from the stock row).
3. `POST /rewards/1/daily/claim`: each request a different member who has a profile
   and has not claimed yet (so every claim is paid, none is a 409).

Every answer counted is a durable 2xx (synchronous=FULL, group commit). Prints
requests/s, p50/p99 latency, the ratios buys/transfers and claims/transfers
(target >= 0.8 each) and the machine's load average (2 cores shared with other
work: compare ratios, not absolute rates, across runs).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.http_load import Load, python_load, wrk  # noqa: E402
from benchmarks.http_server import Server, start, stop  # noqa: E402
from storage.ids import vp_id  # noqa: E402

GUILD, USERS = 1, 1000
CLAIMERS_FROM = 1_000_000  # user ids of the members who claim

# Each wrk thread walks its own share of the bodies in order (thread t takes lines
# t, t+2, t+4, …), so no body is sent twice before the file is used up: a claim is
# then never repeated. For transfers and buys the file is shuffled, so it is random.
IN_ORDER = """
local bodies = {}
local n = 0
local i = 0
local count = 0
function setup(thread)
  thread:set("tid", count)
  count = count + 1
end
init = function(args)
  local f = io.open(args[1], "r")
  for line in f:lines() do n = n + 1; bodies[n] = line end
  f:close()
  i = tid
end
request = function()
  local body = bodies[(i % n) + 1]
  i = i + 2
  return wrk.format("POST", nil, nil, body)
end
"""


def _write(path: Path, bodies: list[dict]) -> Path:
    path.write_text("".join(json.dumps(b, separators=(",", ":")) + "\n" for b in bodies))
    return path


def _members(c: httpx.Client, ids: range) -> None:
    for first in range(ids.start, ids.stop, 1000):
        chunk = range(first, min(first + 1000, ids.stop))
        added = [{"guild_id": GUILD, "user_id": u, "experience": 0} for u in chunk]
        assert c.patch("/profile/add", json=added).status_code == 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each phase")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    load: Load = functools.partial(wrk, lua=IN_ORDER) if shutil.which("wrk") else python_load
    if load is python_load:
        print("wrk not found (apt-get install -y wrk): the Python load generator caps the"
              " figures and repeats claims (409s)", file=sys.stderr)  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="vp-bench-economy-"))
    db, log = tmp / "bench.db", tmp / "server.log"
    server: Server | None = None
    try:
        server = start(db, 1, log)
        url, key = server.url, server.key
        rng = random.Random(3)
        seconds, conns = args.seconds, args.connections
        with httpx.Client(base_url=url, headers={"Authorization": key}, timeout=120) as c:
            _members(c, range(1, USERS + 1))
            funding = [{"from": "self", "to": vp_id(GUILD, u), "amount": 10**12}
                       for u in range(1, USERS + 1)]  # fmt: skip
            assert c.post("/transaction", json=funding).status_code == 201
            item = {"name": "Gem", "price": 1, "stock": 10**12}
            assert c.put(f"/shop/{GUILD}/items/gem", json=item).status_code == 201
            reward = {"amount": 10, "period": "day", "streak_bonus": 1}
            assert c.put(f"/rewards/{GUILD}/daily", json=reward).status_code == 201
            users = [vp_id(GUILD, u) for u in range(1, USERS + 1)]
            transfers = _write(tmp / "transfers.txt", [
                {"from": s, "to": d, "amount": 1, "reason": "bench"}
                for s, d in (rng.sample(users, 2) for _ in range(5000))
            ])  # fmt: skip
            buys = _write(tmp / "buys.txt", [
                {"user_id": rng.randint(1, USERS), "quantity": 1} for _ in range(5000)
            ])  # fmt: skip
            print(f"c={conns}; {seconds}s per phase; load average before:"
                  f" {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores, shared)")  # fmt: skip
            before = load(f"{url}/transaction", key, transfers, seconds, conns)
            # Enough members for every claim to be a first one: twice the transfer rate.
            claimers = max(20_000, int(before["rps"] * seconds * 2))
            _members(c, range(CLAIMERS_FROM, CLAIMERS_FROM + claimers))
        claims = _write(tmp / "claims.txt", [
            {"user_id": u} for u in range(CLAIMERS_FROM, CLAIMERS_FROM + claimers)
        ])  # fmt: skip
        bought = load(f"{url}/shop/{GUILD}/items/gem/buy", key, buys, seconds, conns)
        claimed = load(f"{url}/rewards/{GUILD}/daily/claim", key, claims, seconds, conns)
        after = load(f"{url}/transaction", key, transfers, seconds, conns)
        base = (before["rps"] + after["rps"]) / 2
        print(f"{'phase':<22} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
        phases = [("transfers (before)", before), ("buys", bought), ("claims", claimed),
                  ("transfers (after)", after)]  # fmt: skip
        for name, r in phases:
            print(
                f"{name:<22} {r['rps']:>9,.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['non2xx']:>8}"
            )
            if r["socket_errors"]:
                print(f"  {r['socket_errors']}")
        print(f"buys / transfers:   {bought['rps'] / base:.2f} (target >= 0.8)")
        print(f"claims / transfers: {claimed['rps'] / base:.2f} (target >= 0.8)")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        failed = sum(r["non2xx"] for _, r in phases)
        if failed:  # refusals would be counted as work done
            print(f"INVALID RUN: {failed} responses were not 2xx (see {log})")
            return 1
        return 0
    finally:
        if server is not None:
            stop(server.process)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
