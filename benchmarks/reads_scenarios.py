"""What bench_reads.py measures on the server: the reads of SPEC §7 (tops, ranks,
windowed tops, stats, balance graphs) on the generated database (benchmarks/reads_db.py),
each as p50/p99 latency of sequential requests from one keep-alive client, and the
server's resident memory while it streams every profile.
"""

from __future__ import annotations

import hashlib
import statistics
import threading
import time

import httpx

from benchmarks.http_server import tree_rss_kb
from benchmarks.reads_db import BIG_GUILD, USER_BASE, guild_of

__all__ = ["run"]

ROLLING = ("day", "week", "month")
CALENDAR = ("this-week", "last-week", "this-month", "last-month")
BUDGET_S = 20.0  # per endpoint: a slow one gets fewer requests (3 at least)


def measure(client: httpx.Client, label: str, paths: list[str], n: int) -> None:
    t0 = time.perf_counter()
    for path in paths[:2]:
        client.get(path).raise_for_status()
    first = (time.perf_counter() - t0) * 1000
    times, size = [], 0
    deadline = time.perf_counter() + BUDGET_S
    for i in range(n):
        if i >= 3 and time.perf_counter() > deadline:
            break
        path = paths[i % len(paths)]
        t0 = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
        size = len(r.content)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(
        f"{label:<52} p50 {statistics.median(times):8.2f} ms   p99 {p99:8.2f} ms"
        f"   ({len(times)} req, {size} B; first {first:.0f} ms)",
        flush=True,
    )


def stream_rss(client: httpx.Client, pid: int) -> None:
    base = tree_rss_kb(pid)
    peak = [base]
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_kb(pid))
            time.sleep(0.05)

    watcher = threading.Thread(target=poll)
    watcher.start()
    t0 = time.perf_counter()
    size = 0
    with client.stream("GET", "/profile", params={"limit": 0}) as r:
        for chunk in r.iter_bytes():
            size += len(chunk)
    done.set()
    watcher.join()
    print(
        f"GET /profile?limit=0: {size / 1e6:.0f} MB streamed in {time.perf_counter() - t0:.1f} s;"
        f" server RSS {base / 1024:.0f} MB -> peak {peak[0] / 1024:.0f} MB"
        f" (growth {(peak[0] - base) / 1024:.1f} MB; target <= 50 MB)",
        flush=True,
    )


def run(url: str, key: str, pid: int, profiles: int, guilds: int, quick: bool) -> None:
    n, heavy = (20, 5) if quick else (200, 20)
    typical = BIG_GUILD + 1
    members = [USER_BASE + i for i in range(1, profiles) if guild_of(i, guilds) == typical][:50]
    # Every 10th profile is in the big guild; the first, the hot user, is left out.
    big_members = [USER_BASE + i for i in range(10, profiles, 10)][:: max(1, profiles // 500)]
    hot = f"guild_id={BIG_GUILD}&user_id={USER_BASE}"
    start_rss = tree_rss_kb(pid)
    with httpx.Client(base_url=url, headers={"Authorization": key}, timeout=600) as c:
        print(
            f"-- tops (amount=5); a typical guild has ~{profiles * 9 // 10 // max(1, guilds - 1)}"
            f" profiles, the big one {profiles // 10}"
        )
        for by in (
            "points",
            "levels",
            "experience",
            "time",
            "text-level",
            "text-message",
            "pray-streak",
        ):
            measure(c, f"GET /profile/top?by={by}", [f"/profile/top?by={by}"], n)
        for by in ("points", "levels"):
            measure(
                c,
                f"GET /profile/{{guild}}/top?by={by} (typical)",
                [f"/profile/{typical}/top?by={by}"],
                n,
            )
            measure(
                c,
                f"GET /profile/{{guild}}/top?by={by} (big)",
                [f"/profile/{BIG_GUILD}/top?by={by}"],
                n,
            )
        measure(
            c, "GET /profile/top?by=points&offset=1000", ["/profile/top?by=points&offset=1000"], n
        )
        print("-- ranks")
        for by in ("points", "levels", "text-level"):
            measure(
                c,
                f"rank by={by} (typical guild)",
                [f"/profile/{typical}/{u}/rank?by={by}" for u in members],
                n,
            )
            measure(
                c,
                f"rank by={by} (big guild)",
                [f"/profile/{BIG_GUILD}/{u}/rank?by={by}" for u in big_members],
                heavy,
            )
        print("-- windows: rolling, then UTC calendar periods")
        for tf in ROLLING + CALENDAR:
            measure(
                c,
                f"guild top by=points timeframe={tf} (typical)",
                [f"/profile/{typical}/top?by=points&timeframe={tf}"],
                heavy,
            )
            measure(
                c,
                f"guild top by=levels timeframe={tf} (typical)",
                [f"/profile/{typical}/top?by=levels&timeframe={tf}"],
                heavy,
            )
        for tf in ("week", "last-week"):
            measure(
                c,
                f"rank by=points timeframe={tf} (typical)",
                [f"/profile/{typical}/{u}/rank?by=points&timeframe={tf}" for u in members],
                heavy,
            )
        for tf in ("day", "week", "this-week", "last-month"):
            measure(
                c,
                f"global top by=points timeframe={tf}",
                [f"/profile/top?by=points&timeframe={tf}"],
                heavy,
            )
            measure(
                c,
                f"global top by=time timeframe={tf}",
                [f"/profile/top?by=time&timeframe={tf}"],
                heavy,
            )
        measure(
            c,
            "guild top by=points timeframe=week (big)",
            [f"/profile/{BIG_GUILD}/top?by=points&timeframe=week"],
            heavy,
        )
        print(
            f"server RSS: {start_rss / 1024:.0f} MB at start, {tree_rss_kb(pid) / 1024:.0f} MB"
            " with the in-memory boards of the reads above built",
            flush=True,
        )
        print("-- stats")
        measure(c, "GET /stats", ["/stats"], heavy)
        measure(c, "GET /stats?guild_id= (typical)", [f"/stats?guild_id={typical}"], n)
        measure(c, "GET /stats?guild_id= (big)", [f"/stats?guild_id={BIG_GUILD}"], heavy)
        print("-- balance graphs")
        hot_entries = c.get(
            f"/transaction?vp_id={hashlib.sha256(f'{BIG_GUILD}:{USER_BASE}'.encode()).hexdigest()}&limit=1"
        ).headers.get("x-total-count")
        measure(
            c,
            f"graph hot user ({hot_entries} entries) bucket=day",
            [f"/stats/balance_graph?{hot}&bucket=day"],
            heavy,
        )
        measure(
            c,
            "graph hot user bucket=day format=svg",
            [f"/stats/balance_graph?{hot}&bucket=day&format=svg"],
            heavy,
        )
        measure(
            c,
            "graph typical user (all points)",
            [f"/stats/balance_graph?guild_id={BIG_GUILD}&user_id={u}" for u in big_members],
            n,
        )
        measure(
            c,
            "graph typical guild bucket=day",
            [f"/stats/balance_graph?guild_id={typical}&bucket=day"],
            heavy,
        )
        measure(
            c,
            "graph economy bucket=day, last 7 days",
            [f"/stats/balance_graph?bucket=day&from={time.time() - 7 * 86400:.0f}"],
            heavy,
        )
        measure(
            c,
            "graph economy bucket=day, all time",
            ["/stats/balance_graph?bucket=day"],
            max(2, heavy // 4),
        )
        print("-- streaming")
        stream_rss(c, pid)
