"""The desk's periodic jobs (escalating overdue cases, picking up entries changed elsewhere), run in its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("citydesk.background")


async def run_once(job: Callable[[], T], what: str) -> T | None:
    """Run a blocking job in a thread; a failure is logged, never fatal: the next run tries again."""
    try:
        return await asyncio.to_thread(job)
    except Exception:
        log.exception("%s failed", what)
        return None


@contextlib.asynccontextmanager
async def every(interval_s: float, job: Callable[[], object], what: str, *,
                at_start: bool = False) -> AsyncIterator[None]:
    """Run `job` every `interval_s` seconds (and once at once, if `at_start`) until the block ends."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval_s)
            await run_once(job, what)

    if at_start:
        await run_once(job, what)
    task = asyncio.create_task(loop(), name=what)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
