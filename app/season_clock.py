"""The task that ends scheduled seasons: at start (before the server answers, so a
boundary passed while it was down is ended first), then every `season_check_seconds`.

It looks through a reader first and asks the writer only when a boundary is due,
so an idle server writes nothing; the writer checks again in its transaction
(ledger/season_schedule.py), which is what makes each boundary end once.
"""

from __future__ import annotations

import logging

from app.every import Every
from ledger.season_schedule import boundaries, end_due
from storage.clock import Clock
from storage.engine.readers import ReaderPool
from storage.engine.writer import Writer
from storage.queries import schedules

__all__ = ["SeasonClock"]

log = logging.getLogger(__name__)


class SeasonClock:
    def __init__(self, writer: Writer, readers: ReaderPool, clock: Clock, every: float) -> None:
        self.writer, self.readers, self.clock = writer, readers, clock
        self._every = Every(every, self._look, "season-schedule")

    async def start(self) -> None:
        await self._look()
        self._every.start()

    async def stop(self) -> None:
        await self._every.stop()

    async def tick(self) -> int:
        """End what is due now; the seasons made."""
        now = self.clock.now()
        week, month = boundaries("week", now)[0], boundaries("month", now)[0]
        if not await self.readers.call(schedules.due, week, month):
            return 0
        return await self.writer.run(end_due, None)

    async def _look(self) -> None:
        try:
            made = await self.tick()
        except Exception:  # a failed look must not stop the server; the next one retries
            log.exception("ending scheduled seasons failed; tried again later")
        else:
            if made:
                log.info("%d scheduled season(s) ended", made)
