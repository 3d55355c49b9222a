"""Overdue cases are escalated by the desk itself: once at start, then every interval while it runs."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from desk.background import every
from handoff.service import CaseDesk

log = logging.getLogger("citydesk.escalation")


def escalate_and_log(cases: CaseDesk) -> int:
    escalated = cases.escalate_overdue()
    for case in escalated:
        log.info("Escalated overdue case %s (%s)", case.service_request_id, case.agency_responsible)
    return len(escalated)


@contextlib.asynccontextmanager
async def escalating(cases: CaseDesk, interval_s: float) -> AsyncIterator[None]:
    """For the app's lifespan: escalate at once, then keep escalating in the background until shutdown."""
    async with every(interval_s, lambda: escalate_and_log(cases), "Escalating overdue cases", at_start=True):
        yield
