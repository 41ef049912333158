"""A coroutine function run every N seconds in a task of its own, until stopped:
the server's periodic work (ending scheduled seasons, sharing rate-limit counts)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

__all__ = ["Every"]


class Every:
    def __init__(self, seconds: float, turn: Callable[[], Awaitable[None]], name: str) -> None:
        self.seconds, self.turn, self.name = seconds, turn, name
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            await self.turn()  # it handles its own failures: the next turn comes anyway
