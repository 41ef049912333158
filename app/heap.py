"""The garbage collector's share of a request, kept small in a server process.

A server process starts with a large heap that lives as long as it does (the
framework, the app, its routes and schema, the services: about 100,000 objects the
collector tracks). CPython's cyclic collector walks all of it at every full
collection. And with 64 requests in flight, the containers alive at once (scopes,
coroutines, headers) pass the young generation's 700 over and over, so young
collections run every few dozen requests and find nothing to free.

Counted in the server during a 4 s no-op run of benchmarks/bench_http.py (64
connections, about 40,000 requests): 1,625 young, 147 middle and 13 full
collections; each full one took 31 ms (0.41 s of the 4), which was the no-op's p99
of 35 ms against the bare framework's 18 ms. Two stdlib settings, applied once the
services are open, make that one young collection in the same run:

- `gc.freeze()` moves everything alive after start-up to a permanent generation
  the collector never walks again (its intended use: a long-lived heap made once).
  The 13 full collections then took 7 ms in all.
- A young generation of 10,000 instead of 700: more than a busy server's requests
  hold at once, so collections come when garbage may really have piled up.

Cycles are still collected, only later: after 10,000 more containers than were
freed, instead of 700.
"""

from __future__ import annotations

import gc

__all__ = ["settle"]

YOUNG = 10_000  # allocations between two young collections (CPython's default: 700)


def settle() -> None:
    """Freeze the start-up heap and widen the young generation; the older
    generations keep their defaults."""
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, old)
