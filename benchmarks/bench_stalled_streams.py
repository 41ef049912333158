"""What clients that ask for a long streamed list and then read nothing cost the
server in memory: the worker's RSS growth per stalled client, while its stream waits
and after SEND_TIMEOUT cut it.

    python benchmarks/bench_stalled_streams.py [--clients 1,4,16] [--profiles 4000]

Fills a guild with `--profiles` profiles of 9 KB each (a 36 MB list at 4000), then,
for each count of clients, starts the real server (one worker, SEND_TIMEOUT 3 s),
opens that many connections with a 4 KB receive buffer that send
`GET /profile/{guild}?limit=0` and read nothing, and prints the worker's growth
per client 2 s later (the streams waiting), after the send limit cut them, and for
as many new stalled clients then (the first still connected): growth there is what
the cut did not free for reuse. Each
stalled stream holds at most one chunk of the app's (`STREAM_CHUNK` rows) and what
granian took of the 64 KB pieces it is sent in (README "Timeouts").
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.http_server import descendants, rss_kb, start, stop  # noqa: E402

GUILD = 7
SEND_TIMEOUT = 3


def fill(url: str, key: str, profiles: int) -> None:
    blob = "x" * 9000
    with httpx.Client(base_url=url, headers={"Authorization": key}, timeout=60) as c:
        for first in range(0, profiles, 100):
            items = [
                {"guild_id": str(GUILD), "user_id": str(first + i + 1), "data": {"blob": blob}}
                for i in range(min(100, profiles - first))
            ]
            assert c.patch("/profile/add", json=items).status_code == 200


def stalled(url: str, key: str) -> socket.socket:
    host, port = url.rsplit("/", 1)[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(
        f"GET /profile/{GUILD}?limit=0 HTTP/1.1\r\nHost: t\r\nAuthorization: {key}\r\n\r\n".encode()
    )
    return sock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--profiles", type=int, default=4000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vp-stall-"))
    try:
        db = work / "stall.db"
        os.environ["VOICEPROFILE_SEND_TIMEOUT"] = str(SEND_TIMEOUT)
        srv = start(db, 1, work / "fill.log")
        fill(srv.url, srv.key, args.profiles)
        stop(srv.process)
        size = args.profiles * 9.1 / 1024
        print(
            f"{args.profiles} profiles of 9 KB: a {size:.0f} MB list; SEND_TIMEOUT {SEND_TIMEOUT} s"
        )
        for clients in (int(n) for n in args.clients.split(",")):
            srv = start(db, 1, work / f"serve-{clients}.log")
            try:
                worker = descendants(srv.process.pid)[-1]
                before = rss_kb(worker)
                socks = [stalled(srv.url, srv.key) for _ in range(clients)]
                time.sleep(2)
                waiting = rss_kb(worker)
                time.sleep(SEND_TIMEOUT + 2)
                cut = rss_kb(worker)
                # As many again, the first still connected: what the cut freed is
                # used again, so growth here is what the first ones still hold.
                socks += [stalled(srv.url, srv.key) for _ in range(clients)]
                time.sleep(2)
                again = rss_kb(worker)
                print(
                    f"{clients:3d} stalled clients: worker {before / 1024:.0f} MB,"
                    f" +{(waiting - before) / 1024 / clients:.1f} MB per client while waiting,"
                    f" +{(cut - before) / 1024 / clients:.1f} after the cut;"
                    f" as many again: +{(again - cut) / 1024 / clients:.1f} MB per client"
                )
                for sock in socks:
                    sock.close()
            finally:
                stop(srv.process)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
