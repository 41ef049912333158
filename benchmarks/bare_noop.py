"""The bare framework no-op that benchmarks/bench_http.py measures the server against:
Litestar + msgspec on granian, the server's own settings (one worker, uvloop, asyncio
tasks, HTTP/1), one POST that reads and decodes the body and answers 201 `{}`. No
key, no guard, no metrics, no rate limit, no deadlines: what the framework costs.

    python benchmarks/bare_noop.py PORT
"""

from __future__ import annotations

import sys

import msgspec
from litestar import Litestar, Request, Response, post


class _Transfer(msgspec.Struct):
    to: str
    amount: int
    reason: str = ""


_decode = msgspec.json.Decoder(_Transfer | list[_Transfer]).decode


@post("/bench/noop", status_code=201)
async def noop(request: Request) -> Response[bytes]:
    _decode(await request.body())
    return Response(b"{}", status_code=201, media_type="application/json")


app = Litestar(route_handlers=[noop], openapi_config=None, debug=False)


def main() -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops, TaskImpl

    Granian(
        "benchmarks.bare_noop:app",
        address="127.0.0.1",
        port=int(sys.argv[1]),
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops.uvloop if sys.platform != "win32" else Loops.asyncio,
        task_impl=TaskImpl.asyncio,
        http=HTTPModes.http1,
        log_access=False,
    ).serve()


if __name__ == "__main__":
    main()
