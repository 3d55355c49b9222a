"""Overdue cases are escalated by the desk itself: once at start, then every interval while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from handoff.service import CaseDesk

log = logging.getLogger("citydesk.escalation")


async def escalate_once(cases: CaseDesk) -> int:
    """Escalate what is overdue now; a failure is logged, never fatal: the next run tries again."""
    try:
        escalated = await asyncio.to_thread(cases.escalate_overdue)
    except Exception:
        log.exception("Escalating overdue cases failed")
        return 0
    for case in escalated:
        log.info("Escalated overdue case %s (%s)", case.service_request_id, case.agency_responsible)
    return len(escalated)


async def escalate_every(cases: CaseDesk, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        await escalate_once(cases)


@contextlib.asynccontextmanager
async def escalating(cases: CaseDesk, interval_s: float) -> AsyncIterator[None]:
    """For the app's lifespan: escalate at once, then keep escalating in the background until shutdown."""
    await escalate_once(cases)
    task = asyncio.create_task(escalate_every(cases, interval_s), name="escalate-overdue")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
