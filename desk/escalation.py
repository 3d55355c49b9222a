"""Overdue cases are escalated by the desk itself: once at start, then every interval while it runs; cases near
their deadline are reminded at the same time."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from desk.background import every
from handoff.service import CaseDesk

log = logging.getLogger("citydesk.escalation")


def escalate_and_log(cases: CaseDesk, reminder_at: float | None = None) -> int:
    escalated = cases.escalate_overdue()
    for case in escalated:
        log.info("Escalated overdue case %s (%s)", case.service_request_id, case.agency_responsible)
    if reminder_at is not None:
        for notice in cases.remind_before_deadlines(reminder_at):
            log.info("Reminder queued for %s: %s", notice.to, notice.subject)
    return len(escalated)


@contextlib.asynccontextmanager
async def escalating(cases: CaseDesk, interval_s: float, reminder_at: float | None = None) -> AsyncIterator[None]:
    """For the app's lifespan: escalate (and remind) at once, then keep at it in the background until shutdown."""
    async with every(interval_s, lambda: escalate_and_log(cases, reminder_at), "Escalating overdue cases",
                     at_start=True):
        yield
