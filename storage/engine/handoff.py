"""How a write task travels between an event loop and the writer thread: queued as
a `Task` with its future and loop, and settled after the commit with one wake-up
per event loop for the whole batch, not one per task."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.engine.write_context import WriteContext

__all__ = ["Task", "settle"]


@dataclass(slots=True)
class Task:
    fn: Callable[[WriteContext, Any], Any]
    arg: Any
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def settle(items: list[tuple[Task, tuple[bool, Any]]]) -> None:
    # One wake-up per event loop for the whole batch, not one per task.
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Task, tuple[bool, Any]]]] = {}
    for task, outcome in items:
        by_loop.setdefault(task.loop, []).append((task, outcome))
    for loop, found in by_loop.items():
        # A closed loop has nobody waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_resolve, found)


def _resolve(items: list[tuple[Task, tuple[bool, Any]]]) -> None:
    for task, (ok, value) in items:
        if task.future.done():
            continue
        if ok:
            task.future.set_result(value)
        else:
            task.future.set_exception(value)
