"""Load for the throughput benchmarks: POST bodies to one URL from many connections
for a bounded time, and measure requests/s, p50/p99 latency and refusals.

`wrk` drives wrk (`apt-get install wrk`) with a Lua script that sends a random line
of a bodies file per request; `python_load` is the fallback without wrk: an asyncio
httpx client in a separate process (`python benchmarks/http_load.py URL KEY BODIES
SECONDS CONNECTIONS` prints its figures as JSON), slower, so its own cost caps the
figures. Both return the same dict: rps, p50, p99 (ms), non2xx, socket_errors.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

__all__ = ["LUA", "Load", "python_load", "wrk"]

Load = Callable[[str, str, Path, int, int], dict]
"""(url, key, bodies file, seconds, connections) -> figures."""

LUA = """
local bodies = {}
local n = 0
init = function(args)
  local f = io.open(args[1], "r")
  for line in f:lines() do n = n + 1; bodies[n] = line end
  f:close()
end
request = function()
  return wrk.format("POST", nil, nil, bodies[math.random(n)])
end
"""


def wrk(url: str, key: str, bodies: Path, seconds: int, conns: int, lua: str = LUA) -> dict:
    """wrk with `lua` (by default: a random line of `bodies` per request)."""
    script = bodies.with_name("post.lua")
    script.write_text(lua)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--timeout", "30s", "--latency",
         "-H", f"Authorization: {key}", "-H", "Content-Type: application/json",
         "-s", str(script), url, "--", str(bodies)],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout  # fmt: skip

    def ms(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not found:
            return float("nan")
        value, unit = float(found[1]), found[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": float(rate[1]) if rate else 0.0,
        "p50": ms("50"),
        "p99": ms("99"),
        "non2xx": int(bad[1]) if bad else 0,
        "socket_errors": errors[0] if errors else "",
    }


def python_load(url: str, key: str, bodies: Path, seconds: int, conns: int) -> dict:
    """`_load` in a separate process, so it does not share the server's cores' time
    slices with the benchmark's own work more than it must."""
    out = subprocess.run(
        [sys.executable, __file__, url, key, str(bodies), str(seconds), str(conns)],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


async def _load(url: str, key: str, bodies: list[bytes], seconds: float, conns: int) -> dict:
    """`conns` connections posting in a loop until `seconds` have passed; bounded in
    time, returns what `wrk` would."""
    latencies: list[float] = []
    statuses: list[int] = []
    headers = {"Authorization": key, "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
    async with httpx.AsyncClient(headers=headers, timeout=30, limits=limits) as client:
        deadline = time.perf_counter() + seconds
        rng = random.Random(5)

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                r = await client.post(url, content=rng.choice(bodies))
                latencies.append(time.perf_counter() - started)
                statuses.append(r.status_code)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conns)))
        elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {
        "rps": len(latencies) / elapsed,
        "p50": pct(0.50),
        "p99": pct(0.99),
        "non2xx": sum(1 for code in statuses if code >= 300),
        "socket_errors": "",
    }


if __name__ == "__main__":  # python_load's worker process
    url, key, path, seconds, conns = sys.argv[1:]
    lines = [line.encode() for line in Path(path).read_text().splitlines()]
    print(json.dumps(asyncio.run(_load(url, key, lines, float(seconds), int(conns)))))
