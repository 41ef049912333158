"""Rate limits shared by every server process on one database (several workers, or
several hosts on one PostgreSQL): every `rate_share_seconds`, each process writes
its counts of the budgets that matter (app/ratelimit.py `usage`) to the
`rate_usage` table and reads what the others wrote for the same window, which its
limiter adds to its own counts from then on (`learn`).

Why through the database: it is the one thing every process of the service shares,
on one host or many, and one small write and one read a second cost nothing
beside the ledger's traffic. The price is a bound instead of an exact count
(README "Several workers"): what another process accepted since its last report,
and budgets below 1/SHARE_FRACTION of the limit in a process, are not seen yet.
"""

from __future__ import annotations

import logging
import secrets

from app.every import Every
from app.ratelimit import RateLimiter
from storage.engine.host import host_name
from storage.engine.readers import ReaderPool
from storage.engine.writer import Writer
from storage.queries import rate_usage

__all__ = ["RateShare"]

log = logging.getLogger(__name__)


class RateShare:
    def __init__(
        self, limiter: RateLimiter, writer: Writer, readers: ReaderPool, every: float
    ) -> None:
        self.limiter, self.writer, self.readers = limiter, writer, readers
        # Its name in rate_usage: the host's when the host's workers count together
        # (each of them reports the same, host-wide counts), else this process's.
        self.process = (limiter.host and host_name()) or secrets.token_hex(8)
        self._every = Every(every, self._turn, "rate-share")

    def start(self) -> RateShare:
        self._every.start()
        return self

    async def stop(self) -> None:
        await self._every.stop()

    async def exchange(self) -> None:
        """Tell the others this process's counts; learn theirs."""
        limiter = self.limiter
        window, used = limiter.usage()
        if used:
            report = rate_usage.Report(limiter.period, window, self.process, used)
            try:
                await self.writer.run(rate_usage.report_task, report)
            except BaseException:
                limiter.resend()
                raise
        others = await self.readers.call(rate_usage.others, limiter.period, window, self.process)
        limiter.learn(window, others)

    async def _turn(self) -> None:
        try:
            await self.exchange()
        except Exception:  # the limits go on per process meanwhile; tried again
            log.exception("sharing rate-limit counts failed; tried again later")
