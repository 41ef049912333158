"""Read latency of tops, ranks, windowed tops (rolling and UTC calendar periods),
stats and balance graphs (SPEC §7), served by the real `voiceprofile serve` process
over HTTP, on a generated database.

    python benchmarks/bench_reads.py                    # 100k profiles, 1M ledger entries
    python benchmarks/bench_reads.py --big              # 1M profiles, 10M entries (slow to build)
    python benchmarks/bench_reads.py --db /tmp/x.db     # reuse a database built before

How to read it: one line per endpoint with p50 and p99 latency in ms over
sequential requests from one keep-alive client (so it is latency, not
throughput), then the resident memory growth of the server while it streams
`GET /profile?limit=0` (every profile): flat memory means the growth stays small
whatever the number of profiles. The machine may be shared: compare ratios
between runs rather than absolute figures.

The generator (benchmarks/reads_db.py) writes straight SQL (no server): accounts with
random profile values, a ledger whose balances are replayed exactly (no user below
zero, sums to zero, hash chain valid: `voiceprofile ledger verify --db …` passes), one
"hot" user drawn for `--hot-share` of the entries (~100k of 10M: the graph target), and
activity buckets over the last 30 days. 10% of profiles are in one big guild, the rest
spread over `--guilds` guilds. The reads measured: benchmarks/reads_scenarios.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.http_server import serve, stop  # noqa: E402
from benchmarks.reads_db import build_or_reuse  # noqa: E402
from benchmarks.reads_scenarios import run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--big", action="store_true", help="1M profiles / 10M entries")
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--guilds", type=int, default=None, help="default: profiles / 1000")
    parser.add_argument(
        "--hot-share",
        type=float,
        default=0.0131,
        help="how often the hot user is drawn; about 3/4 of the draws touch it, so the"
        " default gives it ~100k of 10M entries (the graph target's user)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        help="keep the database here and reuse it while it is under a day old (its key"
        " is kept beside it in <db>.key); windows are relative to when it was built",
    )
    parser.add_argument("--quick", action="store_true", help="fewer requests per endpoint")
    args = parser.parse_args()
    if args.big:
        args.profiles, args.entries = 1_000_000, 10_000_000
    guilds = args.guilds or max(2, args.profiles // 1000)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.db"
        key = build_or_reuse(
            db, args.db is not None, args.profiles, args.entries, guilds, args.hot_share
        )
        # `sync` builds an in-memory board on the first request that needs it (the
        # warm-up request, whose time is printed as "first"), so the figures are
        # the steady state; the default `background` answers that request by SQL.
        process, url = serve(db, Path(tmp) / "server.log", {"VOICEPROFILE_BOARDS": "sync"})
        try:
            run(url, key, process.pid, args.profiles, guilds, args.quick)
        finally:
            stop(process)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
