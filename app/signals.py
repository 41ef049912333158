"""SIGTERM and SIGINT start the drain of app/deadlines.py in a server process."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from typing import Any

from litestar import Litestar

from app.deadlines import Deadlines

__all__ = ["listen_for_signals"]


def listen_for_signals(app: Litestar) -> None:
    """Start the drain on SIGTERM/SIGINT, in a server process (granian's worker);
    called at lifespan start (app/lifespan.py).

    granian's worker stops on these signals through handlers its event loop set
    before the app's lifespan starts, and tells the app only once every connection
    ended. A Python-level handler is chained in front of the loop's: the loop still
    hears the signal (through the signal wake-up fd, and the previous handler is
    called too), and the drain starts at once."""
    deadlines: Deadlines | None = app.state.get("deadlines")
    if deadlines is None or threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)

        def chained(signum: int, frame: Any, previous: Any = previous) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: too late
                loop.call_soon_threadsafe(deadlines.drain)
            if callable(previous):
                previous(signum, frame)

        signal.signal(sig, chained)
