"""POST /bench/noop: the HTTP baseline of benchmarks/bench_http.py, served only when
Settings.bench is on (VOICEPROFILE_BENCH=1), never by default."""

from __future__ import annotations

from litestar import Request, Response, post

__all__ = ["ROUTES"]


@post("/bench/noop", opt={"scope": "ledger:write"}, status_code=201, include_in_schema=False)
async def bench_noop(request: Request) -> Response[bytes]:
    """The same auth and body read as POST /transaction, no ledger."""
    await request.body()
    return Response(b"{}", status_code=201, media_type="application/json")


ROUTES = [bench_noop]
