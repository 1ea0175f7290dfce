"""Deletes events older than their group's retention: `run_once()`, or a loop every hour.

Reads already hide expired events; the sweeper gives their space back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from portico.services.logs.repository import DAY_MS, LogsRepository
from portico.store import Clock, Database, StoreError

logger = logging.getLogger(__name__)
PAGE = 100


class RetentionSweeper:
    def __init__(self, database: Database, clock: Clock, interval: float = 3600.0) -> None:
        self._repository = LogsRepository(database)
        self._clock = clock
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def run_once(self) -> int:
        """Delete every expired event now; return how many. Blocks: call it in a thread."""
        now = int(self._clock.now() * 1000)
        deleted = 0
        after: str | None = None
        while True:
            page = self._repository.retained_groups(after, PAGE)
            for key, days in page:
                deleted += self._repository.expire(key, now - days * DAY_MS)
            if len(page) < PAGE:
                return deleted
            after = page[-1][0]

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="logs-retention")

    async def close(self) -> None:
        """Stop the loop; a sweep in progress finishes first."""
        task, self._task = self._task, None
        if task is not None:
            self._stop.set()
            await task

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deleted = await asyncio.to_thread(self.run_once)
            except StoreError:
                logger.exception("log retention sweep failed")
            else:
                if deleted:
                    logger.info("log retention: deleted %d expired events", deleted)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)
